"""The policy editor's validation findings panel (Access Analyzer's checks plus the managed policy size quota),
shared by the JSON editor's pages (``policies.views``) and the visual editor (``policies.views_visual``)."""

from __future__ import annotations

from typing import Any

from policies.documents import MANAGED_POLICY_SIZE, policy_size
from policies.engine import Finding, Location, validate_policy

FINDING_TABS = (
    ("SECURITY_WARNING", "Security"),
    ("ERROR", "Errors"),
    ("WARNING", "General"),
    ("SUGGESTION", "Suggestions"),
)
FINDINGS_SHOWN = 50  # per tab; the counts still say how many there are
MAX_EDITOR_TEXT = 131_072  # anything longer is refused before it is parsed


def findings(text: str) -> list[Finding]:
    """Access Analyzer's findings for a customer managed policy, plus the managed policy size quota."""
    if len(text) > MAX_EDITOR_TEXT:
        return [_size_finding(text)]
    found = validate_policy(text, "identity", managed=True)
    if policy_size(text) > MANAGED_POLICY_SIZE:
        found.append(_size_finding(text))
    return found


def _size_finding(text: str) -> Finding:
    return Finding(
        "ERROR",
        "POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA",
        f"Policy size exceeds identity policy quota: The {policy_size(text):,} characters in the policy, "
        f"excluding whitespace, exceed the {MANAGED_POLICY_SIZE:,} character maximum for a managed "
        "policy. We recommend that you use multiple granular policies.",
        Location("", 1, 1),
    )


def findings_context(text: str, selected: str = "") -> dict[str, Any]:
    """What the ``validation-findings`` partial needs: the findings by tab, the tab shown, and whether any is an
    error."""
    found = findings(text)
    tabs = []
    for code, label in FINDING_TABS:
        items = [f for f in found if f.finding_type == code]
        tabs.append(
            {
                "code": code,
                "label": label,
                "count": len(items),
                "items": [_finding_row(f) for f in items[:FINDINGS_SHOWN]],
                "hidden": max(0, len(items) - FINDINGS_SHOWN),
            }
        )
    if selected not in dict(FINDING_TABS):
        counts = {t["code"]: t["count"] for t in tabs}
        selected = "ERROR" if counts["ERROR"] else next((c for c, _ in FINDING_TABS if counts[c]), "SECURITY_WARNING")
    return {
        "finding_tabs": tabs,
        "findings_tab": selected,
        "findings_total": len(found),
        "has_errors": any(f.finding_type == "ERROR" for f in found),
    }


def _finding_row(finding: Finding) -> dict[str, Any]:
    """Access Analyzer messages read "Title: detail"; the panel shows the title in bold."""
    title, sep, detail = finding.message.partition(": ")
    if not sep or len(title) > 60:
        title, detail = finding.issue_code.replace("_", " ").capitalize(), finding.message
    return {"finding": finding, "title": title, "detail": detail, "location": finding.location}
