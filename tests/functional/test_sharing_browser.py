"""A real browser (Debian's headless Chromium) meets the sharing features of the cluster.

Pages the test serves itself (another origin than the cluster's) drive the browser: it loads
a static website from the cluster, submits a signed upload form, and ``fetch()``es objects
cross-origin under CORS. Chromium runs with ``--dump-dom``: the final DOM after the page's
scripts ran is what it prints, and the test also checks what the cluster stored.
"""

from __future__ import annotations

import html
import http.server
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator

import pytest

from tests.support.cluster import Cluster
from tests.support.sharing import form_signature_cli, login, swift, unique

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"
)
FORM_KEY = "browser-form-key"


class Pages:
    """A tiny web server on 127.0.0.1 that serves ``pages`` and records every request path."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        self.seen: list[str] = []
        pages, seen = self.pages, self.seen

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                body = pages.get(self.path.split("?")[0], b"<p id='done'>landed</p>")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def pages() -> Iterator[Pages]:
    served = Pages()
    yield served
    served.stop()


def browse(url: str, tmp_path) -> str:
    """The DOM Chromium ends up with after loading ``url`` and running its scripts."""
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--virtual-time-budget=15000",
        "--dump-dom",
        url,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 and not done.stdout:
        pytest.skip(f"chromium cannot run here: {done.stderr[-300:]}")
    return done.stdout


def _element(dom: str, ident: str) -> str:
    found = re.search(rf'id="{ident}"[^>]*>(.*?)</', dom, re.S)
    assert found, f"no #{ident} in the DOM:\n{dom[:2000]}"
    return html.unescape(found.group(1))


def _cluster_url(cluster: Cluster, path: str) -> str:
    host, port = cluster.proxy
    return f"http://{host}:{port}{path}"


def test_browser_renders_a_static_site_with_its_css_and_script(cluster, tmp_path):
    auth = login(cluster)
    container = unique("bsite")
    swift(cluster, "post", "-r", ".r:*,.rlistings", "-m", "web-index:index.html", container)
    swift(
        cluster, "post", "-m", "web-listings:true", "-m", "web-listings-css:/style.css", container
    )
    path = f"{auth.path}/{container}"
    files = {
        "index.html": b'<html><head><link rel="stylesheet" href="style.css"></head>'
        b'<body><p id="greeting">hello from the cluster</p><p id="color"></p>'
        b'<script src="app.js"></script></body></html>',
        "style.css": b"#greeting {color: rgb(1, 2, 3)}",
        "app.js": b"window.onload = () => { document.getElementById('color').textContent ="
        b" getComputedStyle(document.getElementById('greeting')).color; };",
        "docs/readme.txt": b"read me",
    }
    for name, data in files.items():
        status, _, _ = cluster.request("PUT", f"{path}/{name}", {"X-Auth-Token": auth.token}, data)
        assert status == 201
    dom = browse(_cluster_url(cluster, path + "/"), tmp_path)
    assert _element(dom, "greeting") == "hello from the cluster"
    assert _element(dom, "color") == "rgb(1, 2, 3)"  # style.css and app.js both arrived
    listing = browse(_cluster_url(cluster, path + "/docs/"), tmp_path)
    assert "readme.txt</a>" in listing
    assert f"Listing of /v1/{auth.path.split('/')[2]}/{container}/docs/" in listing


def test_browser_submits_a_signed_form_that_uploads_two_files(cluster, pages, tmp_path):
    auth = login(cluster)
    container = unique("bform")
    swift(cluster, "post", "-m", f"Temp-URL-Key:{FORM_KEY}", container)
    path = f"{auth.path}/{container}/br_"
    redirect = f"{pages.origin}/done"
    out = form_signature_cli(path, redirect, "10000", "2", "300", FORM_KEY)
    form = out[out.index("<form") :]
    form = form.replace(f'action="{path}"', f'action="{_cluster_url(cluster, path)}" id="f"')
    script = """<script>
      window.onload = () => {
        const names = [["one.txt", "first from browser"], ["two.txt", "second from browser"]];
        names.forEach(([name, text], i) => {
          const dt = new DataTransfer();
          dt.items.add(new File([text], name, {type: "text/plain"}));
          document.querySelector('input[name="file' + i + '"]').files = dt.files;
        });
        document.getElementById("f").submit();
      };
    </script>"""
    pages.pages["/form.html"] = f"<html><body>{form}{script}</body></html>".encode()
    dom = browse(pages.origin + "/form.html", tmp_path)
    assert _element(dom, "done") == "landed"
    assert "/done?status=201&message=" in pages.seen
    token = {"X-Auth-Token": auth.token}
    for name, text in (("one.txt", b"first from browser"), ("two.txt", b"second from browser")):
        status, headers, body = cluster.request("GET", f"{path}{name}", token)
        assert (status, body) == (200, text)
        assert headers["content-type"].startswith("text/plain")


def test_browser_fetches_cross_origin_only_where_cors_allows(cluster, pages, tmp_path):
    auth = login(cluster)
    token = {"X-Auth-Token": auth.token}
    allowed = f"{auth.path}/{unique('bcors')}"
    refused = f"{auth.path}/{unique('bcors-no')}"
    headers = {
        **token,
        "X-Container-Read": ".r:*",
        "X-Container-Meta-Access-Control-Allow-Origin": pages.origin,
    }
    assert cluster.request("PUT", allowed, headers)[0] == 201
    assert cluster.request("PUT", refused, {**token, "X-Container-Read": ".r:*"})[0] == 201
    meta = {**token, "X-Object-Meta-Color": "teal"}
    assert cluster.request("PUT", f"{allowed}/o", meta, b"shared across origins")[0] == 201
    assert cluster.request("PUT", f"{refused}/o", token, b"not for other sites")[0] == 201
    config = {
        "ok": _cluster_url(cluster, f"{allowed}/o"),
        "no": _cluster_url(cluster, f"{refused}/o"),
        "put": _cluster_url(cluster, f"{allowed}/from-browser"),
        "token": auth.token,
    }
    script = """<pre id="out"></pre><script>
      const cfg = CONFIG;
      const out = {};
      fetch(cfg.ok)
        .then(r => { out.color = r.headers.get("x-object-meta-color"); return r.text(); })
        .then(t => { out.ok = t; }, e => { out.ok = "blocked"; })
        .then(() => fetch(cfg.no).then(r => r.text()))
        .then(t => { out.no = "read: " + t; }, e => { out.no = "blocked"; })
        .then(() => fetch(cfg.put, {method: "PUT", body: "put by the browser",
                                    headers: {"X-Auth-Token": cfg.token,
                                              "Content-Type": "text/plain"}}))
        .then(r => { out.put = r.status; }, e => { out.put = "blocked"; })
        .then(() => { document.getElementById("out").textContent = JSON.stringify(out); });
    </script>""".replace("CONFIG", json.dumps(config))
    pages.pages["/cors.html"] = f"<html><body>{script}</body></html>".encode()
    dom = browse(pages.origin + "/cors.html", tmp_path)
    result = json.loads(_element(dom, "out"))
    assert result == {
        "ok": "shared across origins",
        "color": "teal",
        "no": "blocked",
        "put": 201,
    }
    stored = cluster.request("GET", f"{allowed}/from-browser", token)
    assert (stored[0], stored[2]) == (200, b"put by the browser")
