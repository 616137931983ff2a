"""Real S3 clients against the aio: aws-cli's ``s3`` commands, rclone's S3 backend, and the
same objects through the Swift API (python-swiftclient's ``swift`` CLI)."""

from __future__ import annotations

import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import uuid

import pytest

from tests.support import s3
from tests.support.cluster import Cluster

AWS = str(pathlib.Path(sys.executable).with_name("aws"))
SWIFT = str(pathlib.Path(sys.executable).with_name("swift"))
RCLONE = shutil.which("rclone")


def _endpoint(cluster: Cluster) -> str:
    host, port = cluster.proxy
    return f"http://{host}:{port}"


def _env(tmp_path: pathlib.Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}
    env.update(
        AWS_ACCESS_KEY_ID=s3.ACCESS,
        AWS_SECRET_ACCESS_KEY=s3.SECRET,
        AWS_DEFAULT_REGION=s3.REGION,
        AWS_CONFIG_FILE=str(tmp_path / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-credentials"),
    )
    return env


def _tree(root: pathlib.Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _make_tree(root: pathlib.Path) -> None:
    files = {
        "a.txt": b"alpha\n",
        "empty": b"",
        "dir/b.bin": os.urandom(70_000),
        "dir/sub/c \u00e9\u00e8 \u4e2d.txt": b"unicode name\n",
        "gone.txt": b"deleted later\n",
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@pytest.mark.skipif(not os.path.exists(AWS), reason="awscli is not installed in the venv")
def test_aws_cli_mb_cp_sync_ls_rm_rb(cluster: Cluster, tmp_path: pathlib.Path) -> None:
    env = _env(tmp_path)
    url = _endpoint(cluster)
    bucket = "cli-" + uuid.uuid4().hex[:10]

    def aws(*args: str) -> str:
        done = subprocess.run(
            [AWS, "--endpoint-url", url, "s3", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"aws s3 {args}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        return done.stdout

    aws("mb", f"s3://{bucket}")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * 1024 * 1024))
    aws("cp", str(big), f"s3://{bucket}/big.bin")  # 20 MiB: multipart
    back = tmp_path / "big.back"
    aws("cp", f"s3://{bucket}/big.bin", str(back))
    assert back.read_bytes() == big.read_bytes()
    src = tmp_path / "src"
    _make_tree(src)
    aws("sync", str(src), f"s3://{bucket}/tree")
    (src / "gone.txt").unlink()
    aws("sync", "--delete", str(src), f"s3://{bucket}/tree")
    listed = aws("ls", "--recursive", f"s3://{bucket}")
    names = {line.split(None, 3)[3] for line in listed.splitlines() if line.strip()}
    assert names == {"big.bin"} | {f"tree/{n}" for n in _tree(src)}
    dst = tmp_path / "dst"
    aws("sync", f"s3://{bucket}/tree", str(dst))
    assert _tree(dst) == _tree(src)
    aws("rm", "--recursive", f"s3://{bucket}")
    aws("rb", f"s3://{bucket}")
    assert bucket not in aws("ls")


@pytest.mark.skipif(RCLONE is None, reason="rclone is not installed (Debian package rclone)")
def test_rclone_s3_backend_copy_check_sync(cluster: Cluster, tmp_path: pathlib.Path) -> None:
    src = tmp_path / "src"
    _make_tree(src)
    (src / "seven.bin").write_bytes(os.urandom(7 * 1024 * 1024))
    env = _env(tmp_path)
    env.update(
        RCLONE_CONFIG=str(tmp_path / "rclone.conf"),
        RCLONE_CONFIG_SL_TYPE="s3",
        RCLONE_CONFIG_SL_PROVIDER="Other",
        RCLONE_CONFIG_SL_ACCESS_KEY_ID=s3.ACCESS,
        RCLONE_CONFIG_SL_SECRET_ACCESS_KEY=s3.SECRET,
        RCLONE_CONFIG_SL_ENDPOINT=_endpoint(cluster),
        RCLONE_CONFIG_SL_REGION=s3.REGION,
    )
    bucket = "rc-" + uuid.uuid4().hex[:10]

    def rclone(*args: str) -> str:
        done = subprocess.run(
            [str(RCLONE), *args], env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, f"rclone {args}: {done.stdout}\n{done.stderr}"
        return done.stdout

    rclone("mkdir", f"sl:{bucket}")
    rclone("copy", str(src), f"sl:{bucket}")
    rclone("check", str(src), f"sl:{bucket}")
    (src / "gone.txt").unlink()
    rclone("sync", str(src), f"sl:{bucket}")
    listed = {line.split(None, 1)[1] for line in rclone("ls", f"sl:{bucket}").splitlines()}
    assert listed == set(_tree(src))
    rclone("check", str(src), f"sl:{bucket}")
    back = tmp_path / "back"
    rclone("copy", f"sl:{bucket}", str(back))
    assert _tree(back) == _tree(src)
    rclone("purge", f"sl:{bucket}")


def test_same_object_through_swift_and_s3(cluster: Cluster, tester, tmp_path: pathlib.Path) -> None:  # type: ignore[no-untyped-def]
    boto = s3.client(_endpoint(cluster))
    bucket = "x-" + uuid.uuid4().hex[:10]
    boto.create_bucket(Bucket=bucket)
    data = os.urandom(5000)
    boto.put_object(
        Bucket=bucket, Key="o", Body=data, Metadata={"color": "red"}, ContentType="text/x-s3"
    )
    status, headers, body = cluster.request(
        "GET", f"/v1/AUTH_test/{bucket}/o", {"X-Auth-Token": tester.token}
    )
    assert status == 200
    assert body == data
    assert headers["x-object-meta-color"] == "red"
    assert headers["content-type"] == "text/x-s3"
    assert headers["etag"].strip('"') == hashlib.md5(data).hexdigest()
    status, _, _ = cluster.request(
        "PUT",
        f"/v1/AUTH_test/{bucket}/from-swift",
        {"X-Auth-Token": tester.token, "X-Object-Meta-Shape": "round"},
        b"swift bytes",
    )
    assert status == 201
    got = boto.get_object(Bucket=bucket, Key="from-swift")
    assert got["Body"].read() == b"swift bytes"
    assert got["Metadata"] == {"shape": "round"}
    big = tmp_path / "big"
    big.write_bytes(os.urandom(12 * 1024 * 1024))
    boto.upload_file(str(big), bucket, "mpu")
    cmd = [
        SWIFT,
        "-A",
        cluster.auth_url,
        "-U",
        "test:tester",
        "-K",
        "testing",
        "stat",
        bucket,
        "mpu",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert (
        "Manifest:" in done.stdout
        or "Static Large Object" in done.stdout
        or "X-Static-Large-Object: True" in done.stdout
    ), done.stdout
    dl = tmp_path / "dl"
    cmd = [
        SWIFT,
        "-A",
        cluster.auth_url,
        "-U",
        "test:tester",
        "-K",
        "testing",
        "download",
        bucket,
        "mpu",
        "-o",
        str(dl),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert dl.read_bytes() == big.read_bytes()
