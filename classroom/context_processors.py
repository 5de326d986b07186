"""The lab side panel on every console page: the lab the student opened (session key ``active_lab``) and the
signed-in account's last results for it. Lazy: the one LabProgress query runs only when a page draws the panel."""

from __future__ import annotations

import hashlib
from functools import cached_property
from typing import Any

from django.http import HttpRequest
from django.utils.timesince import timesince

from classroom.labs import get_lab
from classroom.labs_services import check_lines, lab_state, panel_progress

ACTIVE_LAB = "active_lab"


class LabPanel:
    def __init__(self, account_id: str, slug: str, *, ctx: Any = None) -> None:
        self.account_id = account_id
        self.slug = slug
        self.ctx = ctx  # the signed-in principal: whether it may load the lab's starting state

    @classmethod
    def of(cls, ctx: Any, slug: str) -> LabPanel:
        return cls(ctx.account_id, slug, ctx=ctx)

    @property
    def can_load_start(self) -> bool:
        """The panel offers the link to root users (no query on every page); the confirmation page says if the
        account is not a student's."""
        return self.ctx is not None and self.ctx.principal.is_root

    @cached_property
    def lab(self):
        return get_lab(self.slug)

    @cached_property
    def row(self):
        return panel_progress(self.account_id, self.slug) if self.lab else None

    @cached_property
    def checks(self) -> list:
        return check_lines(self.lab, self.row) if self.lab else []

    @cached_property
    def stamp(self) -> str:
        """What the panel's checks show, as its poll compares it (``?shown=``): the row's results and the minute
        of "Checked … ago". A poll that finds it unchanged answers 204 and draws nothing: a class polls every 5 s
        (docs/benchmarks.md, issue 16)."""
        row = self.row
        if row is None:
            return "none"
        checked = timesince(row.completed_at or row.last_checked)
        return hashlib.blake2s(f"{row.pk}|{row.updated_at.isoformat()}|{checked}".encode(), digest_size=8).hexdigest()

    @cached_property
    def state(self) -> str:
        return lab_state(self.lab, self.row) if self.lab else "not-started"


def lab_panel(request: HttpRequest) -> dict[str, Any]:
    ctx = getattr(request, "iam_ctx", None)
    if ctx is None or not hasattr(request, "session"):
        return {}
    slug = request.session.get(ACTIVE_LAB)
    if not slug:
        return {}
    return {"lab_panel": LabPanel.of(ctx, slug)}
