"""SigV4 refusals, each with AWS's code, status and message, and nothing changed by a refused request.

Requests are signed with botocore's own signers (SigV4Auth for headers, SigV4QueryAuth for presigned URLs) and
then tampered with where the test needs it. ``core.clock.frozen`` in the test moves the server's clock too:
live_server runs in a thread of this process.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.parsers import create_parser

from audit.models import AuditEvent
from core import clock
from identities.models import AccessKey, IamUser
from tests.awsapi.conftest import client, issue_key

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CREATE = {"Action": "CreateUser", "Version": "2010-05-08", "UserName": "mallory"}
INVALID_TOKEN = "The security token included in the request is invalid."
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)


def signed(
    url: str, key_id: str, secret: str, form: dict[str, str], *, token: str | None = None, service: str = "iam"
) -> AWSRequest:
    request = AWSRequest(
        method="POST",
        url=url,
        data=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(key_id, secret, token), service, "us-east-1").add_auth(request)
    return request


def send(request: AWSRequest) -> tuple[int, dict[str, str]]:
    prepared = request.prepare()
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    raw = urllib.request.Request(
        prepared.url, data=body or None, headers=dict(prepared.headers), method=prepared.method
    )
    try:
        with urllib.request.urlopen(raw, timeout=30) as response:
            return response.status, {"Code": "", "Body": response.read().decode()}
    except urllib.error.HTTPError as err:
        body = err.read()
        parsed = create_parser("query").parse({"body": body, "headers": {}, "status_code": err.code}, None)
        return err.code, parsed["Error"]


@pytest.fixture
def url(live_server) -> str:
    return f"{live_server.url}/aws"


def refused(request: AWSRequest, code: str, status: int, message: str | None = None) -> dict[str, str]:
    got_status, error = send(request)
    assert (got_status, error["Code"]) == (status, code), error
    if message is not None:
        assert error["Message"] == message
    assert not IamUser.objects.filter(name="mallory").exists()
    return error


def test_a_good_signature_is_accepted(url, root_keys):
    status, _ = send(signed(url, *root_keys, CREATE))
    assert status == 200 and IamUser.objects.filter(name="mallory").exists()


def test_unknown_key(url, root_keys):
    refused(signed(url, "AKIAUNKNOWNUNKNOWN00", root_keys[1], CREATE), "InvalidClientTokenId", 403, INVALID_TOKEN)


def test_wrong_secret(url, root_keys):
    refused(signed(url, root_keys[0], "x" * 40, CREATE), "SignatureDoesNotMatch", 403, MISMATCH)


def test_body_altered_after_signing(url, root_keys):
    request = signed(url, *root_keys, {**CREATE, "UserName": "innocent"})
    request.data = urlencode(CREATE)  # same length class of change: the body no longer matches its hash
    refused(request, "SignatureDoesNotMatch", 403, MISMATCH)
    assert not IamUser.objects.filter(name="innocent").exists()


def test_header_altered_after_signing(url, root_keys):
    request = signed(url, *root_keys, CREATE)
    request.headers.replace_header("X-Amz-Date", "20300101T000000Z")
    with clock.frozen(clock.now().replace(year=2030, month=1, day=1, hour=0, minute=0, second=5)):
        refused(request, "SignatureDoesNotMatch", 403, MISMATCH)


def test_unsigned_request(url):
    request = AWSRequest(
        method="POST", url=url, data=urlencode(CREATE), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    refused(request, "MissingAuthenticationToken", 403, "Request is missing Authentication Token")


@pytest.mark.parametrize("drop", ["Credential", "SignedHeaders", "Signature"])
def test_incomplete_authorization_header(url, root_keys, drop):
    request = signed(url, *root_keys, CREATE)
    algorithm, _, rest = request.headers["Authorization"].partition(" ")
    parts = [p for p in rest.split(", ") if not p.startswith(drop + "=")]
    request.headers.replace_header("Authorization", f"{algorithm} {', '.join(parts)}")
    error = refused(request, "IncompleteSignature", 400)
    assert f"Authorization header requires '{drop}' parameter." in error["Message"]


def test_missing_date(url, root_keys):
    request = signed(url, *root_keys, CREATE)
    del request.headers["X-Amz-Date"]
    error = refused(request, "IncompleteSignature", 400)
    assert "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header." in error["Message"]


@pytest.mark.parametrize("minutes", [16, -16, -365 * 24 * 60])
def test_clock_skew_beyond_15_minutes(url, root_keys, minutes):
    """AWS's IAM and STS answer SignatureDoesNotMatch (403) with these messages for a header-signed request
    dated more than 15 minutes away from their clock, before or after."""
    request = signed(url, *root_keys, CREATE)
    with clock.frozen(clock.now() + timedelta(minutes=minutes)):
        error = refused(request, "SignatureDoesNotMatch", 403)
    assert error["Message"].startswith("Signature expired:" if minutes > 0 else "Signature not yet current:")
    assert error["Message"].endswith("- 15 min.)" if minutes > 0 else "+ 15 min.)")


def test_replay_within_15_minutes_is_accepted(url, root_keys):
    request = signed(url, *root_keys, CREATE)
    with clock.frozen(clock.now() + timedelta(minutes=14)):
        assert send(request)[0] == 200


def test_inactive_key(url, account, managed_policies):
    key_id, secret = issue_key(account.id)
    AccessKey.objects.filter(access_key_id=key_id).update(status="Inactive")
    refused(signed(url, key_id, secret, CREATE), "InvalidClientTokenId", 403, INVALID_TOKEN)


def _session(live_server, account):
    import json

    iam = client(live_server, "iam", *issue_key(account.id))
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account.id}:root"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    iam.create_role(RoleName="Admin", AssumeRolePolicyDocument=trust)
    iam.attach_role_policy(RoleName="Admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.create_user(UserName="dev")
    iam.attach_user_policy(UserName="dev", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    dev = issue_key(account.id, IamUser.objects.get(name="dev"))
    creds = client(live_server, "sts", *dev).assume_role(
        RoleArn=f"arn:aws:iam::{account.id}:role/Admin", RoleSessionName="sess", DurationSeconds=900
    )["Credentials"]
    return creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]


def test_temporary_key_needs_its_session_token(live_server, url, account, managed_policies):
    key_id, secret, token = _session(live_server, account)
    refused(signed(url, key_id, secret, CREATE), "InvalidClientTokenId", 403, INVALID_TOKEN)
    refused(signed(url, key_id, secret, CREATE, token=token[:-4] + "AAAA"), "InvalidClientTokenId", 403, INVALID_TOKEN)
    assert send(signed(url, key_id, secret, CREATE, token=token))[0] == 200  # the right token works


def test_expired_session(live_server, url, account, managed_policies):
    key_id, secret, token = _session(live_server, account)
    later = clock.now() + timedelta(minutes=16)  # the session lasts 15 minutes
    request = AWSRequest(
        method="POST",
        url=url,
        data=urlencode(CREATE),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    _sign_at(SigV4Auth(Credentials(key_id, secret, token), "iam", "us-east-1"), request, later)
    with clock.frozen(later):
        refused(request, "ExpiredToken", 403, "The security token included in the request is expired")


def _sign_at(signer: SigV4Auth, request: AWSRequest, when) -> None:
    """botocore's add_auth stamps 'now'; sign at the test's frozen time instead."""
    from unittest import mock

    import botocore.auth

    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when.replace(tzinfo=None)):
        if "X-Amz-Date" in request.headers:
            del request.headers["X-Amz-Date"]
        if "Authorization" in request.headers:
            del request.headers["Authorization"]
        signer.add_auth(request)


def presigned(url: str, key_id: str, secret: str, form: dict[str, str], expires: int = 60) -> AWSRequest:
    request = AWSRequest(method="GET", url=f"{url}?{urlencode(form)}")
    SigV4QueryAuth(Credentials(key_id, secret), "iam", "us-east-1", expires=expires).add_auth(request)
    return request


def test_presigned_get(url, root_keys):
    assert send(presigned(url, *root_keys, CREATE))[0] == 200
    assert IamUser.objects.filter(name="mallory").exists()


def test_presigned_tampered_or_expired(url, root_keys):
    request = presigned(url, *root_keys, CREATE)
    request.url = request.url.replace("UserName=mallory", "UserName=mallorx")
    assert send(request)[1]["Code"] == "SignatureDoesNotMatch"
    assert not IamUser.objects.filter(name="mallorx").exists()
    request = presigned(url, *root_keys, CREATE, expires=60)
    with clock.frozen(clock.now() + timedelta(seconds=120)):
        refused(request, "RequestExpired", 400, "Request has expired.")
    request = presigned(url, *root_keys, CREATE)
    request.url = request.url.replace("X-Amz-Credential=", "X-Amz-Credentia=")
    refused(request, "IncompleteSignature", 400)


@pytest.mark.parametrize("expires", [604801, 10 * 365 * 24 * 60 * 60])
def test_presigned_url_valid_longer_than_a_week_is_refused(url, root_keys, expires):
    """SigV4 signing keys last seven days, so AWS refuses a presigned URL that claims to be valid longer, at once
    (before, a URL signed for ten years kept working for ten years)."""
    error = refused(presigned(url, *root_keys, CREATE, expires=expires), "AuthorizationQueryParametersError", 400)
    assert error["Message"] == (
        "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than "
        "604800 seconds"
    )


def test_presigned_url_valid_for_exactly_a_week_works_for_a_week(url, root_keys):
    request = presigned(url, *root_keys, CREATE, expires=604800)
    with clock.frozen(clock.now() + timedelta(seconds=604800 + 60)):
        refused(request, "RequestExpired", 400, "Request has expired.")
    with clock.frozen(clock.now() + timedelta(days=6, hours=23)):
        assert send(request)[0] == 200


@pytest.mark.parametrize("value", ["-5", "abc", "1e3", ""])
def test_presigned_url_with_a_bad_expiry(url, root_keys, value):
    request = presigned(url, *root_keys, CREATE)
    request.url = request.url.replace("X-Amz-Expires=60", f"X-Amz-Expires={value}")
    refused(request, "AuthorizationQueryParametersError", 400, "X-Amz-Expires should be a number")


def test_presigned_url_valid_for_no_time_has_expired(url, root_keys):
    request = presigned(url, *root_keys, CREATE, expires=0)
    with clock.frozen(clock.now() + timedelta(seconds=1)):
        refused(request, "RequestExpired", 400, "Request has expired.")


@pytest.mark.parametrize("ahead", [timedelta(days=365), timedelta(minutes=16)])
def test_presigned_url_dated_in_the_future_is_refused(url, root_keys, ahead):
    """A URL dated a year ahead (signed now, the server's clock a year back) is not valid yet; within the 15
    minutes of allowed clock skew it is."""
    request = presigned(url, *root_keys, CREATE, expires=3600)
    with clock.frozen(clock.now() - ahead):
        error = refused(request, "SignatureDoesNotMatch", 403)
    assert error["Message"].startswith("Signature not yet current:") and error["Message"].endswith("+ 15 min.)")
    with clock.frozen(clock.now() - timedelta(minutes=14)):
        assert send(request)[0] == 200


def test_refusals_change_nothing_and_unknown_actions(url, root_keys):
    before = AuditEvent.objects.count()
    refused(signed(url, root_keys[0], "y" * 40, CREATE), "SignatureDoesNotMatch", 403)
    assert AuditEvent.objects.count() == before
    status, error = send(signed(url, *root_keys, {"Action": "CreateFrobnicator", "Version": "2010-05-08"}))
    assert (status, error["Code"], error["Message"]) == (
        400,
        "InvalidAction",
        "Could not find operation CreateFrobnicator for version 2010-05-08",
    )


def test_unsigned_sts_calls_aws_allows(url):
    """AssumeRoleWithWebIdentity/SAML get past authentication unsigned (their token is the credential)."""
    form = {
        "Action": "AssumeRoleWithWebIdentity",
        "Version": "2011-06-15",
        "RoleArn": "arn:aws:iam::111122223333:role/x",
        "RoleSessionName": "s",
        "WebIdentityToken": "a.b.c",
    }
    status, error = send(
        AWSRequest(
            method="POST", url=url, data=urlencode(form), headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    )
    assert error["Code"] != "MissingAuthenticationToken"
    form["Action"] = "GetCallerIdentity"
    status, error = send(
        AWSRequest(
            method="POST", url=url, data=urlencode(form), headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    )
    assert (status, error["Code"]) == (403, "MissingAuthenticationToken")
