"""The shape the code keeps so that the next change stays easy (docs/ARCHITECTURE.md):
small files and functions, no import cycle, no view that rolls back by itself.

Run as a script to see every finding under a folder:
    python -m tests.test_code_shape platform/learnhub/registration
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "platform" / "learnhub"
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 60
#: Data, not logic: the demo programmes' texts and the migrations' schema steps.
EXEMPT = ("demo/data.py", "migrations/")


def _sources(under: Path | None = None) -> list[Path]:
    under = under or PACKAGE
    return sorted(p for p in under.rglob("*.py") if "__pycache__" not in p.parts)


def _exempt(path: Path) -> bool:
    relative = path.relative_to(PACKAGE).as_posix()
    return any(relative.startswith(e) or relative == e for e in EXEMPT)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def long_files(under: Path = PACKAGE) -> list[str]:
    found = []
    for path in _sources(under):
        count = len(path.read_text().splitlines())
        if count > MAX_FILE_LINES and not _exempt(path):
            found.append(f"{path.relative_to(ROOT)}: {count} lines")
    return found


def long_functions(under: Path = PACKAGE) -> list[str]:
    found = []
    for path in _sources(under):
        if _exempt(path):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                length = node.end_lineno - first + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {length}")
    return found


def _is_type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(test)


def _imports(tree: ast.AST):
    """Every import statement, in functions too; not those only a type checker runs."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if _is_type_checking_block(node):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in _sources()}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    stem = ".".join([*base, node.module] if node.module else base)
                else:
                    stem = node.module or ""
                targets = [f"{stem}.{alias.name}" for alias in node.names] + [stem]
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
                    break  # `from x import sub` reaches the submodule, else x itself
    return graph


def import_cycles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    graph = import_graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def views_that_roll_back(under: Path = PACKAGE) -> list[str]:
    found = []
    for path in _sources(under):
        if "views" in path.name:
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if ".rollback()" in line:
                    found.append(f"{path.relative_to(ROOT)}:{number}")
    return found


def test_no_file_is_over_500_lines():
    assert long_files() == []


def test_no_function_is_over_60_lines():
    assert long_functions() == []


def test_no_import_cycle_between_modules():
    assert import_cycles() == []


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    package = tmp_path / "learnhub"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from .b import g\n")
    (package / "b.py").write_text("from . import a\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", package)
    assert import_cycles() == [["learnhub.a", "learnhub.b"]]


def test_no_view_rolls_back_by_itself():
    assert views_that_roll_back() == []


if __name__ == "__main__":
    where = ROOT / sys.argv[1] if len(sys.argv) > 1 else PACKAGE
    for line in [*long_files(where), *long_functions(where), *views_that_roll_back(where)]:
        print(line)
    for group in import_cycles():
        if any(str(where.relative_to(PACKAGE.parent)).replace("/", ".") in m for m in group) or (
            where == PACKAGE
        ):
            print("cycle:", " <-> ".join(group))
