"""AWS's json protocol (``awsapi.protocol.awsjson``) against botocore's own parser: what the serializer writes is
what an SDK reads, and the request side reports each constraint of the model by its reason."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.parsers import create_parser

from awsapi.protocol import awsjson
from core.validation import service_model

ORGANIZATIONS = service_model("organizations")


def parsed(operation: str, body: bytes) -> dict:
    model = ORGANIZATIONS.operation_model(operation)
    response = {"status_code": 200, "headers": {}, "body": body}
    return create_parser("json").parse(response, model.output_shape)


def test_timestamps_booleans_and_nesting_read_back_with_botocore():
    joined = dt.datetime(2026, 12, 7, 18, 30, 15, 250000, tzinfo=dt.UTC)
    result = {
        "DelegatedAdministrators": [
            {"Id": "111122223333", "Email": "a@example.com", "JoinedTimestamp": joined, "Status": "ACTIVE"}
        ],
        "NextToken": "abc",
        "NotInTheModel": "dropped",
    }
    body = awsjson.serialize(ORGANIZATIONS.operation_model("ListDelegatedAdministrators"), result)
    back = parsed("ListDelegatedAdministrators", body)
    assert back["DelegatedAdministrators"][0]["JoinedTimestamp"] == joined
    assert back["NextToken"] == "abc" and "NotInTheModel" not in back
    policy = {"Policy": {"PolicySummary": {"Id": "p-FullAWSAccess", "AwsManaged": True}, "Content": "{}"}}
    back = parsed("DescribePolicy", awsjson.serialize(ORGANIZATIONS.operation_model("DescribePolicy"), policy))
    back.pop("ResponseMetadata")
    assert back == policy


@pytest.mark.parametrize(
    ("operation", "body", "reason"),
    [
        ("ListPolicies", b"{}", "INPUT_REQUIRED"),
        ("ListPolicies", b'{"Filter": "NOPE"}', "INVALID_ENUM"),
        ("ListPolicies", b'{"Filter": "TAG_POLICY", "MaxResults": 0}', "MIN_VALUE_EXCEEDED"),
        ("ListPolicies", b'{"Filter": "TAG_POLICY", "MaxResults": 21}', "MAX_VALUE_EXCEEDED"),
        ("DescribePolicy", b'{"PolicyId": "p-short"}', "INVALID_PATTERN"),
        ("DescribePolicy", b'{"PolicyId": "p-' + b"a" * 129 + b'"}', "MAX_LENGTH_EXCEEDED"),
        ("ListDelegatedAdministrators", b'{"ServicePrincipal": ""}', "MIN_LENGTH_EXCEEDED"),
        ("ListDelegatedAdministrators", b'{"ServicePrincipal": "a\\u0000b"}', "INVALID_PATTERN"),
    ],
)
def test_each_constraint_is_reported_by_its_reason(operation, body, reason):
    with pytest.raises(awsjson.Violation) as err:
        awsjson.parse(ORGANIZATIONS.operation_model(operation).input_shape, body)
    assert err.value.reason == reason


@pytest.mark.parametrize(
    "body", [b"[1", b"[]", b'"text"', b'{"Filter": 5}', b'{"Filter": "TAG_POLICY", "MaxResults": "2"}']
)
def test_a_body_of_the_wrong_type_is_a_serialization_error(body):
    with pytest.raises(awsjson.SerializationException):
        awsjson.parse(ORGANIZATIONS.operation_model("ListPolicies").input_shape, body)


def test_members_are_typed_and_unknown_ones_ignored():
    shape = ORGANIZATIONS.operation_model("ListPolicies").input_shape
    assert awsjson.parse(shape, b'{"Filter": "TAG_POLICY", "MaxResults": 3, "Other": 1}') == {
        "Filter": "TAG_POLICY",
        "MaxResults": 3,
    }
    assert awsjson.parse(ORGANIZATIONS.operation_model("DescribeOrganization").input_shape, b"") == {}
