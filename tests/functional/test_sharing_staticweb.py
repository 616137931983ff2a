"""A container served as a web site to anonymous clients, on the real cluster."""

from __future__ import annotations

import json

import pytest

from tests.support.cluster import Cluster
from tests.support.sharing import login, swift, unique

XSS = "docs/<img src=x onerror=alert(1)>.txt"
FILES = {
    "index.html": b"<h1>home</h1>",
    "404error.html": b"<h1>custom not found</h1>",
    "style.css": b"body {color: red}",
    "docs/a.txt": b"a",
    "docs/b.txt": b"bb",
    XSS: b"x",
    "sub/index.html": b"<h1>sub home</h1>",
}


@pytest.fixture(scope="module")
def site(cluster: Cluster) -> str:
    auth = login(cluster)
    container = unique("web")
    swift(
        cluster,
        "post",
        "-r",
        ".r:*,.rlistings",
        "-m",
        "web-index:index.html",
        "-m",
        "web-error:error.html",
        "-m",
        "web-listings:true",
        "-m",
        "web-listings-css:style.css",
        container,
    )
    path = f"{auth.path}/{container}"
    for name, data in FILES.items():
        status, _, _ = cluster.request("PUT", f"{path}/{name}", {"X-Auth-Token": auth.token}, data)
        assert status == 201, name
    return path


def test_container_without_slash_redirects_to_the_slash(cluster, site):
    status, headers, _ = cluster.request("GET", site)
    assert status == 301
    assert headers["location"].endswith(site + "/")


def test_container_root_serves_the_index(cluster, site):
    status, headers, body = cluster.request("GET", site + "/")
    assert (status, body) == (200, FILES["index.html"])
    assert headers["content-type"].startswith("text/html")


def test_missing_page_is_404_with_the_error_page(cluster, site):
    status, _, body = cluster.request("GET", site + "/nothing-here.html")
    assert (status, body) == (404, FILES["404error.html"])


def test_pseudo_directory_redirects_then_lists_with_css_and_escapes_names(cluster, site):
    status, headers, _ = cluster.request("GET", site + "/docs")
    assert status == 301
    assert headers["location"].endswith(site + "/docs/")
    status, headers, body = cluster.request("GET", site + "/docs/")
    text = body.decode()
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert '<link rel="stylesheet" type="text/css" href="../style.css" />' in text
    assert '<a href="a.txt">a.txt</a>' in text
    assert "<img" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;.txt</a>" in text
    assert 'href="%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.txt"' in text
    assert '<a href="../">../</a>' in text


def test_pseudo_directory_with_its_own_index_serves_it(cluster, site):
    assert cluster.request("GET", site + "/sub/")[2] == FILES["sub/index.html"]


def test_authenticated_client_gets_the_api_unless_it_asks_for_web_mode(cluster, site):
    token = {"X-Auth-Token": login(cluster).token}
    status, _, body = cluster.request("GET", site + "/?format=json", token)
    assert status == 200
    assert "index.html" in [o["name"] for o in json.loads(body)]
    web = cluster.request("GET", site + "/", {**token, "X-Web-Mode": "true"})
    assert web[2] == FILES["index.html"]


def test_listing_label_replaces_the_account_path(cluster):
    auth = login(cluster)
    container = unique("web-label")
    swift(cluster, "post", "-r", ".r:*,.rlistings", "-m", "web-listings:true", container)
    swift(cluster, "post", "-m", "web-listings-label:My Site", container)
    path = f"{auth.path}/{container}"
    cluster.request("PUT", f"{path}/f.txt", {"X-Auth-Token": auth.token}, b"f")
    status, _, body = cluster.request("GET", path + "/")
    assert status == 200
    assert f"<title>Listing of My Site/{container}/</title>" in body.decode()
    assert "h1 {font-size: 1em" in body.decode()  # the default style without a CSS


def test_private_container_is_not_a_website_for_anonymous(cluster):
    auth = login(cluster)
    container = unique("web-private")
    swift(cluster, "post", "-m", "web-index:index.html", container)
    path = f"{auth.path}/{container}"
    cluster.request("PUT", f"{path}/index.html", {"X-Auth-Token": auth.token}, b"secret")
    status, _, body = cluster.request("GET", path + "/")
    assert status == 401
    assert b"secret" not in body


def test_info_lists_staticweb(cluster):
    assert "staticweb" in json.loads(cluster.request("GET", "/info")[2])
