"""The README is the user's manual and docs/ holds the rest: the README names every
command and shapes file, stays short, and quotes the figures the data gives today;
docs/layout.md names every module; every page of docs/ is linked, and every relative
link of the README and docs/ leads to a file (and a heading) that exists."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

import ndlld
from ndlld.build import build, validate
from ndlld.cli import cli

from conftest import DATA, ROOT

README_PATH = ROOT / "README.md"
README = README_PATH.read_text(encoding="utf-8")
DOCS = sorted((ROOT / "docs").glob("*.md"))
MANUALS = [README_PATH, *DOCS]
README_MOST_LINES = 360  # issue 20: "fits in about 350 lines"


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_is_documented(command: str):
    assert f"### `ndlld {command}`" in README


@pytest.mark.parametrize("path", sorted((ROOT / "shapes").glob("*.ttl")), ids=lambda p: p.name)
def test_every_shapes_file_is_documented(path):
    assert f"`shapes/{path.name}`" in README


def test_every_stage_module_is_in_the_layout():
    layout = (ROOT / "docs" / "layout.md").read_text(encoding="utf-8")
    for module in sorted((ROOT / "ndlld").rglob("*.py")):
        assert f"{module.name} " in layout, module.name


def test_quoted_build_summary_matches_the_data(tmp_path):
    quoted = re.search(r"built (\d+) entities, (\d+) triples, (\d+) files into dist in [\d.]+ s \((\d+) warning", README)
    summary = build(DATA, tmp_path / "dist")
    assert tuple(int(n) for n in quoted.groups()) == (
        summary.entities,
        summary.triples,
        len(summary.files),
        summary.report.count("Warning"),
    ), "update the example in README.md"


def test_quoted_validate_summary_matches_the_data():
    report = validate(DATA)
    assert report.summary() in README


def test_package_docstring_example(monkeypatch):
    monkeypatch.chdir(ROOT)
    failures, tried = doctest.testmod(ndlld)
    assert tried and not failures


def test_the_readme_stays_short():
    lines = len(README.splitlines())
    assert lines <= README_MOST_LINES, f"README.md has {lines} lines; move detail into docs/"


def _links(path: Path) -> list[str]:
    """The targets of the Markdown links in *path*, outside code (where brackets are code)."""
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.DOTALL | re.MULTILINE)
    text = re.sub(r"`[^`\n]*`", "", text)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def _anchors(path: Path) -> set[str]:
    """The anchors GitHub gives the headings of *path*: lower case, punctuation dropped,
    spaces as hyphens, and -1, -2 … after a repeated one."""
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.DOTALL | re.MULTILINE)
    anchors: set[str] = set()
    for heading in re.findall(r"^#+\s+(.+?)\s*$", text, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        repeated = sum(1 for a in anchors if a == slug or re.fullmatch(re.escape(slug) + r"-\d+", a))
        anchors.add(f"{slug}-{repeated}" if repeated else slug)
    return anchors


def _is_relative(target: str) -> bool:
    return not re.match(r"[a-z][a-z0-9+.-]*:", target, flags=re.IGNORECASE)


@pytest.mark.parametrize("path", MANUALS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_somewhere(path: Path):
    for target in filter(_is_relative, _links(path)):
        name, _, anchor = target.partition("#")
        linked = (path.parent / name).resolve() if name else path
        assert linked.exists(), f"{path.name}: {target} names no file"
        if anchor and linked.suffix == ".md":
            assert anchor in _anchors(linked), f"{path.name}: {target} names no heading of {linked.name}"


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_every_page_of_docs_is_linked(page: Path):
    linking = (README_PATH, ROOT / "docs" / "README.md")
    targets = [(source, target) for source in linking for target in filter(_is_relative, _links(source))]
    linked = {(source.parent / target.partition("#")[0]).resolve() for source, target in targets}
    assert page.resolve() in linked, f"link docs/{page.name} from README.md or docs/README.md"
