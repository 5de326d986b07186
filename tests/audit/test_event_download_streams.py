"""Event history downloads stream (issue 16 §3): the CSV and JSON are written a page of events at a time, so a
trail of any length downloads whole in constant memory, every event once, newest first, and only the account's."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta

import pytest

from audit.models import AuditEvent
from audit.queries import EXPORT_PAGE
from core import clock

EVENTS = 2 * EXPORT_PAGE + 500  # three pages


def _events(account_id: str, count: int, prefix: str) -> list[AuditEvent]:
    """``count`` delivered events; ten share each second, so page boundaries fall inside runs of equal times."""
    now = clock.now()
    events = []
    for i in range(count):
        when = now - timedelta(seconds=i // 10)
        name = "CreateUser" if i % 3 == 0 else "GetUser"
        events.append(
            AuditEvent(
                account_id=account_id,
                event_id=uuid.uuid4(),
                event_time=when,
                event_source="iam.amazonaws.com",
                event_name=name,
                read_only=name == "GetUser",
                username=f"{prefix}{i}",
                resource_type="AWS::IAM::User",
                resource_name=f"{prefix}{i}",
                record={
                    "eventName": name,
                    "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "managementEvent": True,  # as every recorded IAM call (data events are S3's)
                    "n": i,
                },
                delivered_at=when,
            )
        )
    return AuditEvent.objects.bulk_create(events)


@pytest.fixture
def trail(account, other_account):
    _events(other_account.id, 20, "stranger")
    _events(account.id, EVENTS, "user")
    delivered = AuditEvent.objects.filter(account=account, delivered_at__isnull=False)  # sign-in's is not yet
    return list(delivered.order_by("-event_time", "-pk"))


def _download(client, query: str) -> tuple[list[bytes], bytes]:
    response = client.get(f"/iam/event_history/download?{query}")
    assert response.status_code == 200
    assert response.streaming, "the download must stream, not be built in memory"
    chunks = [chunk for chunk in response.streaming_content if chunk]
    return chunks, b"".join(chunks)


def test_csv_streams_every_event_once_newest_first(root_client, trail):
    chunks, body = _download(root_client, "format=csv")
    assert len(chunks) >= 3  # one chunk per page of events at least
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows[0][:4] == ["Event ID", "Event time", "User name", "Event name"]
    assert [row[0] for row in rows[1:]] == [str(e.event_id) for e in trail]
    assert not any(row[2].startswith("stranger") for row in rows[1:])


def test_json_streams_the_same_document_as_before(root_client, trail):
    chunks, body = _download(root_client, "format=json")
    assert len(chunks) >= 3
    assert body.decode() == json.dumps({"Records": [e.record for e in trail]}, indent=2)


def test_a_lookup_streams_only_its_events(root_client, trail):
    _, body = _download(root_client, "format=json&attribute=EventName&value=CreateUser")
    records = json.loads(body)["Records"]
    assert [r["n"] for r in records] == [e.record["n"] for e in trail if e.event_name == "CreateUser"]


def test_an_empty_download_is_the_header_or_an_empty_list(root_client, trail):
    _, body = _download(root_client, "format=csv&attribute=Username&value=nobody")
    assert list(csv.reader(io.StringIO(body.decode())))[0][0] == "Event ID"
    assert len(body.decode().splitlines()) == 1
    _, body = _download(root_client, "format=json&attribute=Username&value=nobody")
    assert json.loads(body) == {"Records": []} and body.decode() == json.dumps({"Records": []}, indent=2)


def test_an_event_recorded_during_the_download_shifts_no_page(root_client, account, trail):
    response = root_client.get("/iam/event_history/download?format=csv")
    stream = iter(response.streaming_content)
    first = next(stream)
    _events(account.id, 5, "late")  # newer than everything: before the first page, which is already written
    body = (first + b"".join(stream)).decode()
    ids = [row[0] for row in list(csv.reader(io.StringIO(body)))[1:]]
    assert ids == [str(e.event_id) for e in trail]
