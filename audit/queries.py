"""Event history lookups (CloudTrail LookupEvents semantics): one lookup attribute at a time, a time range,
newest first, cursor pagination. Each lookup is served by one of the per-attribute indexes."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q, QuerySet

from audit.models import AuditEvent
from core import clock
from core.calls import iam_call
from core.context import CallContext
from core.errors import InvalidInput, NoSuchEntity

# Lookup attribute (console label) → model field.
ATTRIBUTES = {
    "EventName": "event_name",
    "Username": "username",
    "ResourceType": "resource_type",
    "ResourceName": "resource_name",
    "EventSource": "event_source",
    "ReadOnly": "read_only",
    "AccessKeyId": "access_key_id",
    "ErrorCode": "error_code",
    "EventId": "event_id",
}
ATTRIBUTE_LABELS = {
    "EventName": "Event name",
    "Username": "User name",
    "ResourceType": "Resource type",
    "ResourceName": "Resource name",
    "EventSource": "Event source",
    "ReadOnly": "Read-only",
    "AccessKeyId": "AWS access key",
    "ErrorCode": "Error code",
    "EventId": "Event ID",
}
RANGES = {
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "3h": timedelta(hours=3),
    "12h": timedelta(hours=12),
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "90d": timedelta(days=90),
}
RETENTION = timedelta(days=90)


@dataclass(frozen=True)
class Lookup:
    attribute: str = ""
    value: str = ""
    start: datetime | None = None
    end: datetime | None = None
    # CloudTrail data events (S3 object operations): AWS's Event history shows management events only, so they
    # are hidden unless asked for.
    data_events: bool = False


def encode_cursor(event: AuditEvent) -> str:
    raw = json.dumps([event.event_time.isoformat(), event.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def top_cursor(events: list[AuditEvent]) -> str:
    """What an Event history page's live poll sends back: the newest event it shows ("-" for none)."""
    return encode_cursor(events[0]) if events else "-"


def as_utc(when: datetime) -> datetime | None:
    """``when`` in UTC (naive means UTC); None when it has no UTC time between years 1 and 9999.

    Python accepts UTC offsets up to ±23:59, PostgreSQL only up to ±15:59: every time the lookups receive is
    moved to UTC first, so a far offset is applied rather than turned into a database error."""
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except OverflowError:
        return None


def lookup_from(params: Mapping[str, str]) -> tuple[Lookup, dict[str, str]]:
    """The lookup an Event history page asks for in its query string (``attribute``, ``value``, ``range``,
    ``start``/``end`` for a custom range, and ``data_events``), and the form state to show it again."""
    attribute = params.get("attribute", "")
    attribute = attribute if attribute in ATTRIBUTES else ""
    value = params.get("value", "").strip()[:2000]
    range_key = params.get("range", "")
    start = end = None
    now = clock.now()
    if range_key in RANGES:
        start = now - RANGES[range_key]
    elif range_key == "custom":
        start, end = _parse_time(params.get("start", "")), _parse_time(params.get("end", ""))
    state = {
        "attribute": attribute,
        "value": value,
        "range": range_key,
        "start": params.get("start", ""),
        "end": params.get("end", ""),
        "data_events": "on" if params.get("data_events") == "on" else "",
    }
    lookup = Lookup(attribute if value else "", value, start, end, data_events=state["data_events"] == "on")
    return lookup, state


def _parse_time(text: str) -> datetime | None:
    """A custom range's bound in UTC; None (no bound) for text that is no time, or no time in years 1-9999 UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None
    return as_utc(parsed) if parsed is not None else None


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        when, pk = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        parsed, pk = as_utc(datetime.fromisoformat(when)), int(pk)
    except (ValueError, TypeError, RecursionError) as exc:
        raise InvalidInput("Invalid NextToken.") from exc
    if parsed is None:
        raise InvalidInput("Invalid NextToken.")
    return parsed, pk


def _filtered(account_id: str | list[str], lookup: Lookup) -> QuerySet[AuditEvent]:
    now = clock.now()
    start = as_utc(lookup.start) if lookup.start is not None else None
    end = as_utc(lookup.end) if lookup.end is not None else None
    if (lookup.start is not None and start is None) or (lookup.end is not None and end is None):
        raise InvalidInput("The time range must be between the years 1 and 9999 in UTC.")
    accounts = {"account_id": account_id} if isinstance(account_id, str) else {"account_id__in": account_id}
    events = AuditEvent.objects.filter(
        **accounts, delivered_at__isnull=False, event_time__gte=max(start or now - RETENTION, now - RETENTION)
    )
    if end is not None:
        events = events.filter(event_time__lte=end)
    if not lookup.data_events:
        events = events.filter(management_event=True)
    if lookup.attribute:
        field = ATTRIBUTES.get(lookup.attribute)
        if field is None:
            raise InvalidInput(f"Invalid lookup attribute: {lookup.attribute}")
        value: object = lookup.value
        if field == "read_only":
            value = lookup.value.strip().lower() == "true"
        elif field == "event_id":
            try:
                value = uuid.UUID(lookup.value.strip())
            except ValueError:
                return events.none()
        events = events.filter(**{field: value})
    return events


def lookup_events(
    ctx: CallContext, lookup: Lookup, *, cursor: str = "", limit: int = 50, newer_than: str = ""
) -> tuple[list[AuditEvent], str]:
    """A page of events, newest first, and the cursor of the next page ("" at the end)."""
    params = {
        "lookupAttributes": [{"attributeKey": lookup.attribute, "attributeValue": lookup.value}]
        if lookup.attribute
        else None,
        "maxResults": limit,
    }
    # LookupEvents itself is not recorded: the history page polls it and would drown the trail.
    with iam_call(ctx, "cloudtrail:LookupEvents", "*", params, audited=False):
        events = _filtered(ctx.account_id, lookup)
        if cursor:
            when, pk = _decode_cursor(cursor)
            events = events.filter(Q(event_time__lt=when) | Q(event_time=when, pk__lt=pk))
        if newer_than:
            when, pk = _decode_cursor(newer_than)
            events = events.filter(Q(event_time__gt=when) | Q(event_time=when, pk__gt=pk))
        rows = list(events.order_by("-event_time", "-pk")[: limit + 1])
        next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else ""
        return rows[:limit], next_cursor


def lookup_events_in(
    account_ids: list[str], lookup: Lookup, *, cursor: str = "", limit: int = 50
) -> tuple[list[AuditEvent], str]:
    """``lookup_events`` across several accounts (an organization's trail). Not authorized here: the caller (e.g.
    ``classroom.labs_services.lookup_class_events``) has authorized inside its own ``iam_call``."""
    events = _filtered(list(account_ids), lookup)
    if cursor:
        when, pk = _decode_cursor(cursor)
        events = events.filter(Q(event_time__lt=when) | Q(event_time=when, pk__lt=pk))
    rows = list(events.select_related("account").order_by("-event_time", "-pk")[: limit + 1])
    return rows[:limit], encode_cursor(rows[limit - 1]) if len(rows) > limit else ""


def get_event(ctx: CallContext, event_id: str) -> AuditEvent:
    with iam_call(ctx, "cloudtrail:LookupEvents", "*", {"eventId": event_id}, audited=False):
        try:
            key = uuid.UUID(event_id)
        except ValueError:
            raise NoSuchEntity(f"Event {event_id} cannot be found.") from None
        event = AuditEvent.objects.filter(account_id=ctx.account_id, event_id=key).first()
        if event is None:
            raise NoSuchEntity(f"Event {event_id} cannot be found.")
        return event


EXPORT_PAGE = 1000


def export_events(ctx: CallContext, lookup: Lookup, *, page: int = EXPORT_PAGE) -> Iterator[list[AuditEvent]]:
    """Every event of the lookup, newest first, in pages of ``page`` events, for a download that streams.

    Authorized (and the lookup checked) now, read later: each page is its own keyset query on the lookup's index
    (``(event_time, id)`` below the last row of the page before), so memory stays that of one page however long
    the trail, no transaction or server-side cursor stays open between pages (it works the same behind PgBouncer in
    transaction pooling), and an event recorded while the download runs cannot shift a page boundary."""
    with iam_call(ctx, "cloudtrail:LookupEvents", "*", {"export": True}, audited=False):
        events = _filtered(ctx.account_id, lookup).defer("explanation").order_by("-event_time", "-pk")
    return _pages(events, page)


def _pages(events: QuerySet[AuditEvent], page: int) -> Iterator[list[AuditEvent]]:
    rows = list(events[:page])
    while rows:
        yield rows
        if len(rows) < page:
            return
        last = rows[-1]
        rows = list(
            events.filter(Q(event_time__lt=last.event_time) | Q(event_time=last.event_time, pk__lt=last.pk))[:page]
        )
