"""Helpers shared by the sharing functional tests (tempurl, formpost, staticweb, CORS)."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import uuid
from collections.abc import Callable

from tests.support.cluster import Auth, Cluster

SWIFT = str(pathlib.Path(sys.executable).with_name("swift"))
BIN = pathlib.Path(sys.executable).parent
# AUTH_test2's admin (test5:tester5 is a service user, not an owner, as in Swift's setup)
USER, KEY = "test2:tester2", "testing2"


def swift(cluster: Cluster, *args: str) -> str:
    """Run the real ``swift`` CLI as the sharing tests' account owner; its stdout."""
    cmd = [SWIFT, "-A", cluster.auth_url, "-U", USER, "-K", KEY, *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"swift {args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def curl(cluster: Cluster, method: str, path: str, *extra: str) -> tuple[int, bytes]:
    """curl ``method`` on the proxy; (status, body)."""
    host, port = cluster.proxy
    cmd = [
        "curl",
        "-sS",
        "-g",
        "-X",
        method,
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
        *extra,
        f"http://{host}:{port}{path}",
    ]
    if method == "HEAD":
        cmd[cmd.index("-X") : cmd.index("-X") + 2] = ["-I"]
    done = subprocess.run(cmd, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    body, _, code = done.stdout.rpartition(b"\n")
    return int(code), body


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def login(cluster: Cluster) -> Auth:
    return cluster.auth(USER, KEY)


def form_signature_cli(*args: str) -> str:
    """The output of the real ``swiftlite-form-signature`` CLI."""
    done = subprocess.run(
        [str(BIN / "swiftlite-form-signature"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def form_fields(html_text: str) -> tuple[str, dict[str, str]]:
    """(action, hidden inputs) of the sample form a CLI printed."""
    import html.parser

    found: dict[str, str] = {}
    action = [""]

    class Parser(html.parser.HTMLParser):
        def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
            a = dict(attrs)
            if tag == "form":
                action[0] = a.get("action") or ""
            if tag == "input" and a.get("type") == "hidden":
                found[a["name"] or ""] = a.get("value") or ""

    Parser().feed(html_text)
    return action[0], found


def multipart(fields: dict[str, str], files: list[tuple[str, bytes]], boundary: str) -> bytes:
    out = b""
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for i, (filename, data) in enumerate(files):
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file{i}"; '
            f'filename="{filename}"\r\nContent-Type: text/plain\r\n\r\n'
        ).encode()
        out += data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


class ExtraProxy:
    """A second proxy process on the cluster's rings, from an edited copy of its config."""

    def __init__(self, cluster: Cluster, conf_dir: pathlib.Path, edit: Callable[..., None]):
        import configparser
        import http.client

        from swiftlite.aio import cluster as aio_cluster
        from swiftlite.aio.plan import free_proxy_port
        from tests.support.wait import wait_until

        parser = configparser.ConfigParser(interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(cluster.plan.proxy_conf)
        self.port = free_proxy_port()
        parser["DEFAULT"]["bind_port"] = str(self.port)
        parser["DEFAULT"]["workers"] = "1"
        parser["DEFAULT"]["log_file"] = str(conf_dir / "extra-proxy.log")
        edit(parser)
        conf = conf_dir / "extra-proxy.conf"
        with conf.open("w") as fh:
            parser.write(fh)
        self.host = cluster.proxy[0]
        self.proc = subprocess.Popen(
            [str(BIN / "swiftlite-proxy-server"), str(conf)],
            env=aio_cluster.process_env(cluster.plan),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

        def healthy() -> bool:
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=2)
                conn.request("GET", "/healthcheck")
                return conn.getresponse().status == 200
            except OSError:
                return False

        try:
            wait_until(healthy, timeout=30, what="the extra proxy to answer /healthcheck")
        except BaseException:
            self.stop()
            raise

    def request(self, method: str, path: str, headers: dict[str, str] | None = None):
        import http.client

        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
