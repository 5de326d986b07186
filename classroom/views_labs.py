"""Labs for students: the list, one lab's page, and the side panel shown next to every console page.

Progress is always the signed-in account's own (``request.iam_ctx.account_id``); nothing here takes an account ID
from the request. Any signed-in principal of the account may use these pages (see ``classroom.labs_services``).
The panel's lab is kept in the session (``active_lab``); the panel itself is drawn by ``templates/labs/panel.html``
from the ``lab_panel`` context processor.
"""

from __future__ import annotations

import time

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from classroom import labs_services
from classroom.context_processors import ACTIVE_LAB, LabPanel
from classroom.labs import all_labs, get_lab
from console.decorators import console_page
from console.htmx import pick_partial
from core.errors import IamError


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@console_page
@require_GET
def lab_list(request: HttpRequest) -> HttpResponse:
    rows = labs_services.get_lab_progress(request.iam_ctx)  # type: ignore[attr-defined]
    labs = [(lab, rows.get(lab.slug), labs_services.lab_state(lab, rows.get(lab.slug))) for lab in all_labs()]
    return render(
        request, "labs/lab_list.html", {"labs": labs, "nav": "labs", "active_lab": request.session.get(ACTIVE_LAB, "")}
    )


@console_page
@require_GET
@vary_on_headers("HX-Request")
def lab_detail(request: HttpRequest, slug: str) -> HttpResponse:
    lab = get_lab(slug)
    if lab is None:
        raise Http404("No such lab.")
    row = labs_services.get_lab_progress(request.iam_ctx).get(slug)  # type: ignore[attr-defined]
    return render(
        request,
        pick_partial(request, "labs/lab_detail.html", {"lab-checks"}),
        {
            "lab": lab,
            "row": row,
            "checks": labs_services.check_lines(lab, row),
            "state": labs_services.lab_state(lab, row),
            "nav": "labs",
            "panel_open": request.session.get(ACTIVE_LAB) == slug,
            "can_load_start": labs_services.can_load_start(request.iam_ctx),  # type: ignore[attr-defined]
        },
    )


@console_page
@require_POST
def lab_open(request: HttpRequest, slug: str) -> HttpResponse:
    """ "Open in side panel": the lab's instructions follow the student on every console page."""
    lab = get_lab(slug)
    if lab is None:
        raise Http404("No such lab.")
    request.session[ACTIVE_LAB] = slug
    default = lab.console_links[0][1] if lab.console_links else f"/labs/{slug}"
    return redirect(_next(request, default))


@console_page
@require_POST
def panel_close(request: HttpRequest) -> HttpResponse:
    request.session.pop(ACTIVE_LAB, None)
    if getattr(request, "htmx", False):
        return HttpResponse("")  # the panel's outerHTML swap removes it
    return redirect(_next(request, "/labs/"))


@console_page
@require_GET
def panel(request: HttpRequest) -> HttpResponse:
    """The panel's poll (read-only: the worker refreshes progress after each delivered event)."""
    slug = request.session.get(ACTIVE_LAB)
    if not slug or get_lab(slug) is None:
        return HttpResponse("")
    lab_panel = LabPanel.of(request.iam_ctx, slug)  # type: ignore[attr-defined]
    shown = request.GET.get("shown", "")
    if shown and getattr(request, "htmx", False) and shown == lab_panel.stamp:
        return HttpResponse(status=204)  # nothing new: htmx leaves the checks as they are
    return render(
        request, pick_partial(request, "labs/panel.html", {"lab-panel", "lab-panel-checks"}), {"lab_panel": lab_panel}
    )


@console_page
@require_POST
def lab_check(request: HttpRequest, slug: str) -> HttpResponse:
    """ "Check progress": run the lab's checks on the caller's own account now."""
    lab = get_lab(slug)
    if lab is None:
        raise Http404("No such lab.")
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    error = ""
    panel_data = LabPanel.of(ctx, slug)
    try:
        panel_data.__dict__["row"] = labs_services.check_lab_progress(ctx, slug)  # fills the cached property
    except IamError as exc:
        error = exc.message
    target = request.htmx.target if getattr(request, "htmx", False) else None  # type: ignore[attr-defined]
    if target == "lab-panel":
        return render(request, "labs/panel.html#lab-panel", {"lab_panel": panel_data, "panel_error": error})
    if target == "lab-checks":
        row = panel_data.row
        return render(
            request,
            "labs/lab_detail.html#lab-checks",
            {
                "lab": lab,
                "row": row,
                "checks": labs_services.check_lines(lab, row),
                "error": error,
                "state": labs_services.lab_state(lab, row),
            },
        )
    if error:
        messages.error(request, error)
    return redirect(_next(request, f"/labs/{slug}"))


@console_page
@require_http_methods(["GET", "POST"])
def lab_start(request: HttpRequest, slug: str) -> HttpResponse:
    """ "Load starting state": a confirmation page that names what will be deleted, then the reset (POST)."""
    lab = get_lab(slug)
    if lab is None:
        raise Http404("No such lab.")
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    error = ""
    if request.method == "POST":
        started = time.perf_counter()
        try:
            labs_services.load_lab_start(ctx, slug)
        except IamError as exc:
            error = exc.message
        else:
            request.session[ACTIVE_LAB] = slug  # the student goes on with this lab, in the side panel
            messages.success(
                request,
                f"Loaded the starting state of lab {lab.number} ({lab.title}) in "
                f"{time.perf_counter() - started:.1f} s.",
            )
            return redirect(lab.console_links[0][1] if lab.console_links else f"/labs/{slug}")
    allowed = labs_services.can_load_start(ctx)
    return render(
        request,
        "labs/lab_start.html",
        {
            "lab": lab,
            "nav": "labs",
            "error": error,
            "allowed": allowed,
            # Names of the account's users, groups, roles and policies: only for whoever may delete them (the
            # root user), not for an IAM user who may not even list them.
            "doomed": labs_services.start_preview(ctx, lab) if allowed else None,
        },
        status=403 if error else 200,
    )
