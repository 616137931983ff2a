"""S3 object and bucket tagging through boto3 (default configuration) against a real aio."""

from __future__ import annotations

import uuid

import pytest

from tests.support import s3
from tests.support.cluster import Cluster

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402


@pytest.fixture(scope="module")
def client(cluster: Cluster):  # type: ignore[no-untyped-def]
    host, port = cluster.proxy
    return s3.client(f"http://{host}:{port}")


def _bucket(client) -> str:  # type: ignore[no-untyped-def]
    name = "t-" + uuid.uuid4().hex[:12]
    client.create_bucket(Bucket=name)
    return name


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


def _tags(client, bucket: str, key: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    got = client.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    return {t["Key"]: t["Value"] for t in got}


def test_object_tagging_round_trip(client) -> None:  # type: ignore[no-untyped-def]
    bucket = _bucket(client)
    client.put_object(Bucket=bucket, Key="k", Body=b"data", Metadata={"color": "blue"})
    assert _tags(client, bucket, "k") == {}
    tag_set = [{"Key": "project", "Value": "blue sky"}, {"Key": "ünï", "Value": "a&b=c"}]
    client.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tag_set})
    assert _tags(client, bucket, "k") == {"project": "blue sky", "ünï": "a&b=c"}
    got = client.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"data"
    assert got["Metadata"] == {"color": "blue"}
    assert got["TagCount"] == 2
    client.delete_object_tagging(Bucket=bucket, Key="k")
    assert _tags(client, bucket, "k") == {}
    assert client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"
    with pytest.raises(ClientError) as exc:
        client.get_object_tagging(Bucket=bucket, Key="missing")
    assert _code(exc) == ("NoSuchKey", 404)


def test_tagging_on_put_and_copy(client) -> None:  # type: ignore[no-untyped-def]
    bucket = _bucket(client)
    client.put_object(Bucket=bucket, Key="src", Body=b"x", Tagging="a=1&b=two%20words")
    assert _tags(client, bucket, "src") == {"a": "1", "b": "two words"}
    src = {"Bucket": bucket, "Key": "src"}
    client.copy_object(Bucket=bucket, Key="same", CopySource=src)
    assert _tags(client, bucket, "same") == {"a": "1", "b": "two words"}
    client.copy_object(
        Bucket=bucket, Key="new", CopySource=src, Tagging="c=3", TaggingDirective="REPLACE"
    )
    assert _tags(client, bucket, "new") == {"c": "3"}
    client.copy_object(
        Bucket=bucket,
        Key="meta",
        CopySource=src,
        MetadataDirective="REPLACE",
        Metadata={"m": "1"},
    )
    assert _tags(client, bucket, "meta") == {"a": "1", "b": "two words"}


def test_invalid_tags(client) -> None:  # type: ignore[no-untyped-def]
    bucket = _bucket(client)
    client.put_object(Bucket=bucket, Key="k", Body=b"x")
    bad = [
        [{"Key": f"k{i}", "Value": "v"} for i in range(11)],
        [{"Key": "k" * 129, "Value": "v"}],
        [{"Key": "k", "Value": "v" * 257}],
        [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}],
    ]
    for tag_set in bad:
        with pytest.raises(ClientError) as exc:
            client.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tag_set})
        assert _code(exc) == ("InvalidTag", 400)
    with pytest.raises(ClientError) as exc:
        client.put_object(
            Bucket=bucket, Key="k2", Body=b"x", Tagging="&".join(f"k{i}=v" for i in range(11))
        )
    assert _code(exc) == ("InvalidTag", 400)
    with pytest.raises(ClientError) as exc:
        client.head_object(Bucket=bucket, Key="k2")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    ok = [{"Key": "k" * 128, "Value": "v" * 256}]
    client.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": ok})
    assert _tags(client, bucket, "k") == {"k" * 128: "v" * 256}


def test_bucket_tagging(client) -> None:  # type: ignore[no-untyped-def]
    bucket = _bucket(client)
    with pytest.raises(ClientError) as exc:
        client.get_bucket_tagging(Bucket=bucket)
    assert _code(exc) == ("NoSuchTagSet", 404)
    tag_set = [{"Key": "team", "Value": "storage"}, {"Key": "cost", "Value": "42"}]
    client.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_set})
    got = client.get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert {t["Key"]: t["Value"] for t in got} == {"team": "storage", "cost": "42"}
    client.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        client.get_bucket_tagging(Bucket=bucket)
    assert _code(exc) == ("NoSuchTagSet", 404)
    with pytest.raises(ClientError) as exc:
        client.get_bucket_tagging(Bucket="t-missing-" + uuid.uuid4().hex[:8])
    assert _code(exc) == ("NoSuchBucket", 404)
