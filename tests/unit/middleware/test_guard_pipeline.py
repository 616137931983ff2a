"""The sample proxy pipeline has the guard filters on, in Swift's order, and the others off."""

from __future__ import annotations

import configparser
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[3]
SWIFT_ORDER = [
    "catch_errors",
    "gatekeeper",
    "healthcheck",
    "proxy_logging",
    "cache",
    "listing_formats",
    "bulk",
    "tempurl",
    "ratelimit",
    "formpost",
    "s3api",
    "tempauth",
    "staticweb",
    "copy",
    "container_quotas",
    "account_quotas",
    "slo",
    "dlo",
    "versioned_writes",
    # Swift nests object versioning in its versioned_writes filter, above symlink
    "object_versioning",
    "symlink",
]


def _conf() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO / "etc" / "proxy-server.conf")
    return parser


def test_sample_pipeline_keeps_swift_order_with_the_guards_on():
    pipeline = _conf().get("pipeline:main", "pipeline").split()
    for name in ("ratelimit", "container_quotas", "account_quotas"):
        assert name in pipeline
    known = [name for name in pipeline if name in SWIFT_ORDER]
    first_seen = list(dict.fromkeys(known))
    assert first_seen == sorted(first_seen, key=SWIFT_ORDER.index)


def test_sample_pipeline_has_copy_then_slo_then_dlo_before_versioning():
    """Issue 15: both large-object filters on by default, where Swift's sample puts them."""
    pipeline = _conf().get("pipeline:main", "pipeline").split()
    at = {name: pipeline.index(name) for name in ("copy", "slo", "dlo", "versioned_writes")}
    assert at["copy"] < at["slo"] < at["dlo"] < at["versioned_writes"]
    assert pipeline.index("tempauth") < at["copy"]
    conf = _conf()
    for name in ("copy", "slo", "dlo"):
        assert conf.get(f"filter:{name}", "use") == f"egg:swiftlite#{name}"


def test_optional_guards_are_configured_but_off():
    conf = _conf()
    pipeline = conf.get("pipeline:main", "pipeline").split()
    for name in ("name_check", "etag_quoter", "read_only", "list_endpoints"):
        assert conf.get(f"filter:{name}", "use") == f"egg:swiftlite#{name}"
        assert name not in pipeline
