"""The import structure of backend/ and media_store/, read from the source (nothing is imported).

    python scripts/module_graph.py            print the domain diagram (Mermaid)
    python scripts/module_graph.py --write    put it into docs/architecture.md between its markers
    python scripts/module_graph.py --check    exit 1 when a rule below is broken or the doc is stale

Rules: no import cycle between modules; a domain imports only from layers below it (LAYERS); lib
imports no domain; no import inside a function except the command line's lazy ones (a command
loads only what it needs)."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("backend", "media_store")
DOC = ROOT / "docs" / "architecture.md"
BEGIN, END = "<!-- module-graph:begin -->", "<!-- module-graph:end -->"
# Lowest first. A domain may import its own layer's shared parts and anything below.
LAYERS: list[set[str]] = [
    {"settings", "media_store"},
    {"lib"},
    {"db"},
    {"audit"},
    {"workdays"},
    {"org"},
    {"accounts"},
    {"live"},
    {"alerts"},
    {"evidence"},
    {"actions"},
    {"cases"},
    {"publication"},
    {"supervision"},
    {"documents"},
    {"corrective"},
    {"channels"},
    {"training"},
    {"retention"},
    {"sharing"},
    {"webhooks"},
    {"reports"},
    {"admin"},
    {"meetings"},
    {"summary", "health"},
    {"app", "cli", "demo", "piccolo_conf"},  # composition: wires the domains together
]
LAZY_IMPORTS_ALLOWED = {"backend.cli", "media_store.base"}  # command line; optional store backends


@dataclass
class Graph:
    edges: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    local: list[tuple[str, int, str]] = field(default_factory=list)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "piccolo_migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            lines.update(getattr(n, "lineno", 0) for n in ast.walk(node))
    return lines


def build() -> Graph:
    mods = modules()

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph = Graph()
    for name, path in mods.items():
        tree = ast.parse(path.read_text())
        skip = _type_checking_lines(tree)
        in_function = {
            id(n)
            for f in ast.walk(tree)
            if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
            for n in ast.walk(f)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # "from pkg import sub" names the submodule; "from pkg import thing" the package.
                targets = [
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in mods else node.module
                    for a in node.names
                ]
            else:
                continue
            if node.lineno in skip:
                continue
            for target in targets:
                resolved = resolve(target) if target.split(".")[0] in PACKAGES else None
                if resolved is None or resolved == name:
                    continue
                if id(node) in in_function:
                    graph.local.append((name, node.lineno, resolved))
                else:
                    graph.edges[name].add(resolved)
    return graph


def domain(module: str) -> str:
    parts = module.split(".")
    return parts[1] if parts[0] == "backend" and len(parts) > 1 else parts[0]


def layer(name: str) -> int:
    for index, members in enumerate(LAYERS):
        if name in members:
            return index
    raise KeyError(f"{name} is in no layer: add it to LAYERS in scripts/module_graph.py")


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def domain_edges(graph: Graph) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for source, targets in graph.edges.items():
        for target in targets:
            if domain(source) != domain(target):
                out[domain(source)].add(domain(target))
    return out


def problems(graph: Graph) -> list[str]:
    found = [f"import cycle: {' -> '.join(c)}" for c in cycles(graph.edges)]
    for source, targets in sorted(graph.edges.items()):
        for target in sorted(targets):
            a, b = domain(source), domain(target)
            if a != b and layer(b) >= layer(a):
                found.append(f"{source} imports {target}: {b} is not below {a} (LAYERS)")
    for source, line, target in graph.local:
        if source not in LAZY_IMPORTS_ALLOWED:
            found.append(f"{source}:{line} imports {target} inside a function")
    return found


def _reduced(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """Drop an edge a -> c when a reaches c through another edge: same reachability, fewer lines."""

    def reach(start: str, skip: tuple[str, str]) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            v = todo.pop()
            for w in edges.get(v, ()):
                if (v, w) != skip and w not in seen:
                    seen.add(w)
                    todo.append(w)
        return seen

    return {a: {c for c in cs if c not in reach(a, (a, c))} for a, cs in edges.items()}


def mermaid(graph: Graph) -> str:
    edges = _reduced(domain_edges(graph))
    lines = ["```mermaid", "flowchart BT"]
    for source in sorted(edges):
        for target in sorted(edges[source]):
            lines.append(f"  {source} --> {target}")
    lines.append("```")
    return "\n".join(lines)


def _doc_with(diagram: str) -> str:
    text = DOC.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{diagram}\n{END}{tail}"


def main(argv: list[str]) -> int:
    graph = build()
    diagram = mermaid(graph)
    if "--check" in argv:
        found = problems(graph)
        if DOC.read_text() != _doc_with(diagram):
            found.append(
                "docs/architecture.md's module diagram is stale: run scripts/module_graph.py --write"
            )
        for problem in found:
            print(problem)
        return 1 if found else 0
    if "--write" in argv:
        DOC.write_text(_doc_with(diagram))
        return 0
    print(diagram)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
