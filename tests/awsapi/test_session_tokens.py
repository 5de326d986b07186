"""Temporary credentials that stop working: expired or revoked sessions answer ExpiredToken at authentication;
"Revoke active sessions" is an explicit deny policy and answers AccessDenied, as in AWS (reference §6.5, §6.6).

A boto3 client against the live server; ``core.clock.frozen`` moves the server's clock too (live_server runs in a
thread of this process)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pyotp
import pytest
from botocore.exceptions import ClientError

from core import clock
from identities import credentials, roles, workflows
from identities import services as identities
from identities.models import IamUser
from policies import services as policies
from sts.models import TemporaryCredential
from tests.awsapi.conftest import client, issue_key

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EXPIRED = "The security token included in the request is expired"
INVALID = "The security token included in the request is invalid."
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


@pytest.fixture
def dev(account, root_ctx, managed_policies) -> tuple[str, str]:
    """Keys of an IAM user who may do anything, and a role ``Worker`` that trusts the account."""
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account.id}:root"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    roles.create_role(root_ctx, role_name="Worker", assume_role_policy_document=trust)
    policies.put_role_policy(root_ctx, role_name="Worker", policy_name="all", policy_document=ALLOW_ALL)
    identities.create_user(root_ctx, user_name="dev")
    policies.put_user_policy(root_ctx, user_name="dev", policy_name="all", policy_document=ALLOW_ALL)
    return issue_key(account.id, IamUser.objects.get(name="dev"))


def assume(live_server, account, keys: tuple[str, str]) -> dict[str, str]:
    return client(live_server, "sts", *keys).assume_role(
        RoleArn=f"arn:aws:iam::{account.id}:role/Worker", RoleSessionName="s1", DurationSeconds=900
    )["Credentials"]


def session(live_server, service: str, creds: dict[str, str]):
    return client(live_server, service, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def error(call) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as err:
        call()
    response = err.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def test_expired_session_answers_expired_token(live_server, account, dev):
    # The client signs with the real time and the server allows 15 minutes of skew, as long as the session lasts:
    # issue it 14 minutes in the past (it expires a minute from now), then call 2 minutes in the future.
    now = clock.now()
    with clock.frozen(now - timedelta(minutes=14)):
        creds = assume(live_server, account, dev)
        iam = session(live_server, "iam", creds)
        iam.list_users()
    with clock.frozen(now + timedelta(minutes=2)):
        assert error(iam.list_users) == (403, "ExpiredToken", EXPIRED)
        assert error(session(live_server, "sts", creds).get_caller_identity) == (403, "ExpiredToken", EXPIRED)


def test_session_of_a_deleted_role_answers_expired_token(live_server, account, root_ctx, dev):
    creds = assume(live_server, account, dev)
    sts = session(live_server, "sts", creds)
    assert sts.get_caller_identity()["Arn"].endswith(":assumed-role/Worker/s1")
    policies.delete_role_policy(root_ctx, role_name="Worker", policy_name="all")
    roles.delete_role(root_ctx, role_name="Worker")
    assert not TemporaryCredential.objects.filter(access_key_id=creds["AccessKeyId"]).exists()
    # Even GetCallerIdentity, which needs no permission, is refused: the session itself is gone.
    assert error(sts.get_caller_identity) == (403, "ExpiredToken", EXPIRED)
    assert error(session(live_server, "iam", creds).list_users) == (403, "ExpiredToken", EXPIRED)


def test_session_token_of_a_deleted_user_answers_expired_token(live_server, account, root_ctx, dev):
    creds = client(live_server, "sts", *dev).get_session_token(DurationSeconds=900)["Credentials"]
    assert session(live_server, "sts", creds).get_caller_identity()["Arn"].endswith(":user/dev")
    TemporaryCredential.objects.filter(access_key_id=creds["AccessKeyId"]).delete()  # as an account reset does
    assert error(session(live_server, "sts", creds).get_caller_identity) == (403, "ExpiredToken", EXPIRED)


def test_a_role_session_outlives_the_user_who_started_it_but_its_session_token_does_not(
    live_server, account, root_ctx, dev
):
    role_creds = assume(live_server, account, dev)
    token_creds = client(live_server, "sts", *dev).get_session_token(DurationSeconds=900)["Credentials"]
    # The API's DeleteUser, once the user's key and policy are gone (AWS refuses it before).
    credentials.delete_access_key(root_ctx, user_name="dev", access_key_id=dev[0])
    policies.delete_user_policy(root_ctx, user_name="dev", policy_name="all")
    client(live_server, "iam", *issue_key(account.id)).delete_user(UserName="dev")
    assert not IamUser.objects.filter(name="dev").exists()

    # Temporary credentials cannot be revoked: the role session works until it expires, with the role's permissions.
    sts = session(live_server, "sts", role_creds)
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:sts::{account.id}:assumed-role/Worker/s1"
    assert "Worker" in [r["RoleName"] for r in session(live_server, "iam", role_creds).list_roles()["Roles"]]
    # GetSessionToken credentials act as the user, who is gone.
    assert error(session(live_server, "sts", token_creds).get_caller_identity) == (403, "ExpiredToken", EXPIRED)


def test_tokens_we_never_issued_for_that_key_are_invalid_not_expired(live_server, account, dev):
    creds = assume(live_server, account, dev)
    forged = dict(creds, SessionToken=base64.b64encode(b"\0" * 264).decode())
    assert error(session(live_server, "sts", forged).get_caller_identity) == (403, "InvalidClientTokenId", INVALID)
    # A real token of a live session does not vouch for another (unknown) key ID.
    other_key = dict(creds, AccessKeyId="ASIA" + "Z" * 16)
    assert error(session(live_server, "sts", other_key).get_caller_identity) == (403, "InvalidClientTokenId", INVALID)
    # And a token of ours for a deleted session still needs to be the exact one issued.
    TemporaryCredential.objects.filter(access_key_id=creds["AccessKeyId"]).delete()
    tampered = dict(creds, SessionToken=creds["SessionToken"][:-8] + "AAAAAAA=")
    assert error(session(live_server, "sts", tampered).get_caller_identity) == (403, "InvalidClientTokenId", INVALID)


def test_revoke_active_sessions_is_an_explicit_deny_not_an_expired_token(live_server, account, root_ctx, dev):
    old = assume(live_server, account, dev)
    with clock.frozen(clock.now() + timedelta(seconds=2)):  # the deny compares whole seconds
        workflows.revoke_role_sessions(root_ctx, role_name="Worker")
    with clock.frozen(clock.now() + timedelta(seconds=4)):
        status, code, message = error(session(live_server, "iam", old).list_users)
        assert (status, code) == (403, "AccessDenied")
        assert "with an explicit deny in an identity-based policy" in message
        # The session still authenticates: GetCallerIdentity needs no permission and a deny does not block it.
        assert session(live_server, "sts", old).get_caller_identity()["Arn"].endswith(":assumed-role/Worker/s1")
        new = assume(live_server, account, dev)  # issued after the revocation: works normally
        session(live_server, "iam", new).list_users()


def test_get_session_token_with_mfa_satisfies_mfa_conditions_long_term_keys_do_not(live_server, account, root_ctx):
    """GetSessionToken with a code gives credentials for "API operations that require MFA authentication" (STS API
    Reference, GetSessionToken): aws:MultiFactorAuthPresent is "true" in their requests, in identity policies and in
    a role's trust policy alike; without a code it is "false"; with long-term keys it is absent."""
    acct = account.id
    require_mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    carol = identities.create_user(root_ctx, user_name="carol")
    policies.put_user_policy(
        root_ctx,
        user_name="carol",
        policy_name="mfa",
        policy_document=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
                    {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*", "Condition": require_mfa},
                ],
            }
        ),
    )
    trust = {"Effect": "Allow", "Principal": {"AWS": carol.arn}, "Action": "sts:AssumeRole", "Condition": require_mfa}
    roles.create_role(
        root_ctx,
        role_name="Secure",
        assume_role_policy_document=json.dumps({"Version": "2012-10-17", "Statement": [trust]}),
    )
    keys = issue_key(acct, carol)
    setup = credentials.create_virtual_mfa_device(root_ctx, virtual_mfa_device_name="carol")
    totp = pyotp.TOTP(setup.base32_string_seed)
    step = timedelta(seconds=credentials.TOTP_STEP_SECONDS)
    t0 = clock.now()
    with clock.frozen(t0):
        credentials.enable_mfa_device(
            root_ctx,
            user_name="carol",
            serial_number=setup.serial_number,
            authentication_code1=totp.at(t0 - step),
            authentication_code2=totp.at(t0),
        )
        sts = client(live_server, "sts", *keys)
        with_mfa = sts.get_session_token(SerialNumber=setup.serial_number, TokenCode=totp.at(t0 + step))["Credentials"]
        without_mfa = sts.get_session_token()["Credentials"]

        def assume(sts_client) -> None:
            sts_client.assume_role(RoleArn=f"arn:aws:iam::{acct}:role/Secure", RoleSessionName="carol")

        assert "carol" in [u["UserName"] for u in session(live_server, "iam", with_mfa).list_users()["Users"]]
        assume(session(live_server, "sts", with_mfa))
        for refused in (client(live_server, "iam", *keys), session(live_server, "iam", without_mfa)):
            assert error(refused.list_users)[1] == "AccessDenied"
        for refused in (sts, session(live_server, "sts", without_mfa)):
            assert error(lambda c=refused: assume(c))[1] == "AccessDenied"
