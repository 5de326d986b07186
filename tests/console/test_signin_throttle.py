"""Sign-in throttling a class can live with (issue 12, section 3), and the client address behind trusted proxies.

A class signs in from one address (a school's NAT, or the TLS reverse proxy the README recommends): one student's
failures must never refuse another student's right password. A locked name stays locked whatever case or
surrounding whitespace it is typed with. The address the throttle, the audit record and ``aws:SourceIp`` see is
the one ``TRUSTED_PROXY_HOPS`` proxies forwarded, never one a client wrote itself.
"""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent
from console import services as console_services
from console import throttle
from core.addresses import client_address
from identities import services
from policies import services as policy_services

PASSWORD = "Us3r-Passw0rd!"
SCHOOL = "198.51.100.20"  # the address a whole class shares


@pytest.fixture(autouse=True)
def _fresh_throttle():
    throttle.clear_all()
    yield
    throttle.clear_all()


@pytest.fixture
def students(root_ctx, managed_policies):
    for name in ("alice", "bob", "victim"):
        services.create_user(root_ctx, user_name=name)
        services.create_login_profile(root_ctx, user_name=name, password=PASSWORD, password_reset_required=False)
        policy_services.attach_user_policy(
            root_ctx, user_name=name, policy_arn="arn:aws:iam::aws:policy/IAMReadOnlyAccess"
        )
    return root_ctx


def sign_in(account_id: str, name: str, password: str = PASSWORD, **meta: str):
    client = Client()
    response = client.post(
        f"/signin/{account_id}", {"account": account_id, "username": name, "password": password}, **meta
    )
    return client, response


def through_proxy(forwarded_for: str = SCHOOL) -> dict[str, str]:
    """What the app sees behind one reverse proxy on this machine: the proxy as peer, the client in XFF."""
    return {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": forwarded_for}


def test_one_students_failures_never_lock_the_class_out(students, account, settings):
    """200 failed sign-ins from the class's one address, over many names (known and unknown), then another
    student's right password from the same address signs in. (Before: 100 failures locked the address.)"""
    settings.TRUSTED_PROXY_HOPS = 1
    names = [f"student{n:02d}" for n in range(36)] + ["alice", "victim", "nobody", "Admin"]
    for attempt in range(200):
        _, response = sign_in(account.id, names[attempt % len(names)], "wrong-password", **through_proxy())
        assert response.status_code == 400 and b"locked" not in response.content
    client, response = sign_in(account.id, "bob", **through_proxy())
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/iam/users").status_code == 200
    success = AuditEvent.objects.filter(
        event_name="ConsoleLogin", record__responseElements__ConsoleLogin="Success"
    ).get()
    assert success.record["userIdentity"]["userName"] == "bob"
    assert success.record["sourceIPAddress"] == SCHOOL


@pytest.mark.parametrize(
    "variant",
    [" victim", "victim ", "\tvictim", "victim\t", "\u00a0victim", "victim\u00a0", "\u3000victim", "\u200bvictim",
     "victim\n", "VICTIM", " Victim\u00a0", "vIcTiM\t"],
)  # fmt: skip
def test_a_locked_user_stays_locked_under_every_variant(students, account, variant):
    for _ in range(throttle.MAX_USER_FAILURES):
        sign_in(account.id, "victim", "wrong-password")
    _, response = sign_in(account.id, variant)  # the right password, with the name typed differently
    assert response.status_code == 400 and b"temporarily locked" in response.content
    assert "iam_account" not in response.client.session
    _, other = sign_in(account.id, "alice")  # nobody else is locked
    assert other.status_code == 302


def test_failures_under_different_spellings_count_against_one_lock(students, account):
    spellings = ["victim", "VICTIM", " victim", "victim\t", "\u00a0Victim"]
    for attempt in range(throttle.MAX_USER_FAILURES):
        sign_in(account.id, spellings[attempt % len(spellings)], "wrong-password")
    _, response = sign_in(account.id, "victim")
    assert response.status_code == 400 and b"temporarily locked" in response.content
    locked = AuditEvent.objects.filter(event_name="ConsoleLogin", record__additionalEventData__LockedOut="Yes")
    assert locked.count() == 2  # the failure that locked it, and the refused right password


def test_the_lock_wording(students, account):
    for _ in range(throttle.MAX_USER_FAILURES):
        sign_in(account.id, "victim", "wrong-password")
    _, response = sign_in(account.id, "victim")
    assert console_services.SignInLocked.message.encode() in response.content


def test_sign_in_name_normalization_is_one_function():
    assert console_services.sign_in_user_name(" \t\u00a0\u200bBob\u3000\n") == "Bob"
    assert console_services.sign_in_user_name("bo b") == "bo b"  # inside the name, nothing is changed
    assert console_services.sign_in_user_name("\u200b \u200b") == ""


# ---- the client's address --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hops", "remote", "forwarded", "expected"),
    [
        (0, "10.0.0.5", "203.0.113.9", "10.0.0.5"),  # no trusted proxy: the header is the client's own writing
        (1, "127.0.0.1", "203.0.113.9", "203.0.113.9"),
        (1, "127.0.0.1", "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # a spoofed entry left of the proxy's
        (2, "10.0.0.2", "6.6.6.6, 203.0.113.9, 10.0.0.1", "203.0.113.9"),  # load balancer + proxy
        (2, "10.0.0.2", "203.0.113.9", "10.0.0.2"),  # shorter than the trusted chain: not our proxies' header
        (1, "127.0.0.1", "not-an-address", "127.0.0.1"),
        (1, "127.0.0.1", "203.0.113.9:51234", "203.0.113.9"),
        (1, "127.0.0.1", "[2001:db8::7]:443", "2001:db8::7"),
        (1, "127.0.0.1", "2001:db8::7", "2001:db8::7"),
        (1, "127.0.0.1", None, "127.0.0.1"),
        (1, None, None, "127.0.0.1"),
    ],
)
def test_client_address_behind_trusted_proxies(settings, hops, remote, forwarded, expected):
    settings.TRUSTED_PROXY_HOPS = hops
    assert client_address(remote, forwarded) == expected


def test_a_spoofed_forwarded_for_is_ignored_without_a_trusted_proxy(students, account, settings):
    settings.TRUSTED_PROXY_HOPS = 0
    sign_in(account.id, "bob", REMOTE_ADDR="192.0.2.44", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert AuditEvent.objects.get(event_name="ConsoleLogin").record["sourceIPAddress"] == "192.0.2.44"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_query_api_records_and_decides_on_the_forwarded_address(live_server, account, managed_policies, settings):
    """Behind one trusted proxy, an API call's sourceIPAddress and aws:SourceIp are the address the proxy saw; an
    address the client put in X-Forwarded-For itself does not satisfy an aws:SourceIp condition."""
    import json
    import urllib.error
    import urllib.request
    from urllib.parse import urlencode

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from core.context import CallContext, Principal
    from identities.models import IamUser
    from tests.awsapi.conftest import issue_key

    settings.TRUSTED_PROXY_HOPS = 1
    root = CallContext(Principal.root(account.id), user_agent="pytest", origin="console")
    services.create_user(root, user_name="lab")
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iam:CreateUser",
                "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
            }
        ],
    }
    policy_services.put_user_policy(
        root, user_name="lab", policy_name="school-only", policy_document=json.dumps(document)
    )
    keys = issue_key(account.id, IamUser.objects.get(name="lab"))

    def create(name: str, forwarded_for: str) -> int:
        request = AWSRequest(
            method="POST",
            url=f"{live_server.url}/aws",
            data=urlencode({"Action": "CreateUser", "Version": "2010-05-08", "UserName": name}),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        SigV4Auth(Credentials(*keys), "iam", "us-east-1").add_auth(request)
        prepared = request.prepare()
        raw = urllib.request.Request(
            prepared.url,
            data=prepared.body.encode() if isinstance(prepared.body, str) else prepared.body,
            headers={**dict(prepared.headers), "X-Forwarded-For": forwarded_for},
            method="POST",
        )
        try:
            with urllib.request.urlopen(raw, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as err:
            return err.code

    assert create("from-school", "203.0.113.7") == 200
    record = AuditEvent.objects.get(event_name="CreateUser", record__requestParameters__userName="from-school").record
    assert record["sourceIPAddress"] == "203.0.113.7"
    # The client claims the school's address; the proxy appends the address it really came from.
    assert create("spoofed", "203.0.113.7, 192.0.2.200") == 403
    denied = AuditEvent.objects.get(event_name="CreateUser", record__requestParameters__userName="spoofed").record
    assert denied["sourceIPAddress"] == "192.0.2.200" and denied["errorCode"] == "AccessDenied"
