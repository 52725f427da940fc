"""Incremental builds make the same files as builds from scratch, whatever the edits.

A property test: random sequences of edits to a synthetic data directory (records
added, changed, deleted and renamed; dataset.yaml edited; a record broken and
mended; a year after the dataset's dateModified), each followed by a build with the
cache and one without; every file of the two outputs must be the same bytes, the
summaries must count the same entities, statements, files and warnings, and a build
that fails must fail with the same message and leave the output as it was. The search
index the cache keeps (changed in place, so not compared byte for byte) must answer a
set of searches as one made from the dumps of the build from scratch. The suite runs a
few short sequences; ``NDLLD_THOROUGH=1`` runs many long ones.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from lxml import html as lxml_html

from ndlld.build import build, validate
from ndlld.cli import cli
from ndlld.dumps import DATASET_FILES, ends_chunk
from ndlld.errors import PublishError
from ndlld.finding import Indexes, index_of_output
from ndlld.incremental import fingerprint, listing, pages
from ndlld.incremental.state import State
from ndlld.rdf import subject_value
from ndlld.search import INDEX_FILE, Query, Resource, SearchIndex, tokens
from ndlld.site import page_files
from ndlld.site.listing import EntriesListing, Entry, Listed
from ndlld.site.parts import Involvement
from ndlld.synth import BASE as SYNTH_BASE
from ndlld.synth import synthesize

from conftest import DATA, ROOT, WIDELY_CITED

THOROUGH = bool(os.environ.get("NDLLD_THOROUGH"))
SEQUENCES = range(40) if THOROUGH else range(4)
STEPS = 12 if THOROUGH else 5


def _files(out: Path) -> dict[str, str]:
    """Every file under *out* by its SHA-256, and every symlink by its target."""
    found = {}
    for folder, _, files in os.walk(out):
        for name in files:
            path = Path(folder) / name
            key = path.relative_to(out).as_posix()
            found[key] = "-> " + os.readlink(path) if path.is_symlink() else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _run(*args) -> tuple[int, str, str]:
    """The exit code, the errors, and the summary without where and how long (what was built:
    entities, statements, files and warnings)."""
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stderr, re.sub(r" into .* in [0-9.]+ s", "", result.stdout)


# -- edits, each a function of the data directory and a random generator ----------------


def _records(data: Path) -> list[Path]:
    return sorted(p for p in (data / "organizations").rglob("*.yaml"))


def rename_organization(data: Path, rnd: random.Random) -> None:
    record = rnd.choice(_records(data))
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace("en: ", f"en: Renamed {rnd.randrange(1000)} ", 1), encoding="utf-8")


def rename_otherwise(data: Path, rnd: random.Random) -> None:
    """Another Japanese name and abbreviation: what search finds by bigrams and exactly."""
    record = rnd.choice(_records(data))
    number = rnd.randrange(1000)
    text = record.read_text(encoding="utf-8").replace("ja: ", f"ja: 改名{number}", 1)
    record.write_text(text.replace("alternateName: ", f"alternateName: X{number}", 1), encoding="utf-8")


def change_year(data: Path, rnd: random.Random) -> None:
    record = rnd.choice(_records(data))
    text = record.read_text(encoding="utf-8")
    if "foundingYear: " in text:
        year = text.split("foundingYear: ", 1)[1][:4]
        record.write_text(text.replace(f"foundingYear: {year}", f"foundingYear: {rnd.randrange(1900, 2020)}", 1), encoding="utf-8")


def change_start_year(data: Path, rnd: random.Random) -> None:
    """A dated part of the publisher's (a membership, a meeting) moved to another year:
    its page and the publisher's timeline change, which reads none of it."""
    dated = [path for path in sorted(data.rglob("*.yaml")) if "startYear: " in path.read_text(encoding="utf-8")]
    if dated:
        record = rnd.choice(dated)
        text = record.read_text(encoding="utf-8")
        year = text.split("startYear: ", 1)[1][:4]
        record.write_text(text.replace(f"startYear: {year}", f"startYear: {rnd.randrange(1950, 2020)}", 1), encoding="utf-8")


def year_after_date_modified(data: Path, rnd: random.Random) -> None:
    """A founding or start year after the dataset's dateModified (a warning), or back: the
    check of a date reads the dataset's date, in another document."""
    dated = [path for path in sorted(data.rglob("*.yaml")) if re.search(r"(foundingYear|startYear): ", path.read_text(encoding="utf-8"))]
    if dated:
        record = rnd.choice(dated)
        text = record.read_text(encoding="utf-8")
        key, year = re.search(r"(foundingYear|startYear): ([0-9]+)", text).groups()
        later = str(rnd.randrange(1950, 2020) if int(year) > 2026 else rnd.randrange(2027, 2100))
        record.write_text(text.replace(f"{key}: {year}", f"{key}: {later}", 1), encoding="utf-8")


def add_organization(data: Path, rnd: random.Random) -> None:
    number = rnd.randrange(10**6)
    (data / "organizations" / f"added-{number}.yaml").write_text(
        f"id: added-{number}\ntype: Organization\nname:\n  en: Added organization {number}\n  ja: 追加{number}\n"
        f"description:\n  en: An organization added by the test.\nsource: source/synthetic\n",
        encoding="utf-8",
    )


def delete_record(data: Path, rnd: random.Random) -> None:
    rnd.choice(_records(data)).unlink()


def move_record(data: Path, rnd: random.Random) -> None:
    """The same record under another name: its lines' file changes, and the records' order."""
    record = rnd.choice(_records(data))
    record.rename(record.with_name(f"moved-{rnd.randrange(10**6)}-{record.name}"))


def edit_dataset(data: Path, rnd: random.Random) -> None:
    dataset = data / "dataset.yaml"
    text = dataset.read_text(encoding="utf-8")
    dataset.write_text(
        text.replace("dateModified: ", "dateModified: ", 1).replace("en: ", f"en: Edition {rnd.randrange(100)} of ", 1), encoding="utf-8"
    )


def break_and_mend(data: Path, rnd: random.Random) -> None:
    """A record broken (its file left so), which the next edit of this kind mends."""
    broken = data / "organizations" / "broken.yaml"
    if broken.exists():
        broken.unlink()
    else:
        broken.write_text("id: broken\ntype: Organization\nfoundingYear: 19999\n", encoding="utf-8")


def move_passage(data: Path, rnd: random.Random) -> None:
    """A place moved from one passage of the synthetic source to the other: its statements
    change graphs in the quads dumps, though no triple of it changed."""
    path = data / "sources" / "synthetic-passages.yaml"
    if not path.exists():
        return
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    subjects = [i for i, line in enumerate(lines) if line.strip().startswith("subject: [")]
    first, second = (lines[i].strip()[len("subject: [") : -1].split(", ") for i in subjects)
    if len(first) > 1:
        second.append(first.pop(rnd.randrange(len(first))))
        for i, places in zip(subjects, (first, second)):
            lines[i] = f"    subject: [{', '.join(places)}]\n"
        path.write_text("".join(lines), encoding="utf-8")


def source_a_link_elsewhere(data: Path, rnd: random.Random) -> None:
    """A link outward sourced to another source, or back: its rdf:Statement changes, and the
    link itself moves to that source's graph in the quads dumps, though no triple of it changed."""
    linking = [p for p in _records(data) if "\n  - id: " in p.read_text(encoding="utf-8")]
    if linking:
        record = rnd.choice(linking)
        text = record.read_text(encoding="utf-8")
        swapped = text.replace("    source: source/synthetic\n", "    source: source/eu-countries\n", 1)
        if swapped == text:
            swapped = text.replace("    source: source/eu-countries\n", "    source: source/synthetic\n", 1)
        record.write_text(swapped, encoding="utf-8")


def cite_a_source_for_less(data: Path, rnd: random.Random) -> None:
    """What ISO 3166-1 is cited for given, or taken away: every country's statements change graphs."""
    path = data / "sources" / "iso-3166-1.yaml"
    if path.exists():
        text = path.read_text(encoding="utf-8")
        cited = "citedFor: ndl:countryCode\n"
        path.write_text(text.replace(cited, "") if cited in text else text + cited, encoding="utf-8")


def add_a_source(data: Path, rnd: random.Random) -> None:
    """A second source for an organization, or one source again: all its statements, its hash
    resources' and the links to them from other records change graphs."""
    record = rnd.choice(_records(data))
    text = record.read_text(encoding="utf-8")
    one, two = "\nsource: source/synthetic\n", "\nsource: [source/synthetic, source/eu-countries]\n"
    record.write_text(text.replace(two, one) if two in text else text.replace(one, two), encoding="utf-8")


EDITS = [
    rename_organization,
    rename_otherwise,
    change_year,
    change_start_year,
    year_after_date_modified,
    add_organization,
    delete_record,
    move_record,
    edit_dataset,
    break_and_mend,
    move_passage,
    source_a_link_elsewhere,
    cite_a_source_for_less,
    add_a_source,
]


@pytest.mark.parametrize("seed", SEQUENCES)
def test_incremental_builds_make_the_files_of_builds_from_scratch(seed: int, tmp_path: Path):
    _edits_built_as_from_scratch(seed, tmp_path)


@pytest.mark.parametrize("seed", SEQUENCES)
def test_builds_reading_what_points_at_a_resource_from_the_state_are_as_from_scratch(seed: int, tmp_path: Path, monkeypatch):
    """Every answer of what points at a resource kept with the reads of the pages, as that of
    a source every record cites is (ndlld.incremental.pages.KEPT_POINTING_FROM), and changed
    by each edit: every build the same as one from scratch."""
    monkeypatch.setattr(pages, "KEPT_POINTING_FROM", 1)
    _edits_built_as_from_scratch(seed, tmp_path)


def _edits_built_as_from_scratch(seed: int, tmp_path: Path) -> None:
    """Random edits (:data:`EDITS`), each built with the state, then from scratch: the same
    outcome, files and search index."""
    rnd = random.Random(seed)
    data = tmp_path / "data"
    synthesize(data, orgs=25, seed=seed)
    out, cache = tmp_path / "dist", tmp_path / "cache"
    code, errors, _ = _run("build", "--data", data, "--out", out, "--cache-dir", cache)
    assert code == 0, errors
    for step in range(STEPS):
        edit = rnd.choice(EDITS)
        edit(data, rnd)
        before = _files(out)
        scratch = tmp_path / f"scratch-{step}"
        trusting = ("--trust-output",) if step % 2 else ()  # the same as long as a record changed
        incremental = _run("build", "--data", data, "--out", out, "--cache-dir", cache, *trusting)
        from_scratch = _run("build", "--data", data, "--out", scratch, "--no-cache")
        assert incremental == from_scratch, f"step {step} ({edit.__name__})"
        if incremental[0] == 0:
            assert _files(out) == _files(scratch), f"step {step} ({edit.__name__})"
            # Nothing changed since: a build trusting the output writes nothing, and says what it holds.
            assert _run("build", "--data", data, "--out", out, "--cache-dir", cache, "--trust-output") == incremental
            assert _files(out) == _files(scratch), f"step {step} ({edit.__name__}): trusted"
            resources, _ = index_of_output(scratch)
            made = Indexes(scratch, tmp_path / "none", tmp_path / f"made-{step}")  # from the dumps
            assert _searched(SearchIndex(cache / INDEX_FILE), resources) == _searched(made.current(), resources), f"step {step}: search"
        else:
            assert _files(out) == before, f"step {step} ({edit.__name__}): a failed build changed the output"
        assert Indexes(out, cache).current().path == cache / INDEX_FILE, f"step {step}: the kept index is not the output's"
        shutil.rmtree(scratch, ignore_errors=True)


def _searched(index: SearchIndex, resources: list[Resource]) -> dict:
    """What *index* answers of *resources* (those of the build from scratch): each as it
    holds it, the count of each type (so none more), and the results (in order, with their
    ranks) of searches by every name, whole, by word and by its first letters, by every word
    of the descriptions, and by Japanese bigrams; and the candidates reconciliation scores."""
    names = {text for resource in resources for kind, _, text in resource.texts if kind != "description"}
    words = {word for resource in resources for _, _, text in resource.texts for word in tokens(text, query=True)}
    answers = {}
    for q in sorted(names | words | {name[:3] for name in names}):
        answers[q] = [(h.resource.iri, h.exact, h.rank) for h in index.search(Query(q, limit=100))]
        answers["~" + q] = [(h.resource.iri, h.exact, h.rank) for h in index.candidates(Query(q, limit=100))]
    return {"resources": index.get(r.iri for r in resources), "types": index.types(), "answers": answers}


# -- what a user sees of the cache ---------------------------------------------------------


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def synthetic(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    synthesize(data, orgs=40, seed=11)
    return data


def _built(data: Path, out: Path, cache: Path) -> list[str]:
    """Build with the cache; the progress lines it gave (how it went)."""
    said: list[str] = []
    build(data, out, cache_dir=cache, progress=said.append)
    return said


def _network_drawn(out: Path) -> list[str]:
    """The pages the index's network picture links to."""
    index = (out / "index.html").read_text(encoding="utf-8")
    start = index.index('id="ndlld-network"')
    return re.findall(r'href="(id/[^"]+)\.html"', index[start : index.index("</svg>", start)])


MEMBERSHIP = """
member:
  - id: {id}#ndl-test-member
    type: OrganizationRole
    member: ndl
    roleName:
      en: test member
    startYear: 2001
    source: source/synthetic
"""


def test_the_network_of_many_organizations_is_drawn_as_from_scratch(tmp_path: Path):
    """More organizations than the picture draws: the closest are chosen again only when a
    page made again changes their links, and every edit draws what a build from scratch does."""
    data, cache, out = tmp_path / "data", tmp_path / "cache", tmp_path / "dist"
    synthesize(data, orgs=90, seed=2)
    build(data, out, cache_dir=cache)
    drawn = _network_drawn(out)
    records = {record.stem: record for record in _records(data)}
    outside = next(r for name, r in records.items() if "id/" + name not in drawn and "member: ndl" not in r.read_text("utf-8"))
    inside = next(r for name, r in records.items() if "id/" + name in drawn and "member:\n" in r.read_text("utf-8"))
    assert len(drawn) < len(records)
    edits = [
        (
            "a membership of the publisher given",
            lambda: outside.write_text(outside.read_text("utf-8") + MEMBERSHIP.format(id=outside.stem)),
        ),
        ("a drawn organization renamed", lambda: _edit(inside, "en: ", "en: Renamed ")),
        (
            "a parent given",
            lambda: _edit(outside, "\nsource: source/synthetic\n", f"\nparentOrganization: {inside.stem}\nsource: source/synthetic\n"),
        ),
        ("a membership taken back", lambda: _edit(outside, MEMBERSHIP.format(id=outside.stem), "")),
    ]
    for step, (what, edit) in enumerate(edits):
        edit()
        said = _built(data, out, cache)
        assert any("changed record file(s)" in line for line in said), (what, said)
        build(data, tmp_path / f"scratch-{step}")
        assert _files(out) == _files(tmp_path / f"scratch-{step}"), what
        if step == 0:
            assert "id/" + outside.stem in _network_drawn(out), "a new member of the publisher is among its closest"
        if step == 1:
            assert "Renamed " in (out / "index.html").read_text("utf-8")


def test_an_edit_is_built_from_what_changed_and_equals_a_build_from_scratch(synthetic: Path, tmp_path: Path):
    cache, out = tmp_path / "cache", tmp_path / "dist"
    assert any("reading the records" in line for line in _built(synthetic, out, cache))
    record = sorted((synthetic / "organizations").rglob("org-*.yaml"))[7]
    _edit(record, "en: ", "en: Renamed ")
    said = _built(synthetic, out, cache)
    assert any("what 1 changed record file(s) touch" in line for line in said), said
    build(synthetic, tmp_path / "scratch")
    incremental, scratch = _snapshot(out), _snapshot(tmp_path / "scratch")
    assert incremental == scratch
    assert b"Renamed " in incremental["dataset.nt"]
    own_page = "id/" + record.stem + ".html"
    others = [name for name, content in incremental.items() if name.endswith(".html") and name != own_page and b"Renamed " in content]
    assert len(others) > 2, "the edit shows on other pages too (links to it), which were made again"


@pytest.mark.parametrize("loss", ["removed", "not a database"])
def test_a_search_index_lost_from_the_cache_is_made_whole_by_the_next_edit(synthetic: Path, tmp_path: Path, loss: str):
    """The rest of the state still serves: the edit is built incrementally, and the index
    written whole from the new graph answers as one made from the dumps."""
    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(synthetic, out, cache_dir=cache)
    index = cache / INDEX_FILE
    if loss == "removed":
        index.unlink()
    else:
        index.write_bytes(b"left by something else")
    assert Indexes(out, cache, tmp_path / "made").current().path != index  # a server meanwhile makes one of its own
    _edit(sorted((synthetic / "organizations").rglob("org-*.yaml"))[3], "en: ", "en: Renamed ")
    assert any("what 1 changed record file(s) touch" in line for line in _built(synthetic, out, cache))
    made = Indexes(out, tmp_path / "none", tmp_path / "made")
    assert Indexes(out, cache).current().path == index
    resources, _ = index_of_output(out)
    assert _searched(SearchIndex(index), resources) == _searched(made.current(), resources)
    assert [h.resource.iri for h in SearchIndex(index).search(Query("renamed"))] != []


def _listed_on(page: Path) -> set[str]:
    """The pages (file names, without fragments) a page lists under 'Linked from'."""
    tree = lxml_html.fromstring(page.read_bytes())
    return {href.rpartition("/")[2].partition("#")[0] for href in tree.xpath("//section[@class='links-here']//li/a/@href")}


def _mark_in_place(page: Path, old: bytes, new: bytes) -> None:
    """Change *page*'s bytes as an edit by hand that a build cannot see: in place, to as many
    bytes, its times set back. A build that makes the page again writes it anew."""
    facts, content = page.stat(), page.read_bytes()
    assert len(old) == len(new) and old in content
    with open(page, "r+b") as file:
        file.write(content.replace(old, new, 1))
    os.utime(page, ns=(facts.st_atime_ns, facts.st_mtime_ns))


def test_a_name_edited_past_the_first_listed_leaves_the_cited_sources_files(widely_cited, tmp_path: Path):
    """A resource that the page of the source every record cites does not list (it lists the
    first rows, and its RDF the statements of those rows), renamed to a name it still does not
    list: the source's pages are not made again (a mark left in them by hand stays), its files
    are those published, and the build equals one from scratch; renamed into the first rows,
    then out of them, the pages are made again, as from scratch."""
    data = Path(shutil.copytree(widely_cited[0], tmp_path / "data"))
    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(data, out, cache_dir=cache)
    pages = [name for name in page_files(WIDELY_CITED) if name.endswith(".html") and name.startswith("id/")]  # not the embed
    # Named by an abbreviation where a role it holds is listed: its name is read only for its own row.
    record = next(
        p for p in _records(data) if all(f in p.read_text("utf-8") for f in ("source: source/synthetic", "  ja: ", "alternateName"))
    )
    _edit(record, "en: ", "en: Zz ")  # last by name in English; in Japanese, past the last listed (a kanji after 東)
    _edit(record, "  ja: ", "  ja: 龍")
    _built(data, out, cache)
    assert not any(f"{record.stem}." in name for page in pages for name in _listed_on(out / page))
    files = {name: (out / name).stat() for name in page_files(WIDELY_CITED)}
    for page in pages:
        _mark_in_place(out / page, b"<!DOCTYPE html>", b"<!doctype html>")
    _edit(record, "en: Zz ", "en: Zy ")
    said = _built(data, out, cache)
    assert any("what 1 changed record file(s) touch" in line for line in said), said
    for name, before in files.items():
        after = (out / name).stat()
        assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size), name
    for page in pages:
        assert (out / page).read_bytes().startswith(b"<!doctype html>"), f"{page} was made again"
        _mark_in_place(out / page, b"<!doctype html>", b"<!DOCTYPE html>")
    build(data, tmp_path / "scratch")
    incremental = _snapshot(out)
    assert incremental == _snapshot(tmp_path / "scratch")
    assert b"Zy " in incremental["dataset.nt"] and b"Zy " in incremental[f"id/{record.stem}.html"]
    for step, (old, new) in enumerate([("en: Zy ", "en: 0 "), ("en: 0 ", "en: Zx ")]):  # a digit comes before every letter
        for page in pages:
            _mark_in_place(out / page, b"<!DOCTYPE html>", b"<!doctype html>")
        _edit(record, old, new)
        _built(data, out, cache)
        build(data, tmp_path / f"scratch-{step}")
        incremental = _snapshot(out)
        assert incremental == _snapshot(tmp_path / f"scratch-{step}")  # the pages made again: without the mark
        assert (f"{record.stem}.html" in _listed_on(out / f"{WIDELY_CITED}.html")) == (new == "en: 0 ")
        name = record.read_text(encoding="utf-8").split("en: ", 1)[1].splitlines()[0]
        assert (f'"{name}"@en'.encode() in incremental[f"{WIDELY_CITED}.ttl"]) == (new == "en: 0 ")


def _memberships_shown(page: Path) -> set[str]:
    """The records (by file name) of the roles in other organizations a page shows."""
    tree = lxml_html.fromstring(page.read_bytes())
    return {href.partition(".")[0] for href in tree.xpath("//section[@class='node'][1]//dd/a/@href") if "#ndl-" in href}


def _years_shown(page: Path) -> list[int]:
    """The years of the involvements a page shows."""
    tree = lxml_html.fromstring(page.read_bytes())
    return [int(li.text_content().split()[0]) for li in tree.xpath("//section[@class='timeline']//li")]


def test_a_member_of_the_publisher_renamed_past_its_first_memberships_leaves_its_page(synthetic: Path, tmp_path: Path, monkeypatch):
    """The publisher holds roles in thousands of organizations: its page shows the first by
    name and counts the rest. One of them renamed, still past those shown (and its role's
    year past the involvements shown), leaves the page as published (a mark left in it by hand
    stays); renamed into the first ones shown in Japanese, then out again, or its role dated
    among the first involvements and back, the page is made again; every build the same as
    one from scratch."""
    import ndlld.site

    monkeypatch.setattr(ndlld.site, "LIST_SHOWN", 3)
    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(synthetic, out, cache_dir=cache)
    pages = [out / "id" / "ndl.html", out / "id" / "ndl.ja.html"]
    shown = set().union(*map(_memberships_shown, pages))
    last_year = max(_years_shown(pages[0]))
    record = next(
        r
        for r in _records(synthetic)
        for text in [r.read_text(encoding="utf-8")]
        if f"id: {r.stem}#ndl-member\n" in text and "alternateName" not in text and r.stem not in shown
        if int(re.search(r"startYear: (\d+)", text)[1]) > last_year
    )
    for page in pages:
        _mark_in_place(page, b"<!DOCTYPE html>", b"<!doctype html>")
    _edit(record, "en: ", "en: Zz ")
    said = _built(synthetic, out, cache)
    assert any("what 1 changed record file(s) touch" in line for line in said), said
    for page in pages:
        assert page.read_bytes().startswith(b"<!doctype html>"), f"{page} was made again"
        _mark_in_place(page, b"<!doctype html>", b"<!DOCTYPE html>")
    build(synthetic, tmp_path / "scratch")
    assert _snapshot(out) == _snapshot(tmp_path / "scratch")
    year = re.search(r"startYear: (\d+)", record.read_text(encoding="utf-8"))[0]
    edits = [("en: Zz ", "en: 0 "), ("en: 0 ", "en: Zz "), (year, "startYear: 1900"), ("startYear: 1900", year)]  # a digit sorts first
    for step, (old, new) in enumerate(edits):
        _edit(record, old, new)
        _built(synthetic, out, cache)
        build(synthetic, tmp_path / f"scratch-{step}")
        assert _snapshot(out) == _snapshot(tmp_path / f"scratch-{step}")
        assert (record.stem in _memberships_shown(pages[1])) == (new == "en: 0 ")
        assert (1900 in _years_shown(pages[0])) == (new == "startYear: 1900")


def _named_nowhere_else(data: Path) -> list[Path]:
    """The organizations' records whose id no other record names: removed, they break no link."""
    texts = {path: path.read_text(encoding="utf-8") for path in data.rglob("*.yaml")}
    return [r for r in _records(data) if not any(re.search(rf"\b{r.stem}\b", t) for p, t in texts.items() if p != r)]


def test_a_resource_added_or_removed_where_a_list_is_cut_is_built_as_from_scratch(widely_cited, tmp_path: Path):
    """The page of the source every record cites shows its first rows and counts the others:
    an organization removed past the rows shown, put back, and two removed from among them
    one after the other (the first rows past the cut then shown) make its pages again, each
    build the same as one from scratch."""
    data = Path(shutil.copytree(widely_cited[0], tmp_path / "data"))
    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(data, out, cache_dir=cache)
    page = out / f"{WIDELY_CITED}.html"
    listed = _listed_on(page) | _listed_on(out / f"{WIDELY_CITED}.ja.html")
    alone = _named_nowhere_else(data)
    past = next(r for r in alone if f"{r.stem}.html" not in listed)
    among, then = [r for r in alone if f"{r.stem}.html" in _listed_on(page)][:2]
    kept = past.read_bytes()
    for step, edit in enumerate([past.unlink, lambda: past.write_bytes(kept), among.unlink, then.unlink]):
        before = page.read_bytes()
        edit()
        said = _built(data, out, cache)
        assert any("what 1 changed record file(s) touch" in line for line in said), said
        build(data, tmp_path / f"scratch-{step}")
        assert _snapshot(out) == _snapshot(tmp_path / f"scratch-{step}")
        assert page.read_bytes() != before  # another count of rows, at least


def _graphs_by_triple(nquads: bytes) -> dict[str, set[str]]:
    """Each triple of an N-Quads dump (as N-Triples writes it) and the graphs it is in."""
    found: dict[str, set[str]] = {}
    for line in nquads.decode("utf-8").splitlines():
        triple, graph = line[: line.rindex(" <")], line[line.rindex(" <") + 1 : -2]
        found.setdefault(triple, set()).add(graph)
    return found


@pytest.mark.parametrize("edit", [move_passage, source_a_link_elsewhere, cite_a_source_for_less, add_a_source], ids=lambda e: e.__name__)
def test_statements_moved_between_graphs_are_built_from_what_changed(synthetic: Path, tmp_path: Path, edit):
    """An edit to what states some statements, not to them: built from the changed record
    alone, the quads dumps are those of a build from scratch, with statements in other graphs."""
    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(synthetic, out, cache_dir=cache)
    before = _graphs_by_triple((out / "dataset.nq").read_bytes())
    edit(synthetic, random.Random(3))
    said = _built(synthetic, out, cache)
    assert any("what 1 changed record file(s) touch" in line for line in said), said
    build(synthetic, tmp_path / "scratch")
    assert _snapshot(out) == _snapshot(tmp_path / "scratch")
    after = _graphs_by_triple((out / "dataset.nq").read_bytes())
    moved = [t for t in before.keys() & after.keys() if before[t] != after[t]]
    assert moved, "the edit moved no statement from one graph to another"


def test_a_name_changed_reaches_no_other_quads(synthetic: Path, tmp_path: Path):
    """What a change to a resource's name can move in the quads dumps is that resource alone,
    and none of its other statements to other graphs; a second source for it moves all of
    them, its hash resources' and the links to them too."""
    from ndlld.context import Context
    from ndlld.incremental import change
    from ndlld.incremental.dumps import graphs_moved, quads_reach
    from ndlld.incremental.state import State
    from ndlld.resources import context_path

    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(synthetic, out, cache_dir=cache)
    texts = {p: p.read_text(encoding="utf-8") for p in _records(synthetic)}
    record = next(p for p, text in texts.items() if "member: ndl" in text)
    iri = SYNTH_BASE + "id/" + record.stem

    def reach() -> tuple[set[str], set[str]]:
        with State.open(cache) as state, state.writing(keep=False):
            found = change(state, synthetic, out, Context.load(context_path()))
            assert found is not None
            touched = {subject_value(t) for t in found.delta.removed | found.delta.added}
            return quads_reach(found.overlay, touched), graphs_moved(found.overlay)

    _edit(record, "en: ", "en: Renamed ")
    assert reach() == ({iri}, set())
    _edit(record, "\nsource: source/synthetic\n", "\nsource: [source/synthetic, source/eu-countries]\n")
    reached, moved = reach()
    assert iri in moved and any(s.startswith(iri + "#") for s in moved), moved
    assert SYNTH_BASE + "id/ndl" in moved, "the publisher links to its role here: that link takes the role's sources"
    assert moved <= reached


def test_the_publishers_page_follows_the_parts_other_pages_give_it(synthetic: Path, tmp_path: Path):
    """A membership's year changed in an organization's record: the publisher's page, which
    lists the membership without reading it, shows the new year as a build from scratch does."""
    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(synthetic, out, cache_dir=cache)
    texts = {path: path.read_text(encoding="utf-8") for path in sorted((synthetic / "organizations").rglob("org-*.yaml"))}
    record = next(path for path, text in texts.items() if "member: ndl" in text and "startYear: " in text)
    year = texts[record].split("startYear: ", 1)[1][:4]
    assert b"1901" not in (out / "id" / "ndl.html").read_bytes()
    _edit(record, f"startYear: {year}", "startYear: 1901")
    said = _built(synthetic, out, cache)
    assert any("what 1 changed record file(s) touch" in line for line in said), said
    build(synthetic, tmp_path / "scratch")
    assert _snapshot(out) == _snapshot(tmp_path / "scratch")
    assert b"1901" in (out / "id" / "ndl.html").read_bytes()


def test_nothing_changed_is_built_from_the_state(synthetic: Path, tmp_path: Path):
    """With nothing changed, every dump (the quads' too), its gzip file and the checksums
    are the files published, linked: not one byte of them written again."""
    cache, out = tmp_path / "cache", tmp_path / "dist"
    _built(synthetic, out, cache)
    before = _snapshot(out)
    dumps = [f"{name}{gz}" for name in DATASET_FILES.values() for gz in ("", ".gz")] + ["SHA256SUMS"]
    assert {"dataset.trig", "dataset.nq.gz"} <= set(dumps)
    inodes = {name: (out / name).stat().st_ino for name in dumps}
    assert any("what 0 changed record file(s) touch" in line for line in _built(synthetic, out, cache))
    assert _snapshot(out) == before
    assert {name: (out / name).stat().st_ino for name in dumps} == inodes


def test_a_record_edited_while_a_build_from_scratch_runs_is_read_by_the_next(synthetic: Path, tmp_path: Path):
    """The state notes each record file as the build found it before reading it: a record
    edited once it was read (here, when the build starts on the dumps) is read again by the
    next build, whose output is then that of a build from scratch of the edited records."""
    cache, out = tmp_path / "cache", tmp_path / "dist"
    record = sorted((synthetic / "organizations").rglob("org-*.yaml"))[5]

    def edit_once_read(line: str) -> None:
        if "writing the dumps" in line:
            _edit(record, "en: ", "en: Renamed ")

    build(synthetic, out, cache_dir=cache, progress=edit_once_read)
    assert b"Renamed " not in (out / "dataset.nt").read_bytes()
    assert any("what 1 changed record file(s) touch" in line for line in _built(synthetic, out, cache))
    build(synthetic, tmp_path / "scratch")
    assert _snapshot(out) == _snapshot(tmp_path / "scratch")


def test_a_build_from_scratch_that_fails_once_its_pages_are_made_leaves_the_last_state(synthetic: Path, tmp_path: Path):
    """A build from scratch keeps its pages in the state as it makes them; when it fails after
    (here: the same version released again with other data), the state is still the last
    build's, which the next build starts from."""
    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(synthetic, out, cache_dir=cache, release=True)
    before = _snapshot(out)
    dataset = synthetic / "dataset.yaml"
    kept = dataset.read_text()
    dataset.write_text(kept.replace("dateModified: 2026-01-01", "dateModified: 2026-01-02"))
    said: list[str] = []
    with pytest.raises(PublishError, match="release 1.0.0 already exists with other data"):
        build(synthetic, out, cache_dir=cache, release=True, progress=said.append)
    assert any("writing the pages" in line for line in said)
    dataset.write_text(kept)
    assert any("what 0 changed record file(s) touch" in line for line in _built(synthetic, out, cache))
    assert _snapshot(out) == before


def test_nothing_changed_after_an_edit_loads_no_site_code_and_keeps_the_search_index(synthetic: Path, tmp_path: Path):
    """A build that makes no page or companion does not import the site's code (jinja2,
    the templates): the kept search index has no row to change, and stays the index of
    the output, answering as one made from the dumps, the edit before it included."""
    import subprocess
    import sys

    cache, out = tmp_path / "cache", tmp_path / "dist"
    _built(synthetic, out, cache)
    _edit(sorted((synthetic / "organizations").rglob("org-*.yaml"))[3], "en: ", "en: Renamed ")
    assert any("what 1 changed record file(s) touch" in line for line in _built(synthetic, out, cache))
    script = (
        "import sys; from ndlld.build import build\n"
        "said = []\n"
        f"build({str(synthetic)!r}, {str(out)!r}, cache_dir={str(cache)!r}, progress=said.append)\n"
        "print(any('what 0 changed record file(s) touch' in line for line in said))\n"
        "print(sorted(m for m in ('jinja2', 'ndlld.site') if m in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.splitlines() == ["True", "[]"]
    assert Indexes(out, cache).current().path == cache / INDEX_FILE
    resources, _ = index_of_output(out)
    made = Indexes(out, tmp_path / "none", tmp_path / "made")
    assert _searched(SearchIndex(cache / INDEX_FILE), resources) == _searched(made.current(), resources)
    assert [h.resource.iri for h in SearchIndex(cache / INDEX_FILE).search(Query("renamed"))] != []


def test_a_page_changed_by_hand_in_the_output_is_written_again(synthetic: Path, tmp_path: Path):
    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(synthetic, out, cache_dir=cache)
    page = out / "id" / "org-000003.html"
    right = page.read_bytes()
    page.write_bytes(right.replace(b"<title>", b"<title>changed by hand "))
    build(synthetic, out, cache_dir=cache)
    assert (out / "id" / "org-000003.html").read_bytes() == right


def test_a_build_trusting_the_output_writes_nothing_when_nothing_changed(synthetic: Path, tmp_path: Path):
    """With --trust-output and no record changed, the output published is left as it is, not
    one file of it replaced or looked at: a page changed by hand stays so, until a build that
    does not trust the output (or one that makes that page again) writes it again."""
    cache, out = tmp_path / "cache", tmp_path / "dist"
    first = build(synthetic, out, cache_dir=cache)
    page = out / "id" / "org-000003.html"
    right = page.read_bytes()
    page.write_bytes(right.replace(b"<title>", b"<title>changed by hand "))
    inodes = {path: path.stat().st_ino for path in out.rglob("*")}
    trusted = build(synthetic, out, cache_dir=cache, trust_output=True)
    assert {path: path.stat().st_ino for path in out.rglob("*")} == inodes
    assert page.read_bytes() != right
    assert (trusted.entities, trusted.triples, len(trusted.written)) == (first.entities, first.triples, len(first.written))
    assert sorted(trusted.written) == sorted(first.written)
    build(synthetic, out, cache_dir=cache)
    assert page.read_bytes() == right


def test_a_build_trusting_the_output_after_an_edit_looks_at_no_page_it_keeps(synthetic: Path, tmp_path: Path):
    """With --trust-output, an edit places the pages it keeps by what the last build wrote and
    removed, and stats none: every file is that of a build from scratch but a page changed by
    hand, which stays so until a build that does not trust the output."""
    cache, out, scratch = tmp_path / "cache", tmp_path / "dist", tmp_path / "scratch"
    build(synthetic, out, cache_dir=cache)
    page = out / "id" / "org-000003.html"
    right = page.read_bytes()
    page.write_bytes(right.replace(b"<title>", b"<title>changed by hand "))
    records = sorted((synthetic / "organizations").rglob("org-00001*.yaml"))
    texts = "".join(path.read_text(encoding="utf-8") for path in synthetic.rglob("*.yaml"))
    alone = next(record for record in records[2:] if texts.count(record.stem) == 1)  # no other record names it
    for step, record in enumerate([records[0], records[1], alone]):
        if record == alone:
            record.unlink()
        else:
            _edit(record, "en: ", f"en: Renamed {step} ")
        build(synthetic, out, cache_dir=cache, trust_output=True)
        build(synthetic, scratch)
        differing = {name for name, digest in _files(out).items() if _files(scratch).get(name) != digest}
        assert differing | (set(_files(scratch)) - set(_files(out))) == {"id/org-000003.html"}, step
    build(synthetic, out, cache_dir=cache)
    assert _files(out) == _files(scratch)


@pytest.mark.parametrize("name", ["index.html", "sitemap.xml", "void.ttl", "vocab.html", "static/style.css"])
def test_a_companion_changed_by_hand_is_written_again_when_nothing_changed(synthetic: Path, tmp_path: Path, name: str):
    """The index and the other files beside the pages are kept as published when the graph
    did not change, but not one edited in the output since."""
    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(synthetic, out, cache_dir=cache)
    build(synthetic, out, cache_dir=cache)  # nothing changed: the companions kept, or made again
    right = (out / name).read_bytes()
    (out / name).write_bytes(right + b"changed by hand")
    build(synthetic, out, cache_dir=cache)
    assert (out / name).read_bytes() == right
    build(synthetic, out, cache_dir=cache)
    assert (out / name).read_bytes() == right


def test_an_edit_makes_again_only_the_companions_it_changes(synthetic: Path, tmp_path: Path):
    """A name edited, the first build after the one from scratch: the index and VoID
    (the dumps' checksums) are made again; the sitemaps (no document came or went) and
    the files only the header makes are the files published, not one written again."""
    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(synthetic, out, cache_dir=cache)
    kept = ["sitemap.xml", "vocab.html", "sparql.html", "search.html", ".htaccess", "static/style.css"]
    inodes = {name: (out / name).stat().st_ino for name in [*kept, "index.html", "void.ttl"]}
    _edit(sorted((synthetic / "organizations").rglob("org-*.yaml"))[5], "en: ", "en: Renamed ")
    assert any("what 1 changed record file(s) touch" in line for line in _built(synthetic, out, cache))
    assert {name: (out / name).stat().st_ino for name in kept} == {name: inodes[name] for name in kept}
    assert (out / "index.html").stat().st_ino != inodes["index.html"] and (out / "void.ttl").stat().st_ino != inodes["void.ttl"]
    build(synthetic, tmp_path / "scratch")
    assert _snapshot(out) == _snapshot(tmp_path / "scratch")


def test_a_record_rewritten_with_the_same_size_and_time_is_read_again(synthetic: Path, tmp_path: Path):
    """Its change time (which no program can set back) shows it."""
    cache, out = tmp_path / "cache", tmp_path / "dist"
    record = sorted((synthetic / "organizations").rglob("org-*.yaml"))[5]
    build(synthetic, out, cache_dir=cache)
    before = record.stat()
    _edit(record, "\n  en: ", "\n  en: X")
    _edit(record, "# ", "#")  # one byte more, one less: the same size
    os.utime(record, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (record.stat().st_size, record.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    build(synthetic, out, cache_dir=cache)
    build(synthetic, tmp_path / "scratch")
    assert _snapshot(out) == _snapshot(tmp_path / "scratch")


def test_an_edit_that_breaks_other_records_is_found_with_a_warm_cache(good_data: Path, tmp_path: Path):
    """Every record cites source/page, whose shapes want a CreativeWork: making it a
    Place breaks the records that cite it, though they did not change."""
    cache = tmp_path / "cache"
    assert build(good_data, tmp_path / "dist", cache_dir=cache).report.conforms
    _edit(good_data / "sources" / "page.yaml", "type: WebPage", "type: Place")
    warm = validate(good_data, cache_dir=cache)
    scratch = validate(good_data)
    assert [str(f) for f in warm.findings] == [str(f) for f in scratch.findings]
    assert {f.origin.path.rsplit("/", 1)[-1] for f in warm.findings if f.severity == "Violation"} >= {"ifla.yaml", "ndl.yaml"}


def test_a_membership_superseded_by_an_edit_is_found_with_a_warm_cache(synthetic: Path, tmp_path: Path):
    """The check of superseded memberships reads the member's other memberships: with one
    of the publisher's memberships gone and a later one added beside another, unchanged,
    in the same build, the state finds what a check of the whole graph finds (the
    unchanged one must end), and once mended builds the same files."""
    cache, out = tmp_path / "cache", tmp_path / "dist"
    texts = {path: path.read_text(encoding="utf-8") for path in sorted(synthetic.rglob("*.yaml"))}
    members = [path for path in _records(synthetic) if "member: ndl" in texts[path] and "endYear" not in texts[path]]
    gone = next(path for path in members if not any(path.stem in text for other, text in texts.items() if other != path))
    joined = next(path for path in members if path != gone)
    build(synthetic, out, cache_dir=cache)
    gone.unlink()
    later = f"""member:
  - id: {joined.stem}#ndl-later-member
    type: OrganizationRole
    member: ndl
    roleName:
      en: regular member
    membershipCategory: RegularMember
    startYear: 2099
    source: source/synthetic
"""
    _edit(joined, "member:\n", later)
    warm, scratch = validate(synthetic, cache_dir=cache), validate(synthetic)
    assert [str(f) for f in warm.findings] == [str(f) for f in scratch.findings]
    assert any("later membership" in f.message and "ndl-later-member" not in f.focus for f in warm.findings)
    joined.write_text(texts[joined], encoding="utf-8")
    warm_build, scratch_build = build(synthetic, out, cache_dir=cache), build(synthetic, tmp_path / "scratch")
    assert _snapshot(out) == _snapshot(tmp_path / "scratch")
    assert (warm_build.entities, warm_build.triples) == (scratch_build.entities, scratch_build.triples)


def test_records_whose_resources_end_a_dump_chunk_deleted(tmp_path: Path):
    """A dump chunk ends after a resource its key picks (:func:`ndlld.dumps.ends_chunk`): with
    that resource gone, its chunk joins the next. Records chosen so (at 60 synthetic
    organizations, seed 5), one for the N-Triples order, one for the JSON-LD's."""
    data, cache, out = tmp_path / "data", tmp_path / "cache", tmp_path / "dist"
    synthesize(data, orgs=60, seed=5)
    build(data, out, cache_dir=cache)
    records = {path.stem: path for path in _records(data)}
    base = "https://example.org/synth/id/"
    assert ends_chunk(f"<{base}org-000023>".encode()) and ends_chunk(f"{base}org-000017#member-count".encode())
    for name in ("org-000023", "org-000017"):
        records[name].unlink()
    build(data, out, cache_dir=cache)
    build(data, tmp_path / "scratch")
    assert _files(out) == _files(tmp_path / "scratch")


def test_findings_and_report_with_the_state_are_those_without(tmp_path: Path):
    data, cache = DATA, tmp_path / "cache"
    build(data, tmp_path / "dist", cache_dir=cache)
    warm, scratch = validate(data, cache_dir=cache), validate(data)
    assert [str(f) for f in warm.findings] == [str(f) for f in scratch.findings]
    assert warm.findings, "the real data has warnings (no Japanese name) to compare"
    assert warm.json() == scratch.json()


def test_validate_leaves_the_state_to_the_next_build(synthetic: Path, tmp_path: Path):
    """``ndlld validate`` reads what changed from the state, and changes nothing in it."""
    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(synthetic, out, cache_dir=cache)
    _edit(sorted((synthetic / "organizations").rglob("org-*.yaml"))[2], "en: ", "en: Renamed ")
    assert validate(synthetic, cache_dir=cache).conforms
    assert any("what 1 changed record file(s) touch" in line for line in _built(synthetic, out, cache))


@pytest.mark.parametrize("directory, file", [("shapes", "organization.ttl"), ("ontology", "context.jsonld"), ("ndlld", "graph.py")])
def test_fingerprint_covers_code_shapes_and_vocabulary(tmp_path: Path, directory: str, file: str):
    """New code, shapes or vocabulary: the state of the last build is of no use."""
    roots = [
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("ndlld", "ontology", "shapes")
    ]
    before = fingerprint(*roots)
    with open(tmp_path / directory / file, "a", encoding="utf-8") as edited:
        edited.write("\n")
    assert fingerprint(*roots) != before


def test_a_state_that_is_not_one_is_started_anew(good_data: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "state.sqlite").write_bytes(b"left by something else")
    assert build(good_data, tmp_path / "dist", cache_dir=cache).report.conforms
    assert (cache / "state.sqlite").read_bytes().startswith(b"SQLite format 3")
    assert any("changed record" in line for line in _built(good_data, tmp_path / "dist", cache))


def test_an_output_not_the_one_the_state_describes_is_built_from_scratch(synthetic: Path, tmp_path: Path):
    """A build without the cache in between: the state no longer says what the output holds."""
    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(synthetic, out, cache_dir=cache)
    _edit(sorted((synthetic / "organizations").rglob("org-*.yaml"))[2], "en: ", "en: Renamed ")
    build(synthetic, out)
    assert any("reading the records" in line for line in _built(synthetic, out, cache))


def test_cli_keeps_the_state_beside_the_output_unless_told(good_data: Path, tmp_path: Path):
    runner = CliRunner()
    out = tmp_path / "site"
    assert runner.invoke(cli, ["build", "--data", str(good_data), "--out", str(out)]).exit_code == 0
    assert (tmp_path / ".site.cache" / "state.sqlite").is_file()
    elsewhere = tmp_path / "elsewhere"
    assert runner.invoke(cli, ["build", "--data", str(good_data), "--out", str(out), "--cache-dir", str(elsewhere)]).exit_code == 0
    assert (elsewhere / "state.sqlite").is_file()
    shutil.rmtree(tmp_path / ".site.cache")
    assert runner.invoke(cli, ["build", "--data", str(good_data), "--out", str(out), "--no-cache"]).exit_code == 0
    assert not (tmp_path / ".site.cache").exists()


# -- the publisher's statements, judged one at a time ------------------------------------------


def _lone_member(data: Path) -> Path:
    """A member of the publisher's whose record no other file names: one that can be deleted."""
    texts = {path: path.read_text(encoding="utf-8") for path in sorted(data.rglob("*.yaml"))}
    members = [path for path in sorted((data / "organizations").rglob("org-*.yaml")) if "member: ndl" in texts[path]]
    return next(path for path in members if not any(path.stem in text for other, text in texts.items() if other != path))


def _findings(report) -> list[str]:
    return [f"{f.severity} {f.focus} {f.path} {f.value} {f.message} {f.origin}" for f in report.findings]


def test_a_member_deleted_keeps_what_counting_shapes_say_of_the_publisher(synthetic: Path, tmp_path: Path):
    """The publisher's memberships are each judged alone, and not seen again when one goes;
    its names are counted (a Japanese one is wanted), and are: the warning stays."""
    cache, out = tmp_path / "cache", tmp_path / "dist"
    _edit(synthetic / "organizations" / "ndl.yaml", "  ja: 国立国会図書館\n", "")
    build(synthetic, out, cache_dir=cache)
    _lone_member(synthetic).unlink()
    warm = build(synthetic, out, cache_dir=cache).report
    scratch = build(synthetic, tmp_path / "scratch").report
    assert _findings(warm) == _findings(scratch)
    assert any(f.focus == "ndl" and f.severity == "Warning" and "Japanese name" in f.message for f in warm.findings)
    assert _snapshot(out) == _snapshot(tmp_path / "scratch")


def test_a_source_cited_by_fewer_or_by_none_is_found_as_from_scratch(synthetic: Path, tmp_path: Path):
    """The shapes ask that some record cite each source: the check of a change reads only as
    many of the statements citing it as they ask for, not the hundreds of thousands that
    cite the source every record cites. Of the two records citing a source, either citation
    taken away leaves it cited (whichever the store gives first), and both, uncited: as from scratch."""
    cache = tmp_path / "cache"
    (synthetic / "sources" / "rare.yaml").write_text(
        "id: source/rare\ntype: CreativeWork\nname:\n  en: A rarely cited document\n", encoding="utf-8"
    )
    one, both = "\nsource: source/synthetic\n", "\nsource: [source/synthetic, source/rare]\n"
    citing = [path for path in _records(synthetic) if one in path.read_text(encoding="utf-8")][:2]
    for record in citing:
        _edit(record, one, both)
    build(synthetic, tmp_path / "dist", cache_dir=cache)
    uncited = []
    for taken in ([citing[0]], [citing[1]], citing):  # validate leaves the state as the build left it
        for record in taken:
            _edit(record, both, one)
        warm, scratch = validate(synthetic, cache_dir=cache), validate(synthetic)
        assert _findings(warm) == _findings(scratch)
        uncited.append(not warm.conforms and any(f.focus == "source/rare" for f in warm.findings))
        for record in taken:
            _edit(record, one, both)
    assert uncited == [False, False, True]


def test_a_year_after_the_datasets_date_modified_is_found_with_a_warm_cache(synthetic: Path, tmp_path: Path):
    """The check of a year reads the dataset's dateModified, in another document: a year
    edited past it is warned of as from scratch; the warning stays through an edit of the
    record's name, and goes with the year."""
    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(synthetic, out, cache_dir=cache)
    record = next(path for path in _records(synthetic) if "foundingYear: " in path.read_text(encoding="utf-8"))
    year = record.read_text(encoding="utf-8").split("foundingYear: ", 1)[1][:4]

    def warned() -> bool:
        warm, scratch = build(synthetic, out, cache_dir=cache).report, build(synthetic, tmp_path / "scratch").report
        assert _findings(warm) == _findings(scratch)
        assert _snapshot(out) == _snapshot(tmp_path / "scratch")
        return any(f.focus == record.stem and "dateModified" in f.message for f in warm.findings)

    _edit(record, f"foundingYear: {year}", "foundingYear: 2099")
    assert warned()
    _edit(record, "en: ", "en: Renamed ")
    assert warned()
    _edit(record, "foundingYear: 2099", f"foundingYear: {year}")
    assert not warned()


def test_a_membership_retyped_under_the_publisher_is_found_as_from_scratch(synthetic: Path, tmp_path: Path):
    """The publisher's link to a membership is judged by the membership's type: when that
    changes, the link is checked again, though the publisher's statements did not change."""
    cache = tmp_path / "cache"
    build(synthetic, tmp_path / "dist", cache_dir=cache)
    member = _lone_member(synthetic)
    _edit(member, "type: OrganizationRole", "type: Place")
    warm, scratch = validate(synthetic, cache_dir=cache), validate(synthetic)
    assert _findings(warm) == _findings(scratch)
    assert any(f.focus == "ndl" and f.path == "schema:memberOf" for f in warm.findings), _findings(warm)


# -- what the index reads of the state ----------------------------------------------------------


def _random_entry(rnd: random.Random, document: str, iris: list[str]) -> Entry:
    """A page's entry: an organization or another kind of resource (with hash organizations),
    parents among *iris*, links of the publisher and involvements, names that tie now and then."""
    kinds = [("http://schema.org/Organization",), ("http://schema.org/Library",), ("http://schema.org/EventSeries",)]
    listed = []
    for iri in [document, *(f"{document}#part-{n}" for n in range(rnd.randrange(3)))]:
        name = rnd.choice(["Alpha", "beta", "Gamma", "alpha", "Delta"]) + ("" if rnd.random() < 0.3 else f" {rnd.randrange(50)}")
        parents = tuple(rnd.sample(iris, rnd.randrange(3)))
        listed.append(Listed(iri, name, name[:3], rnd.choice(kinds), parents, rnd.choice(["", "名"])))
    links = tuple((rnd.choice(["member", "attends", "funds"]), rnd.choice(iris)) for _ in range(rnd.randrange(4)))
    involvements = tuple(
        Involvement(rnd.randrange(1990, 1995), rnd.choice(["role", "attended"]), rnd.choice(["A", "B"]), "", f"{document}#i{n}")
        for n in range(rnd.randrange(4))
    )
    return Entry(tuple(listed), links, involvements)


def _organization(document: str, parents: tuple[str, ...] = (), links: tuple[tuple[str, str], ...] = ()) -> Entry:
    name = document.rsplit("/", 1)[1]
    return Entry((Listed(document, name.upper(), name, ("http://schema.org/Organization",), parents),), links)


@pytest.mark.parametrize("most", [5, 8])
@pytest.mark.parametrize("seed", range(3))
def test_organizations_with_no_edge_come_and_go_as_the_entries_draw_the_network(seed: int, most: int, tmp_path: Path):
    """Organizations with no edge added and removed, now and then one that others name as
    their parent or the publisher links to before it is an organization, one linked, one with
    a parent: what the state draws is what the entries draw at every step, the picture full
    of organizations with edges (5 drawn, mostly) or not (8, at first)."""
    rnd = random.Random(seed)
    d = [f"https://example.org/id/d{n:02}" for n in range(60)]
    publisher, named, linked = d[0], d[59], d[58]  # named by d05 as its parent, linked by the publisher: not yet organizations
    entries = {publisher: _organization(publisher, links=(("member", d[1]), ("member", d[2]), ("member", linked)))}
    entries.update({d[1]: _organization(d[1]), d[2]: _organization(d[2]), d[5]: _organization(d[5], parents=(named,))})
    entries.update({child: _organization(child, parents=(parent,)) for child, parent in ((d[50], d[1]), (d[51], d[1]), (d[52], d[2]))})
    entries.update({document: _organization(document) for document in d[20:40]})
    others = [document for document in d[3:] if document not in (d[5], d[50], d[51], d[52])]
    key = lambda iri: iri.rsplit("/", 1)[1]  # noqa: E731 - as the index keys them
    with State.open(tmp_path / "state") as state:
        with state.writing():
            listing.keep_all(state, entries)
        for step in range(40):
            absent, present = [o for o in others if o not in entries], [o for o in others if o in entries]
            choice = rnd.random()
            if choice < 0.1 and {named, linked} & set(absent):
                made = {o: SimpleNamespace(entry=_organization(o)) for o in {named, linked} & set(absent)}
            elif choice < 0.15 and present:
                document = rnd.choice(present)
                made = {document: SimpleNamespace(entry=_organization(document, links=(("funds", document),)))}
            elif choice < 0.2 and absent:
                document = rnd.choice(absent)
                made = {document: SimpleNamespace(entry=_organization(document, parents=(rnd.choice([d[1], d[2], d[13]]),)))}
            elif choice < 0.6 and absent:
                made = {o: SimpleNamespace(entry=_organization(o)) for o in rnd.sample(absent, min(len(absent), rnd.randint(1, 2)))}
            else:
                made = dict.fromkeys(rnd.sample(present, min(len(present), rnd.randint(1, 2))))
            with state.writing():
                listing.change(state, made)
                entries.update({document: page.entry for document, page in made.items() if page is not None})
                for document in (document for document, page in made.items() if page is None):
                    entries.pop(document, None)
                drawn = listing.KeptListing(state).network(publisher, most, key)
                assert drawn == EntriesListing(entries).network(publisher, most, key), step


@pytest.mark.parametrize("seed", range(3))
def test_the_lists_the_index_reads_of_the_state_are_those_of_the_entries(seed: int, tmp_path: Path):
    """The state's rows, changed by the pages made again or gone, read as the index reads them
    (the first rows of each list and how many more, what the network picture draws, the
    timeline) are the entries' own, with lists short enough that every rule is met."""
    rnd = random.Random(seed)
    documents = [f"https://example.org/id/d{n:02}" for n in range(30)]
    publisher = documents[0]
    entries = {document: _random_entry(rnd, document, documents) for document in documents[:20]}
    key = lambda iri: iri.rsplit("/", 1)[1]  # noqa: E731 - as the index keys them
    with State.open(tmp_path / "state") as state:
        with state.writing():
            listing.keep_all(state, entries)
        for step in range(25):
            made: dict = {}
            for document in rnd.sample(documents, rnd.randrange(1, 4)):
                gone = document != publisher and rnd.random() < 0.3
                made[document] = None if gone else SimpleNamespace(entry=_random_entry(rnd, document, documents))
            with state.writing():
                listing.change(state, made)
                entries.update({document: page.entry for document, page in made.items() if page is not None})
                for document in (document for document, page in made.items() if page is None):
                    entries.pop(document, None)
                kept, held = listing.KeptListing(state), EntriesListing(entries)
                for name in ("organizations", "group organizations", "group series"):
                    assert kept.first(name, 4) == held.first(name, 4), f"step {step}: {name}"
                assert kept.network(publisher, 5, key) == held.network(publisher, 5, key), f"step {step}: network"
                assert kept.timeline(3, 4) == held.timeline(3, 4), f"step {step}: timeline"
