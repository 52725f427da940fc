"""The dumps of an incremental build: the last ones, with the chunks a change touched made again.

Each dump is a run of chunks (:mod:`ndlld.dumps`), and the state knows where each
chunk of the published files lies. A chunk holding a resource whose statements
changed, or next to one whose boundary moved, is made again from the new graph:
the statements the published N-Quads dump holds of its resources, with the
change applied; the dumps whose chunks fall alike (those keyed by N-Triples
subject) in one pass. Every other chunk's bytes are copied from the published
file by the kernel (``os.copy_file_range``), and its piece of the gzip file
likewise, but after a chunk made again: a piece reaches back into the text before
it, and is deflated again. The files are then read once, for their checksums and
the gzip file's CRC.

The dumps of named graphs (TriG, N-Quads) fall as the N-Triples do, and a chunk of
theirs is made again for the same reason; but a statement's graphs also depend on
what is said of its sources, their passages and its reification
(:mod:`ndlld.provenance`), so a change can move statements it did not change:
:func:`graphs_moved` finds them, from what the provenance reads. Every other statement
of a chunk made again keeps the graphs the last N-Quads dump gives it, and only those
moved or made are attributed again: the publisher's chunk holds tens of thousands.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pyoxigraph import NamedNode, RdfFormat, Triple, parse

from ndlld.context import Context
from ndlld.dumps import DATASET_FILES, LAST_BLOCK, WINDOW, Chunk, Piece, Statements, checksums_of_digests, deflate
from ndlld.incremental.overlay import Overlay
from ndlld.incremental.state import SUBJECT_NT, State
from ndlld.lookup import document_of
from ndlld.namespaces import RDF, RDF_TYPE
from ndlld.output import hard_link
from ndlld.provenance import ABOUT, CITED_FOR, HAS_SOURCE, IN_LANGUAGE, REIFIED, SOURCE, Provenance
from ndlld.rdf import subject_value

# The dumps whose chunks fall alike (by N-Triples subject), and the key each kind orders by.
_KEYS = {"ntriples": "nt", "turtle": "nt", "jsonld": "iri", "ndjson": "document", "trig": "nt", "nquads": "nt"}
_QUADS = ("trig", "nquads")


def key_of(kind: str, subject: str) -> str:
    column = _KEYS[kind]
    if column == "nt":
        return f"<{subject}>"
    return subject if column == "iri" else document_of(subject)


def layout(state: State, kind: str) -> list[Chunk]:
    rows = state.db.execute("SELECT last, offset, length, zoffset, zlength, crc FROM chunks WHERE dump = ? ORDER BY last", (kind,))
    return [Chunk(*row) for row in rows]


def keep_layout(state: State, layouts: dict[str, list[Chunk]]) -> None:
    for kind, chunks in layouts.items():
        state.db.execute("DELETE FROM chunks WHERE dump = ?", (kind,))
        state.db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)", [(kind, *_row(c)) for c in chunks])


def _row(chunk: Chunk) -> tuple:
    return (chunk.last, chunk.offset, chunk.length, chunk.zoffset, chunk.zlength, chunk.crc)


def touched_runs(chunks: list[Chunk], keys: Iterable[str], gone: Collection[str] = ()) -> list[tuple[int, int]]:
    """The runs ``[i, j)`` of *chunks* to make again for changes at *keys*: each key's chunk,
    and the one after it when the key ends its chunk and is *gone* (the boundary it made
    goes with it, and joins them); runs that touch merged."""
    if not chunks:
        return []
    lasts = [chunk.last for chunk in chunks]
    marked = set()
    for key in keys:
        at = min(bisect_left(lasts, key), len(chunks) - 1)
        marked.add(at)
        if key in gone and lasts[at] == key:
            marked.add(min(at + 1, len(chunks) - 1))
    return _spans(marked)


def _gone_keys(overlay: Overlay, kind: str, gone: Iterable[str]) -> set[str]:
    """The keys of *kind* that no subject has any more, of the subjects *gone*."""
    keys = {key_of(kind, subject) for subject in gone}
    if _KEYS[kind] != "document":  # one subject a key
        return keys
    return {document for document in keys if not overlay.subjects_of(document)}


def subjects_between(state: State, overlay: Overlay, kind: str, after: str | None, upto: str | None) -> list[str]:
    """The subjects of the new graph whose key for *kind* is above *after* and at most
    *upto* (None: no bound)."""
    column = {"nt": SUBJECT_NT, "iri": "iri", "document": "document"}[_KEYS[kind]]
    query = f"SELECT iri FROM subjects WHERE {column} > ? AND {column} <= ?"  # noqa: S608 - one of three columns
    low, high = after if after is not None else "", upto if upto is not None else "\U0010ffff"
    found = {iri for (iri,) in state.db.execute(query, (low, high))}
    for triple in overlay.added | overlay.removed:
        subject = subject_value(triple)
        if low < key_of(kind, subject) <= high:
            found.add(subject)
    return sorted(s for s in found if overlay.about(s))


def new_pieces(
    state: State,
    overlay: Overlay,
    context: Context,
    kinds: tuple[str, ...],
    bounds: tuple[str | None, str | None],
    every: int,
    provenance: Provenance,
) -> dict[str, list[Piece]]:
    """The pieces of the dumps *kinds* (whose chunks fall alike) that replace their chunks
    from the key above ``bounds[0]`` to ``bounds[1]`` (None: the dump's start, or its end)."""
    after, upto = bounds
    subjects = subjects_between(state, overlay, kinds[0], after, upto)
    triples = [t for s in subjects for t in overlay.about(s)]
    if not triples:
        return {kind: [] for kind in kinds}
    return Statements(triples, context, every, provenance).pieces(first=after is None, heads=False, kinds=kinds)


def bounds_of(chunks: list[Chunk], run: tuple[int, int]) -> tuple[str | None, str | None]:
    """The keys a run ``[i, j)`` of *chunks* lies between: above the last of the chunk before it,
    up to its own last (None for the dump's start or end)."""
    start, end = run
    return (chunks[start - 1].last if start else None, chunks[end - 1].last if end < len(chunks) else None)


def nt_bounds(kind: str, bounds: tuple[str | None, str | None]) -> tuple[str | None, str | None]:
    """Keys of N-Triples subjects (``<iri>``) between which lies every subject whose key for
    *kind* is between *bounds*: a subject's IRI, and its document, begin its N-Triples key
    after the ``<``."""
    if _KEYS[kind] == "nt":
        return bounds
    after, upto = bounds
    return (None if after is None else f"<{after}", None if upto is None else f"<{upto}\U0010ffff")


def write_dump(old: Path, new: Path, chunks: list[Chunk], replaced: dict[tuple[int, int], list[Piece]]) -> list[tuple[Chunk | Piece, int]]:
    """The dump at *new*: the file at *old* with the chunks of each run in *replaced* given
    instead by its pieces; each chunk and piece with its offset in *new*. *chunks* are the
    old file's (at least one: an empty dump is made from scratch)."""
    placed: list[tuple[Chunk | Piece, int]] = []
    with _Spliced(old, new) as target:
        target.copy(0, chunks[0].offset)
        for item in _plan(chunks, replaced):
            placed.append((item, target.size))
            if isinstance(item, Chunk):
                target.copy(item.offset, item.length)
            else:
                target.write(item.text)
        tail = chunks[-1].offset + chunks[-1].length
        target.copy(tail, old.stat().st_size - tail)
    return placed


def _plan(chunks: list[Chunk], replaced: dict[tuple[int, int], list[Piece]]) -> list[Chunk | Piece]:
    """The new dump's chunks in order: kept ones as they were, the replaced runs' pieces."""
    plan: list[Chunk | Piece] = []
    at = 0
    for (start, end), pieces in sorted(replaced.items()):
        plan += chunks[at:start]
        plan += pieces
        at = end
    return plan + chunks[at:]


def write_gzip(old: Path, new: Path, chunks: list[Chunk], placed: list[tuple[Chunk | Piece, int]], crc: int, size: int) -> list[Chunk]:
    """The gzip file of the dump at *new* (:func:`write_dump`), whose CRC-32 is *crc* and
    size *size*: the old gzip file's head copied, and the deflate piece of each kept chunk
    that follows the same text as before (a piece reaches back into the one before it,
    :func:`~ndlld.dumps.deflate`); the others' pieces, and the tail's if it follows other
    text, deflated. Returns where each chunk now lies."""
    old_gz, new_gz = Path(f"{old}.gz"), Path(f"{new}.gz")
    trailer = len(LAST_BLOCK) + 8  # CRC-32 and size
    tail = chunks[-1].offset + chunks[-1].length  # in the old dump; in the new one, its last bytes
    layout: list[Chunk] = []
    with open(new, "rb") as text, _Spliced(old_gz, new_gz) as target:
        target.copy(0, chunks[0].zoffset)  # gzip's header, and the dump's head
        before, follows = 0, chunks[0].offset  # where the text before the next piece starts, in the new dump; where it ended in the old
        for item, offset in placed:
            zoffset = target.size
            if isinstance(item, Chunk) and item.offset == follows:
                target.copy(item.zoffset, item.zlength)
                layout.append(Chunk(item.last, offset, item.length, zoffset, item.zlength, item.crc))
            else:
                own = item.text if isinstance(item, Piece) else _read(text, offset, offset + item.length)
                deflated = deflate(own, _read(text, max(before, offset - WINDOW), offset))
                target.write(deflated)
                assert item.last is not None  # a chunk's piece, not a head or tail
                layout.append(Chunk(item.last, offset, len(own), zoffset, len(deflated), zlib.crc32(own)))
            before, follows = offset, item.offset + item.length if isinstance(item, Chunk) else -1
        ztail = chunks[-1].zoffset + chunks[-1].zlength
        zlength = old_gz.stat().st_size - trailer - ztail
        if follows == tail or not zlength:  # the dump's tail (the JSON-LD's close), if it has one
            target.copy(ztail, zlength)
        else:
            start = size - (old.stat().st_size - tail)  # the new dump's *size* bytes end with the tail
            target.write(deflate(_read(text, start, size), _read(text, max(before, start - WINDOW), start)))
        target.write(LAST_BLOCK + crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little"))
    return layout


def _read(file: BinaryIO, start: int, end: int) -> bytes:
    file.seek(start)
    return file.read(end - start)


class _Spliced:
    """A file written as ranges of another, copied by the kernel (``os.copy_file_range``),
    and bytes of its own; ranges that follow one another in both are copied in one call,
    as a dump's kept chunks mostly do. *size*: the bytes written so far."""

    def __init__(self, source: Path, target: Path):
        self.source, self.target = open(source, "rb"), open(target, "wb", buffering=0)
        self.size = 0
        self._pending: tuple[int, int] | None = None  # a range of the source not copied yet

    def copy(self, offset: int, length: int) -> None:
        if self._pending is not None and sum(self._pending) == offset:
            self._pending = (self._pending[0], self._pending[1] + length)
        else:
            self._flush()
            self._pending = (offset, length)
        self.size += length

    def write(self, data: bytes) -> None:
        self._flush()
        self.target.write(data)
        self.size += len(data)

    def _flush(self) -> None:
        if self._pending is None:
            return
        offset, length = self._pending
        self._pending = None
        while length > 0:
            sent = os.copy_file_range(self.source.fileno(), self.target.fileno(), length, offset)
            if sent == 0:
                raise OSError(f"{self.source.name} ended before its chunk")
            offset, length = offset + sent, length - sent

    def __enter__(self) -> _Spliced:
        return self

    def __exit__(self, *failed: object) -> None:
        try:
            if failed[0] is None:
                self._flush()
        finally:
            self.source.close()
            self.target.close()


def _crc_size_and_digest(path: Path) -> tuple[int, int, str]:
    crc, size, digest = 0, 0, hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(1 << 22):
            crc, size = zlib.crc32(block, crc), size + len(block)
            digest.update(block)
    return crc, size, digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


# What the provenance reads of a resource, of a source, of a passage and of an rdf:Statement.
_OF_HOLDER = frozenset({SOURCE, RDF_TYPE.value})
_OF_SOURCE = frozenset({CITED_FOR, IN_LANGUAGE})
_OF_PASSAGE = frozenset({ABOUT, HAS_SOURCE})
_OF_STATEMENT = frozenset({SOURCE, RDF_TYPE.value, REIFIED, RDF.predicate.value, RDF.object.value})


def quads_reach(overlay: Overlay, touched: Iterable[str]) -> set[str]:
    """The subjects whose quads a change may have changed: those whose statements it changed
    (*touched*), and those whose statements' graphs it may have moved (:func:`graphs_moved`)."""
    return set(touched) | graphs_moved(overlay)


def graphs_moved(overlay: Overlay) -> set[str]:
    """The subjects whose statements a change may have moved to other graphs, though they did
    not change: the resources whose sources changed (and the hash resources that take theirs,
    and the links to those from other documents); the resources citing a source whose scope
    changed; the documents a changed passage is or was about; the subject of a changed
    rdf:Statement. What else a statement's graphs depend on is the statement itself: an
    unchanged statement of another subject keeps its graphs."""
    moved: set[str] = set()
    holders: set[str] = set()
    documents: set[str] = set()
    for triple in overlay.added | overlay.removed:
        _note(overlay, triple, moved, holders, documents)
    held = {subject for document in documents for subject in overlay.subjects_of(document)}
    for holder in holders:
        held.update([holder] if "#" in holder else [holder, *overlay.subjects_of(holder)])
    for subject in held:
        moved.add(subject)
        moved.update(_taking(overlay, subject))
    return moved


def _note(overlay: Overlay, triple: Triple, moved: set[str], holders: set[str], documents: set[str]) -> None:
    """What a changed *triple* reaches, in the sets of :func:`graphs_moved`."""
    subject, predicate = subject_value(triple), triple.predicate.value
    named = [triple.object.value] if isinstance(triple.object, NamedNode) else []
    if predicate in _OF_HOLDER:
        holders.add(subject)
    if predicate in _OF_SOURCE:
        holders.update(subject_value(t) for t in overlay.pointing_at(subject) if t.predicate.value == SOURCE)
    if predicate in _OF_PASSAGE:
        about = _objects(overlay.stated(subject, ABOUT)) + (named if predicate == ABOUT else [])
        documents.update(document_of(o) for o in about)
    if predicate in _OF_STATEMENT:
        moved.update(_objects(overlay.stated(subject, REIFIED)) + (named if predicate == REIFIED else []))


def _objects(triples: Iterable[Triple]) -> list[str]:
    return [t.object.value for t in triples if isinstance(t.object, NamedNode)]


def _taking(overlay: Overlay, subject: str) -> list[str]:
    """The subjects with statements whose graphs are *subject*'s: links to it from another
    document when it is a hash resource, and the rdf:Statements describing its statements."""
    own = document_of(subject)
    return [
        subject_value(t)
        for t in overlay.pointing_at(subject)
        if t.predicate.value == REIFIED or ("#" in subject and document_of(subject_value(t)) != own)
    ]


@dataclass(frozen=True)
class Rewrite:
    """What a change makes of the dumps before any file is written: each dump's chunks as
    the state knows them, and the pieces that replace the runs of them it touched (none:
    the files are those published)."""

    layouts: dict[str, list[Chunk]]
    pieces: dict[str, dict[tuple[int, int], list[Piece]]]


def remake(state: State, overlay: Overlay, context: Context, touched: Iterable[str], old_dir: Path, every: int, base: str) -> Rewrite:
    """The chunks the *touched* subjects changed, made again from the new graph (the
    statements of the published N-Quads dump in *old_dir*, with the change applied)."""
    touched = list(touched)
    if not touched:
        return Rewrite({}, {})
    layouts = {kind: layout(state, kind) for kind in DATASET_FILES}
    pieces = _Remake(state, overlay, context, every, base, touched).pieces(layouts, old_dir / DATASET_FILES["nquads"])
    return Rewrite(layouts, pieces)


def splice(rewrite: Rewrite, old_dir: Path, new_dir: Path) -> tuple[list[Path], dict[str, list[Chunk]]]:
    """Each dump and gzip file written into *new_dir*: those in *old_dir* with the pieces of
    *rewrite* in place of the chunks they replace; SHA256SUMS of them all. Returns the
    files, and where each dump's chunks now lie (to keep: :func:`keep_layout`). It reads
    no state, and lets go of the GIL for most of its work (the kernel's copies, zlib,
    hashing): a build runs it in a thread while it makes the pages."""
    names = [f"{name}{gz}" for name in DATASET_FILES.values() for gz in ("", ".gz")] + ["SHA256SUMS"]
    if not rewrite.layouts:  # no chunk changed: the files are those published (replaced, never written into, by a later build)
        for name in names:
            hard_link(old_dir / name, new_dir / name)
        return [new_dir / name for name in names], {}
    layouts = dict(rewrite.layouts)
    digests: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # hashlib, zlib and reading let go of the GIL
        placed, sums = {}, {}
        for kind, name in DATASET_FILES.items():  # each dump summed while the next is copied
            placed[kind] = write_dump(old_dir / name, new_dir / name, layouts[kind], rewrite.pieces[kind])
            sums[kind] = pool.submit(_crc_size_and_digest, new_dir / name)
        compressed = {}
        for kind, name in DATASET_FILES.items():  # each gzip file once its dump's sums come
            crc, size, digests[name] = sums[kind].result()
            layouts[kind] = write_gzip(old_dir / name, new_dir / name, layouts[kind], placed[kind], crc, size)
            compressed[f"{name}.gz"] = pool.submit(sha256_of, new_dir / f"{name}.gz")
        digests.update((name, digest.result()) for name, digest in compressed.items())
    (new_dir / "SHA256SUMS").write_bytes(checksums_of_digests(digests))
    return [new_dir / name for name in names], layouts


class _Remake:
    """The chunks a change makes again: those of the subjects it *touched* (and in the quads
    dumps, of those whose graphs it may have moved), made once for all the dumps whose chunks
    fall alike (each statement attributed once), from the statements the last N-Quads dump
    holds of them with the change applied, and the graphs it puts them in where the change
    cannot have moved them."""

    def __init__(self, state: State, overlay: Overlay, context: Context, every: int, base: str, touched: list[str]):
        self.state, self.overlay, self.context, self.every, self.base = state, overlay, context, every, base
        self.touched = touched
        self.moved = graphs_moved(overlay)
        self.reach = set(touched) | self.moved
        self.gone = [s for s in touched if not overlay.about(s)]

    def runs(self, kind: str, chunks: list[Chunk]) -> list[tuple[int, int]]:
        """The runs of *chunks* of the dump *kind* to make again: those of the *touched*
        subjects, and in the quads dumps those of the subjects whose graphs the change may
        have moved too; the next chunk joined where a subject that ended one is gone."""
        subjects = self.reach if kind in _QUADS else self.touched
        return touched_runs(chunks, {key_of(kind, s) for s in subjects}, _gone_keys(self.overlay, kind, self.gone))

    def pieces(self, layouts: dict[str, list[Chunk]], nquads: Path) -> dict[str, dict[tuple[int, int], list[Piece]]]:
        """By dump, the runs of its chunks (in *layouts*) to make again, each with the pieces
        that replace it; the dumps keyed alike whose runs lie between the same keys made in
        one pass. The statements are the last N-Quads dump's (*nquads*) with the change applied."""
        runs = {kind: self.runs(kind, chunks) for kind, chunks in layouts.items()}
        wanted: dict[tuple[str, tuple[str | None, str | None]], list[str]] = defaultdict(list)
        for kind, kind_runs in runs.items():
            for run in kind_runs:
                wanted[(_KEYS[kind], bounds_of(layouts[kind], run))].append(kind)
        known = self._read_last(nquads, layouts["nquads"], [nt_bounds(kinds[0], bounds) for (_, bounds), kinds in wanted.items()])
        provenance = KnownGraphs(self.overlay, self.base, known)
        made = {
            (column, bounds): new_pieces(self.state, self.overlay, self.context, tuple(kinds), bounds, self.every, provenance)
            for (column, bounds), kinds in wanted.items()
        }
        return {
            kind: {run: made[(_KEYS[kind], bounds_of(layouts[kind], run))][kind] for run in kind_runs} for kind, kind_runs in runs.items()
        }

    def _read_last(self, nquads: Path, chunks: list[Chunk], between: list[tuple[str | None, str | None]]) -> dict[Triple, tuple[str, ...]]:
        """Give the overlay the last graph's statements of every subject whose N-Triples key
        lies *between* some bounds, read from the chunks of the last N-Quads dump holding
        them (each subject's lines lie in one): pyoxigraph parses them faster than the store
        answers one subject at a time. Returns the graphs each statement is in there, but
        those of the subjects the change may have moved: a statement the change did not make
        keeps them, without asking the store where it comes from (the publisher's tens of
        thousands of memberships, each a hash resource of another record)."""
        known: dict[Triple, tuple[str, ...]] = {}
        for text in _chunks_between(nquads, chunks, between):
            graphs: dict[Triple, list[str]] = defaultdict(list)
            for quad in parse(text, format=RdfFormat.N_QUADS):
                graphs[quad.triple].append(quad.graph_name.value)  # its lines are sorted: so are its graphs
            self.overlay.use_last(graphs)
            known.update((triple, tuple(found)) for triple, found in graphs.items() if subject_value(triple) not in self.moved)
        return known


class KnownGraphs(Provenance):
    """The graphs of each statement read from *lookup*, but those *known* already."""

    def __init__(self, lookup: Overlay, base: str, known: Mapping[Triple, tuple[str, ...]]):
        super().__init__(lookup, base)
        self.known = known

    def graphs(self, triple: Triple) -> tuple[str, ...]:
        return self.known.get(triple) or super().graphs(triple)


def _chunks_between(path: Path, chunks: list[Chunk], between: list[tuple[str | None, str | None]]) -> Iterator[bytes]:
    """The text of the runs of *chunks* of the dump at *path* holding the keys that lie
    between some of the bounds *between* (None: the dump's start, or its end)."""
    lasts = [chunk.last for chunk in chunks]
    wanted: set[int] = set()
    for after, upto in between:
        first = 0 if after is None else bisect_right(lasts, after)
        last = len(chunks) - 1 if upto is None else bisect_left(lasts, upto)
        wanted.update(range(first, min(last, len(chunks) - 1) + 1))
    with open(path, "rb") as file:
        for start, end in _spans(wanted):
            file.seek(chunks[start].offset)
            yield file.read(chunks[end - 1].offset + chunks[end - 1].length - chunks[start].offset)


def _spans(indexes: Iterable[int]) -> list[tuple[int, int]]:
    """*indexes* as runs ``[i, j)`` of consecutive ones, in order."""
    spans: list[tuple[int, int]] = []
    for index in sorted(indexes):
        if spans and spans[-1][1] == index:
            spans[-1] = (spans[-1][0], index + 1)
        else:
            spans.append((index, index + 1))
    return spans
