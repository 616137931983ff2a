"""The ring file: round trip, reproducible bytes, and clear errors for damaged files."""

import gzip
import re
import struct

import pytest

from swiftlite.ring import Ring, RingError, ringfile


def test_read_ring_round_trip_keeps_devices_and_table(tmp_path, make_builder):
    b = make_builder()
    b.rebalance(seed=4)
    path = str(tmp_path / "r.ring.gz")
    b.write_ring(path)
    data = ringfile.read_ring(path)
    assert (data.part_power, data.replica_count, data.build_version) == (8, 3, b.version)
    assert [list(r) for r in data.rows] == [list(r) for r in b.replica2part2dev]
    assert data.devs[3] == b.devs[3].to_dict()


def test_write_ring_same_builder_same_bytes(tmp_path, make_builder):
    b = make_builder()
    b.rebalance(seed=4)
    b.write_ring(str(tmp_path / "a.ring.gz"))
    b.write_ring(str(tmp_path / "b.ring.gz"))
    assert (tmp_path / "a.ring.gz").read_bytes() == (tmp_path / "b.ring.gz").read_bytes()


def test_ring_file_layout_is_magic_version_header_rows(ring_file):
    raw = gzip.decompress(ring_file.read_bytes())
    magic, version, hlen = struct.unpack_from(">4sHI", raw)
    assert (magic, version) == (b"SLRG", 1)
    assert len(raw) == 10 + hlen + 3 * 256 * 2


def _rewrite(path, raw):
    path.write_bytes(gzip.compress(raw, mtime=0))


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda blob, raw: b"", "empty file"),
        (lambda blob, raw: blob[: len(blob) // 2], "truncated ring file"),
        (lambda blob, raw: blob[:20] + bytes(40) + blob[60:], "corrupt ring file"),
        (lambda blob, raw: blob + b"junk", "corrupt ring file"),
        (lambda blob, raw: b"not gzip at all", "corrupt ring file"),
    ],
)
def test_load_damaged_gzip_raises_ring_error_naming_file(ring_file, damage, why):
    blob = ring_file.read_bytes()
    ring_file.write_bytes(damage(blob, None))
    with pytest.raises(RingError, match=f"^{ring_file}: .*{why}"):
        Ring(str(ring_file))


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda raw: b"XXXX" + raw[4:], "bad magic"),
        (lambda raw: raw[:4] + b"\x00\x02" + raw[6:], "unsupported ring format version 2"),
        (lambda raw: raw[:-2], "ring table is"),
        (lambda raw: raw[:8], "truncated ring file"),
        (lambda raw: raw[:10] + b"[" + raw[11:], "corrupt ring header"),
        (lambda raw: raw[:-2] + b"\xff\x00", "names device 255"),
    ],
)
def test_load_damaged_contents_raises_ring_error_naming_file(ring_file, damage, why):
    _rewrite(ring_file, damage(gzip.decompress(ring_file.read_bytes())))
    with pytest.raises(RingError, match=f"^{ring_file}: .*{why}"):
        ringfile.read_ring(str(ring_file))


def test_load_missing_ring_names_file(tmp_path):
    path = tmp_path / "gone.ring.gz"
    with pytest.raises(RingError, match=re.escape("gone.ring.gz: cannot read ring file")):
        Ring(str(path))


def test_load_table_naming_removed_device_gap_is_refused(tmp_path, make_builder):
    b = make_builder()
    b.rebalance(seed=1)
    data = b.ring_data()
    data.devs[5] = None  # a gap the table still points at
    path = tmp_path / "gap.ring.gz"
    path.write_bytes(gzip.compress(ringfile.serialize(data), mtime=0))
    with pytest.raises(RingError, match=re.escape("gap.ring.gz: ring table names device 5, a gap")):
        ringfile.read_ring(str(path))
