"""Runs every case of ``corpus/*.jsonl`` through the CLI's code path and checks the documented outcome."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from policies.engine.cli import evaluate_case

CORPUS = Path(__file__).parent / "corpus"
ROOT = Path(__file__).resolve().parents[3]


def load_cases() -> list[dict[str, Any]]:
    cases = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                cases.append(json.loads(line))
    return cases


CASES = load_cases()


def question(case: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in case.items() if k not in ("expect", "cite")}


def test_corpus_size_and_citations() -> None:
    assert len(CASES) >= 220
    assert len({c["id"] for c in CASES}) == len(CASES), "case ids must be unique"
    for case in CASES:
        assert " — " in case.get("cite", ""), case["id"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    result = evaluate_case(question(case))
    expect = case["expect"]
    assert "error" not in result, result
    assert result["decision"] == expect["decision"], (case["cite"], result)
    if "deciding" in expect:
        assert result["deciding"] == expect["deciding"], (case["cite"], result)
    if "errors" in expect:
        assert len(result["errors"]) == expect["errors"], result["errors"]
    else:
        assert result["errors"] == []


def test_cli_subprocess_matches_in_process() -> None:
    path = CORPUS / "layers.jsonl"
    lines = [json.dumps(question(json.loads(line))) for line in path.read_text(encoding="utf-8").splitlines() if line]
    proc = subprocess.run(
        [sys.executable, "-m", "policies.engine", "evaluate", "-"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert out == [evaluate_case(json.loads(line)) for line in lines]
    expected = [
        json.loads(line)["expect"]["decision"] for line in path.read_text(encoding="utf-8").splitlines() if line
    ]
    assert [o["decision"] for o in out] == expected


def test_cli_reports_bad_lines_and_continues(tmp_path: Path) -> None:
    good = json.dumps(question(CASES[0]))
    source = tmp_path / "in.jsonl"
    source.write_text(f'not json\n{{"id": "no-request"}}\n{good}\n', encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "policies.engine", "evaluate", str(source)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert out[0]["id"] is None and "error" in out[0]
    assert out[1] == {"id": "no-request", "error": out[1]["error"]}
    assert out[2]["id"] == CASES[0]["id"] and out[2]["decision"] == CASES[0]["expect"]["decision"]
