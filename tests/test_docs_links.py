"""Every relative link in the README and docs/ leads to something in the repository.

A link to a moved or renamed file, or to one outside the repository (which a clone
does not have), is a broken page for the reader. Web links and a page's links to its
own headings are not checked; a link into another markdown file with a #heading is
checked against that file's headings, as GitHub makes their anchors."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])


_FENCED = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+).*?\1", re.DOTALL)
_INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.MULTILINE)
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def links(text: str) -> list[str]:
    """The targets of a page's inline links, images and link definitions, code left out."""
    prose = _CODE_SPAN.sub("", _FENCED.sub("", text))
    return _INLINE.findall(prose) + _DEFINITION.findall(prose)


def anchors(text: str) -> set[str]:
    """A markdown page's heading anchors as GitHub makes them: lower case, punctuation
    dropped, spaces as hyphens, a repeated one suffixed -1, -2, …"""
    made: set[str] = set()
    counts: dict[str, int] = {}
    for heading in _HEADING.findall(_FENCED.sub("", text)):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        counts[slug] = counts.get(slug, 0) + 1
        made.add(slug if counts[slug] == 1 else f"{slug}-{counts[slug] - 1}")
    return made


def broken(page: Path, root: Path = ROOT) -> list[str]:
    """Each relative link of `page` that leads nowhere in `root`, and why."""
    name = page.relative_to(root).as_posix()
    problems = []
    for target in links(page.read_text(encoding="utf-8")):
        if re.match(r"(?i)(https?|mailto):", target) or target.startswith("#"):
            continue
        path, _, anchor = unquote(target).partition("#")
        resolved = (page.parent / path.split("?")[0]).resolve()
        if not resolved.is_relative_to(root):
            problems.append(f"{name}: {target} is outside the repository")
        elif not resolved.exists():
            problems.append(f"{name}: {target} does not exist")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved.read_text(encoding="utf-8")):
            problems.append(f"{name}: {target} names no heading of {path}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_relative_links_resolve(page: Path) -> None:
    assert broken(page) == []


def test_the_check_finds_what_it_must(tmp_path: Path) -> None:
    # The parsing above, on a page of every kind of link: only the bad ones are reported.
    (tmp_path / "other.md").write_text("# A heading (`with code`)\n\n## A heading (`with code`)\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md) ![img](other.md) [web](https://example.org/x) [self](#here)\n"
        "[heading](other.md#a-heading-with-code) [repeated](other.md#a-heading-with-code-1)\n"
        "[gone](missing.md) [bad anchor](other.md#nowhere) [out](../../outside.md)\n"
        "`[code](not-a-link.md)`\n```\n[fenced](not-a-link-either.md)\n```\n[def]: also-missing.txt\n"
    )
    assert broken(page, root=tmp_path) == [
        "page.md: missing.md does not exist",
        "page.md: other.md#nowhere names no heading of other.md",
        "page.md: ../../outside.md is outside the repository",
        "page.md: also-missing.txt does not exist",
    ]
