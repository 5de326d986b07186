"""Event history with times PostgreSQL cannot take as they are (issue 12, section 5): a cursor or a custom range
whose UTC offset is beyond ±15:59 (Python accepts up to ±23:59), or a time that leaves the calendar once moved to
UTC. Each is a clean answer (the page with an error, or the time ignored), never a 500, and reads nothing else."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from audit import delivery
from identities import services


def cursor(when: str, pk: object = 1) -> str:
    return base64.urlsafe_b64encode(json.dumps([when, pk]).encode()).decode()


@pytest.fixture
def history(root_ctx, managed_policies):
    for i in range(3):
        services.create_group(root_ctx, group_name=f"g{i:02d}")
    delivery.deliver_pending()
    return root_ctx


FAR_OFFSETS = ["2026-01-01T00:00:00+23:59", "2026-01-01T00:00:00-20:00", "2026-01-01T00:00:00+16:00:00.5"]


@pytest.mark.parametrize("when", FAR_OFFSETS)
def test_a_cursor_with_a_far_utc_offset(root_client, history, when):
    for param in ("cursor", "newer"):
        response = root_client.get(f"/iam/event_history?{param}={cursor(when)}")
        assert response.status_code == 200, response.content[:300]


@pytest.mark.parametrize("when", FAR_OFFSETS)
def test_a_custom_range_with_a_far_utc_offset(root_client, history, when):
    for bound in ("start", "end"):
        response = root_client.get(f"/iam/event_history?range=custom&{bound}={quote(when)}")
        assert response.status_code == 200, response.content[:300]
        download = root_client.get(f"/iam/event_history/download?format=json&range=custom&{bound}={quote(when)}")
        assert download.status_code == 200 and "Records" in json.loads(download.getvalue())  # streamed whole


def test_the_offset_is_applied_not_dropped(root_client, history):
    """2000-01-01T00:00-20:00 is 2000-01-01T20:00Z: every event (of 2026) is after it, none before."""
    after = root_client.get(f"/iam/event_history?range=custom&start={quote('2000-01-01T00:00:00-20:00')}")
    assert "g02" in after.content.decode()
    before = root_client.get(f"/iam/event_history?range=custom&end={quote('2000-01-01T00:00:00-20:00')}")
    assert "g02" not in before.content.decode()


@pytest.mark.parametrize(
    "value",
    [
        cursor("0001-01-01T00:00:00+01:00"),  # before year 1 in UTC
        cursor("9999-12-31T23:59:59-05:00"),  # after year 9999 in UTC
        cursor("2026-01-01T00:00:00+00:00", 10**30),  # a row number no bigint holds
        cursor("2026-01-01T00:00:00+00:00", "x"),
        base64.urlsafe_b64encode(b"[" * 100_000).decode(),  # nested past the JSON parser's recursion limit
        base64.urlsafe_b64encode(b'{"a": 1, "b": 2}').decode(),
    ],
)
def test_other_impossible_cursors(root_client, history, value):
    assert root_client.get(f"/iam/event_history?cursor={value}").status_code == 200
    assert root_client.get(f"/iam/event_history?newer={value}").status_code in (200, 204)


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00"])
def test_custom_times_outside_the_calendar_in_utc(root_client, history, when):
    assert root_client.get(f"/iam/event_history?range=custom&start={quote(when)}").status_code == 200
    download = root_client.get(f"/iam/event_history/download?range=custom&end={quote(when)}")
    assert download.status_code == 200 and download.getvalue().startswith(b"Event ID")  # streamed whole
