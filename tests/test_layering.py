"""Layering rules of ../DESIGN.md, checked on the source: no import cycle between modules
(function-level imports included: they must not hide one), no paper names below recipes/,
and no module over 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "omnijepa"
LOWER_LAYERS = ("nn", "masks", "modalities", "objectives", "train", "eval", "data")
PAPER_NAMES = (
    "ijepa", "i-jepa", "lejepa", "pointjepa", "point-jepa", "3djepa", "tjepa", "ajepa", "a-jepa",
    "sjepa", "s-jepa", "brainjepa", "brain-jepa", "vjepa", "v-jepa", "mcjepa", "mc-jepa",
    "uijepa", "ui-jepa", "tijepa", "ti-jepa",
)  # fmt: skip


def modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def import_graph() -> dict[str, set[str]]:
    mods = modules()

    def resolve(target: str) -> str | None:
        while target and target not in mods:
            target = target.rpartition(".")[0]
        return target or None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for t in targets:
                if t.startswith("omnijepa"):
                    dep = resolve(t)
                    if dep and dep != name:
                        graph[name].add(dep)
                        break
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_lower_layers_do_not_import_recipes_analysis_or_cli() -> None:
    graph = import_graph()
    for name, deps in graph.items():
        if name.split(".")[1:2] and name.split(".")[1] in LOWER_LAYERS:
            upward = [d for d in deps if d.split(".")[1:2] in (["recipes"], ["analysis"], ["cli"])]
            assert not upward, f"{name} imports {upward}"


def test_no_paper_names_registered_below_recipes() -> None:
    for layer in LOWER_LAYERS:
        for path in (ROOT / layer).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in (
                    "add",
                    "register",
                ):
                    first = node.args[0] if node.args else None
                    if isinstance(first, ast.Constant) and isinstance(first.value, str):
                        assert first.value.lower() not in PAPER_NAMES, f"{path}: {first.value!r}"


def test_no_module_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in ROOT.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 400}  # fmt: skip
    assert not long, long
