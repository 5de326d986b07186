"""The credential report: the CSV exactly as reference §5.4 describes it, GenerateCredentialReport /
GetCredentialReport semantics (4-hour reuse, in progress, expired), the Celery build (called directly and run by a
real worker on the real Redis broker), the console page and its download, and cross-account isolation."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audit.models import AuditEvent
from console.services import user_principal
from core import clock
from core.context import CallContext
from core.errors import AccessDenied
from identities import account_settings as settings_services
from identities import credential_report, services
from identities.credential_report import ReportExpired, ReportInProgress, ReportNotPresent
from identities.models import AccessKey, CredentialReport, LoginProfile, MfaDevice
from identities.tasks import build_credential_report

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Str0ng-Passw0rd!"

# Reference §5.4, copied character for character.
HEADER_LINE = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,"
    "mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,"
    "access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,"
    "access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
)
ISO = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$"
T0 = datetime(2026, 11, 28, 11, 5, 0, tzinfo=UTC)


def rows(content: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content)))


def add_key(account_id, user, key_id, *, created, status="Active", used=None, service="", region=""):
    return AccessKey.objects.create(
        account_id=account_id,
        user=user,
        access_key_id=key_id,
        secret_encrypted="x",
        status=status,
        created_at=created,
        last_used_at=used,
        last_used_service=service,
        last_used_region=region,
    )


def add_mfa(account_id, user, name, *, enabled=True):
    return MfaDevice.objects.create(
        account_id=account_id,
        user=user,
        name=name,
        serial_number=f"arn:aws:iam::{account_id}:mfa/{name}",
        secret_encrypted="x",
        enabled_at=T0 if enabled else None,
        created_at=T0,
    )


def builds(callbacks) -> int:
    """How many report builds the captured on-commit callbacks would enqueue (audit delivery ones aside)."""
    return sum(cb.__qualname__.startswith("generate_credential_report") for cb in callbacks)


def complete_report(ctx) -> settings_services.Report:
    """Generate and build right here (the task's function, without a worker), then read it."""
    settings_services.generate_credential_report(ctx)
    assert build_credential_report(ctx.account_id) is True
    return settings_services.get_credential_report(ctx)


# ---- the CSV --------------------------------------------------------------------------------------------------


def test_header_is_exactly_the_documented_line_and_root_comes_first(root_ctx, account):
    content = credential_report.render_csv(account.id)
    lines = content.split("\n")
    assert lines[0] == HEADER_LINE
    root = rows(content)[0]
    assert root["user"] == "<root_account>"
    assert root["arn"] == f"arn:aws:iam::{account.id}:root"
    assert root["user_creation_time"] == account.created_at.astimezone(UTC).replace(microsecond=0).isoformat()
    assert (root["password_enabled"], root["password_last_changed"], root["password_next_rotation"]) == (
        "not_supported",
        "not_supported",
        "not_supported",
    )
    assert root["password_last_used"] == "no_information"
    assert root["mfa_active"] == "false"
    assert [
        root[f"access_key_{n}_{c}"]
        for n in (1, 2)
        for c in ("active", "last_rotated", "last_used_date", "last_used_region", "last_used_service")
    ] == ["false", "N/A", "N/A", "N/A", "N/A"] * 2
    assert [root[c] for c in ("cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated")] == [
        "false",
        "N/A",
        "false",
        "N/A",
    ]


def test_root_sign_in_mfa_and_keys_fill_the_root_row(root_client, account):
    add_key(account.id, None, "AKIAROOTKEY000000001", created=T0)
    add_mfa(account.id, None, "root-mfa")
    root = rows(credential_report.render_csv(account.id))[0]
    assert root["password_last_used"].endswith("+00:00")  # root_client signed in: a ConsoleLogin Success
    assert root["mfa_active"] == "true"
    assert (root["access_key_1_active"], root["access_key_1_last_rotated"], root["access_key_1_last_used_date"]) == (
        "true",
        "2026-11-28T11:05:00+00:00",
        "N/A",
    )


def test_user_rows_show_passwords_keys_and_mfa(root_ctx, account):
    services.create_user(root_ctx, user_name="bob")  # no password, nothing
    services.create_user(root_ctx, user_name="alice")
    services.create_login_profile(root_ctx, user_name="alice", password=PASSWORD)
    alice = services.find_user(account.id, "alice")
    LoginProfile.objects.filter(user=alice).update(password_changed_at=T0)
    alice.password_last_used = T0 + timedelta(hours=1, microseconds=5)
    alice.save()
    add_key(
        account.id,
        alice,
        "AKIAALICE00000000001",
        created=T0,
        used=T0 + timedelta(days=1),
        service="iam",
        region="us-east-1",
    )
    add_key(account.id, alice, "AKIAALICE00000000002", created=T0 + timedelta(days=2), status="Inactive")
    add_mfa(account.id, alice, "alice-phone")
    add_mfa(account.id, None, "root-pending", enabled=False)  # not enabled: not active
    settings_services.update_account_password_policy(root_ctx, max_password_age=90)

    by_name = {r["user"]: r for r in rows(credential_report.render_csv(account.id))}
    assert list(by_name) == ["<root_account>", "alice", "bob"]
    a = by_name["alice"]
    assert a["arn"] == f"arn:aws:iam::{account.id}:user/alice"
    assert a["password_enabled"] == "true"
    assert a["password_last_used"] == "2026-11-28T12:05:00+00:00"
    assert a["password_last_changed"] == "2026-11-28T11:05:00+00:00"
    assert a["password_next_rotation"] == "2027-02-26T11:05:00+00:00"
    assert a["mfa_active"] == "true"
    assert [
        a[f"access_key_1_{c}"]
        for c in ("active", "last_rotated", "last_used_date", "last_used_region", "last_used_service")
    ] == ["true", "2026-11-28T11:05:00+00:00", "2026-11-29T11:05:00+00:00", "us-east-1", "iam"]
    assert [
        a[f"access_key_2_{c}"]
        for c in ("active", "last_rotated", "last_used_date", "last_used_region", "last_used_service")
    ] == ["false", "2026-11-30T11:05:00+00:00", "N/A", "N/A", "N/A"]
    b = by_name["bob"]
    assert b["user_creation_time"] != "N/A" and __import__("re").match(ISO, b["user_creation_time"])
    assert [
        b[c]
        for c in (
            "password_enabled",
            "password_last_used",
            "password_last_changed",
            "password_next_rotation",
            "mfa_active",
            "access_key_1_active",
        )
    ] == ["false", "N/A", "N/A", "N/A", "false", "false"]
    assert by_name["<root_account>"]["mfa_active"] == "false"

    services.create_login_profile(root_ctx, user_name="bob", password=PASSWORD)
    bob = {r["user"]: r for r in rows(credential_report.render_csv(account.id))}["bob"]
    assert (bob["password_enabled"], bob["password_last_used"]) == ("true", "no_information")
    assert "TRUE" not in credential_report.render_csv(account.id)


def test_render_uses_a_constant_number_of_queries(root_ctx, account, django_assert_max_num_queries):
    for i in range(15):
        services.create_user(root_ctx, user_name=f"user{i}")
        add_key(account.id, services.find_user(account.id, f"user{i}"), f"AKIAUSER{i:012d}", created=T0)
    with django_assert_max_num_queries(6):
        credential_report.render_csv(account.id)


# ---- Generate / Get semantics ---------------------------------------------------------------------------------


def test_no_report_then_started_then_in_progress(root_ctx, django_capture_on_commit_callbacks):
    with pytest.raises(ReportNotPresent) as exc:
        settings_services.get_credential_report(root_ctx)
    assert exc.value.code == "ReportNotPresent" and exc.value.status == 410
    with django_capture_on_commit_callbacks() as callbacks:
        first = settings_services.generate_credential_report(root_ctx)
    assert first.state == "STARTED" and builds(callbacks) == 1  # the build is enqueued once the call commits
    with django_capture_on_commit_callbacks() as callbacks:
        second = settings_services.generate_credential_report(root_ctx)
    assert second.state == "INPROGRESS" and builds(callbacks) == 0
    with pytest.raises(ReportInProgress) as exc:
        settings_services.get_credential_report(root_ctx)
    assert exc.value.status == 404
    names = list(AuditEvent.objects.order_by("id").values_list("event_name", "error_code"))
    assert names == [
        ("GetCredentialReport", "ReportNotPresent"),
        ("GenerateCredentialReport", ""),
        ("GenerateCredentialReport", ""),
        ("GetCredentialReport", "ReportInProgress"),
    ]


def test_a_report_is_reused_for_four_hours_then_expires(root_ctx, account, django_capture_on_commit_callbacks):
    with clock.frozen(T0):
        report = complete_report(root_ctx)
        assert report.generated_time == T0 and report.report_format == "text/csv"
        assert report.filename == "status_reports_2026-11-28T11_05_00.csv"
        assert report.content.startswith(HEADER_LINE + "\n<root_account>,")
        services.create_user(root_ctx, user_name="late")
        clock.advance(timedelta(hours=3, minutes=59))
        again = settings_services.generate_credential_report(root_ctx)
        assert again.state == "COMPLETE"
        assert "late" not in settings_services.get_credential_report(root_ctx).content  # the cached report
        clock.advance(timedelta(minutes=1))
        with pytest.raises(ReportExpired) as exc:
            settings_services.get_credential_report(root_ctx)
        assert exc.value.status == 410
        with django_capture_on_commit_callbacks() as callbacks:
            assert settings_services.generate_credential_report(root_ctx).state == "STARTED"
        assert builds(callbacks) == 1
        build_credential_report(account.id)
        assert "late" in settings_services.get_credential_report(root_ctx).content


def test_a_build_lost_with_the_worker_is_started_again(root_ctx, django_capture_on_commit_callbacks):
    with clock.frozen(T0):
        settings_services.generate_credential_report(root_ctx)  # nobody builds it
        clock.advance(credential_report.STALE_AFTER - timedelta(seconds=1))
        assert settings_services.generate_credential_report(root_ctx).state == "INPROGRESS"
        clock.advance(timedelta(seconds=1))
        with django_capture_on_commit_callbacks() as callbacks:
            assert settings_services.generate_credential_report(root_ctx).state == "STARTED"
        assert builds(callbacks) == 1


def test_a_duplicate_task_builds_nothing(root_ctx, account):
    settings_services.generate_credential_report(root_ctx)
    assert build_credential_report(account.id) is True
    assert build_credential_report(account.id) is False
    assert build_credential_report("999999999999") is False


def test_reports_need_permission(root_ctx, managed_policies, account):
    services.create_user(root_ctx, user_name="dave")
    dave = CallContext(user_principal(services.find_user(account.id, "dave")))
    with pytest.raises(AccessDenied):
        settings_services.generate_credential_report(dave)
    with pytest.raises(AccessDenied):
        settings_services.get_credential_report(dave)
    assert not CredentialReport.objects.exists()


def test_account_b_never_sees_the_report_of_account_a(root_ctx, other_root_ctx, account, other_account):
    services.create_user(root_ctx, user_name="alpha-only")
    complete_report(root_ctx)
    with pytest.raises(ReportNotPresent):
        settings_services.get_credential_report(other_root_ctx)
    assert settings_services.generate_credential_report(other_root_ctx).state == "STARTED"
    build_credential_report(other_account.id)
    theirs = settings_services.get_credential_report(other_root_ctx).content
    assert "alpha-only" not in theirs and account.id not in theirs
    assert [r["user"] for r in rows(theirs)] == ["<root_account>"]


# ---- the page -------------------------------------------------------------------------------------------------


def test_page_generates_polls_and_downloads(root_client, account):
    page = root_client.get("/iam/credential_report")
    assert page.status_code == 200 and b"Download credentials report" in page.content
    assert b"No report has been generated" in page.content
    started = root_client.post("/iam/credential_report")
    assert started.status_code == 302 and started.url == "/iam/credential_report"
    poll = root_client.get("/iam/credential_report", headers={"HX-Request": "true", "HX-Target": "report-status"})
    body = poll.content.decode()
    assert body.lstrip().startswith('<section class="container" id="report-status"')  # the partial only
    assert 'hx-trigger="every 1s"' in body and "Generating the credential report" in body
    build_credential_report(account.id)
    done = root_client.get("/iam/credential_report", headers={"HX-Request": "true", "HX-Target": "report-status"})
    assert "every 1s" not in done.content.decode() and "/iam/credential_report/download" in done.content.decode()
    again = root_client.post("/iam/credential_report")  # fresh: straight to the download
    assert again.url == "/iam/credential_report/download"
    download = root_client.get("/iam/credential_report/download")
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert __import__("re").fullmatch(
        r'attachment; filename="status_reports_\d{4}-\d{2}-\d{2}T\d{2}_\d{2}_\d{2}\.csv"',
        download["Content-Disposition"],
    )
    assert download.content.decode().split("\n")[0] == HEADER_LINE


def test_download_without_a_report_shows_the_page_with_the_aws_message(root_client):
    response = root_client.get("/iam/credential_report/download")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert b"The credential report does not exist" in response.content
    root_client.post("/iam/credential_report")
    building = root_client.get("/iam/credential_report/download")
    assert b"The credential report is still being generated." in building.content


def test_a_user_without_permission_is_denied_with_the_reason(root_ctx, managed_policies, account):
    from tests.console.test_user_signin import make_user, sign_in

    make_user(root_ctx, "dave")
    client, _ = sign_in(account.id, "dave")
    for url in ("/iam/credential_report", "/iam/credential_report/download"):
        response = client.get(url)
        assert response.status_code == 403 and b'data-testid="why-panel"' in response.content, url
    assert client.post("/iam/credential_report").status_code == 403
    assert not CredentialReport.objects.exists()


def test_another_account_downloads_only_its_own(root_client, other_root_client, account):
    root_client.post("/iam/credential_report")
    build_credential_report(account.id)
    response = other_root_client.get("/iam/credential_report/download")
    assert b"The credential report does not exist" in response.content and b"<root_account>," not in response.content


# ---- a real Celery worker on the real Redis broker ------------------------------------------------------------


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_the_worker_builds_the_report_after_the_call_commits(worker, account, root_ctx):
    worker.start(AUDIT_ENQUEUE_DELIVERY="false")
    services.create_user(root_ctx, user_name="alice")
    assert settings_services.generate_credential_report(root_ctx).state == "STARTED"
    assert wait_for(lambda: CredentialReport.objects.filter(state="COMPLETE").exists(), timeout=20), (
        "the worker did not build the report"
    )
    report = settings_services.get_credential_report(root_ctx)
    assert [r["user"] for r in rows(report.content)] == ["<root_account>", "alice"]
    assert settings_services.generate_credential_report(root_ctx).state == "COMPLETE"
