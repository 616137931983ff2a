"""The S3 API with boto3 in its default configuration (and requests for presigned URLs),
against a real aio cluster (s3api is on in the aio)."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid

import pytest

from tests.support import s3
from tests.support.cluster import Cluster

boto3 = pytest.importorskip("boto3")
requests = pytest.importorskip("requests")
from botocore.exceptions import ClientError  # noqa: E402


@pytest.fixture(scope="module")
def endpoint(cluster: Cluster) -> str:
    host, port = cluster.proxy
    return f"http://{host}:{port}"


@pytest.fixture(scope="module")
def client(endpoint: str):  # type: ignore[no-untyped-def]
    return s3.client(endpoint)


def _bucket(client, name: str | None = None) -> str:  # type: ignore[no-untyped-def]
    name = name or "b-" + uuid.uuid4().hex[:12]
    client.create_bucket(Bucket=name)
    return name


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_bucket_crud_and_errors(client) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    assert name in [b["Name"] for b in client.list_buckets()["Buckets"]]
    assert client.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert client.get_bucket_location(Bucket=name).get("LocationConstraint") is None
    with pytest.raises(ClientError) as exc:
        client.create_bucket(Bucket=name)
    assert _code(exc) == ("BucketAlreadyOwnedByYou", 409)
    client.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(ClientError) as exc:
        client.delete_bucket(Bucket=name)
    assert _code(exc) == ("BucketNotEmpty", 409)
    client.delete_object(Bucket=name, Key="k")
    client.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as exc:
        client.head_bucket(Bucket=name)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as exc:
        client.list_objects_v2(Bucket=name)
    assert _code(exc) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as exc:
        client.create_bucket(Bucket="Bad_Name")
    assert _code(exc) == ("InvalidBucketName", 400)
    with pytest.raises(ClientError) as exc:
        client.create_bucket(
            Bucket="b-" + uuid.uuid4().hex[:10],
            CreateBucketConfiguration={"LocationConstraint": "eu-west-3"},
        )
    assert _code(exc) == ("InvalidLocationConstraint", 400)


def test_object_crud_metadata_ranges_conditionals(client) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    data = os.urandom(10_000)
    put = client.put_object(
        Bucket=name,
        Key="dir/obj é",
        Body=data,
        Metadata={"color": "blue"},
        ContentType="text/plain",
    )
    etag = '"' + hashlib.md5(data).hexdigest() + '"'
    assert put["ETag"] == etag
    got = client.get_object(Bucket=name, Key="dir/obj é")
    assert got["Body"].read() == data
    assert got["ETag"] == etag
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"]["color"] == "blue"
    head = client.head_object(Bucket=name, Key="dir/obj é")
    assert head["ContentLength"] == len(data)
    part = client.get_object(Bucket=name, Key="dir/obj é", Range="bytes=100-199")
    assert part["Body"].read() == data[100:200]
    assert part["ContentRange"] == f"bytes 100-199/{len(data)}"
    with pytest.raises(ClientError) as exc:
        client.get_object(Bucket=name, Key="dir/obj é", IfMatch='"nope"')
    assert _code(exc)[1] == 412
    with pytest.raises(ClientError) as exc:
        client.get_object(Bucket=name, Key="dir/obj é", IfNoneMatch=etag)
    assert _code(exc)[1] == 304
    over = client.get_object(Bucket=name, Key="dir/obj é", ResponseContentType="application/x-test")
    assert over["ContentType"] == "application/x-test"
    with pytest.raises(ClientError) as exc:
        client.get_object(Bucket=name, Key="missing")
    assert _code(exc) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as exc:
        client.get_object(Bucket="no-such-" + uuid.uuid4().hex[:8], Key="k")
    assert _code(exc) == ("NoSuchBucket", 404)
    client.delete_object(Bucket=name, Key="dir/obj é")
    client.delete_object(Bucket=name, Key="dir/obj é")  # deleting what is gone is 204 too
    with pytest.raises(ClientError) as exc:
        client.head_object(Bucket=name, Key="dir/obj é")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_put_if_none_match_star_refuses_overwrite(client) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    client.put_object(Bucket=name, Key="once", Body=b"1", IfNoneMatch="*")
    with pytest.raises(ClientError) as exc:
        client.put_object(Bucket=name, Key="once", Body=b"2", IfNoneMatch="*")
    assert _code(exc)[1] == 412
    assert client.get_object(Bucket=name, Key="once")["Body"].read() == b"1"


def test_list_v1_v2_paging_delimiters_and_url_encoding(client) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    keys = ["a/1", "a/2", "a/b/3", "b/1", "c", "d e+f", "z\u00e9"]
    for key in keys:
        client.put_object(Bucket=name, Key=key, Body=key.encode())
    flat = client.list_objects_v2(Bucket=name)
    assert [o["Key"] for o in flat["Contents"]] == sorted(keys)
    assert flat["KeyCount"] == len(keys)
    top = client.list_objects_v2(Bucket=name, Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["c", "d e+f", "z\u00e9"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "b/"]
    sub = client.list_objects(Bucket=name, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in sub["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in sub["CommonPrefixes"]] == ["a/b/"]
    for version in ("list_objects", "list_objects_v2"):
        pages = client.get_paginator(version).paginate(
            Bucket=name, Delimiter="/", PaginationConfig={"PageSize": 2}
        )
        seen, prefixes = [], []
        for page in pages:
            assert len(page.get("Contents", [])) + len(page.get("CommonPrefixes", [])) <= 2
            seen += [o["Key"] for o in page.get("Contents", [])]
            prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        assert seen == ["c", "d e+f", "z\u00e9"], version
        assert prefixes == ["a/", "b/"], version
    after = client.list_objects_v2(Bucket=name, StartAfter="b/1")
    assert [o["Key"] for o in after["Contents"]] == ["c", "d e+f", "z\u00e9"]
    one = client.list_objects(Bucket=name, MaxKeys=1)
    assert one["IsTruncated"] is True
    assert len(one["Contents"]) == 1
    owner = client.list_objects_v2(Bucket=name, FetchOwner=True, MaxKeys=1)
    assert owner["Contents"][0]["Owner"]["ID"] == s3.ACCESS


def test_list_encoding_type_url_on_the_wire(client, endpoint: str) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    client.put_object(Bucket=name, Key="sp ace&amp", Body=b"")
    url = client.generate_presigned_url(
        "list_objects_v2", Params={"Bucket": name, "EncodingType": "url"}
    )
    body = requests.get(url, timeout=30).text
    assert "<Key>sp%20ace%26amp</Key>" in body
    assert "<EncodingType>url</EncodingType>" in body


def test_copy_object_keeps_or_replaces_metadata(client) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    client.put_object(Bucket=name, Key="src", Body=b"copy me", Metadata={"a": "1"})
    out = client.copy_object(Bucket=name, Key="dst", CopySource={"Bucket": name, "Key": "src"})
    assert out["CopyObjectResult"]["ETag"] == '"' + hashlib.md5(b"copy me").hexdigest() + '"'
    got = client.get_object(Bucket=name, Key="dst")
    assert got["Body"].read() == b"copy me"
    assert got["Metadata"] == {"a": "1"}
    client.copy_object(
        Bucket=name,
        Key="dst2",
        CopySource=f"{name}/src",
        Metadata={"b": "2"},
        MetadataDirective="REPLACE",
    )
    assert client.head_object(Bucket=name, Key="dst2")["Metadata"] == {"b": "2"}
    with pytest.raises(ClientError) as exc:
        client.copy_object(Bucket=name, Key="x", CopySource={"Bucket": name, "Key": "nope"})
    assert _code(exc) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as exc:
        client.copy_object(
            Bucket=name, Key="x", CopySource={"Bucket": name, "Key": "src"}, CopySourceIfMatch='"0"'
        )
    assert _code(exc)[1] == 412


def test_delete_objects_reports_each_key_and_quiet_mode(client) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    for key in ("a", "b", "c"):
        client.put_object(Bucket=name, Key=key, Body=b"1")
    out = client.delete_objects(
        Bucket=name, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "gone"}]}
    )
    assert sorted(d["Key"] for d in out["Deleted"]) == ["a", "b", "gone"]
    quiet = client.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    assert "Deleted" not in quiet
    assert client.list_objects_v2(Bucket=name)["KeyCount"] == 0


def test_multipart_upload_file_20mib_is_an_slo(client, cluster: Cluster, tmp_path, tester) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    data = os.urandom(20 * 1024 * 1024)
    path = tmp_path / "big"
    path.write_bytes(data)
    client.upload_file(str(path), name, "big")  # the transfer manager picks multipart
    head = client.head_object(Bucket=name, Key="big")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].endswith('-3"')  # 8 MiB parts
    assert client.get_object(Bucket=name, Key="big")["Body"].read() == data
    listed = client.list_objects_v2(Bucket=name)["Contents"]
    assert listed[0]["ETag"] == head["ETag"]
    assert listed[0]["Size"] == len(data)
    status, headers, body = cluster.request(
        "GET", f"/v1/AUTH_test/{name}/big", {"X-Auth-Token": tester.token}
    )
    assert status == 200
    assert body == data
    assert headers.get("x-static-large-object", "").lower() == "true"
    assert client.list_multipart_uploads(Bucket=name).get("Uploads") is None
    client.delete_object(Bucket=name, Key="big")
    status, _, listing = cluster.request(
        "GET", f"/v1/AUTH_test/{name}+segments", {"X-Auth-Token": tester.token}
    )
    assert status in (200, 204)
    assert listing == b""


def test_multipart_parts_listing_abort_and_errors(client) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    up = client.create_multipart_upload(Bucket=name, Key="m", ContentType="text/x-m")
    uid = up["UploadId"]
    assert [u["UploadId"] for u in client.list_multipart_uploads(Bucket=name)["Uploads"]] == [uid]
    p1 = client.upload_part(Bucket=name, Key="m", UploadId=uid, PartNumber=1, Body=b"a" * 100)
    p2 = client.upload_part(Bucket=name, Key="m", UploadId=uid, PartNumber=2, Body=b"b" * 100)
    parts = client.list_parts(Bucket=name, Key="m", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 100), (2, 100)]
    with pytest.raises(ClientError) as exc:  # parts under 5 MiB but the last
        client.complete_multipart_upload(
            Bucket=name,
            Key="m",
            UploadId=uid,
            MultipartUpload={
                "Parts": [
                    {"PartNumber": 1, "ETag": p1["ETag"]},
                    {"PartNumber": 2, "ETag": p2["ETag"]},
                ]
            },
        )
    assert _code(exc) == ("EntityTooSmall", 400)
    with pytest.raises(ClientError) as exc:
        client.complete_multipart_upload(
            Bucket=name,
            Key="m",
            UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"0000"'}]},
        )
    assert _code(exc) == ("InvalidPart", 400)
    with pytest.raises(ClientError) as exc:
        client.complete_multipart_upload(
            Bucket=name,
            Key="m",
            UploadId=uid,
            MultipartUpload={
                "Parts": [
                    {"PartNumber": 2, "ETag": p2["ETag"]},
                    {"PartNumber": 1, "ETag": p1["ETag"]},
                ]
            },
        )
    assert _code(exc) == ("InvalidPartOrder", 400)
    done = client.complete_multipart_upload(
        Bucket=name,
        Key="m",
        UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]}]},
    )
    md5 = hashlib.md5(bytes.fromhex(p1["ETag"].strip('"'))).hexdigest()
    assert done["ETag"] == f'"{md5}-1"'
    got = client.get_object(Bucket=name, Key="m")
    assert got["Body"].read() == b"a" * 100
    assert got["ContentType"] == "text/x-m"
    up2 = client.create_multipart_upload(Bucket=name, Key="n")
    client.abort_multipart_upload(Bucket=name, Key="n", UploadId=up2["UploadId"])
    with pytest.raises(ClientError) as exc:
        client.upload_part(Bucket=name, Key="n", UploadId=up2["UploadId"], PartNumber=1, Body=b"x")
    assert _code(exc) == ("NoSuchUpload", 404)


def test_complete_sent_again_after_it_succeeded_answers_the_same_result(client) -> None:  # type: ignore[no-untyped-def]
    """A client that lost Complete's reply retries it: once the upload marker was gone, the
    retry was NoSuchUpload although the object was made. Another part list is still refused."""
    name = _bucket(client)
    uid = client.create_multipart_upload(Bucket=name, Key="r", ChecksumAlgorithm="SHA256")[
        "UploadId"
    ]
    p1 = client.upload_part(
        Bucket=name,
        Key="r",
        UploadId=uid,
        PartNumber=1,
        Body=b"a" * 6 * 1024 * 1024,
        ChecksumAlgorithm="SHA256",
    )
    p2 = client.upload_part(
        Bucket=name,
        Key="r",
        UploadId=uid,
        PartNumber=2,
        Body=b"b" * 10,
        ChecksumAlgorithm="SHA256",
    )
    parts = [
        {"PartNumber": 1, "ETag": p1["ETag"], "ChecksumSHA256": p1["ChecksumSHA256"]},
        {"PartNumber": 2, "ETag": p2["ETag"], "ChecksumSHA256": p2["ChecksumSHA256"]},
    ]
    first = client.complete_multipart_upload(
        Bucket=name, Key="r", UploadId=uid, MultipartUpload={"Parts": parts}
    )
    again = client.complete_multipart_upload(
        Bucket=name, Key="r", UploadId=uid, MultipartUpload={"Parts": parts}
    )
    for field in ("ETag", "ChecksumSHA256", "Bucket", "Key"):
        assert again[field] == first[field], field
    assert client.head_object(Bucket=name, Key="r")["ContentLength"] == 6 * 1024 * 1024 + 10
    with pytest.raises(ClientError) as exc:
        client.complete_multipart_upload(
            Bucket=name, Key="r", UploadId=uid, MultipartUpload={"Parts": parts[:1]}
        )
    assert _code(exc) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as exc:  # an upload id that never completed here
        client.complete_multipart_upload(
            Bucket=name, Key="r", UploadId="0" * 32, MultipartUpload={"Parts": parts}
        )
    assert _code(exc) == ("NoSuchUpload", 404)


def test_presigned_get_and_put_with_requests(client) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    put_url = client.generate_presigned_url(
        "put_object", Params={"Bucket": name, "Key": "p"}, ExpiresIn=300
    )
    assert requests.put(put_url, data=b"presigned", timeout=30).status_code == 200
    get_url = client.generate_presigned_url(
        "get_object", Params={"Bucket": name, "Key": "p"}, ExpiresIn=300
    )
    resp = requests.get(get_url, timeout=30)
    assert resp.status_code == 200
    assert resp.content == b"presigned"
    tampered = get_url.replace(f"/{name}/p?", f"/{name}/q?")
    resp = requests.get(tampered, timeout=30)
    assert resp.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in resp.text


def test_acl_round_trip(client, endpoint: str) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    client.put_object(Bucket=name, Key="o", Body=b"public bytes")
    grants = client.get_bucket_acl(Bucket=name)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    client.put_bucket_acl(Bucket=name, ACL="public-read")
    grants = client.get_bucket_acl(Bucket=name)["Grants"]
    assert {g["Permission"] for g in grants} == {"FULL_CONTROL", "READ"}
    assert requests.get(f"{endpoint}/v1/AUTH_test/{name}/o", timeout=30).content == b"public bytes"
    client.put_bucket_acl(Bucket=name, ACL="private")
    assert requests.get(f"{endpoint}/v1/AUTH_test/{name}/o", timeout=30).status_code == 401
    assert client.get_object_acl(Bucket=name, Key="o")["Owner"]["ID"] == s3.ACCESS


def test_versioning_enable_list_and_read_old_version(client) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    assert "Status" not in client.get_bucket_versioning(Bucket=name)
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    assert client.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    v1 = client.put_object(Bucket=name, Key="v", Body=b"one")["VersionId"]
    v2 = client.put_object(Bucket=name, Key="v", Body=b"two")["VersionId"]
    assert v1 != v2
    assert client.get_object(Bucket=name, Key="v")["Body"].read() == b"two"
    assert client.get_object(Bucket=name, Key="v", VersionId=v1)["Body"].read() == b"one"
    versions = client.list_object_versions(Bucket=name)["Versions"]
    assert {v["VersionId"] for v in versions} == {v1, v2}
    assert [v["IsLatest"] for v in versions if v["VersionId"] == v2] == [True]
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    assert client.get_bucket_versioning(Bucket=name)["Status"] == "Suspended"


@pytest.mark.parametrize(
    "algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME", "SHA512", "MD5"]
)
def test_flexible_checksum_verified_and_returned(client, algorithm: str) -> None:  # type: ignore[no-untyped-def]
    from swiftlite.middleware.s3api import checksums

    name = _bucket(client)
    data = b"checksummed " * 100
    value = checksums.of(algorithm, data)
    field = "Checksum" + algorithm
    out = client.put_object(Bucket=name, Key="c", Body=data, **{field: value})
    assert out[field] == value
    head = client.head_object(Bucket=name, Key="c", ChecksumMode="ENABLED")
    assert head[field] == value
    wrong = checksums.of(algorithm, b"other")
    with pytest.raises(ClientError) as exc:
        client.put_object(Bucket=name, Key="c2", Body=data, **{field: wrong})
    assert _code(exc) == ("BadDigest", 400)
    with pytest.raises(ClientError):
        client.head_object(Bucket=name, Key="c2")


def test_unsupported_subresources_are_501(client) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    with pytest.raises(ClientError) as exc:
        client.get_bucket_lifecycle_configuration(Bucket=name)
    assert _code(exc) == ("NotImplemented", 501)
    with pytest.raises(ClientError) as exc:
        client.get_bucket_policy(Bucket=name)
    assert _code(exc) == ("NotImplemented", 501)


def test_content_md5_mismatch_is_bad_digest(client) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as exc:
        client.put_object(Bucket=name, Key="m", Body=b"body", ContentMD5=wrong)
    assert _code(exc) == ("BadDigest", 400)


def test_upload_part_copy_with_a_range(client) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    data = os.urandom(6 * 1024 * 1024)
    client.put_object(Bucket=name, Key="src", Body=data)
    uid = client.create_multipart_upload(Bucket=name, Key="dst")["UploadId"]
    first = client.upload_part_copy(
        Bucket=name,
        Key="dst",
        UploadId=uid,
        PartNumber=1,
        CopySource={"Bucket": name, "Key": "src"},
        CopySourceRange=f"bytes=0-{5 * 1024 * 1024 - 1}",
    )["CopyPartResult"]
    second = client.upload_part(Bucket=name, Key="dst", UploadId=uid, PartNumber=2, Body=b"tail")
    client.complete_multipart_upload(
        Bucket=name,
        Key="dst",
        UploadId=uid,
        MultipartUpload={
            "Parts": [
                {"PartNumber": 1, "ETag": first["ETag"]},
                {"PartNumber": 2, "ETag": second["ETag"]},
            ]
        },
    )
    got = client.get_object(Bucket=name, Key="dst")["Body"].read()
    assert got == data[: 5 * 1024 * 1024] + b"tail"


def test_transfer_encoding_chunked_put(client, cluster: Cluster) -> None:  # type: ignore[no-untyped-def]
    import http.client

    name = _bucket(client)
    host, port = cluster.proxy
    url = f"http://{host}:{port}/{name}/te"
    headers = s3.signed_headers("PUT", url, {}, "UNSIGNED-PAYLOAD")
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request(
            "PUT", f"/{name}/te", body=iter([b"abc", b"defg"]), headers=headers, encode_chunked=True
        )
        resp = conn.getresponse()
        assert resp.status == 200, resp.read()
    finally:
        conn.close()
    assert client.get_object(Bucket=name, Key="te")["Body"].read() == b"abcdefg"


def test_get_object_attributes(client) -> None:  # type: ignore[no-untyped-def]
    from swiftlite.middleware.s3api import checksums

    name = _bucket(client)
    data = b"attributes " * 50
    client.put_object(Bucket=name, Key="a", Body=data, ChecksumSHA256=checksums.of("SHA256", data))
    out = client.get_object_attributes(
        Bucket=name, Key="a", ObjectAttributes=["ETag", "Checksum", "ObjectSize", "StorageClass"]
    )
    assert out["ETag"] == hashlib.md5(data).hexdigest()
    assert out["ObjectSize"] == len(data)
    assert out["StorageClass"] == "STANDARD"
    assert out["Checksum"]["ChecksumSHA256"] == checksums.of("SHA256", data)
    with pytest.raises(ClientError) as exc:
        client.get_object_attributes(Bucket=name, Key="gone", ObjectAttributes=["ETag"])
    assert _code(exc) == ("NoSuchKey", 404)


def test_info_advertises_s3api(cluster: Cluster) -> None:
    import json

    status, _, body = cluster.request("GET", "/info")
    assert status == 200
    info = json.loads(body)
    assert info["s3api"]["max_upload_part_num"] == 10000
    assert info["s3api"]["allow_multipart_uploads"] is True
