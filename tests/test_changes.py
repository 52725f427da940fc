"""Releases, `ndlld diff` and the change feed: exactly what changed, and nothing
already released ever rewritten."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from ndlld.build import build
from ndlld.cli import cli
from ndlld.errors import PublishError

ID = "https://example.org/ndlld/id/"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def edit(data: Path, path: str, old: str, new: str) -> None:
    target = data / path
    text = target.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    target.write_text(text.replace(old, new), encoding="utf-8")


def next_version(data: Path, version: str, date: str) -> None:
    edit(data, "dataset.yaml", "version: 0.0.1", f"version: {version}")
    edit(data, "dataset.yaml", "dateModified: 2026-01-31", f"dateModified: {date}")


@pytest.fixture
def two_releases(good_data: Path, tmp_path: Path) -> Path:
    """Release 0.0.1 of the fixture, then 0.0.2 with one resource created, one updated, one deleted."""
    out = tmp_path / "dist"
    build(good_data, out, release=True)
    next_version(good_data, "0.0.2", "2026-02-28")
    edit(good_data, "organizations/ifla.yaml", "minValue: 1700", "minValue: 1800")  # updated
    (good_data / "organizations" / "foundation.yaml").unlink()  # deleted ...
    edit(
        good_data,
        "places/countries.yaml",
        "        source: source/page\n    source: source/page\n",
        "        source: source/page\n    source: source/page\n  - id: country/fr\n    type: Country\n    name:\n      en: France\n"
        '    countryCode: "FR"\n    sameAs:\n      - id: http://publications.europa.eu/resource/authority/country/FRA\n'
        "        source: source/page\n    source: source/page\n",
    )  # created
    build(good_data, out, release=True)
    return out


def test_release_keeps_the_dumps_and_points_latest_at_it(good_data: Path, tmp_path: Path):
    out = tmp_path / "dist"
    build(good_data, out, release=True)
    release = out / "releases" / "0.0.1"
    for name in ("dataset.ttl", "dataset.jsonld", "dataset.nt", "dataset.ndjson", "dataset.nt.gz", "SHA256SUMS", "void.ttl"):
        assert (release / name).read_bytes() == (out / name).read_bytes()
    assert os.readlink(out / "releases" / "latest") == "0.0.1"


def test_earlier_releases_are_never_rewritten(two_releases: Path, good_data: Path):
    first = two_releases / "releases" / "0.0.1"
    before = {p.name: (p.read_bytes(), p.stat().st_ino) for p in first.iterdir()}
    build(good_data, two_releases)  # an ordinary build later: the releases are carried over untouched
    after = {p.name: (p.read_bytes(), p.stat().st_ino) for p in first.iterdir()}
    assert before == after
    assert os.readlink(two_releases / "releases" / "latest") == "0.0.2"


def test_a_version_is_released_once(two_releases: Path, good_data: Path):
    edit(good_data, "organizations/ifla.yaml", "minValue: 1800", "minValue: 1900")
    with pytest.raises(PublishError, match="release 0.0.2 already exists with other data"):
        build(good_data, two_releases, release=True)
    assert "1800" in (two_releases / "releases" / "0.0.2" / "dataset.nt").read_text()


def test_diff_reports_exactly_the_changed_triples(two_releases: Path):
    result = run("diff", "0.0.1", "0.0.2", "--out", two_releases, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    statuses = {r["id"].removeprefix(ID): r["status"] for r in report["resources"]}
    assert statuses == {"country/fr": "created", "dataset": "updated", "ifla": "updated", "foundation": "deleted"}
    ifla = next(r for r in report["resources"] if r["id"] == ID + "ifla")
    assert ifla["added"] == [f'<{ID}ifla#member-count> <http://schema.org/minValue> "1800"^^<http://www.w3.org/2001/XMLSchema#integer> .']
    assert ifla["removed"] == [f'<{ID}ifla#member-count> <http://schema.org/minValue> "1700"^^<http://www.w3.org/2001/XMLSchema#integer> .']
    old = (two_releases / "releases" / "0.0.1" / "dataset.nt").read_text().splitlines()
    new = (two_releases / "releases" / "0.0.2" / "dataset.nt").read_text().splitlines()
    assert report["added"] == len(set(new) - set(old)) and report["removed"] == len(set(old) - set(new))


def test_diff_of_files_as_text(two_releases: Path):
    old, new = two_releases / "releases" / "0.0.1" / "dataset.ttl", two_releases / "releases" / "0.0.2" / "dataset.jsonld"
    result = run("diff", old, new)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == re.search(r"\d+ triple\(s\) added, \d+ removed, in 4 resource\(s\)", result.stdout)[0]
    assert f"updated IFLA <{ID}ifla>" in result.stdout and f"deleted A foundation <{ID}foundation>" in result.stdout
    as_nt = run("diff", old, new, "--format", "nt")
    assert f"updated {ID}ifla" in as_nt.stdout and f"deleted {ID}foundation" in as_nt.stdout


def test_diff_of_an_unknown_release_is_a_clear_error(two_releases: Path):
    result = run("diff", "0.0.1", "9.9.9", "--out", two_releases)
    assert result.exit_code == 2
    assert result.stderr.startswith("no release 9.9.9 in ") and "(releases: 0.0.1, 0.0.2)" in result.stderr
    # A version is a directory's name, never a way to another: not even to a release's own.
    for spec in ("../releases/0.0.2", "0.0.2/.", "latest"):
        result = run("diff", "0.0.1", spec, "--out", two_releases)
        assert result.exit_code == 2 and result.stderr.startswith(f"no release {spec} in "), result.stderr


PASSAGE = """graph:
  - id: source/page#ifla
    type: SpecificResource
    hasSource: source/page
    hasSelector: {id: source/page#ifla-position, type: TextPositionSelector, start: 10, end: 20}
    subject: [ifla]
"""


@pytest.fixture
def moved(good_data: Path, tmp_path: Path) -> Path:
    """Release 0.0.1 of the fixture, then 0.0.2 where a passage of the source page is about the
    IFLA: the IFLA's statements, none changed, move from the page's graph to the passage's."""
    out = tmp_path / "dist"
    build(good_data, out, release=True)
    next_version(good_data, "0.0.2", "2026-02-28")
    (good_data / "sources" / "page-passages.yaml").write_text(PASSAGE, encoding="utf-8")
    build(good_data, out, release=True)
    return out


def test_diff_of_releases_reports_statements_moved_between_graphs(moved: Path):
    text = run("diff", "0.0.1", "0.0.2", "--out", moved)
    assert text.exit_code == 0, text.output
    assert f"updated IFLA <{ID}ifla>" in text.stdout
    assert (
        "  ~ IFLA · name: International Federation of Library Associations and Institutions, stated by A source page → by A source page § ifla"
        in text.stdout
    )
    # The IFLA, the NDL (its link to its role in the IFLA moved too), the page (its passage), the dataset:
    assert text.stdout.splitlines()[-1].endswith("moved between graphs, in 4 resource(s)")
    report = json.loads(run("diff", "0.0.1", "0.0.2", "--out", moved, "--format", "json").stdout)
    ifla = next(r for r in report["resources"] if r["id"] == ID + "ifla")
    assert ifla["added"] == ifla["removed"] == []
    name = f'<{ID}ifla> <http://schema.org/name> "International Federation of Library Associations and Institutions"@en .'
    assert {"statement": name, "from": [ID + "source/page"], "to": [ID + "source/page#ifla"]} in ifla["moved"]
    assert report["moved"] == sum(len(r.get("moved", [])) for r in report["resources"]) > 0
    quads = run("diff", "0.0.1", "0.0.2", "--out", moved, "--format", "nq").stdout
    assert f"  + {name[:-2]} <{ID}source/page#ifla> ." in quads and f"  - {name[:-2]} <{ID}source/page> ." in quads
    triples = run("diff", "0.0.1", "0.0.2", "--out", moved, "--format", "nt").stdout
    assert name not in triples, "N-Triples cannot say which graph: the union did not change"


def test_diff_as_quads_needs_two_datasets(moved: Path):
    old = moved / "releases" / "0.0.1" / "dataset.nt"
    result = run("diff", old, "0.0.2", "--out", moved, "--format", "nq")
    assert result.exit_code == 2
    assert result.stderr == f"--format nq compares two datasets (TriG or N-Quads), but {old} is ntriples\n"


def test_feed_lists_exactly_the_changed_resources(two_releases: Path):
    releases = two_releases / "releases"
    collection = json.loads((releases / "changes.json").read_text())
    assert collection["type"] == "OrderedCollection"
    assert collection["last"]["id"].endswith("releases/0.0.2/changes.json")
    assert collection["first"]["id"].endswith("releases/0.0.1/changes.json")
    page = json.loads((releases / "0.0.2" / "changes.json").read_text())
    activities = {(item["type"], item["object"]["canonical"].removeprefix(ID)) for item in page["orderedItems"]}
    assert activities == {("Create", "country/fr"), ("Update", "dataset"), ("Update", "ifla"), ("Delete", "foundation")}
    assert {item["endTime"] for item in page["orderedItems"]} == {"2026-02-28T00:00:00Z"}
    assert page["prev"]["id"].endswith("releases/0.0.1/changes.json")
    first = json.loads((releases / "0.0.1" / "changes.json").read_text())
    assert {item["type"] for item in first["orderedItems"]} == {"Create"} and "prev" not in first
    assert collection["totalItems"] == len(first["orderedItems"]) + len(page["orderedItems"])


def test_release_command(good_data: Path, tmp_path: Path):
    result = run("release", "--data", good_data, "--out", tmp_path / "dist")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dist" / "releases" / "0.0.1" / "changes.json").is_file()


def test_diff_keeps_text_with_unicode_line_separators_whole():
    """U+2028, U+2029 and NEL are text in N-Triples, not ends of lines."""
    from pyoxigraph import Literal, NamedNode, Triple

    from ndlld.changes import diff

    subject, name = NamedNode("https://example.org/id/a"), NamedNode("http://schema.org/name")
    old = [Triple(subject, name, Literal("one\u2028two\u2029three\x85four", language="en"))]
    new = [Triple(subject, name, Literal("one", language="en"))]
    changes = diff(old, new)
    assert (changes.removed, changes.added) == (1, 1)
    [change] = changes.resources
    assert change.removed == ['<https://example.org/id/a> <http://schema.org/name> "one\u2028two\u2029three\x85four"@en .']
