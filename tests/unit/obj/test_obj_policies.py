"""The object server keeps each storage policy's files apart: objects-N/, async_pending-N/."""

from __future__ import annotations

import json
import os

import pytest
from objtest_helpers import PART, put, request, ts
from test_obj_updates import closed_port, cont_headers
from webob import Request

from swiftlite.common import policies
from swiftlite.obj import layout, updates
from tests.support.policy_conf import numbered, parse_policies

POLICY_1 = {policies.INDEX_HEADER: "1"}


@pytest.fixture(autouse=True)
def two_policies(monkeypatch):
    pols = parse_policies(numbered(2))
    monkeypatch.setattr(policies, "load", lambda: pols)
    return pols


def _files(root: str) -> list[str]:
    return sorted(f for _, _, names in os.walk(root) for f in names if f.endswith(".data"))


def test_policy_1_object_lives_under_objects_1_and_only_there(app, dev_path):
    assert put(app, body=b"one", headers=POLICY_1).status_int == 201
    assert len(_files(os.path.join(dev_path, "objects-1"))) == 1
    assert not os.path.exists(os.path.join(dev_path, "objects"))
    assert os.path.isdir(os.path.join(dev_path, "tmp-1"))
    assert request(app, "GET", headers=POLICY_1).body == b"one"
    assert request(app, "GET").status_int == 404  # policy 0 does not hold it
    assert request(app, "HEAD", headers={policies.INDEX_HEADER: "0"}).status_int == 404


def test_same_name_in_two_policies_is_two_objects(app, dev_path):
    put(app, body=b"zero")
    put(app, body=b"one", headers=POLICY_1)
    assert request(app, "GET").body == b"zero"
    assert request(app, "GET", headers=POLICY_1).body == b"one"
    t = ts(1)
    request(app, "DELETE", headers={"X-Timestamp": t.internal, **POLICY_1})
    assert request(app, "GET", headers=POLICY_1).status_int == 404
    assert request(app, "GET").body == b"zero"


@pytest.mark.parametrize("value", ["2", "x", "-1", "\xb2"])
def test_unknown_policy_index_is_503(app, dev_path, value):
    resp = put(app, headers={policies.INDEX_HEADER: value})
    assert resp.status_int == 503
    assert not os.path.exists(os.path.join(dev_path, "objects-2"))


def test_failed_container_update_goes_to_async_pending_1_with_the_index(app, dev_path):
    headers = {**POLICY_1, **cont_headers(f"127.0.0.1:{closed_port()}")}
    assert put(app, headers=headers).status_int == 201
    assert not os.path.exists(os.path.join(dev_path, layout.ASYNC_PENDING))
    root = os.path.join(dev_path, "async_pending-1")
    [path] = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
    pending = updates.read_async_pending(path)
    assert pending.headers[policies.INDEX_HEADER] == "1"


def test_replicate_hashes_the_policy_partition(app, dev_path):
    put(app, headers=POLICY_1)
    resp = app_replicate(app, POLICY_1)
    assert resp.status_int == 200
    assert json.loads(resp.body)  # one suffix hashed
    assert json.loads(app_replicate(app, {}).body) == {}


def app_replicate(app, headers):
    return Request.blank(f"/sda/{PART}", method="REPLICATE", headers=headers).get_response(app)


def test_layout_lists_policy_dirs(dev_path):
    for name in ("objects", "objects-1", "objects-x", "async_pending-2", "tmp"):
        os.makedirs(os.path.join(dev_path, name))
    found = layout.policy_dirs(dev_path, layout.OBJECTS)
    assert found == [(0, f"{dev_path}/objects"), (1, f"{dev_path}/objects-1")]
    assert layout.policy_dirs(dev_path, layout.ASYNC_PENDING) == [
        (2, f"{dev_path}/async_pending-2")
    ]
    assert layout.hash_dir(dev_path, 3, "a" * 32, 2).startswith(f"{dev_path}/objects-2/3/aaa/")
