"""The layers' import contracts (docs/DESIGN.md §3), read from the source with ast:
every import counts, inside functions and under TYPE_CHECKING too.

- ledger/ imports nothing of ours (tests/ledger/test_purity.py: nor anything outside
  the standard library, cryptography, rfc8785 and orjson);
- models/ never imports api/ or scripts/;
- the log wing (models/log/) imports only itself and models/core/: never custody,
  places, accounts, webhooks, nor the runtime above them;
- api/ never queries the database itself: no statement built or run there;
- no import circles among models' modules."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.helpers import imports, module_name

ROOT = Path(__file__).resolve().parent.parent
OURS = {"api", "ledger", "models", "scripts", "tests"}

# api/ may name the session's type, map the database's errors and read a URL; any other
# name from sqlalchemy (select, text, func, ...) builds a statement, and these methods
# run one.
API_SQLALCHEMY = ("sqlalchemy.orm.Session", "sqlalchemy.exc.", "sqlalchemy.engine.make_url")
RUNS_A_STATEMENT = {"execute", "exec_driver_sql", "scalars", "scalar", "query", "get_one"}


def sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def importing(folder: str, wrong: Callable[[list[str]], bool]) -> list[str]:
    """Each import in the folder's files whose name (its dotted parts) is wrong, and
    where it is."""
    return [
        f"{source.relative_to(ROOT)}:{i.line} {i.names[-1]}"
        for source in sources(folder)
        for i in imports(ROOT, source)
        if wrong(i.names[-1].split("."))
    ]


def test_ledger_imports_nothing_of_ours() -> None:
    assert importing("ledger", lambda name: name[0] in OURS - {"ledger"}) == []


def test_models_never_import_api_or_scripts() -> None:
    assert importing("models", lambda name: name[0] in {"api", "scripts"}) == []


def test_the_log_wing_imports_only_itself_and_core() -> None:
    allowed = (["models", "log"], ["models", "core"])
    assert importing("models/log", lambda name: name[0] == "models" and name[:2] not in allowed) == []


def _queries(source: Path) -> Iterator[str]:
    """What in an api/ file builds or runs a database statement."""
    for i in imports(ROOT, source):
        name = i.names[-1]
        if name.split(".")[0] == "sqlalchemy" and not name.startswith(API_SQLALCHEMY):
            yield name
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RUNS_A_STATEMENT:
            yield f"{node.func.attr}()"


def test_api_never_queries_the_database_itself() -> None:
    assert [f"{source.relative_to(ROOT)}: {what}" for source in sources("api") for what in _queries(source)] == []


def _models_graph() -> dict[str, set[str]]:
    """models' modules and what each imports of them (a package's __init__ included:
    importing a module runs its package's)."""
    modules = {module_name(ROOT, source): source for source in sources("models")}
    graph: dict[str, set[str]] = {}
    for module, source in modules.items():
        graph[module] = set()
        for i in imports(ROOT, source):
            for name in i.names:
                parts = name.split(".")
                graph[module] |= {".".join(parts[:n]) for n in range(1, len(parts) + 1)} & modules.keys()
        graph[module].discard(module)
    return graph


def _a_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of the graph, as the modules along it, or None."""
    state: dict[str, str] = {}  # "open" while on the path, "done" once explored

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = "open"
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                return path[path.index(imported) :] + [imported]
            if imported not in state and (circle := visit(imported, [*path, imported])):
                return circle
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (circle := visit(module, [module])):
            return circle
    return None


def test_no_import_circles_among_models() -> None:
    assert " -> ".join(_a_circle(_models_graph()) or []) == ""
