"""Event history page: lookups by one attribute, time range, cursor pages, detail with the denial's explanation,
downloads, and isolation between accounts."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from audit import delivery
from audit.models import AuditEvent
from core import clock
from identities import services
from tests.console.test_user_signin import make_user, sign_in


@pytest.fixture
def history(root_ctx, managed_policies, tmp_path, settings):
    settings.DATA_DIR = tmp_path
    make_user(root_ctx, "alice", "IAMReadOnlyAccess", "AWSCloudTrail_ReadOnlyAccess")
    for i in range(60):
        services.create_group(root_ctx, group_name=f"g{i:02d}")
    delivery.deliver_pending()
    return root_ctx


def test_newest_first_with_cursor_pages(root_client, history):
    first = root_client.get("/iam/event_history")
    assert first.status_code == 200
    text = first.content.decode()
    assert text.index("g59") < text.index("g58")
    assert "cursor=" in text
    cursor = text.split("cursor=")[1].split('"')[0].split("&")[0]
    second = root_client.get(f"/iam/event_history?cursor={cursor}").content.decode()
    assert "g59" not in second and "CreateUser" in second


def test_lookup_by_one_attribute(root_client, history):
    page = root_client.get("/iam/event_history?attribute=EventName&value=CreateUser").content.decode()
    assert "CreateUser" in page and "CreateGroup" not in page
    page = root_client.get("/iam/event_history?attribute=ResourceName&value=g07").content.decode()
    assert "g07" in page and "g08" not in page
    page = root_client.get("/iam/event_history?attribute=ReadOnly&value=true").content.decode()
    assert "CreateGroup" not in page


def test_denied_call_shows_the_engine_explanation(history, account):
    client, _ = sign_in(account.id, "alice")
    client.post(
        "/iam/users/create", {"step": "3", "action": "create", "user_name": "eve", "permissions_option": "groups"}
    )
    delivery.deliver_pending()
    page = client.get("/iam/event_history?attribute=Username&value=alice").content.decode()
    assert "AccessDenied" in page and "ConsoleLogin" in page
    denied = AuditEvent.objects.get(event_name="CreateUser", error_code="AccessDenied")
    detail = client.get(f"/iam/event_history/{denied.event_id}").content.decode()
    assert 'data-testid="why-panel"' in detail and "no identity-based policy allows the iam:CreateUser action" in detail


def test_time_range(root_client, history):
    with clock.frozen(clock.now() + timedelta(hours=2)):
        assert "CreateGroup" not in root_client.get("/iam/event_history?range=1h").content.decode()
        assert "CreateGroup" in root_client.get("/iam/event_history?range=3h").content.decode()


def test_downloads(root_client, history):
    download = root_client.get("/iam/event_history/download?format=csv")
    rows = list(csv.reader(io.StringIO(download.getvalue().decode())))
    assert rows[0][:4] == ["Event ID", "Event time", "User name", "Event name"] and len(rows) > 60
    records = json.loads(
        root_client.get("/iam/event_history/download?format=json&attribute=EventName&value=CreateUser").getvalue()
    )
    assert {r["eventName"] for r in records["Records"]} == {"CreateUser"}


def test_live_poll_answers_204_until_something_new(root_client, history, root_ctx):
    page = root_client.get("/iam/event_history").content.decode()
    newer = page.split("newer=")[1].split('"')[0]
    assert root_client.get(f"/iam/event_history?newer={newer}", HTTP_HX_REQUEST="true").status_code == 204
    services.create_group(root_ctx, group_name="fresh")
    delivery.deliver_pending()
    fresh = root_client.get(f"/iam/event_history?newer={newer}", HTTP_HX_REQUEST="true")
    assert fresh.status_code == 200 and "fresh" in fresh.content.decode()


def test_other_account_sees_nothing(history, other_root_client):
    page = other_root_client.get("/iam/event_history").content.decode()
    assert "g01" not in page
    event = AuditEvent.objects.filter(event_name="CreateGroup").first()
    assert other_root_client.get(f"/iam/event_history/{event.event_id}").status_code == 404


def test_bad_input_is_a_clean_4xx(root_client, history):
    assert root_client.get("/iam/event_history?cursor=%%%").status_code == 200
    assert root_client.get("/iam/event_history/not-a-uuid").status_code == 404
    assert root_client.get("/iam/event_history?attribute=Bogus&value=x").status_code == 200
