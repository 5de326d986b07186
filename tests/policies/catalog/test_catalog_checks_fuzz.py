"""catalog_findings and the summary must never raise, whatever JSON value they get."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.engine.catalog_checks import catalog_findings, json_positions
from policies.engine.findings import Finding
from policies.summary import policy_summary

VOCAB = st.sampled_from(
    [
        "*",
        "s3:GetObject",
        "s3:Get*",
        "iam:PassRole",
        "iam:*",
        "foo:Bar",
        "s3:GetObjct",
        "arn:aws:s3:::b/*",
        "arn:aws:iam::*:role/*",
        "arn:aws",
        "bucket",
        "aws:SourceIp",
        "iam:PassedToService",
        "Allow",
        "Deny",
        "",
        "arn:aws:kms:*:${aws:PrincipalAccount}:key/*",
        "ForAllValues:StringEquals",
        "StringEquals",
        "${x",
        "?:*",
    ]
)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12) | VOCAB
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8) | VOCAB, inner, max_size=4),
    max_leaves=25,
)
KEYS = st.sampled_from(
    ["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "Principal", "NotPrincipal"]
)
STATEMENT = st.dictionaries(KEYS, JSON | VOCAB | st.lists(VOCAB, max_size=4), max_size=7)
POLICY = st.fixed_dictionaries(
    {"Statement": st.lists(STATEMENT, max_size=3) | STATEMENT | JSON},
    optional={"Version": JSON | st.just("2012-10-17")},
)
KINDS = st.sampled_from(["identity", "resource", "trust", "scp", "boundary", "IDENTITY_POLICY", "weird", ""])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=JSON | POLICY, kind=KINDS, text_choice=st.integers(0, 2), noise=st.text(max_size=40))
def test_catalog_findings_never_raises(value, kind, text_choice, noise):
    text = [None, json.dumps(value, indent=2), noise][text_choice]
    findings = catalog_findings(value, kind, text)
    assert isinstance(findings, list)
    assert all(isinstance(f, Finding) for f in findings)
    for f in findings:
        if f.location.line is not None:
            assert f.location.line >= 1 and f.location.column >= 1


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=80) | JSON.map(json.dumps))
def test_json_positions_never_raises(text):
    positions = json_positions(text)
    assert all(line >= 1 and col >= 1 for line, col in positions.values())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=JSON | POLICY)
def test_policy_summary_never_raises(value):
    policy_summary(value)
