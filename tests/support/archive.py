"""tar_bytes: a small pax tar archive built in memory, for the extract-archive tests."""

from __future__ import annotations

import io
import tarfile


def tar_bytes(members: list[tuple[str, bytes, dict[str, str]]], mode: str = "w") -> bytes:
    """The archive (``mode``: ``w``, ``w:gz`` or ``w:bz2``) holding each (name, data, pax
    records) as a regular file, in order."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode, format=tarfile.PAX_FORMAT) as tar:
        for name, data, pax in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.pax_headers = pax
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()
