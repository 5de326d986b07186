"""The organization's trail on the class board shares Event history's lookups (``audit.queries.lookup_from``
and its cursors): a cursor or custom time with a UTC offset beyond ±15:59 is no 500 there either."""

from __future__ import annotations

from urllib.parse import quote

from django.test import Client

from tests.audit.test_event_history_bad_times import FAR_OFFSETS, cursor
from tests.classroom.conftest import INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD


def test_the_class_trail_takes_far_utc_offsets(klass):
    classroom, _ = klass
    client = Client()
    assert client.post("/signin", {"email": INSTRUCTOR_EMAIL, "password": INSTRUCTOR_PASSWORD}).status_code == 302
    base = f"/classroom/{classroom.pk}/events"
    for when in FAR_OFFSETS:
        assert client.get(f"{base}?cursor={cursor(when)}").status_code == 200, when
        assert client.get(f"{base}?range=custom&end={quote(when)}").status_code == 200, when
