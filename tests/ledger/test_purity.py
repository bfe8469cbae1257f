"""ledger/ must stay pure: the standard library, cryptography, rfc8785 and orjson only."""

from __future__ import annotations

import sys
from pathlib import Path

import ledger
from tests.helpers import imports

ALLOWED = set(sys.stdlib_module_names) | {"cryptography", "rfc8785", "orjson", "ledger"}


def test_ledger_imports_only_the_allowed_packages() -> None:
    package = Path(ledger.__file__).parent
    found: dict[str, str] = {}
    for source in sorted(package.glob("*.py")):
        for imported in imports(package.parent, source):
            found.setdefault(imported.module.split(".")[0], source.name)
    assert {top: where for top, where in found.items() if top not in ALLOWED} == {}
