"""import-linter contract types of this project (registered in pyproject.toml's ``[tool.importlinter] contract_types``).

``acyclic_modules``: no import cycle among the modules of the given packages.

import-linter's own ``acyclic_siblings`` looks for cycles between the children of one package; our apps are
top-level packages with no common parent, so this contract reads grimp's graph directly: any strongly connected
component of two or more modules (an import cycle, however long, whether the imports sit at module level or inside
functions) breaks it.

``private_names``: no module imports an underscore-private name (``from x import _y``) of another module of the
given packages; a name that is really shared is public.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from importlib.util import find_spec
from pathlib import Path

import grimp
from importlinter.application import contract_utils, output
from importlinter.application.contract_utils import AlertLevel
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class AcyclicModulesContract(Contract):
    type_name = "acyclic_modules"

    packages = fields.ListField(subfield=fields.StringField())
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(AlertLevel, default=AlertLevel.ERROR)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=self.unmatched_ignore_imports_alerting,  # type: ignore[arg-type]
        )
        modules = set()
        for package in self.packages:  # type: ignore[attr-defined]
            modules |= {package, *graph.find_descendants(package)}
        cycles = [
            _cycle(graph, component)
            for component in strongly_connected_components(
                modules, lambda m: graph.find_modules_directly_imported_by(m)
            )
        ]
        return ContractCheck(
            kept=not cycles,
            warnings=list(removal.warnings),
            ignored_import_count=removal.ignored_import_count,
            metadata={"cycles": sorted(cycles)},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error("Import cycle: " + " -> ".join([*cycle, cycle[0]]), bold=False)
            output.new_line()


def strongly_connected_components(nodes: set[str], successors: Callable[[str], Iterable[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components of two or more nodes, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work: list[tuple[str, Iterable[str]]] = []
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work.append((root, iter(sorted(n for n in successors(root) if n in nodes))))
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(n for n in successors(child) if n in nodes))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _cycle(graph: grimp.ImportGraph, component: list[str]) -> list[str]:
    """One concrete cycle through the component's first module, to show in the report."""
    members = set(component)
    start = component[0]
    path = [start]
    seen = {start}
    # Depth-first search back to ``start`` inside the component.
    work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start) & members)))]
    while work:
        node, children = work[-1]
        for child in children:
            if child == start:
                return path
            if child not in seen:
                seen.add(child)
                path.append(child)
                work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child) & members))))
                break
        else:
            work.pop()
            path.pop()
    return component


class PrivateNamesContract(Contract):
    type_name = "private_names"

    packages = fields.ListField(subfield=fields.StringField())
    ignore_imports = fields.ListField(subfield=fields.StringField(), required=False)  # "importer -> imported"

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        ignored = {tuple(part.strip() for part in line.split("->")) for line in self.ignore_imports or []}  # type: ignore[attr-defined]
        found: list[tuple[str, str, str, int]] = []
        for package in self.packages:  # type: ignore[attr-defined]
            for module in sorted({package, *graph.find_descendants(package)}):
                found.extend(private_imports(module, _source_path(package, module)))
        matched = {(importer, imported) for importer, imported, _, _ in found} & ignored
        unmatched = sorted(" -> ".join(pair) for pair in ignored - matched)
        violations = [f for f in found if (f[0], f[1]) not in ignored]
        return ContractCheck(
            kept=not violations and not unmatched,
            warnings=[],
            metadata={"violations": violations, "unmatched": unmatched},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, imported, name, line in check.metadata["violations"]:
            output.print_error(f"{importer}:{line} imports {imported}.{name}", bold=False)
        for pair in check.metadata["unmatched"]:
            output.print_error(f"ignore_imports entry matches no private import: {pair}", bold=False)
        output.new_line()


def _source_path(package: str, module: str) -> Path:
    spec = find_spec(package)
    assert spec is not None and spec.submodule_search_locations, package
    base = Path(next(iter(spec.submodule_search_locations)))
    parts = module.split(".")[1:]
    candidate = base.joinpath(*parts)
    return candidate / "__init__.py" if candidate.is_dir() else candidate.with_suffix(".py")


def private_imports(module: str, path: Path) -> list[tuple[str, str, str, int]]:
    """(importer, imported module, name, line) for each ``from X import _name`` of another module."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            base = ".".join([*anchor, *([node.module] if node.module else [])])
        for alias in node.names:
            if alias.name.startswith("_") and not alias.name.startswith("__") and base != module:
                found.append((module, base, alias.name, node.lineno))
    return found
