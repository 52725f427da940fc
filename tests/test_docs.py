"""The README is the user's manual: it names every command and shapes file, and
the figures it quotes are those the data gives today; docs/layout.md names every
module."""

from __future__ import annotations

import doctest
import re

import pytest

import ndlld
from ndlld.build import build, validate
from ndlld.cli import cli

from conftest import DATA, ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


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
