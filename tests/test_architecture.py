"""The layers and import contracts of docs/architecture.md (pyproject.toml's [tool.importlinter]), as `make lint`
checks them, and the project's own contract types on small graphs with a known answer."""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

from devtools.importlinter_contracts import AcyclicModulesContract, PrivateNamesContract, private_imports

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_the_contracts_hold(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename="pyproject.toml") == 0


def test_every_module_is_in_a_layer():
    graph = grimp.build_graph(*CONFIG["root_packages"])
    layers = next(c for c in CONFIG["contracts"] if c["type"] == "layers")["layers"]
    listed = [name.strip() for layer in layers for name in layer.replace("|", ":").split(":")]
    outside = sorted(
        module
        for module in graph.modules
        if module not in CONFIG["root_packages"]  # a package's __init__ only
        and not any(module == name or module.startswith(f"{name}.") for name in listed)
    )
    assert outside == []


def _acyclic(graph: grimp.ImportGraph, ignore: list[str] | None = None) -> bool:
    options = {"packages": ["a", "b"], **({"ignore_imports": ignore} if ignore else {})}
    contract = AcyclicModulesContract(name="t", session_options={"root_packages": ["a", "b"]}, contract_options=options)
    return contract.check(graph, verbose=False).kept


def _graph(*imports: tuple[str, str]) -> grimp.ImportGraph:
    graph = grimp.ImportGraph()
    for package in ("a", "b"):
        graph.add_module(package)
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
    return graph


def test_a_cycle_across_two_packages_breaks_the_acyclic_contract():
    assert _acyclic(_graph(("a.x", "b.y"), ("b.y", "b.z")))
    assert not _acyclic(_graph(("a.x", "b.y"), ("b.y", "b.z"), ("b.z", "a.x")))
    assert _acyclic(_graph(("a.x", "b.y"), ("b.y", "a.x")), ignore=["b.y -> a.x"])


def test_a_cycle_inside_one_package_breaks_it_too():
    assert not _acyclic(_graph(("a.x", "a.y"), ("a.y", "a.x")))


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("from b.y import _hidden\n", [("a.x", "b.y", "_hidden", 1)]),
        ("from .y import _hidden\n", [("a.x", "a.y", "_hidden", 1)]),
        ("def f():\n    from b.y import public, _hidden\n", [("a.x", "b.y", "_hidden", 2)]),
        ("from b.y import public\nfrom b.y import __version__\n", []),
    ],
)
def test_private_names_imported_from_another_module_are_found(tmp_path, source, found):
    path = tmp_path / "x.py"
    path.write_text(source)
    assert private_imports("a.x", path) == found


def test_the_private_names_contract_reports_unused_ignores():
    contract = PrivateNamesContract(
        name="t",
        session_options={"root_packages": ["core"]},
        contract_options={"packages": ["core"], "ignore_imports": ["core.calls -> core.db"]},
    )
    check = contract.check(grimp.build_graph("core"), verbose=False)
    assert not check.kept and check.metadata["unmatched"] == ["core.calls -> core.db"]
