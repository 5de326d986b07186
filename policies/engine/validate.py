"""IAM grammar checks as Access Analyzer-style findings, plus the catalog checks when available."""

from __future__ import annotations

import importlib
from typing import Any

from .findings import Finding
from .parser import parse_collecting


def validate_policy(text: Any, kind: str = "identity") -> list[Finding]:
    """Grammar problems (what MalformedPolicyDocument reports) as ERROR findings, then the catalog-based
    findings of ``policies.engine.catalog_checks`` if that module is installed."""
    result = parse_collecting(text, kind=kind)
    findings = [
        Finding("ERROR", problem.issue_code, problem.message, result.locate(problem.path))
        for problem in result.problems
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
