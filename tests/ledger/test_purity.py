"""ledger/ must stay pure: the standard library, cryptography, rfc8785 and orjson only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import ledger

ALLOWED = set(sys.stdlib_module_names) | {"cryptography", "rfc8785", "orjson", "ledger"}


def test_ledger_imports_only_the_allowed_packages() -> None:
    package = Path(ledger.__file__).parent
    found: dict[str, str] = {}
    for source in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], source.name)
    assert {top: where for top, where in found.items() if top not in ALLOWED} == {}
