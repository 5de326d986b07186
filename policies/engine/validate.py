"""IAM grammar checks as Access Analyzer-style findings, plus the catalog checks when available."""

from __future__ import annotations

import importlib
from typing import Any

from .findings import Finding
from .parser import parse_collecting


def validate_policy(text: Any, kind: str = "identity", *, managed: bool = False) -> list[Finding]:
    """Grammar problems (what MalformedPolicyDocument reports, with IAM's entry rules) as ERROR findings, the
    one IAM reports first leading, then the catalog-based findings of ``policies.engine.catalog_checks`` if that
    module is installed. Refusals are ERROR findings; everything else is advice that never blocks a save."""
    result = parse_collecting(text, kind=kind, strict=kind != "scp", managed=managed)
    problems = sorted(result.problems, key=lambda p: p.stage)  # stable: document order within a stage
    findings = [
        Finding("ERROR", problem.issue_code, problem.message, result.locate(problem.path)) for problem in problems
    ]
    if result.value is not None:
        findings.extend(_catalog_findings(result.value, kind, text if isinstance(text, str) else None))
    return findings


def _catalog_findings(value: Any, kind: str, text: str | None) -> list[Finding]:
    try:
        module = importlib.import_module("policies.engine.catalog_checks")
    except ImportError:
        return []  # the catalog checks are optional; grammar validation stands alone
    return list(module.catalog_findings(value, kind, text))
