"""domain_remap on a proxy whose pipeline has it: host names serve accounts and websites."""

from __future__ import annotations

import pytest

from tests.support.cluster import Cluster
from tests.support.fakedns import FakeDns
from tests.support.sharing import ExtraProxy, login, swift, unique

DOMAIN = "storage.test"


@pytest.fixture(scope="module")
def remapped(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory):
    def edit(parser) -> None:  # type: ignore[no-untyped-def]
        line = parser["pipeline:main"]["pipeline"]
        parser["pipeline:main"]["pipeline"] = line.replace(" cache ", " cache domain_remap ")
        parser["filter:domain_remap"]["storage_domain"] = DOMAIN

    proxy = ExtraProxy(cluster, tmp_path_factory.mktemp("remap"), edit)
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def website(cluster: Cluster) -> tuple[str, str]:
    auth = login(cluster)
    container = unique("site")
    swift(cluster, "post", "-r", ".r:*,.rlistings", "-m", "web-index:index.html", container)
    swift(cluster, "post", "-m", "web-listings:true", container)
    token = {"X-Auth-Token": auth.token}
    path = f"{auth.path}/{container}"
    assert cluster.request("PUT", f"{path}/index.html", token, b"<p>own host</p>")[0] == 201
    assert cluster.request("PUT", f"{path}/docs/a.txt", token, b"doc a")[0] == 201
    account = auth.path.split("/")[2]
    return container, account


def test_container_host_serves_the_site_index_and_objects(remapped, website):
    container, account = website
    host = {"Host": f"{container}.{account}.{DOMAIN}"}
    assert remapped.request("GET", "/", host)[::2] == (200, b"<p>own host</p>")
    assert remapped.request("GET", "/docs/a.txt", host)[::2] == (200, b"doc a")


def test_redirect_stays_on_the_remapped_host(remapped, website):
    container, account = website
    status, headers, _ = remapped.request(
        "GET", "/docs", {"Host": f"{container}.{account}.{DOMAIN}"}
    )
    assert status == 301
    assert headers["location"].endswith("/docs/")
    assert "/v1/" not in headers["location"]


def test_account_host_with_dashed_lowercase_prefix_reaches_the_container(remapped, website):
    container, account = website
    dashed = account.replace("AUTH_", "auth-")
    status, _, body = remapped.request(
        "GET", f"/{container}/docs/a.txt", {"Host": f"{dashed}.{DOMAIN}"}
    )
    assert (status, body) == (200, b"doc a")


def test_too_many_labels_is_400_and_other_hosts_are_untouched(remapped, website):
    container, account = website
    status, _, body = remapped.request("GET", "/", {"Host": f"a.{container}.{account}.{DOMAIN}"})
    assert (status, body) == (400, b"Bad domain in host header")
    status, _, _ = remapped.request(
        "GET", f"/v1/{account}/{container}/docs/a.txt", {"Host": "localhost"}
    )
    assert status == 200


def test_info_lists_domain_remap_only_where_it_is_on(cluster, remapped):
    import json

    assert "domain_remap" in json.loads(remapped.request("GET", "/info")[2])
    assert "domain_remap" not in json.loads(cluster.request("GET", "/info")[2])


def test_own_host_name_serves_the_site_through_its_cname(cluster, website, tmp_path):
    container, account = website
    target = f"{container}.{account.lower()}.{DOMAIN}"
    dns_server = FakeDns({"www.customer.test": target})

    def edit(parser) -> None:  # type: ignore[no-untyped-def]
        line = parser["pipeline:main"]["pipeline"]
        parser["pipeline:main"]["pipeline"] = line.replace(
            " cache ", " cache cname_lookup domain_remap "
        )
        parser["filter:domain_remap"]["storage_domain"] = DOMAIN
        parser["filter:cname_lookup"]["storage_domain"] = DOMAIN
        parser["filter:cname_lookup"]["nameservers"] = f"127.0.0.1:{dns_server.port}"

    proxy = ExtraProxy(cluster, tmp_path, edit)
    try:
        status, _, body = proxy.request("GET", "/", {"Host": "www.customer.test"})
        assert (status, body) == (200, b"<p>own host</p>")
        status, _, body = proxy.request("GET", "/", {"Host": "nothing.customer.test"})
        assert (status, body) == (400, b"CNAME lookup failed to resolve to a valid domain")
    finally:
        proxy.stop()
        dns_server.stop()
