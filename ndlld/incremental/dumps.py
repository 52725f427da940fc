"""The dumps of an incremental build: the last ones, with the chunks a change touched made again.

Each dump is a run of chunks (:mod:`ndlld.dumps`), and the state knows where each
chunk of the published files lies. A chunk holding a resource whose statements
changed, or next to one whose boundary moved, is made again from the new graph;
every other chunk's bytes are copied from the published file by the kernel
(``os.copy_file_range``), and its piece of the gzip file likewise. The files are
then read once, for their checksums and the gzip file's CRC.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from bisect import bisect_left
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ndlld.context import Context
from ndlld.dumps import DATASET_FILES, LAST_BLOCK, Chunk, Piece, Statements, checksums_of_digests
from ndlld.incremental.overlay import Overlay
from ndlld.incremental.state import SUBJECT_NT, State
from ndlld.lookup import document_of
from ndlld.output import hard_link
from ndlld.rdf import subject_value

# The dumps whose chunks fall alike (by N-Triples subject), and the key each kind orders by.
_KEYS = {"ntriples": "nt", "turtle": "nt", "jsonld": "iri", "ndjson": "document"}


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
    state: State, overlay: Overlay, context: Context, kind: str, chunks: list[Chunk], run: tuple[int, int], every: int
) -> list[Piece]:
    """The pieces that replace the chunks ``chunks[i:j]`` of the dump *kind*."""
    start, end = run
    after = chunks[start - 1].last if start else None
    upto = chunks[end - 1].last if end < len(chunks) else None
    subjects = subjects_between(state, overlay, kind, after, upto)
    triples = [t for s in subjects for t in overlay.about(s)]
    if not triples:
        return []
    return Statements(triples, context, every).pieces(first=start == 0, heads=False, kinds=[kind])[kind]


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


def rewrite_dumps(
    state: State, overlay: Overlay, context: Context, touched: Iterable[str], old_dir: Path, new_dir: Path, every: int
) -> list[Path]:
    """Each dump and gzip file written into *new_dir* from those in *old_dir* and the
    chunks the *touched* subjects changed; SHA256SUMS of them all. The new layout is noted."""
    touched = list(touched)
    names = [f"{name}{gz}" for name in DATASET_FILES.values() for gz in ("", ".gz")] + ["SHA256SUMS"]
    if not touched:  # no chunk changed: the files are those published (replaced, never written into, by a later build)
        for name in names:
            hard_link(old_dir / name, new_dir / name)
        return [new_dir / name for name in names]
    layouts: dict[str, list[Chunk]] = {}
    digests: dict[str, str] = {}
    gone = [s for s in touched if not overlay.about(s)]
    for kind, name in DATASET_FILES.items():
        chunks = layout(state, kind)
        runs = touched_runs(chunks, {key_of(kind, s) for s in touched}, _gone_keys(overlay, kind, gone))
        replaced = {run: new_pieces(state, overlay, context, kind, chunks, run, every) for run in runs}
        layouts[kind], digests[name] = write_dump(kind, old_dir / name, new_dir / name, chunks, replaced)
    compressed = [new_dir / f"{name}.gz" for name in DATASET_FILES.values()]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # hashlib and reading let go of the GIL
        digests.update(zip((p.name for p in compressed), pool.map(sha256_of, compressed)))
    (new_dir / "SHA256SUMS").write_bytes(checksums_of_digests(digests))
    keep_layout(state, layouts)
    return [new_dir / name for name in names]
