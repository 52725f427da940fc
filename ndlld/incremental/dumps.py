"""The dumps of an incremental build: the last ones, with the chunks a change touched made again.

Each dump is a run of chunks (:mod:`ndlld.dumps`), and the state knows where each
chunk of the published files lies. A chunk holding a resource whose statements
changed, or next to one whose boundary moved, is made again from the new graph;
every other chunk's bytes are copied from the published file by the kernel
(``os.copy_file_range``), and its piece of the gzip file likewise. The files are
then read once, for their checksums and the gzip file's CRC.

The dumps of named graphs (TriG, N-Quads) fall as the N-Triples do, and a chunk of
theirs is made again for the same reason; but a statement's graphs also depend on
what is said of its sources, their passages and its reification
(:mod:`ndlld.provenance`), so a change can move statements it did not change:
:func:`quads_reach` finds them, from what the provenance reads. The two are made
in one pass, which attributes each statement once.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from bisect import bisect_left
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pyoxigraph import NamedNode, Triple

from ndlld.context import Context
from ndlld.dumps import DATASET_FILES, LAST_BLOCK, Chunk, Piece, Statements, checksums_of_digests
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
    runs: list[tuple[int, int]] = []
    for at in sorted(marked):
        if runs and runs[-1][1] == at:
            runs[-1] = (runs[-1][0], at + 1)
        else:
            runs.append((at, at + 1))
    return runs


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
    chunks: list[Chunk],
    run: tuple[int, int],
    every: int,
    provenance: Provenance,
) -> dict[str, list[Piece]]:
    """The pieces that replace the chunks ``chunks[i:j]`` of the dumps *kinds* (which fall alike)."""
    start, end = run
    after = chunks[start - 1].last if start else None
    upto = chunks[end - 1].last if end < len(chunks) else None
    subjects = subjects_between(state, overlay, kinds[0], after, upto)
    triples = [t for s in subjects for t in overlay.about(s)]
    if not triples:
        return {kind: [] for kind in kinds}
    return Statements(triples, context, every, provenance).pieces(first=start == 0, heads=False, kinds=kinds)


def write_dump(
    kind: str, old: Path, new: Path, chunks: list[Chunk], replaced: dict[tuple[int, int], list[Piece]]
) -> tuple[list[Chunk], str]:
    """The dump *kind* at *new* (and its gzip file): the file at *old* with the chunks of each
    run in *replaced* given instead by its pieces; where each chunk now lies, and the new
    dump's SHA-256. *chunks* are the old file's (at least one: an empty dump is made from scratch)."""
    plan = _plan(chunks, replaced)
    head_end = chunks[0].offset
    with open(old, "rb") as source, open(new, "wb", buffering=0) as target:
        _copy(source, target, 0, head_end)
        placed: list[tuple[Chunk | Piece, int]] = []
        for item in plan:
            at = target.tell()
            if isinstance(item, Chunk):
                _copy(source, target, item.offset, item.length)
                placed.append((item, at))
            else:
                target.write(item.text)
                placed.append((item, at))
        tail = chunks[-1].offset + chunks[-1].length
        _copy(source, target, tail, old.stat().st_size - tail)
    return _write_gzip(old, new, chunks, placed)


def _plan(chunks: list[Chunk], replaced: dict[tuple[int, int], list[Piece]]) -> list[Chunk | Piece]:
    """The new dump's chunks in order: kept ones as they were, the replaced runs' pieces."""
    plan: list[Chunk | Piece] = []
    at = 0
    for (start, end), pieces in sorted(replaced.items()):
        plan += chunks[at:start]
        plan += pieces
        at = end
    return plan + chunks[at:]


def _copy(source, target, offset: int, length: int) -> None:
    """*length* bytes of *source* from *offset* to the end of *target*, by the kernel."""
    while length > 0:
        sent = os.copy_file_range(source.fileno(), target.fileno(), length, offset)
        if sent == 0:
            raise OSError(f"{source.name} ended before its chunk")
        offset, length = offset + sent, length - sent
    target.seek(0, os.SEEK_END)


def _write_gzip(old: Path, new: Path, chunks: list[Chunk], placed: list[tuple[Chunk | Piece, int]]) -> tuple[list[Chunk], str]:
    """The gzip file of the dump at *new*: the old gzip file's head and tail pieces and its
    kept chunks' deflate pieces copied, the others' written; the CRC and size of the whole
    dump at its end. The dump is read once, for them and its SHA-256, which is returned."""
    crc, size, digest = _crc_size_and_digest(new)
    old_gz, new_gz = Path(f"{old}.gz"), Path(f"{new}.gz")
    trailer = len(LAST_BLOCK) + 8  # CRC-32 and size
    layout: list[Chunk] = []
    with open(old_gz, "rb") as source, open(new_gz, "wb", buffering=0) as target:
        _copy(source, target, 0, chunks[0].zoffset)  # gzip's header, and the dump's head
        for item, offset in placed:
            zoffset = target.tell()
            if isinstance(item, Chunk):
                _copy(source, target, item.zoffset, item.zlength)
                layout.append(Chunk(item.last, offset, item.length, zoffset, item.zlength, item.crc))
            else:
                target.write(item.deflated)
                assert item.last is not None  # a chunk's piece, not a head or tail
                layout.append(Chunk(item.last, offset, len(item.text), zoffset, len(item.deflated), zlib.crc32(item.text)))
        tail = chunks[-1].zoffset + chunks[-1].zlength
        _copy(source, target, tail, old_gz.stat().st_size - trailer - tail)  # the dump's tail
        target.write(LAST_BLOCK + crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little"))
    return layout, digest


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
    (*touched*), and those whose statements' graphs it may have moved: the resources whose
    sources changed (and the hash resources that take theirs, and the links to those from
    other documents); the resources citing a source whose scope changed; the documents a
    changed passage is or was about; the subject of a changed rdf:Statement."""
    reach = set(touched)
    holders: set[str] = set()
    documents: set[str] = set()
    for triple in overlay.added | overlay.removed:
        _note(overlay, triple, reach, holders, documents)
    held = {subject for document in documents for subject in overlay.subjects_of(document)}
    for holder in holders:
        held.update([holder] if "#" in holder else [holder, *overlay.subjects_of(holder)])
    for subject in held:
        reach.add(subject)
        reach.update(_taking(overlay, subject))
    return reach


def _note(overlay: Overlay, triple: Triple, reach: set[str], holders: set[str], documents: set[str]) -> None:
    """What a changed *triple* reaches, in the sets of :func:`quads_reach`."""
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
        reach.update(_objects(overlay.stated(subject, REIFIED)) + (named if predicate == REIFIED else []))


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


def rewrite_dumps(
    state: State, overlay: Overlay, context: Context, touched: Iterable[str], old_dir: Path, new_dir: Path, every: int, base: str
) -> list[Path]:
    """Each dump and gzip file written into *new_dir* from those in *old_dir* and the
    chunks the *touched* subjects changed; SHA256SUMS of them all. The new layout is noted."""
    touched = list(touched)
    names = [f"{name}{gz}" for name in DATASET_FILES.values() for gz in ("", ".gz")] + ["SHA256SUMS"]
    if not touched:  # no chunk changed: the files are those published (replaced, never written into, by a later build)
        for name in names:
            hard_link(old_dir / name, new_dir / name)
        return [new_dir / name for name in names]
    remake = _Remake(state, overlay, context, every, Provenance(overlay, base), touched)
    layouts: dict[str, list[Chunk]] = {}
    digests: dict[str, str] = {}
    for kind, name in DATASET_FILES.items():
        chunks = layout(state, kind)
        replaced = {run: remake.pieces(kind, chunks, run) for run in remake.runs(kind, chunks)}
        layouts[kind], digests[name] = write_dump(kind, old_dir / name, new_dir / name, chunks, replaced)
    compressed = [new_dir / f"{name}.gz" for name in DATASET_FILES.values()]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # hashlib and reading let go of the GIL
        digests.update(zip((p.name for p in compressed), pool.map(sha256_of, compressed)))
    (new_dir / "SHA256SUMS").write_bytes(checksums_of_digests(digests))
    keep_layout(state, layouts)
    return [new_dir / name for name in names]


class _Remake:
    """The chunks made again, each kind's in its own format, but the TriG's and the
    N-Quads' together: their chunks fall alike, and a statement is attributed once."""

    def __init__(self, state: State, overlay: Overlay, context: Context, every: int, provenance: Provenance, touched: list[str]):
        self.state, self.overlay, self.context, self.every, self.provenance = state, overlay, context, every, provenance
        self._made: dict[tuple, dict[str, list[Piece]]] = {}
        self.touched = touched
        self.reach = quads_reach(overlay, touched)
        self.gone = [s for s in touched if not overlay.about(s)]

    def runs(self, kind: str, chunks: list[Chunk]) -> list[tuple[int, int]]:
        """The runs of *chunks* of the dump *kind* to make again: those of the *touched*
        subjects, and in the quads dumps those of the subjects whose graphs the change may
        have moved too; the next chunk joined where a subject that ended one is gone."""
        subjects = self.reach if kind in _QUADS else self.touched
        return touched_runs(chunks, {key_of(kind, s) for s in subjects}, _gone_keys(self.overlay, kind, self.gone))

    def pieces(self, kind: str, chunks: list[Chunk], run: tuple[int, int]) -> list[Piece]:
        kinds = _QUADS if kind in _QUADS else (kind,)
        start, end = run
        key = (kinds, chunks[start - 1].last if start else None, chunks[end - 1].last if end < len(chunks) else None)
        if key not in self._made:
            self._made[key] = new_pieces(self.state, self.overlay, self.context, kinds, chunks, run, self.every, self.provenance)
        return self._made[key][kind]
