"""The pages of an incremental build: only those that looked up something a change touched are made again.

While a page is rendered, its view notes every question it asks of the graph
(:class:`ndlld.lookup.Recording`); the state keeps those reads, by page. A change
answers some questions differently: ``about`` a subject whose statements came or
went, ``in_document`` of its document, ``pointing_at`` an object that gained or
lost one, and ``documents`` when a page appeared or went. The pages that asked
one of those are rendered again; every other page's files are kept as published,
once the file system shows they are (inode, size, time), else linked from the
published output, else rendered again too. The publisher's page lists the
involvements the other pages give it (their :class:`ndlld.site.Entry`, kept):
it is rendered again too when those pages give other ones among the first it shows, or
not as many (:func:`ndlld.incremental.listing.change_publishers_page`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from pyoxigraph import NamedNode, Triple

from ndlld.incremental import listing
from ndlld.incremental.state import READ_INDEXES, State, forget_pointers, keep_pointers, keeps_pointers, ntriples, to_json
from ndlld.lookup import KeptAfter, Lookup, Read, document_of, ranked, resource_read, row_who, sorted_by, unranked
from ndlld.output import hard_link
from ndlld.rdf import subject_value

if TYPE_CHECKING:
    from ndlld.site import Written


def touched_reads(removed: Iterable[Triple], added: Iterable[Triple], documents_changed: bool) -> set[Read]:
    """The questions a change answers differently."""
    reads: set[Read] = {("documents", "")} if documents_changed else set()
    for triple in [*removed, *added]:
        subject = subject_value(triple)
        reads.update({("about", subject), ("stated", f"{subject} {triple.predicate.value}"), ("in_document", document_of(subject))})
        if isinstance(triple.object, NamedNode):
            reads.add(("pointing_at", triple.object.value))
    return reads


def pages_reading(state: State, reads: set[Read]) -> set[str]:
    """The pages that asked one of *reads* when they were made."""
    found: set[str] = set()
    for kind, key in reads:
        rows = state.db.execute(
            "SELECT document FROM reads JOIN lookups ON reads.lookup = lookups.id WHERE lookups.kind = ? AND lookups.key = ?", (kind, key)
        )
        found.update(document for (document,) in rows)
    return found


def ranked_rows(state: State, reads: set[Read], skip: set[str]) -> dict[str, set[str]]:
    """The rows of lists cut short whose keys read one of *reads* (:func:`ndlld.lookup.ranked`),
    by page, but for the pages of *skip*: those whose ranked reads hold one, and those that
    are the resource one reads (:func:`ndlld.lookup.resource_read`) or a hash resource of it."""
    found: dict[str, set[str]] = {}
    for kind, key in reads:
        rows = state.db.execute(
            "SELECT document, row FROM lookups JOIN ranked ON ranked.lookup = lookups.id WHERE lookups.kind = ? AND lookups.key = ?",
            (kind, key),
        )
        _add_rows(found, rows, skip)
    for who in {resource_read(kind, key) for kind, key in reads} - {None}:
        # Its hash resources' IRIs sort between its own followed by '#' and by the character after it.
        rows = state.db.execute("SELECT document, row FROM row_keys WHERE who = ? OR who > ? AND who < ?", (who, f"{who}#", f"{who}$"))
        _add_rows(found, rows, skip)
    return found


def _add_rows(found: dict[str, set[str]], rows: Iterable[tuple[str, str]], skip: set[str]) -> None:
    for document, row in rows:
        if document not in skip:
            found.setdefault(document, set()).add(row)


def rows_moved(state: State, view, rows: dict[str, set[str]]) -> tuple[set[str], dict[str, set[Read]]]:
    """Of the pages of *rows* (:func:`ranked_rows`), those to make again, where a row may now
    sort among the rows shown (*view*, a :class:`ndlld.site.view.SiteView` of the new graph,
    says); and for each of the others, what the keys of its rows read now and the keys, as
    ``ranked`` and ``sorted`` reads."""
    again: set[str] = set()
    kept: dict[str, set[Read]] = {}
    for document, of_page in sorted(rows.items()):
        last = _cuts(state, document)
        reread: set[Read] = set()
        for row in sorted(of_page):
            with view.graph.apart() as found:
                key = view.row_key(row)
            if key <= last[row.rsplit(" ", 1)[0]]:  # a key equal to the last shown may sort either side
                again.add(document)
                break
            reread.update([*ranked(found, row), sorted_by(row, key)])
        else:
            kept[document] = reread
    return again, kept


def kept_after(state: State, documents: Iterable[str], moved: dict[str, set[str]]) -> dict[str, KeptAfter]:
    """Of the lists cut short on the pages of *documents*, by cut, the rows not shown that
    a change did not touch (*moved*: by page, the rows of :func:`ranked_rows`): they still
    sort after the last row shown, so the page need not sort them again."""
    found: dict[str, KeptAfter] = {}
    for document in documents:
        touched = moved.get(document, set())
        for name, last in _cuts(state, document).items():
            rows = dict(
                state.db.execute("SELECT who, key FROM row_keys WHERE document = ? AND row >= ? AND row < ?", _rows_of_list(document, name))
            )
            gone = {row_who(row) for row in touched if row.startswith(name + " ") and row_who(row) in rows}
            for who in gone:
                del rows[who]
            found[f"{name} {document}"] = KeptAfter(last, rows, frozenset(gone))
    return found


def _cuts(state: State, document: str) -> dict[str, str]:
    """The key of the last row shown of each list cut short on *document*'s page, by ``"list language"``."""
    rows = state.db.execute(
        "SELECT key FROM reads JOIN lookups ON reads.lookup = lookups.id WHERE reads.document = ? AND lookups.kind = 'cut'", (document,)
    )
    found = {}
    for (key,) in rows:
        head, _, last = key.partition("\n")
        found[head.rsplit(" ", 1)[0]] = last
    return found


def keep_ranked(state: State, reads: dict[str, set[Read]], lookup: Lookup) -> None:
    """Make what the keys of each kept page's rows not shown read (of :func:`rows_moved`)
    what they read now."""
    for document, found in reads.items():
        _, by_row, keys, *_ = _split(found)
        _forget_rows(state, document, keys)  # every row has a key; one whose reads are all implied has no ranked read
        _note_ranked(state, document, by_row, keys, lookup)


def keep_pages(state: State, out_dir: Path, written: dict, lookup: Lookup) -> None:
    """Note each page's files (as they lie in *out_dir*) and what it read (each a
    :class:`ndlld.site.Written`); None: the page is gone. *lookup* is the new graph,
    which answers the ``stated`` reads kept."""
    for document, page in written.items():
        before = state.db.execute("SELECT reads FROM pages WHERE document = ?", (document,)).fetchone()
        state.db.execute("DELETE FROM pages WHERE document = ?", (document,))
        reads = tuple(page.reads) if page is not None else ()  # unpacked once, sorted
        digest = _reads_digest(reads) if page is not None else None
        if before is None or before[0] != digest:  # a page made again mostly reads what it read before
            _change_reads(state, document, set(reads), lookup)
        if page is not None and digest is not None:
            _note_page(state, out_dir, document, page, digest)


def _change_reads(state: State, document: str, reads: set[Read], lookup: Lookup) -> None:
    """The rows of what *document* read made those of *reads*: only the rows that differ
    are written, as a page made again mostly reads what it read before. Of its lists cut
    short, those it kept (``("kept", list)``) keep what their rows' keys read, untouched,
    but for the rows it did not keep (``("unkept", row)``); the others' rows are forgotten."""
    plain, by_row, keys, kept, unkept = _split(reads)
    cut_before = _cuts(state, document)  # the lists that had rows not shown
    # As sets, compared in C: the page every record cites reads tens of thousands of times.
    noted = set(
        state.db.execute("SELECT kind, key FROM reads JOIN lookups ON reads.lookup = lookups.id WHERE reads.document = ?", (document,))
    )
    state.db.executemany(
        "DELETE FROM reads WHERE document = ? AND lookup = (SELECT id FROM lookups WHERE kind = ? AND key = ?)",
        ((document, kind, key) for kind, key in noted - plain),
    )
    _note_reads(state, document, plain - noted, lookup)
    for name in cut_before.keys() - kept:
        _forget_list(state, document, name)
    _forget_rows(state, document, unkept)
    _note_ranked(state, document, by_row, keys, lookup)


def _split(reads: Iterable[Read]) -> tuple[set[Read], dict[str, set[Read]], dict[str, str], set[str], set[str]]:
    """A page's *reads* as the state keeps them: those of the page; of each row of a list not
    shown, what its key read (``ranked`` reads) and the key (``sorted``); the lists kept
    (``kept``) and the rows of them not kept (``unkept``)."""
    plain: set[Read] = set()
    by_row: dict[str, set[Read]] = defaultdict(set)
    keys: dict[str, str] = {}
    kept: set[str] = set()
    unkept: set[str] = set()
    for kind, key in reads:
        if kind == "ranked":
            read, row = unranked(key)
            by_row[row].add(read)
        elif kind == "sorted":
            row, _, keys[row] = key.partition("\n")
        elif kind == "kept":
            kept.add(key)
        elif kind == "unkept":
            unkept.add(key)
        else:
            plain.add((kind, key))
    return plain, by_row, keys, kept, unkept


def _forget_rows(state: State, document: str, rows: Iterable[str]) -> None:
    """Forget what the keys of *rows* of *document*'s lists read, and the keys."""
    pairs = [(document, row) for row in rows]
    state.db.executemany("DELETE FROM ranked WHERE document = ? AND row = ?", pairs)
    state.db.executemany("DELETE FROM row_keys WHERE document = ? AND row = ?", pairs)


def _forget_list(state: State, document: str, name: str) -> None:
    """Forget what the keys of every row of *document*'s list *name* read, and the keys."""
    rows = _rows_of_list(document, name)
    state.db.execute("DELETE FROM ranked WHERE document = ? AND row >= ? AND row < ?", rows)
    state.db.execute("DELETE FROM row_keys WHERE document = ? AND row >= ? AND row < ?", rows)


def _rows_of_list(document: str, name: str) -> tuple[str, str, str]:
    """The range of the ``ranked`` and ``row_keys`` keys of the rows of *document*'s list *name*
    (``"list language"``): each row is ``"list language who"``, and "!" follows " "."""
    return document, name + " ", name + "!"


def _note_lookups(state: State, reads: Collection[Read], lookup: Lookup) -> None:
    """Number the *reads* not numbered yet, with *lookup*'s answers to those that keep theirs.
    A read numbered already keeps its answer: the same in the new graph, or made so by
    :func:`keep_answers`."""
    answers = answers_kept(lookup, reads)
    for obj in _pointing(answers):
        if not state.db.execute("SELECT 1 FROM lookups WHERE kind = 'pointing_at' AND key = ?", (obj,)).fetchone():
            keep_pointers(state.db, obj, lookup.pointers(obj))
    state.db.executemany(
        "INSERT OR IGNORE INTO lookups (kind, key, answer) VALUES (?, ?, ?)", ((*read, answers.get(read)) for read in reads)
    )


def _note_page(state: State, out_dir: Path, document: str, page, digest: bytes) -> None:
    facts = {name: _facts_row(f"{out_dir}/{name}") for name in page.files}
    state.db.execute("INSERT INTO pages VALUES (?, ?, ?, ?)", (document, to_json(facts), to_json(page.entry.to_json()), digest))


def _note_reads(state: State, document: str, reads: Collection[Read], lookup: Lookup) -> None:
    _note_lookups(state, reads, lookup)
    state.db.executemany(
        "INSERT OR IGNORE INTO reads SELECT ?, id FROM lookups WHERE kind = ? AND key = ?", ((document, k, v) for k, v in reads)
    )


def _note_ranked(state: State, document: str, by_row: Mapping[str, Iterable[Read]], keys: Mapping[str, str], lookup: Lookup) -> None:
    """Note what sorting each row of *by_row* read, of a list on *document*'s page, and its key (*keys*)."""
    reads = {read for found in by_row.values() for read in found}
    _note_lookups(state, reads, lookup)
    state.db.executemany(
        "INSERT OR IGNORE INTO ranked SELECT ?, ?, id FROM lookups WHERE kind = ? AND key = ?",
        ((document, row, kind, key) for row, found in by_row.items() for kind, key in found),
    )
    state.db.executemany("INSERT OR REPLACE INTO row_keys VALUES (?, ?, ?, ?)", _row_keys(document, keys))


def _row_keys(document: str, keys: Mapping[str, str]) -> Iterator[tuple[str, str, str, str]]:
    """The ``row_keys`` rows of *keys*, each row's key by row, of *document*'s lists."""
    return ((document, row, key, row_who(row)) for row, key in sorted(keys.items()))


class PagesKept:
    """The pages of a build from scratch kept into an emptied state as each part of them is
    made (the *keep* of :func:`ndlld.site.render_site`), so that the build never holds them
    all: each page's files (as they lie in *out_dir*, whose renaming into place keeps their
    inode, size and time), its entry's rows (:mod:`ndlld.incremental.listing`), its reads, and
    its rows of the search index (committed by :func:`ndlld.incremental.remember`).

    The reads wait in a table of their own and are numbered once all are in, by SQLite,
    whose sorts spill to disk rather than to memory; the indexes on them are made last
    (row by row, they would be written all over a table of millions)."""

    def __init__(self, state: State, out_dir: Path, base: str):
        self.state, self.out_dir = state, out_dir
        self.files = 0  # of every page, for note_page_files
        state.search.start_all(base)  # what each page gives the search index, written as it comes
        for name in READ_INDEXES:
            state.db.execute(f"DROP INDEX IF EXISTS {name}")
        state.db.execute("CREATE TEMP TABLE made (document TEXT, row TEXT, kind TEXT, key TEXT)")  # row: of a ranked read

    def __call__(self, part: Mapping[str, Written]) -> None:
        for document, page in part.items():
            reads = tuple(page.reads)  # unpacked once
            plain, by_row, keys, *_ = _split(reads)  # no row is kept from a build before
            self.state.db.executemany("INSERT INTO row_keys VALUES (?, ?, ?, ?)", _row_keys(document, keys))
            self.state.db.executemany("INSERT INTO temp.made VALUES (?, NULL, ?, ?)", ((document, kind, key) for kind, key in plain))
            self.state.db.executemany(
                "INSERT INTO temp.made VALUES (?, ?, ?, ?)", ((document, row, *read) for row, found in by_row.items() for read in found)
            )
            _note_page(self.state, self.out_dir, document, page, _reads_digest(reads))
            self.files += len(page.files)
        listing.keep_all(self.state, {document: page.entry for document, page in part.items()})
        self.state.search.add(page.searched for page in part.values() if page.searched is not None)

    def finish(self, lookup: Lookup) -> None:
        """Number the reads, with *lookup*'s answers to those that keep theirs (:func:`answers_kept`), and index them."""
        db = self.state.db
        distinct = db.execute("SELECT DISTINCT kind, key FROM temp.made ORDER BY kind, key")
        while batch := distinct.fetchmany(10_000):
            answers = answers_kept(lookup, batch)
            for obj in _pointing(answers):  # the state was emptied: none is numbered yet
                keep_pointers(db, obj, lookup.pointers(obj))
            db.executemany("INSERT INTO lookups (kind, key, answer) VALUES (?, ?, ?)", ((*read, answers.get(read)) for read in batch))
        db.execute(READ_INDEXES["lookups_by_read"])
        db.execute(
            "INSERT OR IGNORE INTO reads SELECT made.document, lookups.id FROM temp.made AS made"
            " JOIN lookups ON lookups.kind = made.kind AND lookups.key = made.key WHERE made.row IS NULL ORDER BY made.document, lookups.id"
        )
        db.execute(
            "INSERT OR IGNORE INTO ranked SELECT made.document, made.row, lookups.id FROM temp.made AS made"
            " JOIN lookups ON lookups.kind = made.kind AND lookups.key = made.key WHERE made.row IS NOT NULL"
            " ORDER BY made.document, made.row, lookups.id"
        )
        db.execute("DROP TABLE temp.made")
        db.execute(READ_INDEXES["reads_by_lookup"])
        db.execute(READ_INDEXES["ranked_by_lookup"])
        db.execute(READ_INDEXES["row_keys_by_who"])
        note_page_files(self.state, self.files)


# A ``pointing_at`` read keeps its answer when it has at least so many statements: the page of
# the source every record cites reads its hundreds of thousands back in a fraction of the time
# the graph store takes to give them one by one (bench/history.md).
KEPT_POINTING_FROM = 1_000


def answers_kept(lookup: Lookup, reads: Iterable[Read]) -> dict[Read, str]:
    """*lookup*'s answers, as N-Triples, to those of *reads* that keep theirs: each ``stated``
    one (``"subject predicate"``; a page that names thousands of resources reads their names
    back at once), all written at once, then cut back into answers (one line a statement);
    and each ``pointing_at`` one of :data:`KEPT_POINTING_FROM` statements or more, whose
    answer is ``""`` here: who points is kept as rows (:func:`~ndlld.incremental.state.keep_pointers`)."""
    found: dict[Read, Sequence[Triple]] = {}
    pointing = []
    for kind, key in reads:
        if kind == "stated":
            found[(kind, key)] = lookup.stated(*key.split(" ", 1))
        elif kind == "pointing_at" and len(lookup.pointing_at(key)) >= KEPT_POINTING_FROM:
            pointing.append((kind, key))
    lines = iter(ntriples([t for answer in found.values() for t in answer]).split("\n"))
    answers = {read: "\n".join(next(lines) for _ in answer) for read, answer in found.items()}
    return answers | dict.fromkeys(pointing, "")


def _pointing(answers: Mapping[Read, str]) -> list[str]:
    """The objects of the ``pointing_at`` reads of *answers*: who points at each is kept as rows."""
    return [key for kind, key in answers if kind == "pointing_at"]


def keep_answers(state: State, lookup: Lookup, stated: Iterable[str], removed: Collection[Triple], added: Collection[Triple]) -> None:
    """The kept answers that a change (the statements *removed* and *added*) answers
    differently, made those of *lookup* (the new graph): of the ``stated`` reads *stated*,
    and of the ``pointing_at`` reads of the objects it changed that keep theirs (however
    long they are now: one kept stays kept), row by row."""
    answers = answers_kept(lookup, [("stated", key) for key in stated])
    state.db.executemany("UPDATE lookups SET answer = ? WHERE kind = ? AND key = ?", ((text, *read) for read, text in answers.items()))
    objects = {t.object.value for t in chain(removed, added) if isinstance(t.object, NamedNode)}
    kept = {obj for obj in objects if keeps_pointers(state.db, obj)}
    for triples, change in ((removed, forget_pointers), (added, keep_pointers)):
        by_object: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for t in triples:
            if isinstance(t.object, NamedNode) and t.object.value in kept:
                by_object[t.object.value].append((subject_value(t), t.predicate.value))
        for obj, pointers in by_object.items():
            change(state.db, obj, pointers)


def kept_answers(state: State, documents: Iterable[str]) -> dict[str, str]:
    """The kept answers (N-Triples) of the ``stated`` reads of the pages of *documents*
    (not those of the rows of a list not shown: :func:`kept_after` spares reading them)."""
    found: dict[str, str] = {}
    for document in documents:
        rows = state.db.execute(
            "SELECT key, answer FROM reads CROSS JOIN lookups ON reads.lookup = lookups.id WHERE reads.document = ? AND lookups.kind = 'stated'",
            (document,),
        )
        found.update(rows)
    return found


def _reads_digest(reads: Sequence[Read]) -> bytes:
    """A digest of a page's *reads*, sorted (as :class:`ndlld.lookup.Reads` gives them back):
    no kind of read begins another, so the lines sort as the pairs do."""
    return hashlib.blake2b("\n".join(map(" ".join, reads)).encode(), digest_size=16).digest()


def kept_companions(state: State) -> dict[str, dict[str, list[int] | None]] | None:
    """The files of each group of the site's companions (the index, the sitemaps, VoID …,
    :data:`ndlld.site.COMPANIONS`) with their facts as published; None when they were not noted."""
    kept = state.text("companions")
    return json.loads(kept) if kept else None


def note_companions(state: State, out_dir: Path, groups: dict[str, list[str]]) -> None:
    """Keep the files of each group of companions as they lie in *out_dir*."""
    state.put("companions", to_json({group: {name: _facts_row(f"{out_dir}/{name}") for name in files} for group, files in groups.items()}))


def entries(state: State, documents: Iterable[str]) -> dict[str, list]:
    """What each published page of *documents* gives the index, as kept (JSON)."""
    rows = {document: state.db.execute("SELECT entry FROM pages WHERE document = ?", (document,)).fetchone() for document in documents}
    return {document: json.loads(row[0]) for document, row in rows.items() if row}


def _facts_row(path: str) -> list[int] | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return [info.st_ino, info.st_size, info.st_mtime_ns]


def published(state: State, document: str) -> bool:
    """Whether the last build published a page of *document*."""
    return state.db.execute("SELECT 1 FROM pages WHERE document = ?", (document,)).fetchone() is not None


def noted_files(state: State, documents: set[str]) -> list[tuple[str, str]]:
    """Each page but *documents*, with its files and their facts as published (JSON, as kept)."""
    return [(document, files) for document, files in state.db.execute("SELECT document, files FROM pages") if document not in documents]


@dataclass
class KeptPages:
    """Pages kept by a build, to place in its new output (:func:`place_kept_pages`)."""

    noted: list[tuple[str, str]]  # each page with its files as published (:func:`noted_files`)
    out_dir: Path  # the new output
    previous: Path  # the published output


@dataclass
class Placed:
    """Kept pages placed in a new output."""

    edited: set[str]  # those whose files neither output holds as noted (edited by hand): to render again
    files: dict[str, list[str]]  # the names of the others' files, in place, by page


def place_kept_pages(kept: KeptPages) -> Placed:
    """Place the kept pages' files (:func:`place_kept`). It reads no state, so that forked
    processes can share the work beside the dumps: it stats every file of every page kept."""
    pages = {document: json.loads(files) for document, files in kept.noted}
    edited = place_kept(kept.out_dir, kept.previous, pages)
    return Placed(edited, {document: list(files) for document, files in pages.items() if document not in edited})


def place_kept(out_dir: Path, previous: Path, kept: dict[str, dict[str, list[int] | None]]) -> set[str]:
    """Make each kept page's files in *out_dir* those published: there already, else linked
    from *previous*; the pages for which neither holds (edited by hand) are returned, to be
    rendered again."""
    out, published = f"{out_dir}/", f"{previous}/"  # plain strings: a path object per file costs more than its lstat
    again = set()
    for document, files in kept.items():
        for name, facts in files.items():
            if facts is None or _facts_row(out + name) == facts:
                continue
            if _facts_row(published + name) == facts:
                _link(published + name, out + name)
                continue
            again.add(document)
            break
    return again


def files_changed_by(state: State, made: Mapping[str, Written | None]) -> tuple[list[str], list[str]]:
    """The page files a build writes and removes, by the pages *made* (None: gone), read
    before their rows change: the files of the pages made, and the files the same pages had
    that they have no more."""
    written = {name for page in made.values() if page is not None for name in page.files}
    removed = {name for names in _names_published(state, made).values() for name in names} - written
    return sorted(written), sorted(removed)


def note_files_changed(state: State, written: list[str], removed: list[str]) -> None:
    """Keep which page files this build wrote and removed (:func:`files_changed_by`): with
    the output trusted, the next build makes the spare (this output's predecessor) this
    output by them alone (:func:`catch_up`)."""
    state.put("files_changed", to_json({"written": written, "removed": removed}))


def files_changed(state: State) -> tuple[list[str], list[str]] | None:
    """The page files the last build wrote and removed (:func:`note_files_changed`); none
    changed after a build from scratch, whose spare is its own output; None when not kept."""
    kept = state.text("files_changed")
    if not kept or state.get("page_files") is None:
        return None
    changed = json.loads(kept)
    return changed["written"], changed["removed"]


def catch_up(out_dir: Path, previous: Path, written: Iterable[str], removed: Iterable[str]) -> None:
    """The spare in *out_dir*, the output before *previous*, made *previous* as to its pages:
    the files its build wrote linked from there, those it removed removed. No other file is
    looked at: the two outputs are taken to be as their builds left them."""
    for name in written:
        _link(f"{previous}/{name}", f"{out_dir}/{name}")
    remove_files(out_dir, removed)


def remove_files(out_dir: Path, names: Iterable[str]) -> None:
    """The files of *names* removed from *out_dir*, where they are."""
    for name in names:
        try:
            os.unlink(f"{out_dir}/{name}")
        except FileNotFoundError:
            pass


class KeptFiles(Collection[str]):
    """The files of the pages a build keeps (every page but *skipped*: those made again or
    gone) as the state notes them, read only when listed: a build trusting its output reads
    no other page's row. Their number is the state's count of every page's files less those
    of *skipped*. Read before the build's commit, which changes the rows of *skipped*."""

    def __init__(self, state: State, skipped: set[str]):
        self.state, self.skipped = state, skipped
        self.count = int(state.text("page_files")) - sum(map(len, _names_published(state, skipped).values()))

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[str]:
        for document, files in self.state.db.execute("SELECT document, files FROM pages"):
            if document not in self.skipped:
                yield from json.loads(files)

    def __contains__(self, name: object) -> bool:
        return name in set(self)


def _names_published(state: State, documents: Iterable[str]) -> dict[str, list[str]]:
    """The names of the files of each published page of *documents*, as the state notes them."""
    rows = {document: state.db.execute("SELECT files FROM pages WHERE document = ?", (document,)).fetchone() for document in documents}
    return {document: list(json.loads(row[0])) for document, row in rows.items() if row}


def note_page_files(state: State, count: int) -> None:
    """How many files the pages have in all (:class:`KeptFiles`)."""
    state.put("page_files", count)


def _link(old: str, target: str) -> None:
    os.makedirs(os.path.dirname(target), exist_ok=True)
    hard_link(old, target)
