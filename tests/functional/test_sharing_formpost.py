"""Form POST uploads signed with the real swiftlite-form-signature CLI, on the real cluster."""

from __future__ import annotations

import json

from tests.support.cluster import Cluster
from tests.support.sharing import form_fields, form_signature_cli, login, multipart, swift, unique

FORM_KEY = "functional-form-key"


def _container(cluster: Cluster) -> tuple[str, str]:
    auth = login(cluster)
    container = unique("fp")
    swift(cluster, "post", "-m", f"Temp-URL-Key:{FORM_KEY}", container)
    return auth.token, f"{auth.path}/{container}"


def _post(cluster: Cluster, action: str, body: bytes, boundary: str):
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return cluster.request("POST", action, headers, body)


def test_cli_signed_form_uploads_two_files_and_redirects(cluster):
    token, path = _container(cluster)
    out = form_signature_cli(f"{path}/up_", "http://app.example/ok", "1024", "2", "60", FORM_KEY)
    action, fields = form_fields(out)
    assert action == f"{path}/up_"
    body = multipart(fields, [("one.txt", b"first file"), ("two.txt", b"second file")], "bnd42")
    status, headers, _ = _post(cluster, action, body, "bnd42")
    assert status == 303
    assert headers["location"] == "http://app.example/ok?status=201&message="
    for name, data in (("one.txt", b"first file"), ("two.txt", b"second file")):
        got = cluster.request("GET", f"{path}/up_{name}", {"X-Auth-Token": token})
        assert (got[0], got[2]) == (200, data)


def test_tampered_form_field_is_401_and_uploads_nothing(cluster):
    token, path = _container(cluster)
    out = form_signature_cli(f"{path}/t_", "", "1024", "1", "60", FORM_KEY)
    action, fields = form_fields(out)
    fields["max_file_size"] = "999999"
    status, _, body = _post(cluster, action, multipart(fields, [("x", b"data")], "b"), "b")
    assert (status, body) == (401, b"FormPost: Invalid Signature")
    listing = cluster.request("GET", f"{path}?format=json", {"X-Auth-Token": token})
    assert json.loads(listing[2] or b"[]") == []


def test_file_over_the_signed_size_is_400_and_not_stored(cluster):
    token, path = _container(cluster)
    action, fields = form_fields(form_signature_cli(f"{path}/", "", "5", "1", "60", FORM_KEY))
    status, _, body = _post(cluster, action, multipart(fields, [("big", b"x" * 70000)], "b"), "b")
    assert (status, body) == (400, b"FormPost: max_file_size exceeded")
    assert cluster.request("HEAD", f"{path}/big", {"X-Auth-Token": token})[0] == 404


def test_info_lists_formpost(cluster):
    info = json.loads(cluster.request("GET", "/info")[2])
    assert info["formpost"]["allowed_digests"] == ["sha1", "sha256", "sha512"]
    assert info["formpost"]["deprecated_digests"] == ["sha1"]


def test_x_delete_after_field_sets_the_objects_expiry(cluster):
    token, path = _container(cluster)
    action, fields = form_fields(form_signature_cli(f"{path}/", "", "100", "1", "60", FORM_KEY))
    fields["x_delete_after"] = "3600"
    body = multipart(fields, [("short-lived.txt", b"bye soon")], "b")
    status, _, text = _post(cluster, action, body, "b")
    assert (status, text) == (201, b"201 Created")
    _, headers, _ = cluster.request("HEAD", f"{path}/short-lived.txt", {"X-Auth-Token": token})
    assert int(headers["x-delete-at"]) > 0
