"""Free text the service takes from outside (reasons, names, URLs): plain text on one
line, one rule shared by the scans and the request bodies. A control character or a
bidirectional override can hide or reorder what an auditor reads on a screen or in an
export. (Times have their own rule: models/core/times.py.)"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

# C0 controls (tab and newline too: every free-text field is one line), DEL, and the
# bidirectional embeddings, overrides and isolates.
_UNSAFE = re.compile("[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def unsafe_character(value: str) -> str | None:
    """The first character the rule refuses in `value`, or None."""
    found = _UNSAFE.search(value)
    return found.group() if found else None


def _plain(value: str) -> str:
    if (found := unsafe_character(value)) is not None:
        raise ValueError(f"plain text on one line only: the control character U+{ord(found):04X} is not allowed")
    return value


# Any free text a request carries; its length is each field's own (Field(max_length=...)).
FreeText = Annotated[str, AfterValidator(_plain)]
