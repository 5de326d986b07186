"""Virtual MFA devices: CreateVirtualMFADevice, EnableMFADevice (two consecutive codes), ResyncMFADevice,
DeactivateMFADevice, DeleteVirtualMFADevice, ListMFADevices, ListVirtualMFADevices; TOTP checks (±1 step, single
use); the Assign MFA device pages; and MFA at console sign-in.

Time never passes by sleeping: every code is computed with ``pyotp.TOTP(seed).at(t)`` and checked under
``core.clock.frozen``.
"""

from __future__ import annotations

import base64
import html
import json
import re
import time
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client

from audit.models import AuditEvent
from console.services import user_principal
from core import clock
from core.context import CallContext
from core.errors import AccessDenied, DeleteConflict, EntityAlreadyExists, NoSuchEntity
from identities import credentials, services
from identities.credentials import InvalidAuthenticationCode
from identities.models import MfaDevice
from tests.conftest import ROOT_PASSWORD

# A step boundary close to the real time, so console sessions (12 hours from sign-in) stay valid under frozen clocks.
T0 = datetime.fromtimestamp((int(time.time()) // 30) * 30, UTC)
STEP = timedelta(seconds=30)


def codes(seed: str, *moments: datetime) -> list[str]:
    totp = pyotp.TOTP(seed)
    return [totp.at(moment) for moment in moments]


def new_device(ctx, name: str = "alice"):
    return credentials.create_virtual_mfa_device(ctx, virtual_mfa_device_name=name)


def enable(ctx, setup, user_name: str | None, at: datetime = T0):
    code1, code2 = codes(setup.base32_string_seed, at, at + STEP)
    with clock.frozen(at + STEP):
        return credentials.enable_mfa_device(
            ctx,
            user_name=user_name,
            serial_number=setup.serial_number,
            authentication_code1=code1,
            authentication_code2=code2,
        )


def stored_text() -> str:
    records = [json.dumps(e.record) for e in AuditEvent.objects.all()]
    sessions = [json.dumps(s.get_decoded()) for s in Session.objects.all()]
    return "\n".join(records + sessions)


# ---- services ---------------------------------------------------------------------------------------------------


def test_create_virtual_device_returns_seed_and_qr_code_once(root_ctx, account):
    setup = new_device(root_ctx, "alice")

    assert setup.serial_number == f"arn:aws:iam::{account.id}:mfa/alice"
    assert re.fullmatch(r"[A-Z2-7]{32}", setup.base32_string_seed)
    assert setup.qr_code_png.startswith(b"\x89PNG\r\n\x1a\n")
    assert setup.qr_code_data_uri.startswith("data:image/png;base64,")
    assert setup.base32_string_seed not in repr(setup)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret_encrypted FROM {MfaDevice._meta.db_table} WHERE id = %s", [setup.device.pk])
        raw = cursor.fetchone()[0]
    assert setup.base32_string_seed not in raw
    event = AuditEvent.objects.get(event_name="CreateVirtualMFADevice")
    assert event.record["responseElements"] == {"virtualMFADevice": {"serialNumber": setup.serial_number}}
    assert setup.base32_string_seed not in stored_text()
    with pytest.raises(EntityAlreadyExists, match="MFADevice entity at the same path and name already exists."):
        new_device(root_ctx, "alice")


def test_enable_with_two_consecutive_codes(root_ctx, account):
    alice = services.create_user(root_ctx, user_name="alice")
    setup = new_device(root_ctx)

    device = enable(root_ctx, setup, "alice")

    assert device.user == alice and device.enabled_at == T0 + STEP
    assert credentials.list_mfa_devices(root_ctx, user_name="alice") == [device]
    assert [d.serial_number for d in credentials.list_virtual_mfa_devices(root_ctx, assignment_status="Assigned")] == [
        setup.serial_number
    ]
    assert credentials.list_virtual_mfa_devices(root_ctx, assignment_status="Unassigned") == []
    event = AuditEvent.objects.get(event_name="EnableMFADevice")
    assert event.record["requestParameters"] == {"userName": "alice", "serialNumber": setup.serial_number}


def test_consecutive_codes_are_accepted_with_the_clock_at_either_code(root_ctx):
    services.create_user(root_ctx, user_name="alice")
    setup = new_device(root_ctx)
    code1, code2 = codes(setup.base32_string_seed, T0, T0 + STEP)

    with clock.frozen(T0):  # the second code is one step ahead: still within the window
        credentials.enable_mfa_device(
            root_ctx,
            user_name="alice",
            serial_number=setup.serial_number,
            authentication_code1=code1,
            authentication_code2=code2,
        )
    assert MfaDevice.objects.get().enabled_at == T0


@pytest.mark.parametrize(
    "moments",
    [
        (T0, T0),  # the same code twice
        (T0, T0 + 2 * STEP),  # not consecutive
        (T0 + STEP, T0),  # reversed
        (T0 - 5 * STEP, T0 - 4 * STEP),  # consecutive, but too old
    ],
)
def test_wrong_codes_are_refused_with_invalid_authentication_code(root_ctx, moments):
    services.create_user(root_ctx, user_name="alice")
    setup = new_device(root_ctx)
    code1, code2 = codes(setup.base32_string_seed, *moments)

    with clock.frozen(T0 + STEP), pytest.raises(InvalidAuthenticationCode) as raised:
        credentials.enable_mfa_device(
            root_ctx,
            user_name="alice",
            serial_number=setup.serial_number,
            authentication_code1=code1,
            authentication_code2=code2,
        )

    assert raised.value.status == 403 and raised.value.code == "InvalidAuthenticationCode"
    assert raised.value.message == "Authentication code for device is not valid."
    assert MfaDevice.objects.get().enabled_at is None
    failed = AuditEvent.objects.get(event_name="EnableMFADevice")
    assert failed.error_code == "InvalidAuthenticationCode"
    assert code1 not in json.dumps(failed.record["requestParameters"])


def test_malformed_codes_fail_validation_first(root_ctx):
    services.create_user(root_ctx, user_name="alice")
    setup = new_device(root_ctx)
    with pytest.raises(Exception, match="authenticationCode1"):
        credentials.enable_mfa_device(
            root_ctx,
            user_name="alice",
            serial_number=setup.serial_number,
            authentication_code1="12ab",
            authentication_code2="123456",
        )


def test_codes_are_single_use_and_the_window_is_one_step(root_ctx, account):
    alice = services.create_user(root_ctx, user_name="alice")
    setup = new_device(root_ctx)
    device = enable(root_ctx, setup, "alice")  # used the codes of T0 and T0+30s
    seed = setup.base32_string_seed

    (used,) = codes(seed, T0 + STEP)
    assert not credentials.verify_totp(device, used, T0 + STEP)  # the enabling codes can't sign anyone in
    (fresh,) = codes(seed, T0 + 2 * STEP)
    assert credentials.verify_totp(device, fresh, T0 + 2 * STEP)
    assert not credentials.verify_totp(device, fresh, T0 + 2 * STEP)  # single use
    assert MfaDevice.objects.get().last_used_step == credentials.totp_step(T0 + 2 * STEP)

    (late,) = codes(seed, T0 + 3 * STEP)
    assert credentials.check_sign_in_mfa(account, alice, late, T0 + 4 * STEP) == device  # one step late is fine
    (too_old,) = codes(seed, T0 + 5 * STEP)
    assert credentials.check_sign_in_mfa(account, alice, too_old, T0 + 7 * STEP) is None  # two steps late is not
    (early,) = codes(seed, T0 + 9 * STEP)
    assert credentials.check_sign_in_mfa(account, alice, early, T0 + 8 * STEP) == device  # one step early is fine
    assert credentials.check_sign_in_mfa(account, alice, "12345x", T0 + 8 * STEP) is None


def test_deactivate_then_delete(root_ctx):
    services.create_user(root_ctx, user_name="alice")
    setup = new_device(root_ctx)
    enable(root_ctx, setup, "alice")

    with pytest.raises(DeleteConflict, match="Must deactivate first"):
        credentials.delete_virtual_mfa_device(root_ctx, serial_number=setup.serial_number)
    credentials.deactivate_mfa_device(root_ctx, user_name="alice", serial_number=setup.serial_number)

    assert credentials.list_mfa_devices(root_ctx, user_name="alice") == []
    unassigned = credentials.list_virtual_mfa_devices(root_ctx, assignment_status="Unassigned")
    assert [d.serial_number for d in unassigned] == [setup.serial_number]
    with pytest.raises(NoSuchEntity):
        credentials.deactivate_mfa_device(root_ctx, user_name="alice", serial_number=setup.serial_number)
    credentials.delete_virtual_mfa_device(root_ctx, serial_number=setup.serial_number)
    assert not MfaDevice.objects.exists()


def test_resync_accepts_drifted_consecutive_codes(root_ctx):
    services.create_user(root_ctx, user_name="alice")
    setup = new_device(root_ctx)
    enable(root_ctx, setup, "alice")
    drifted = T0 + 8 * STEP
    code1, code2 = codes(setup.base32_string_seed, drifted, drifted + STEP)

    with clock.frozen(T0 + 3 * STEP):
        credentials.resync_mfa_device(
            root_ctx,
            user_name="alice",
            serial_number=setup.serial_number,
            authentication_code1=code1,
            authentication_code2=code2,
        )
        with pytest.raises(InvalidAuthenticationCode):  # the same codes can't be replayed
            credentials.resync_mfa_device(
                root_ctx,
                user_name="alice",
                serial_number=setup.serial_number,
                authentication_code1=code1,
                authentication_code2=code2,
            )
    assert MfaDevice.objects.get().last_used_step == credentials.totp_step(drifted) + 1


def test_root_mfa(root_ctx, account):
    assert not credentials.root_has_mfa(account.id)
    setup = new_device(root_ctx, "root-account-mfa-device")

    device = enable(root_ctx, setup, None)

    assert device.user is None and device.enabled_at is not None
    assert credentials.root_has_mfa(account.id)
    assert credentials.list_mfa_devices(root_ctx) == [device]
    (code,) = codes(setup.base32_string_seed, T0 + 2 * STEP)
    assert credentials.check_sign_in_mfa(account, None, code, T0 + 2 * STEP) == device
    credentials.deactivate_mfa_device(root_ctx, serial_number=setup.serial_number)
    assert not credentials.root_has_mfa(account.id)


def test_iam_user_assigns_its_own_device(root_ctx, managed_policies):
    from policies import services as policy_services

    alice = services.create_user(root_ctx, user_name="alice")
    policy_services.attach_user_policy(root_ctx, user_name="alice", policy_arn="arn:aws:iam::aws:policy/IAMFullAccess")
    alice_ctx = CallContext(user_principal(alice), origin="console")
    setup = new_device(alice_ctx)

    device = enable(alice_ctx, setup, None)

    assert device.user == alice
    dave = services.create_user(root_ctx, user_name="dave")
    with pytest.raises(AccessDenied):
        credentials.create_virtual_mfa_device(CallContext(user_principal(dave)), virtual_mfa_device_name="dave")


def test_sts_token_codes_are_checked_against_the_callers_device(root_ctx, account):
    alice = services.create_user(root_ctx, user_name="alice")
    setup = new_device(root_ctx)
    enable(root_ctx, setup, "alice")
    (code,) = codes(setup.base32_string_seed, T0 + 2 * STEP)

    with clock.frozen(T0 + 2 * STEP):
        assert not credentials.verify_mfa_code(account.id, None, setup.serial_number, code)  # not root's device
        assert credentials.verify_mfa_code(account.id, alice.pk, setup.serial_number, code)
        assert not credentials.verify_mfa_code(account.id, alice.pk, setup.serial_number, code)


def test_another_account_can_neither_see_nor_touch_the_devices(root_ctx, other_root_ctx, other_account):
    services.create_user(root_ctx, user_name="alice")
    setup = new_device(root_ctx)
    enable(root_ctx, setup, "alice")
    unassigned = new_device(root_ctx, "spare")
    serial = setup.serial_number

    with pytest.raises(NoSuchEntity):
        credentials.list_mfa_devices(other_root_ctx, user_name="alice")
    with pytest.raises(NoSuchEntity):
        credentials.deactivate_mfa_device(other_root_ctx, serial_number=serial)
    for target in (serial, unassigned.serial_number):
        with pytest.raises((NoSuchEntity, AccessDenied)):
            credentials.delete_virtual_mfa_device(other_root_ctx, serial_number=target)
    (c1, c2) = codes(unassigned.base32_string_seed, T0, T0 + STEP)
    with clock.frozen(T0 + STEP), pytest.raises(NoSuchEntity):
        credentials.enable_mfa_device(
            other_root_ctx,
            user_name=None,
            serial_number=unassigned.serial_number,
            authentication_code1=c1,
            authentication_code2=c2,
        )
    assert credentials.list_virtual_mfa_devices(other_root_ctx) == []
    assert not credentials.check_sign_in_mfa(
        other_account, None, codes(setup.base32_string_seed, T0 + 2 * STEP)[0], T0 + 2 * STEP
    )
    assert MfaDevice.objects.filter(enabled_at__isnull=False).count() == 1 and MfaDevice.objects.count() == 2


# ---- console: Assign MFA device, Remove, Resync -------------------------------------------------------------------


def test_assign_mfa_device_in_the_console(root_client, root_ctx):
    alice = services.create_user(root_ctx, user_name="alice")
    url = "/iam/users/alice/mfa/assign"
    assert root_client.get(url).status_code == 200

    step2 = root_client.post(url, {"action": "next", "device_name": "alice-phone"})

    assert step2.status_code == 200 and step2["Cache-Control"] == "no-store"
    body = step2.content.decode()
    device = MfaDevice.objects.get()
    qr = re.search(r'<img src="data:image/png;base64,([^"]+)"', body)
    assert base64.b64decode(qr.group(1)).startswith(b"\x89PNG")
    seed = re.search(r'data-testid="mfa-seed">([A-Z2-7]+)<', body).group(1)
    assert device.enabled_at is None and "Show secret key" in body
    assert seed not in stored_text()  # the session keeps the serial number only

    code1, code2 = codes(seed, T0, T0 + STEP)
    with clock.frozen(T0 + STEP):
        wrong = root_client.post(
            url, {"action": "enable", "serial_number": device.serial_number, "code1": code1, "code2": code1}
        )
        assert "Authentication code for device is not valid." in html.unescape(wrong.content.decode())
        assert 'src="data:image/png;base64,' in wrong.content.decode()  # the QR code is shown again
        done = root_client.post(
            url, {"action": "enable", "serial_number": device.serial_number, "code1": code1, "code2": code2}
        )

    assert done.status_code == 302 and done.url == "/iam/users/alice?tab=security_credentials"
    device.refresh_from_db()
    assert device.user == alice and device.enabled_at is not None

    remove = root_client.get(f"/iam/users/alice/mfa/remove?serial_number={device.serial_number}")
    assert remove.status_code == 200 and device.serial_number in remove.content.decode()
    removed = root_client.post("/iam/users/alice/mfa/remove", {"serial_number": device.serial_number})
    assert removed.status_code == 302 and not MfaDevice.objects.exists()


def test_cancelled_setup_deletes_the_unassigned_device(root_client, root_ctx):
    root_client.post("/iam/security_credentials/mfa/assign", {"action": "next", "device_name": "root-phone"})
    serial = MfaDevice.objects.get().serial_number
    # Another session can't re-display or cancel this session's device.
    other = Client()
    other.post("/signin", {"email": "root@alpha.example", "password": ROOT_PASSWORD})
    response = other.post(
        "/iam/security_credentials/mfa/assign",
        {"action": "enable", "serial_number": serial, "code1": "123456", "code2": "234567"},
    )
    assert "no longer available" in response.content.decode() and "mfa-seed" not in response.content.decode()

    root_client.post("/iam/security_credentials/mfa/assign", {"action": "cancel", "serial_number": serial})

    assert not MfaDevice.objects.exists()


def test_root_assigns_mfa_on_my_security_credentials_and_resyncs(root_client, account):
    root_client.post("/iam/security_credentials/mfa/assign", {"action": "next", "device_name": "root-phone"})
    device = MfaDevice.objects.get()
    seed = credentials.virtual_mfa_setup(account.id, device.serial_number).base32_string_seed
    code1, code2 = codes(seed, T0, T0 + STEP)
    with clock.frozen(T0 + STEP):
        root_client.post(
            "/iam/security_credentials/mfa/assign",
            {"action": "enable", "serial_number": device.serial_number, "code1": code1, "code2": code2},
        )
    assert credentials.root_has_mfa(account.id)
    page = root_client.get("/iam/security_credentials").content.decode()
    assert 'Multi-factor authentication (MFA) <span class="counter">(1)</span>' in page and device.serial_number in page

    code1, code2 = codes(seed, T0 + 6 * STEP, T0 + 7 * STEP)
    with clock.frozen(T0 + 2 * STEP):
        bad = root_client.post(
            "/iam/security_credentials/mfa/resync",
            {"serial_number": device.serial_number, "code1": code2, "code2": code1},
        )
        assert bad.status_code == 403 and "Authentication code for device is not valid." in bad.content.decode()
        ok = root_client.post(
            "/iam/security_credentials/mfa/resync",
            {"serial_number": device.serial_number, "code1": code1, "code2": code2},
        )
    assert ok.status_code == 302


def test_another_accounts_console_gets_404_for_mfa_pages(root_ctx, other_root_client):
    services.create_user(root_ctx, user_name="alice")
    setup = new_device(root_ctx)
    enable(root_ctx, setup, "alice")

    for url in ("/iam/users/alice/mfa/assign", "/iam/users/alice/mfa/remove", "/iam/users/alice/mfa/resync"):
        assert other_root_client.get(url).status_code == 404, url
    assert (
        other_root_client.post("/iam/users/alice/mfa/remove", {"serial_number": setup.serial_number}).status_code == 404
    )
    assert (
        other_root_client.get(f"/iam/security_credentials/mfa/remove?serial_number={setup.serial_number}").status_code
        == 404
    )
    assert MfaDevice.objects.get().enabled_at is not None


# ---- MFA at console sign-in ----------------------------------------------------------------------------------


@pytest.fixture
def _throttle_cleared(account):
    from console import throttle

    yield
    throttle.clear(account.id, "<root>")
    throttle.clear(account.id, "alice")


def test_root_sign_in_asks_for_a_code_and_logs_the_device(account, root_ctx, _throttle_cleared):
    setup = new_device(root_ctx, "root-phone")
    enable(root_ctx, setup, None)
    client = Client()

    with clock.frozen(T0 + 3 * STEP):
        first = client.post("/signin", {"email": account.root_email, "password": ROOT_PASSWORD})
        assert first.status_code == 302 and first.url == "/signin_mfa"
        assert client.get("/").status_code == 302  # not signed in until the code is given
        assert not AuditEvent.objects.filter(
            event_name="ConsoleLogin", error_code="", record__responseElements__ConsoleLogin="Success"
        ).exists()
        wrong = client.post("/signin_mfa", {"mfa_code": "000000"})
        assert wrong.status_code == 400
        (code,) = codes(setup.base32_string_seed, T0 + 3 * STEP)
        done = client.post("/signin_mfa", {"mfa_code": code})

    assert done.status_code == 302
    login = AuditEvent.objects.filter(event_name="ConsoleLogin").order_by("-event_time", "-pk").first()
    assert login.record["responseElements"] == {"ConsoleLogin": "Success"}
    assert login.record["additionalEventData"]["MFAUsed"] == "Yes"
    assert login.record["additionalEventData"]["MFAIdentifier"] == setup.serial_number
    with clock.frozen(T0 + 4 * STEP):
        assert client.get("/").status_code == 200


def test_mfa_sign_in_puts_mfa_in_every_request_context(account, root_ctx, managed_policies, _throttle_cleared):
    from policies import services as policy_services
    from tests.console.test_user_signin import PASSWORD, make_user

    make_user(root_ctx, "alice")
    policy_services.put_user_policy(
        root_ctx,
        user_name="alice",
        policy_name="mfa-only",
        policy_document=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "iam:ListUsers",
                        "Resource": "*",
                        "Condition": {
                            "Bool": {"aws:MultiFactorAuthPresent": "true"},
                            "NumericLessThan": {"aws:MultiFactorAuthAge": "3600"},
                        },
                    }
                ],
            }
        ),
    )
    plain = Client()
    plain.post(f"/signin/{account.id}", {"account": account.id, "username": "alice", "password": PASSWORD})
    assert plain.get("/iam/users").status_code == 403  # signed in without MFA

    setup = new_device(root_ctx, "alice")
    enable(root_ctx, setup, "alice")
    client = Client()
    with clock.frozen(T0 + 3 * STEP):
        response = client.post(
            f"/signin/{account.id}", {"account": account.id, "username": "alice", "password": PASSWORD}
        )
        assert response.url == "/signin_mfa"
        (code,) = codes(setup.base32_string_seed, T0 + 3 * STEP)
        assert client.post("/signin_mfa", {"mfa_code": code}).status_code == 302
        assert client.get("/iam/users").status_code == 200
    with clock.frozen(T0 + timedelta(hours=2)):  # aws:MultiFactorAuthAge is now over an hour
        assert client.get("/iam/users").status_code == 403


def test_password_counts_as_used_only_once_the_mfa_step_succeeds(account, root_ctx, _throttle_cleared):
    from identities.models import IamUser
    from tests.console.test_user_signin import PASSWORD, make_user

    make_user(root_ctx, "alice")
    setup = new_device(root_ctx, "alice")
    enable(root_ctx, setup, "alice")
    client = Client()
    with clock.frozen(T0 + 3 * STEP):
        client.post(f"/signin/{account.id}", {"account": account.id, "username": "alice", "password": PASSWORD})
        client.post("/signin_mfa", {"mfa_code": "000000"})
    # The password alone is not a sign-in: "Console last sign-in" stays empty after a wrong code.
    assert IamUser.objects.get(account=account, name="alice").password_last_used is None
    with clock.frozen(T0 + 4 * STEP):
        (code,) = codes(setup.base32_string_seed, T0 + 4 * STEP)
        assert client.post("/signin_mfa", {"mfa_code": code}).status_code == 302
    assert IamUser.objects.get(account=account, name="alice").password_last_used == T0 + 4 * STEP
