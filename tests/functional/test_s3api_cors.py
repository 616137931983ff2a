"""S3 bucket CORS through boto3 (default configuration) against a real aio: the round trip,
the Swift CORS metadata it writes, S3 preflights (the aio's ``cors_accounts`` is
``AUTH_test``) and the headers of actual S3 and Swift requests with ``Origin``."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import uuid
from collections.abc import Iterator

import pytest

from tests.functional.test_sharing_browser import CHROMIUM, Pages, _element, browse
from tests.support import s3
from tests.support.cluster import Auth, Cluster

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402

APP = "https://app.example.com"
RULES = [
    {
        "ID": "web",
        "AllowedOrigins": [APP, "https://*.other.example"],
        "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["x-amz-*", "content-type"],
        "ExposeHeaders": ["ETag", "x-amz-request-id"],
        "MaxAgeSeconds": 600,
    },
    {"AllowedOrigins": ["https://ro.example"], "AllowedMethods": ["HEAD"]},
]


@pytest.fixture(scope="module")
def client(cluster: Cluster):  # type: ignore[no-untyped-def]
    host, port = cluster.proxy
    return s3.client(f"http://{host}:{port}")


def _bucket(client) -> str:  # type: ignore[no-untyped-def]
    name = "c-" + uuid.uuid4().hex[:12]
    client.create_bucket(Bucket=name)
    return name


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


def _md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def _options(
    cluster: Cluster, path: str, origin: str | None, method: str | None, headers: str = ""
) -> tuple[int, dict[str, str], bytes]:
    sent = {}
    if origin is not None:
        sent["Origin"] = origin
    if method is not None:
        sent["Access-Control-Request-Method"] = method
    if headers:
        sent["Access-Control-Request-Headers"] = headers
    return cluster.request("OPTIONS", path, sent)


def test_round_trip_and_swift_metadata(client, cluster: Cluster, tester: Auth) -> None:  # type: ignore[no-untyped-def]
    bucket = _bucket(client)
    with pytest.raises(ClientError) as exc:
        client.get_bucket_cors(Bucket=bucket)
    assert _code(exc) == ("NoSuchCORSConfiguration", 404)
    client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    assert client.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES
    status, headers, _ = cluster.request(
        "HEAD", f"{tester.path}/{bucket}", {"X-Auth-Token": tester.token}
    )
    assert status == 204
    # Swift allows exact origins only: the partial wildcard one is left out
    assert headers["x-container-meta-access-control-allow-origin"] == f"{APP} https://ro.example"
    assert headers["x-container-meta-access-control-expose-headers"] == "ETag x-amz-request-id"
    assert headers["x-container-meta-access-control-max-age"] == "600"
    # the Swift API's own preflight follows the mapped origins
    path = f"{tester.path}/{bucket}/obj"
    status, headers, _ = _options(cluster, path, APP, "GET")
    assert status == 200
    assert headers["access-control-allow-origin"] == APP
    assert _options(cluster, path, "https://evil.example", "GET")[0] == 401
    # a new configuration replaces the old one everywhere
    client.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]},
    )
    got = client.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert got == [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]
    client.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        client.get_bucket_cors(Bucket=bucket)
    assert _code(exc) == ("NoSuchCORSConfiguration", 404)
    status, headers, _ = cluster.request(
        "HEAD", f"{tester.path}/{bucket}", {"X-Auth-Token": tester.token}
    )
    assert not any(h.startswith("x-container-meta-access-control") for h in headers)
    assert not any("s3api-cors" in h for h in headers)  # sysmeta never shows


def test_s3_preflight(client, cluster: Cluster) -> None:  # type: ignore[no-untyped-def]
    bucket = _bucket(client)
    path = f"/{bucket}/some/key"
    status, _, body = _options(cluster, path, APP, "GET")
    assert status == 403
    assert b"<Code>AccessForbidden</Code>" in body
    assert b"CORSResponse: CORS is not enabled for this bucket." in body
    assert b"<Method>GET</Method><ResourceType>OBJECT</ResourceType>" in body
    client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})

    status, headers, _ = _options(cluster, path, APP, "PUT", "Content-Type, X-Amz-Date")
    assert status == 200
    assert headers["access-control-allow-origin"] == APP
    assert headers["access-control-allow-methods"] == "GET, PUT"
    assert headers["access-control-allow-headers"] == "content-type, x-amz-date"
    assert headers["access-control-expose-headers"] == "ETag, x-amz-request-id"
    assert headers["access-control-max-age"] == "600"
    assert headers["access-control-allow-credentials"] == "true"
    assert "Origin" in headers["vary"]
    # the bucket itself, and a wildcard origin
    status, headers, _ = _options(cluster, f"/{bucket}", "https://a.other.example", "GET")
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://a.other.example"
    assert _options(cluster, path, "https://ro.example", "HEAD")[0] == 200

    refused = [
        ("https://evil.example", "GET", ""),  # origin
        (APP, "DELETE", ""),  # method
        (APP, "GET", "authorization"),  # a header no rule allows
        ("https://ro.example", "GET", ""),  # that origin's rule allows HEAD only
        ("https://\xe9.other.example", "GET", ""),  # the wildcard, but not echoable
    ]
    for origin, method, asked in refused:
        status, headers, body = _options(cluster, path, origin, method, asked)
        assert status == 403, (origin, method, asked)
        assert b"<Code>AccessForbidden</Code>" in body
        assert b"CORSResponse: This CORS request is not allowed." in body
        assert "access-control-allow-origin" not in headers
    status, _, body = _options(cluster, path, None, "GET")
    assert status == 400
    assert b"Origin request header needed" in body
    assert _options(cluster, path, APP, None)[0] == 400
    # a missing bucket answers as one without rules (no probing of names without credentials)
    status, _, body = _options(cluster, "/no-such-bucket-" + uuid.uuid4().hex[:8], APP, "GET")
    assert status == 403
    assert b"CORS is not enabled for this bucket." in body
    assert b"<ResourceType>BUCKET</ResourceType>" in body


def test_actual_requests_get_cors_headers(client, cluster: Cluster) -> None:  # type: ignore[no-untyped-def]
    bucket = _bucket(client)
    client.put_object(Bucket=bucket, Key="k", Body=b"hello")
    client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    host, port = cluster.proxy
    target = url.split(f"{port}", 1)[1]

    def get(origin: str) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            conn.request("GET", target, headers={"Origin": origin})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    status, headers, body = get(APP)
    assert (status, body) == (200, b"hello")
    assert headers["access-control-allow-origin"] == APP
    assert headers["access-control-expose-headers"] == "ETag, x-amz-request-id"
    assert "Origin" in headers["vary"]
    status, headers, body = get("https://evil.example")
    assert (status, body) == (200, b"hello")
    assert not any(h.startswith("access-control-") for h in headers)
    # an origin only allowed HEAD gets nothing on a GET (not even Swift's coarser answer)
    status, headers, _ = get("https://ro.example")
    assert status == 200
    assert not any(h.startswith("access-control-") for h in headers)


def test_bad_configurations(client) -> None:  # type: ignore[no-untyped-def]
    bucket = _bucket(client)
    bad = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]}
    with pytest.raises(ClientError) as exc:
        client.put_bucket_cors(Bucket=bucket, CORSConfiguration=bad)
    assert _code(exc) == ("InvalidRequest", 400)
    too_many = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}] * 101}
    with pytest.raises(ClientError) as exc:
        client.put_bucket_cors(Bucket=bucket, CORSConfiguration=too_many)
    assert _code(exc) == ("MalformedXML", 400)
    with pytest.raises(ClientError) as exc:
        client.get_bucket_cors(Bucket=bucket)
    assert _code(exc) == ("NoSuchCORSConfiguration", 404)
    with pytest.raises(ClientError) as exc:
        client.get_bucket_cors(Bucket="c-missing-" + uuid.uuid4().hex[:8])
    assert _code(exc) == ("NoSuchBucket", 404)


def test_malformed_xml_and_missing_digest(cluster: Cluster) -> None:
    bucket = "c-" + uuid.uuid4().hex[:12]
    host, port = cluster.proxy
    base = f"http://{host}:{port}"

    def send(method: str, path: str, body: bytes, extra: dict[str, str]):  # type: ignore[no-untyped-def]
        headers = s3.signed_headers(
            method, base + path, dict(extra), hashlib.sha256(body).hexdigest()
        )
        return cluster.request(method, path, headers, body)

    assert send("PUT", f"/{bucket}", b"", {})[0] == 200
    body = b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
    status, _, answer = send("PUT", f"/{bucket}?cors", body, {"Content-MD5": _md5(body)})
    assert status == 400
    assert b"<Code>MalformedXML</Code>" in answer
    good = (
        b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
        b"<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>"
    )
    status, _, answer = send("PUT", f"/{bucket}?cors", good, {})
    assert status == 400
    assert b"Missing required header for this request: Content-MD5" in answer
    status, _, answer = send("PUT", f"/{bucket}?cors", good, {"Content-MD5": _md5(b"x")})
    assert status == 400
    assert b"<Code>BadDigest</Code>" in answer
    assert send("GET", f"/{bucket}?cors", b"", {})[0] == 404
    assert send("PUT", f"/{bucket}?cors", good, {"Content-MD5": _md5(good)})[0] == 200
    status, _, answer = send("GET", f"/{bucket}?cors", b"", {})
    assert status == 200
    assert b"<AllowedMethod>GET</AllowedMethod>" in answer


def test_swift_set_metadata_reads_as_one_rule(client, cluster: Cluster, tester: Auth) -> None:  # type: ignore[no-untyped-def]
    bucket = _bucket(client)
    status, _, _ = cluster.request(
        "POST",
        f"{tester.path}/{bucket}",
        {
            "X-Auth-Token": tester.token,
            "X-Container-Meta-Access-Control-Allow-Origin": APP,
            "X-Container-Meta-Access-Control-Max-Age": "30",
        },
    )
    assert status == 204
    (rule,) = client.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rule["AllowedOrigins"] == [APP]
    assert sorted(rule["AllowedMethods"]) == ["DELETE", "GET", "HEAD", "POST", "PUT"]
    assert rule["AllowedHeaders"] == ["*"]
    assert rule["MaxAgeSeconds"] == 30
    status, headers, _ = _options(cluster, f"/{bucket}/k", APP, "DELETE", "x-anything")
    assert status == 200
    assert headers["access-control-allow-headers"] == "x-anything"
    assert _options(cluster, f"/{bucket}/k", "https://evil.example", "GET")[0] == 403


@pytest.fixture(scope="module")
def pages() -> Iterator[Pages]:
    served = Pages()
    yield served
    served.stop()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_browser_uses_presigned_urls_where_bucket_cors_allows(client, pages, tmp_path) -> None:  # type: ignore[no-untyped-def]
    allowed, refused = _bucket(client), _bucket(client)
    rule = {
        "AllowedOrigins": [pages.origin],
        "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"],
    }
    client.put_bucket_cors(Bucket=allowed, CORSConfiguration={"CORSRules": [rule]})
    other = {**rule, "AllowedOrigins": ["https://elsewhere.example"]}
    client.put_bucket_cors(Bucket=refused, CORSConfiguration={"CORSRules": [other]})
    etag = client.put_object(Bucket=allowed, Key="o", Body=b"shared by S3 CORS")["ETag"]
    client.put_object(Bucket=refused, Key="o", Body=b"not for this site")

    def url(method: str, bucket: str, key: str, **params: str) -> str:
        params.update(Bucket=bucket, Key=key)
        return str(client.generate_presigned_url(method, Params=params))

    config = {
        "ok": url("get_object", allowed, "o"),
        "no": url("get_object", refused, "o"),
        # the signature covers Content-Type: the page sends exactly this one
        "put": url("put_object", allowed, "from-browser", ContentType="text/plain"),
    }
    script = """<pre id="out"></pre><script>
      const cfg = CONFIG;
      const out = {};
      fetch(cfg.ok)
        .then(r => { out.etag = r.headers.get("etag"); return r.text(); })
        .then(t => { out.ok = t; }, e => { out.ok = "blocked"; })
        .then(() => fetch(cfg.no).then(r => r.text()))
        .then(t => { out.no = "read: " + t; }, e => { out.no = "blocked"; })
        .then(() => fetch(cfg.put, {method: "PUT",
                                    body: new Blob(["put by the browser"], {type: "text/plain"})}))
        .then(r => { out.put = r.status; }, e => { out.put = "blocked"; })
        .then(() => { document.getElementById("out").textContent = JSON.stringify(out); });
    </script>""".replace("CONFIG", json.dumps(config))
    pages.pages["/s3cors.html"] = f"<html><body>{script}</body></html>".encode()
    dom = browse(pages.origin + "/s3cors.html", tmp_path)
    result = json.loads(_element(dom, "out"))
    assert result == {"ok": "shared by S3 CORS", "etag": etag, "no": "blocked", "put": 200}
    stored = client.get_object(Bucket=allowed, Key="from-browser")["Body"].read()
    assert stored == b"put by the browser"
