"""The build cache: an edit redoes only what it touches, and the output is that of
a build from scratch; a change of code, shapes or vocabulary invalidates it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ndlld.build import build, load_graph, validate
from ndlld.cache import Cache, fingerprint
from ndlld.cli import cli
from ndlld.synth import synthesize

from conftest import ROOT


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


def test_build_after_an_edit_equals_a_build_from_scratch(synthetic: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    build(synthetic, tmp_path / "dist", cache_dir=cache)
    record = sorted((synthetic / "organizations").rglob("org-*.yaml"))[7]
    _edit(record, "en: ", "en: Renamed ")

    build(synthetic, tmp_path / "dist", cache_dir=cache)
    build(synthetic, tmp_path / "scratch")  # no cache

    incremental, scratch = _snapshot(tmp_path / "dist"), _snapshot(tmp_path / "scratch")
    assert incremental == scratch
    assert b"Renamed " in incremental["dataset.nt"]
    own_page = "id/" + record.stem + ".html"
    others = [name for name, content in incremental.items() if name.endswith(".html") and name != own_page and b"Renamed " in content]
    assert len(others) > 2, "the edit shows on other pages too (links to it), which were made again"


def test_a_page_changed_by_hand_in_the_output_is_written_again(synthetic: Path, tmp_path: Path):
    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(synthetic, out, cache_dir=cache)
    page = out / "id" / "org-000003.html"
    right = page.read_bytes()
    page.write_bytes(right.replace(b"<title>", b"<title>changed by hand "))
    build(synthetic, out, cache_dir=cache)
    assert (out / "id" / "org-000003.html").read_bytes() == right


def test_only_the_edited_record_is_read_again(synthetic: Path, tmp_path: Path):
    with Cache(tmp_path / "cache") as cache:
        load_graph(synthetic, cache=cache)
        assert cache.hits == 0
    _edit(sorted((synthetic / "organizations").rglob("org-*.yaml"))[3], "en: ", "en: Renamed ")
    with Cache(tmp_path / "cache") as cache:
        graph = load_graph(synthetic, cache=cache)
    records = len(list(synthetic.rglob("*.yaml"))) - 1  # dataset.yaml is always read
    assert (cache.hits, cache.misses) == (records - 1, 1)
    assert any("Renamed " in t.object.value for t in graph.triples)


def test_an_edit_that_breaks_other_records_is_found_with_a_warm_cache(good_data: Path, tmp_path: Path):
    """Every record cites source/page, whose shapes want a CreativeWork: making it a
    Place breaks the records that cite it, though they did not change."""
    cache = tmp_path / "cache"
    assert validate(good_data, cache_dir=cache).conforms
    _edit(good_data / "sources" / "page.yaml", "type: WebPage", "type: Place")

    warm = validate(good_data, cache_dir=cache)
    scratch = validate(good_data)

    assert [str(f) for f in warm.findings] == [str(f) for f in scratch.findings]
    assert {f.origin.path.rsplit("/", 1)[-1] for f in warm.findings if f.severity == "Violation"} >= {"ifla.yaml", "ndl.yaml"}


def test_findings_with_a_cache_are_those_without(tmp_path: Path):
    data, cache = ROOT / "data", tmp_path / "cache"
    first, again, scratch = validate(data, cache_dir=cache), validate(data, cache_dir=cache), validate(data)
    assert [str(f) for f in first.findings] == [str(f) for f in again.findings] == [str(f) for f in scratch.findings]
    assert again.findings, "the real data has warnings (no Japanese name) to compare"


def test_a_new_fingerprint_misses_everything(good_data: Path, tmp_path: Path):
    """New code, shapes or vocabulary: nothing from before is reused."""
    with Cache(tmp_path / "cache") as cache:
        load_graph(good_data, cache=cache)
    changed = Cache(tmp_path / "cache")
    changed.fingerprint = b"ndlld of another version"
    with changed:
        load_graph(good_data, cache=changed)
    assert changed.hits == 0 and changed.misses > 0


@pytest.mark.parametrize("directory, file", [("shapes", "organization.ttl"), ("ontology", "context.jsonld"), ("ndlld", "graph.py")])
def test_fingerprint_covers_code_shapes_and_vocabulary(tmp_path: Path, directory: str, file: str):
    roots = [
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("ndlld", "ontology", "shapes")
    ]
    before = fingerprint(*roots)
    with open(tmp_path / directory / file, "a", encoding="utf-8") as edited:
        edited.write("\n")
    assert fingerprint(*roots) != before


def test_a_cache_that_is_not_a_cache_is_started_anew(good_data: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "cache.sqlite").write_bytes(b"left by something else")
    assert validate(good_data, cache_dir=cache).conforms
    assert (cache / "cache.sqlite").read_bytes().startswith(b"SQLite format 3")


def test_unused_entries_are_dropped(good_data: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    validate(good_data, cache_dir=cache)
    size = _entries(cache)
    for n in range(3):
        _edit(good_data / "organizations" / "ifla.yaml", "A worldwide federation", f"Edit {n}, a worldwide federation")
        validate(good_data, cache_dir=cache)
        _edit(good_data / "organizations" / "ifla.yaml", f"Edit {n}, a worldwide federation", "A worldwide federation")
    assert _entries(cache) == size


def _entries(cache: Path) -> int:
    import sqlite3

    with sqlite3.connect(cache / "cache.sqlite") as db:
        return db.execute("SELECT count(*) FROM entry").fetchone()[0]


def test_cli_keeps_the_cache_beside_the_output_unless_told(good_data: Path, tmp_path: Path):
    runner = CliRunner()
    out = tmp_path / "site"
    assert runner.invoke(cli, ["build", "--data", str(good_data), "--out", str(out)]).exit_code == 0
    assert (tmp_path / ".site.cache" / "cache.sqlite").is_file()
    elsewhere = tmp_path / "elsewhere"
    assert runner.invoke(cli, ["build", "--data", str(good_data), "--out", str(out), "--cache-dir", str(elsewhere)]).exit_code == 0
    assert (elsewhere / "cache.sqlite").is_file()
    shutil.rmtree(tmp_path / ".site.cache")
    assert runner.invoke(cli, ["build", "--data", str(good_data), "--out", str(out), "--no-cache"]).exit_code == 0
    assert not (tmp_path / ".site.cache").exists()


def _reads(monkeypatch) -> list[str]:
    """The record files the build cache reads to hash them, from now on."""
    import ndlld.build

    reads, real = [], ndlld.build._bytes_if_readable
    monkeypatch.setattr(ndlld.build, "_bytes_if_readable", lambda path: reads.append(path) or real(path))
    return reads


def test_an_unchanged_record_is_not_read_to_be_hashed(synthetic: Path, tmp_path: Path, monkeypatch):
    """Its inode, size and times are those noted at the last build, long enough before it."""
    import ndlld.build

    monkeypatch.setattr(ndlld.build, "RACY_NANOSECONDS", 0)  # the files were written just now
    with Cache(tmp_path / "cache") as cache:
        first = load_graph(synthetic, cache=cache)
    reads = _reads(monkeypatch)
    with Cache(tmp_path / "cache") as cache:
        again = load_graph(synthetic, cache=cache)
    assert reads == [] and cache.misses == 0
    assert again.triples == first.triples


def test_a_record_rewritten_with_the_same_size_and_time_is_read_again(synthetic: Path, tmp_path: Path, monkeypatch):
    """Its change time (which no program can set back) shows it."""
    import ndlld.build

    monkeypatch.setattr(ndlld.build, "RACY_NANOSECONDS", -(10**18))  # how recent a change is never matters here
    record = sorted((synthetic / "organizations").rglob("org-*.yaml"))[5]
    with Cache(tmp_path / "cache") as cache:
        load_graph(synthetic, cache=cache)
    before = record.stat()
    _edit(record, "\n  en: ", "\n  en: X")
    _edit(record, "# ", "#")  # one byte more, one less: the same size
    os.utime(record, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (record.stat().st_size, record.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    reads = _reads(monkeypatch)
    with Cache(tmp_path / "cache") as cache:
        graph = load_graph(synthetic, cache=cache)
    assert reads == [str(record)]
    assert any(t.object.value.startswith("X") for t in graph.triples)


def test_a_record_rewritten_unseen_shortly_before_a_build_is_noticed(synthetic: Path, tmp_path: Path, monkeypatch):
    """On a file system whose time stamps are coarse, a rewrite of the same size within
    one tick leaves every fact alike: a record changed shortly before the last build
    looked is therefore read and hashed again, however alike it looks."""
    import ndlld.build

    seen, real = {}, ndlld.build._facts
    monkeypatch.setattr(ndlld.build, "_facts", lambda path, info=None: seen.setdefault(path, real(path, info)))  # the first look, forever
    record = sorted((synthetic / "organizations").rglob("org-*.yaml"))[5]
    with Cache(tmp_path / "cache") as cache:
        load_graph(synthetic, cache=cache)
    _edit(record, "\n  en: ", "\n  en: X")
    _edit(record, "# ", "#")
    with Cache(tmp_path / "cache") as cache:
        graph = load_graph(synthetic, cache=cache)
    assert any(t.object.value.startswith("X") for t in graph.triples)


def _dump_chunks(cache: Path) -> set[bytes]:
    import sqlite3

    with sqlite3.connect(cache / "cache.sqlite") as db:
        return {key for (key,) in db.execute("SELECT key FROM entry WHERE kind = 'dump'")}


@pytest.mark.parametrize("beside", [False, True], ids=["in-process", "forked"])
def test_an_edit_makes_again_only_the_dump_chunks_it_changed(synthetic: Path, tmp_path: Path, monkeypatch, beside: bool):
    """The dumps' chunks stay in the cache from build to build, whichever process writes the dumps."""
    import ndlld.build
    import ndlld.dumps

    monkeypatch.setattr(ndlld.dumps, "CHUNK_EVERY", 4)
    if beside:
        monkeypatch.setattr(ndlld.build, "DUMPS_BESIDE_FROM", 0)
    cache = tmp_path / "cache"
    build(synthetic, tmp_path / "dist", cache_dir=cache)
    first = _dump_chunks(cache)
    _edit(sorted((synthetic / "organizations").rglob("org-*.yaml"))[7], "en: ", "en: Renamed ")
    build(synthetic, tmp_path / "dist", cache_dir=cache)
    second = _dump_chunks(cache)
    assert len(first) > 40 and 1 <= len(second - first) <= 4 and len(first - second) == len(second - first)
    build(synthetic, tmp_path / "dist", cache_dir=cache)
    assert _dump_chunks(cache) == second, "chunks taken from the cache were dropped from it"
    build(synthetic, tmp_path / "scratch")
    assert _snapshot(tmp_path / "dist") == _snapshot(tmp_path / "scratch")


def test_a_cache_file_with_small_pages_is_rewritten_once_with_large_ones(good_data: Path, tmp_path: Path):
    """Records' entries are megabytes: SQLite reads them faster from large pages."""
    import sqlite3

    from ndlld.cache import PAGE_SIZE

    cache = tmp_path / "cache"
    cache.mkdir()
    with sqlite3.connect(cache / "cache.sqlite") as db:  # as an older ndlld made it
        db.execute("PRAGMA page_size = 4096")
        db.execute("CREATE TABLE entry (kind TEXT, key BLOB, value BLOB, PRIMARY KEY (kind, key)) WITHOUT ROWID")
    first = validate(good_data, cache_dir=cache)
    with sqlite3.connect(cache / "cache.sqlite") as db:
        assert db.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
        entries = db.execute("SELECT count(*) FROM entry").fetchone()[0]
    assert entries > 0
    with Cache(cache) as warm:
        load_graph(good_data, cache=warm)
    assert warm.misses == 0
    assert [str(f) for f in validate(good_data, cache_dir=cache).findings] == [str(f) for f in first.findings]
    shutil.rmtree(cache)
    validate(good_data, cache_dir=cache)  # a new file has them from the start
    with sqlite3.connect(cache / "cache.sqlite") as db:
        assert db.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE


def _pages_looked_at(monkeypatch) -> list[str]:
    """The pages a build looks at, from now on: those whose digest it makes, and those it renders."""
    from ndlld.site.reuse import PageReuse

    made, digest = _pages_rendered(monkeypatch), PageReuse.digest
    monkeypatch.setattr(PageReuse, "digest", lambda self, document, reads: made.append(document) or digest(self, document, reads))
    return made


def test_an_edit_looks_only_at_the_pages_that_read_what_it_changed(synthetic: Path, tmp_path: Path, monkeypatch):
    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(synthetic, out, cache_dir=cache)
    record = sorted((synthetic / "organizations").rglob("org-*.yaml"))[7]
    _edit(record, "en: ", "en: Renamed ")
    made = _pages_looked_at(monkeypatch)
    build(synthetic, out, cache_dir=cache)
    pages = len(list((out / "id").glob("*.html")))
    assert "https://example.org/synth/id/" + record.stem in made
    assert 1 < len(made) < pages / 4, "the edited organization's page and those naming it; no other page is looked at"

    build(synthetic, tmp_path / "scratch")
    assert _snapshot(out) == _snapshot(tmp_path / "scratch")


def test_pages_are_all_looked_at_when_the_last_graph_is_not_the_one_they_were_made_from(synthetic: Path, tmp_path: Path, monkeypatch):
    """``ndlld validate`` between two builds reads the records with the same cache: the
    delta is then from its graph, not from the pages' one."""
    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(synthetic, out, cache_dir=cache)
    _edit(sorted((synthetic / "organizations").rglob("org-*.yaml"))[7], "en: ", "en: Renamed ")
    validate(synthetic, cache_dir=cache)
    _edit(sorted((synthetic / "organizations").rglob("org-*.yaml"))[9], "en: ", "en: Renamed ")
    made = _pages_looked_at(monkeypatch)
    build(synthetic, out, cache_dir=cache)
    assert len(made) >= len(list((out / "id").glob("*.html")))

    build(synthetic, tmp_path / "scratch")
    assert _snapshot(out) == _snapshot(tmp_path / "scratch")


def test_a_page_remade_while_following_the_delta_is_made_again_when_the_next_build_cannot_follow(
    synthetic: Path, tmp_path: Path, monkeypatch
):
    """Its digest was not made (it would have cost a second for a page listing 100,000
    organizations): a build that must compare digests renders it again."""
    from ndlld.site.reuse import UNKNOWN, PageState

    cache, out = tmp_path / "cache", tmp_path / "dist"
    records = sorted((synthetic / "organizations").rglob("org-*.yaml"))
    build(synthetic, out, cache_dir=cache)
    _edit(records[7], "en: ", "en: Renamed ")
    build(synthetic, out, cache_dir=cache)
    with Cache(cache) as kept:
        (state,) = kept.all("pages").values()
    iri = "https://example.org/synth/id/" + records[7].stem
    assert PageState.unpack(state).get(iri).digest == UNKNOWN

    _edit(records[9], "en: ", "en: Renamed ")
    validate(synthetic, cache_dir=cache)  # the next build's delta is from this graph: every page's digest is compared
    rendered = _pages_rendered(monkeypatch)
    build(synthetic, out, cache_dir=cache)
    assert iri in rendered and len(rendered) < len(list((out / "id").rglob("*.html"))) / 4

    build(synthetic, tmp_path / "scratch")
    assert _snapshot(out) == _snapshot(tmp_path / "scratch")


def test_validate_between_builds_keeps_what_the_build_made(synthetic: Path, tmp_path: Path, monkeypatch):
    """``ndlld validate`` uses the same cache, but neither pages nor dumps: it leaves their
    entries to the next build, which then makes no page again (it made them all once)."""
    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(synthetic, out, cache_dir=cache)
    validate(synthetic, cache_dir=cache)
    with Cache(cache) as kept:
        assert kept.all("pages") and kept.all("dump")
    rendered = _pages_rendered(monkeypatch)
    build(synthetic, out, cache_dir=cache)
    assert rendered == []


def _pages_rendered(monkeypatch) -> list[str]:
    """The pages a build renders, from now on."""
    from ndlld.site.reuse import PageReuse

    rendered, entry = [], PageReuse.entry
    monkeypatch.setattr(PageReuse, "entry", lambda self, document, reads: rendered.append(document) or entry(self, document, reads))
    return rendered


def test_the_page_state_reads_back_as_it_was_kept():
    from array import array

    from ndlld.site.reuse import Page, PageState

    state = PageState(b"g" * 32, table=["aold", "p1", "p2", "p3", "p4"])
    reads = {"https://example.org/id/a": [("about", "new"), ("about", "old")], "https://example.org/id/b#x": [("in_document", "b")]}
    for number, (document, read) in enumerate(reads.items()):
        state.pages[document] = Page(
            bytes([number]) * 20, bytes([9]) * 20, state.numbers(read), array("Q", [number, 5] * 5), array("q", [-7] * 5)
        )
    back = PageState.unpack(state.pack())
    assert back.graph == state.graph and back.rows.documents == sorted(reads)
    for document, read in reads.items():
        assert [back.lookup(n) for n in back.get(document).reads] == read
        assert back.get(document)._replace(reads=None) == state.pages[document]._replace(reads=None)
    assert back.table == ["anew", "aold", "ib"], "a lookup no page reads any more is dropped"
    assert isinstance(back.get("https://example.org/id/b#x").reads, array)


def test_a_page_state_keeps_the_rows_it_inherits_beside_the_pages_it_makes():
    """The next build's state: the pages kept, taken as rows of the last state, and those
    made again; and which pages read a lookup, found in the reads' bytes."""
    from array import array

    from ndlld.site.reuse import Page, PageState

    def page(number: int, reads) -> Page:
        return Page(
            bytes([number]) * 20, bytes([number + 100]) * 20, reads, array("Q", [number, number * 10] * 5), array("q", [-number] * 5)
        )

    first = PageState(b"1" * 32)
    documents = [f"https://example.org/id/p{n}" for n in range(6)]
    for n, document in enumerate(documents):
        first.pages[document] = page(
            n, first.numbers([("about", document), ("pointing_at", "https://example.org/id/shared")] * (n % 2) + [("about", f"x{n}")])
        )
    last = PageState.unpack(first.pack())
    shared = last.lookups_of(["https://example.org/id/shared"])
    assert {last.rows.documents[row] for row in last.rows.reading(shared)} == {documents[1], documents[3], documents[5]}
    assert last.rows.reading(last.lookups_of(["x4"])) == {4}

    following = last.successor(b"2" * 32)
    following.kept += [5, 0, 1, 3]  # in the order pages are met, not the rows'
    following.pages[documents[2]] = page(20, following.numbers([("in_document", "https://example.org/id/new")]))
    back = PageState.unpack(following.pack())
    assert back.graph == b"2" * 32 and sorted(back.rows.documents) == sorted(documents[n] for n in (0, 1, 2, 3, 5))
    for n in (0, 1, 3, 5):
        kept, was = back.get(documents[n]), first.pages[documents[n]]
        assert kept._replace(reads=None) == was._replace(reads=None)
        assert [back.lookup(r) for r in kept.reads] == [first.lookup(r) for r in was.reads]
    assert [back.lookup(r) for r in back.get(documents[2]).reads] == [("in_document", "https://example.org/id/new")]
    assert back.get(documents[4]) is None


def test_sitemaps_listing_the_same_pages_are_linked_not_rendered_again(synthetic: Path, tmp_path: Path, monkeypatch):
    import ndlld.site

    cache, out = tmp_path / "cache", tmp_path / "dist"
    build(synthetic, out, cache_dir=cache)
    rendered, write = [], ndlld.site._Writer.bytes
    monkeypatch.setattr(ndlld.site._Writer, "bytes", lambda self, path, content: rendered.append(path) or write(self, path, content))
    records = sorted((synthetic / "organizations").rglob("org-*.yaml"))
    _edit(records[3], "en: ", "en: Renamed ")
    build(synthetic, out, cache_dir=cache)
    assert "sitemap.xml" not in rendered and "index.html" in rendered

    (out / "sitemap.xml").write_text("changed by hand")  # the file the next build would link
    _edit(records[4], "en: ", "en: Renamed ")
    build(synthetic, out, cache_dir=cache)
    assert "sitemap.xml" in rendered
    rendered.clear()
    shutil.copy(records[4], records[4].with_name("org-999999.yaml"))
    _edit(records[4].with_name("org-999999.yaml"), f"id: {records[4].stem}", "id: org-999999")
    build(synthetic, out, cache_dir=cache)
    assert "sitemap.xml" in rendered, "a new page: a new sitemap"

    build(synthetic, tmp_path / "scratch")
    assert _snapshot(out) == _snapshot(tmp_path / "scratch")
