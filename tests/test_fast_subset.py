"""``make test-fast`` leaves out the modules marked ``slow`` (tests/conftest.py): each names a module that exists,
and every app keeps tests in the fast subset."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SLOW_MODULES

ROOT = Path(__file__).resolve().parents[1]


def test_every_slow_module_exists():
    assert sorted(m for m in SLOW_MODULES if not (ROOT / m).is_file()) == []


def test_every_app_keeps_fast_tests():
    for app in ("audit", "awsapi", "classroom", "console", "identities", "policies", "sts"):
        modules = {str(p.relative_to(ROOT)) for p in (ROOT / "tests" / app).rglob("test_*.py")}
        assert modules - SLOW_MODULES, app
