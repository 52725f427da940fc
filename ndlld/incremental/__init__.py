"""Incremental builds: the last build kept on disk, and what a change touches.

One idea: the state of the last build is kept in a store on disk
(:mod:`~ndlld.incremental.state`); a build reads only the record files that
changed since (:mod:`~ndlld.incremental.records`), sees the new graph as that
store and the delta (:mod:`~ndlld.incremental.overlay`), and makes again only what
the delta touches: the resources whose surroundings it reaches are checked again
(:mod:`~ndlld.incremental.findings`), the dump chunks holding a resource whose
statements changed are written again (:mod:`~ndlld.incremental.dumps`), the
pages that looked up something it changed are rendered again
(:mod:`~ndlld.incremental.pages`), and the search index's rows of those pages
written again (:mod:`~ndlld.incremental.search`). The stages know nothing of this:
each is given a smaller input.

When the state cannot say what changed (there is none yet; ndlld's code, shapes,
vocabulary or templates changed; ``dataset.yaml`` changed; the output is not the
one it describes; too many records changed, or one cannot be read), the build is
made from scratch and its state kept whole. A build that fails keeps nothing: the
state stays that of the last build that published.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import cache, cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING

from pyoxigraph import NamedNode, Triple

from ndlld import __version__
from ndlld.checks import Report, Rules
from ndlld.context import Context
from ndlld.dumps import CHUNK_EVERY, Chunk
from ndlld.graph import Graph, Part
from ndlld.incremental import dumps, findings, listing, pages, records
from ndlld.incremental.overlay import Overlay
from ndlld.incremental.records import Delta
from ndlld.incremental.state import State, change_subjects, note_subjects
from ndlld.lookup import Lookup, document_of
from ndlld.output import PublishedFiles, Writer
from ndlld.parallel import beside, in_thread
from ndlld.rdf import subject_value
from ndlld.resources import inverse_properties, resource_dir, schemaorg_path
from ndlld.sources import DATASET_FILE, record_files
from ndlld.store import VOCABULARY_GRAPH, dataset_graph

if TYPE_CHECKING:
    from ndlld.site import SiteView

# What placing the kept pages gives once done: their files by page (None: not read), and
# the pages edited by hand.
Placing = Callable[[], tuple[dict[str, list[str]] | None, set[str]]]
# More changed files than this share of all, and reading everything is no slower.
FROM_SCRATCH_SHARE = 0.2
_PACKAGE = Path(__file__).resolve().parent.parent


def fingerprint(*roots: Path) -> bytes:
    """A digest of every file under *roots*, by default ndlld's code and templates,
    ontology/, shapes/ and queries/ (the SPARQL page lists them): a state made by another
    ndlld is of no use."""
    digest = hashlib.sha256(f"ndlld {__version__}\n".encode())
    for root in roots or (_PACKAGE, resource_dir("ontology"), resource_dir("shapes"), resource_dir("queries")):
        for path in sorted(p for p in Path(root).rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            name = str(path.relative_to(root)).encode()
            digest.update(len(name).to_bytes(8, "big") + name + hashlib.sha256(path.read_bytes()).digest())
    return digest.digest()


def _digest(path: Path) -> bytes | None:
    try:
        return hashlib.sha256(path.read_bytes()).digest()
    except OSError:
        return None


def _usable(state: State, data_dir: Path, out_dir: Path | None) -> bool:
    """Whether the state is that of the output in *out_dir* (if given), made by this ndlld
    from the same dataset.yaml."""
    return (
        state.generation is not None
        and state.get("fingerprint") == fingerprint()
        and state.get("dataset") == _digest(data_dir / DATASET_FILE)
        and (out_dir is None or state.get("output") == _digest(out_dir / "SHA256SUMS"))
    )


def change(state: State, data_dir: Path, out_dir: Path | None, context: Context) -> Change | None:
    """What changed in the records since the state's build, as a :class:`Change`; None when
    the build is to be made from scratch. Reads the changed files and notes them in the
    state's open transaction."""
    if not _usable(state, data_dir, out_dir):
        return None
    base = state.text("base")
    inverses = json.loads(state.text("inverses"))
    files = record_files(data_dir)[1:]
    paths, notes = records.changed_files(state, files, time.time_ns())
    if len(paths) > FROM_SCRATCH_SHARE * max(len(files), 1):
        return None
    changes = records.read_changes(state, paths, base, context)
    if records.has_errors(changes):
        return None
    delta = records.apply(state, changes, notes, inverses)
    if records.broken_links(state, changes):
        return None
    graph_name = dataset_graph(base)
    overlay = Overlay(state.store, graph_name, state.db, delta.removed, delta.added)
    return Change(state, base, delta, overlay, graph_name, inverses)


@dataclass
class Change:
    """A build's change since the last: the files, the statements, and the new graph as a Lookup."""

    state: State
    base: str
    delta: Delta
    overlay: Overlay
    graph_name: NamedNode
    inverses: dict[str, str]

    def unchanged(self) -> bool:
        """Whether the output published is this build's already: no record file changed, and
        the search index is that output's (files edited by hand in the output aside, which
        only placing the kept pages sees)."""
        state = self.state
        return not self.delta.files and state.get("files") is not None and state.search.of_output(state.get("output"))

    def published_files(self, out_dir: Path) -> PublishedFiles:
        """The files of the output published in *out_dir*, as the last build counted them."""
        return PublishedFiles(out_dir, int(self.state.text("files")))

    def check(self, rules: Rules, context: Context) -> Report:
        """The report on the new graph, the documents the change touched checked again."""
        # Of the shapes, which the state's fingerprint holds: not read again.
        kept, alone = self.state.text("incoming"), self.state.text("alone")
        seen = findings.Seen(json.loads(kept) if kept else rules.incoming, json.loads(alone) if alone else None)
        self.checked = findings.documents_to_check(self.state, self.overlay, self.delta, seen.needs)
        return findings.recheck(self.state, self.overlay, self.checked, rules, seen, self.delta, context)

    def write(self, new: Path, previous: Path, vocabulary: list[Triple], context: Context, trusted: bool = False) -> list[str]:
        """The new output's dumps and pages in *new*: what the change touched made again, the
        rest taken from the published output *previous*; the names of the files written (those
        kept: :attr:`kept_files`). The site's companions follow (:meth:`write_companions`).
        *trusted*: *new* is the spare, the output *previous* replaced, and both are as their
        builds left them: no file is looked at."""
        touched = {subject_value(t) for t in self.delta.removed | self.delta.added}
        writer = self._writer = Writer(new, previous)
        writer.files({name: (previous / name).read_bytes() for name in ("ontology.ttl", "context.jsonld")})
        view = self._view = _view_of(self.overlay, vocabulary, self.base, context)
        # What every page's header shows is read from the graph: with the graph, it did not change.
        self.header = _header(view()) if touched else self.state.text("header")
        header_changed = self.header != self.state.text("header")
        self.documents_moved = self.documents_changed()
        appeared, gone = self._pages_changed(view()) if touched else (set(), set())
        again = self._pages_to_render(view, header_changed, appeared, gone)
        with self._place_kept(again | gone, new, previous, trusted) as placed:
            rewrite = dumps.remake(self.state, self.overlay, context, touched, previous, CHUNK_EVERY, self.base)
            # Written while the pages are made: copying, deflating and hashing, the dumps' work lets go of the GIL.
            with in_thread(partial(dumps.splice, rewrite, previous, new)) as spliced:
                self._write_pages(view, again, gone, placed)
        written, self.layouts = spliced()
        self._previous = previous
        return [str(p.relative_to(new)) for p in written] + writer.written

    def _write_pages(self, view: Callable[[], SiteView], again: set[str], gone: set[str], placed: Placing) -> None:
        """The pages of *again* made and those *gone* removed, once the others are *placed*;
        their rows in the search index changed."""
        kept, edited = placed()
        again |= edited
        self.pages: dict = self._render(view(), again, gone, self._writer) if again or gone else {}
        skipped = again | gone | set(self.pages)
        self.kept_files: Collection[str] = (
            pages.KeptFiles(self.state, skipped)
            if kept is None
            else [name for document, files in kept.items() if document not in skipped for name in files]
        )
        self.files_changed = pages.files_changed_by(self.state, self.pages)
        pages.remove_files(self._writer.out_dir, self.files_changed[1])
        self._index_for_search(view)

    @contextmanager
    def _place_kept(self, skipped: set[str], new: Path, previous: Path, trusted: bool) -> Iterator[Placing]:
        """The pages kept (all but *skipped*) placed in *new* while the block runs; yields a
        function that returns their files by page (None, with the output trusted: not read),
        and the pages edited by hand (to render again)."""
        changed = pages.files_changed(self.state) if trusted else None
        if changed is not None:  # the spare made the published output by the last build's changes
            pages.catch_up(new, previous, *changed)
            yield lambda: (None, set())
            return
        with _placing(pages.noted_files(self.state, skipped), new, previous) as placed:
            yield lambda: _kept_and_edited(placed())

    def write_companions(self, vocabulary: list[Triple]) -> list[str]:
        """The site's companions, once :meth:`write` has written the pages: the names of
        their files, those made again and those kept."""
        writer = self._writer
        before = len(writer.written)
        header_changed = self.header != self.state.text("header")  # the state's is the last build's until commit()
        kept = self._companions(self._view, vocabulary, writer, self._previous, header_changed)
        return kept + writer.written[before:]

    def _render(self, view: SiteView, again: set[str], gone: set[str], writer: Writer) -> dict:
        """The pages of *again* made with *writer*, and those *gone* (None); the publisher's
        too, which lists what the others give it, when one of them gives it other ones."""
        from ndlld.site import Entry, render_pages

        self.overlay.use_kept(pages.kept_answers(self.state, again))
        self.overlay.use_kept_after(pages.kept_after(self.state, again, self.touched_rows))
        publisher = view.publisher
        made: dict = dict(render_pages(view, sorted(again - {publisher}), writer))
        made.update(dict.fromkeys(gone))
        before = {document: Entry.from_json(entry) for document, entry in pages.entries(self.state, made).items()}
        kept = publisher is not None and publisher not in again | gone and pages.published(self.state, publisher)
        other = kept and listing.change_publishers_page(self.state, before, made)
        listing.change(self.state, made)
        if publisher is not None and (publisher in again or other):
            # What the others give it, as kept: their rows now those of the pages made.
            given = listing.given_entries(self.state)
            published = render_pages(view, [publisher], writer, entries=given)
            listing.change(self.state, published)
            listing.publishers_page_made(self.state, {**given, publisher: published[publisher].entry})
            made.update(published)
        return made

    def _index_for_search(self, view: Callable[[], SiteView]) -> None:
        """The search index's rows of the pages made again or gone (none, and no site code
        loaded, when no page was); all of them when the kept index is not that of the last output."""
        kept = self.state.search
        if kept.of_output(self.state.get("output")):
            kept.change({document: page.searched if page is not None else None for document, page in self.pages.items()})
            return
        from ndlld.site.search import search_entry

        shown = view()
        kept.write_all(filter(None, (search_entry(shown, document) for document in sorted(shown.documents()))), self.base)

    def _companions(
        self, view: Callable[[], SiteView], vocabulary: list[Triple], writer: Writer, previous: Path, header_changed: bool
    ) -> list[str]:
        """The site's companions made again with *writer*, by group (:data:`ndlld.site.COMPANIONS`),
        when what the group is made of changed, else kept as published (but a group with a
        file edited by hand): the names of the files kept. The index is made of what the
        pages give it as the state keeps it (:mod:`ndlld.incremental.listing`)."""
        changed = {
            "graph": header_changed or bool(self.delta.removed or self.delta.added),  # the index and VoID
            "documents": header_changed or self.documents_moved,  # the sitemaps
            "header": header_changed,  # the rest
        }
        noted = pages.kept_companions(self.state) or {}
        kept = {group: files for group, files in noted.items() if not changed.get(group, True)}
        edited = pages.place_kept(writer.out_dir, previous, kept)
        kept = {group: files for group, files in kept.items() if group not in edited}
        self.companions = {group: list(files) for group, files in kept.items()}
        again = [group for group in changed if group not in kept]
        if again:
            from ndlld.site import render_companions

            made = render_companions(view(), vocabulary, writer, self.triples(), listing.KeptListing(self.state), again)
            self.companions.update(made)
        return [name for files in kept.values() for name in files]

    def _pages_to_render(self, view: Callable[[], SiteView], header_changed: bool, appeared: set[str], gone: set[str]) -> set[str]:
        """The pages to render again: all, when what every page shows changed."""
        self.reranked: dict[str, set] = {}
        self.touched_rows: dict[str, set[str]] = {}
        if header_changed:
            return set(view().documents())
        reads = pages.touched_reads(self.delta.removed, self.delta.added, self.documents_moved)
        again = (pages.pages_reading(self.state, reads) - gone) | appeared
        # A list cut short is made again only when a row not shown may now sort among those shown.
        self.touched_rows = pages.ranked_rows(self.state, reads, gone)
        rows = {document: found for document, found in self.touched_rows.items() if document not in again}
        if rows:
            moved, self.reranked = pages.rows_moved(self.state, view(), rows)
            again |= moved
        return again

    def _pages_changed(self, view: SiteView) -> tuple[set[str], set[str]]:
        """The pages that appear, and those that go, with the change."""
        touched = {document_of(subject_value(t)) for t in self.delta.removed | self.delta.added}
        appeared: set[str] = set()
        gone: set[str] = set()
        for document in filter(view.has_page, touched):
            present = bool(self.overlay.subjects_of(document))
            if present != pages.published(self.state, document):
                (appeared if present else gone).add(document)
        return appeared, gone

    def documents_changed(self) -> bool:
        """Whether a document appeared or went."""
        touched = {document_of(subject_value(t)) for t in self.delta.removed | self.delta.added}
        known = {d for d in touched if self.state.db.execute("SELECT 1 FROM subjects WHERE document = ?", (d,)).fetchone()}
        return any(bool(self.overlay.subjects_of(d)) != (d in known) for d in touched)

    def commit(self, report: Report, out_dir: Path) -> None:
        """The state of this build, once published in *out_dir*: the tables and the graph
        store follow the delta (the transaction is committed by the caller); the search
        index is committed first, as soon as the output is published."""
        self.state.search.publish(out_dir)
        subjects = {subject_value(t) for t in self.delta.removed | self.delta.added}
        gone = {s for s in subjects if not self.overlay.about(s)}
        change_subjects(self.state, gone, subjects - gone)
        findings.keep_findings(self.state, report, self.base, self.checked)
        dumps.keep_layout(self.state, self.layouts)
        pages.note_files_changed(self.state, *self.files_changed)
        pages.note_page_files(self.state, len(self.kept_files) + sum(len(page.files) for page in self.pages.values() if page is not None))
        pages.keep_pages(self.state, out_dir, self.pages, self.overlay)
        pages.keep_ranked(self.state, {d: r for d, r in self.reranked.items() if d not in self.pages}, self.overlay)
        pages.keep_answers(self.state, self.overlay, self.overlay.changed_stated, self.delta.removed, self.delta.added)
        pages.note_companions(self.state, out_dir, self.companions)
        self.state.put("entities", self.entities())
        self.state.put("triples", self.triples())
        self.state.put("header", self.header)
        self.state.put("output", _digest(out_dir / "SHA256SUMS"))
        self.state.change_graph(self.delta.removed, self.delta.added, self.graph_name)

    @cached_property
    def _counts(self) -> tuple[int, int]:
        """How many entities and statements the new graph has (the state's, before and after :meth:`commit`)."""
        nodes = sum(len(c.after.nodes) if c.after else 0 for c in self.delta.files) - sum(
            len(c.before.nodes) if c.before else 0 for c in self.delta.files
        )
        triples = len(self.delta.added) - len(self.delta.removed)
        return int(self.state.text("entities")) + nodes, int(self.state.text("triples")) + triples

    def triples(self) -> int:
        return self._counts[1]

    def entities(self) -> int:
        return self._counts[0]

    def version_and_time(self) -> tuple[str | None, str | None]:
        return self.state.text("version") or None, self.state.text("released") or None


@contextmanager
def _placing(noted: list[tuple[str, str]], new: Path, previous: Path) -> Iterator[Callable[[], list[pages.Placed]]]:
    """The kept pages of *noted* placed in *new* by a process a core while the block runs:
    they stat every file of every page kept, the largest part of an edit at scale beside the
    dumps. Yields a function that returns each process's :class:`pages.Placed` once it is done."""
    parts = os.cpu_count() or 1
    with ExitStack() as running:
        answers = [
            running.enter_context(beside(pages.place_kept_pages, pages.KeptPages(noted[i::parts], new, previous), collect=False))
            for i in range(parts)
        ]
        yield lambda: [answer() for answer in answers]


def _kept_and_edited(parts: list[pages.Placed]) -> tuple[dict[str, list[str]], set[str]]:
    return {document: files for part in parts for document, files in part.files.items()}, {d for part in parts for d in part.edited}


def _view_of(lookup: Overlay, vocabulary: list[Triple], base: str, context: Context) -> Callable[[], SiteView]:
    """The new graph as the pages show it, made on first use: a build that makes no page
    does not load the site's code."""

    @cache
    def view() -> SiteView:
        from ndlld.site import SiteView

        return SiteView(lookup, vocabulary, base, context)

    return view


def _header(view: SiteView) -> str:
    """What every page's header and footer show, as the state keeps it."""
    from ndlld.site import site_header

    return json.dumps(site_header(view), sort_keys=True, default=str)


def note_output(state: State, files: int) -> None:
    """How many files the output holds, but its release's (:class:`PublishedFiles`): a
    build that writes nothing says so without listing them."""
    state.put("files", files)


def start_anew(state: State, parts: list[Part], noted: dict[str, tuple[bytes | None, bytes]]) -> None:
    """The state emptied for a build from scratch, and what each record file made of the
    graph (*parts*) kept in it, with what the file was before it was read (*noted*, of
    :func:`look_at_records`): as soon as the records are read, so that the build lets the
    parts go (each file's statements as N-Triples) before it forks the processes of the
    checks, dumps and pages, which would otherwise all map them. A build that fails rolls
    it back with the rest (:meth:`State.writing`). The inverse properties the files'
    statements are mirrored by are kept with them, for the next build's."""
    state.clear()
    inverses = inverse_properties(schemaorg_path())
    records.note_all(state, parts, noted, inverses)
    state.put("inverses", json.dumps(inverses))


def keeping(state: State, out_dir: Path, base: str) -> pages.PagesKept:
    """What keeps the pages of a build from scratch of the dataset at *base* as they are
    made into *out_dir* (:class:`pages.PagesKept`, the *keep* of
    :func:`ndlld.site.render_site`), in the state :func:`start_anew` emptied."""
    return pages.PagesKept(state, out_dir, base)


def look_at_records(data_dir: Path) -> dict[str, tuple[bytes | None, bytes]]:
    """What a build from scratch keeps of each record file (:func:`remember`), taken before
    it reads them: a record edited while the build runs then differs from its note, and the
    next build reads it again."""
    return records.noted_now(record_files(data_dir)[1:], time.time_ns())


def remember(
    kept: pages.PagesKept,
    data_dir: Path,
    out_dir: Path,
    graph: Graph,
    report: Report,
    layout: dict[str, list[Chunk]],
    companions: dict[str, list[str]],
    lookup: Lookup,
    vocabulary: list[Triple],
    context: Context,
) -> None:
    """Keep the rest of the state of a build made from scratch, whose pages were *kept* as
    they were made, once published in *out_dir*; the search index written by
    :func:`index_for_search` committed first, the record files kept by :func:`start_anew`.
    *lookup* is the graph's, as the pages read it."""
    from ndlld.checks import project_rules
    from ndlld.releases import release_of
    from ndlld.site import SiteView

    state, rules = kept.state, project_rules()
    state.search.publish(out_dir)
    files = record_files(data_dir)
    note_subjects(state, {subject_value(t) for t in graph.triples})
    findings.keep_findings(state, report, graph.base)
    dumps.keep_layout(state, layout)
    kept.finish(lookup)
    pages.note_files_changed(state, [], [])  # its spare is a copy of its own output
    pages.note_companions(state, out_dir, companions)
    version, released = release_of(graph)
    view = SiteView(lookup, vocabulary, graph.base, context)
    for key, value in {
        "fingerprint": fingerprint(),
        "dataset": _digest(data_dir / DATASET_FILE),
        "dataset_path": files[0][0],
        "base": graph.base,
        "incoming": json.dumps(rules.incoming),
        "alone": json.dumps(rules.alone),
        "entities": len(graph.nodes),
        "triples": len(graph),
        "version": version or "",
        "released": released or "",
        "header": _header(view),
        "output": _digest(out_dir / "SHA256SUMS"),
    }.items():
        state.put(key, value)
    state.load_graph(graph.triples, dataset_graph(graph.base), vocabulary, VOCABULARY_GRAPH)


def index_for_search(kept: pages.PagesKept) -> None:
    """The search index of a build from scratch, written as the pages were *kept*, made
    whole; committed by :func:`remember` once the output is published."""
    kept.state.search.finish_all()
