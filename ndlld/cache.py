"""The build cache: what a build made of each record, what the shapes found about
each resource, what each page was made from, and the dumps' chunks, kept by
content hash so that the next build redoes only what changed.

Each entry's key is a SHA-256 of everything the entry depends on: ndlld's own
code and templates, the context, the vocabulary and the shapes (the
*fingerprint*), plus the paths and bytes of a group of records (see
:func:`pack_records`), or, for a resource's checks, the statements its shapes
look at. Change any of them and the key changes, so
an entry is never stale: a new ndlld, an edited shape or an edited record
simply misses. Entries that a build did not use are dropped when it ends, so
the cache stays the size of one build.

It is one SQLite file (Python's own ``sqlite3``): each build's writes are one
transaction, so a build killed midway leaves the cache as it was.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import zlib
from array import array
from collections.abc import Iterable, Mapping
from pathlib import Path

from pyoxigraph import RdfFormat, parse

from ndlld import __version__
from ndlld.errors import ConfigError, NdlldError
from ndlld.graph import Part
from ndlld.resources import resource_dir

_PACKAGE = Path(__file__).resolve().parent
SCHEMA_VERSION = 1  # of the cache file itself
# SQLite's page size for the cache file: the records' entries are megabytes each
# (pack_records), which SQLite reads page by page; 64 kB pages read them 3 times
# faster than the default 4 kB ones, and the small entries no slower.
PAGE_SIZE = 65536


def fingerprint(*roots: Path) -> bytes:
    """A digest of every file under *roots*: by default ndlld's code and templates,
    ontology/ (context and vocabulary) and shapes/."""
    roots = roots or (_PACKAGE, resource_dir("ontology"), resource_dir("shapes"))
    digest = hashlib.sha256(f"ndlld {__version__} cache {SCHEMA_VERSION}\n".encode())
    for root in roots:
        for path in sorted(p for p in Path(root).rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(key(str(path.relative_to(root)), path.read_bytes()))
    return digest.digest()


def key(*parts: bytes | str) -> bytes:
    """The key of an entry made from *parts* (each length-prefixed, so they cannot run together)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogateescape") if isinstance(part, str) else part  # a file name's bytes as they are
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.digest()


class Cache:
    """Entries by kind (``"records"``: the parts of a group of records, see :func:`pack_records`,
    and ``"record entries"``: which those were at the last build; ``"graph"``: the identity of
    the last graph, see :class:`ndlld.graph.Delta`; ``"checks"``; ``"pages"``: the page state,
    see :class:`ndlld.site.reuse.PageState`; ``"dump"``: the dumps' chunks, see
    :class:`ndlld.dumps.Chunks`; ``"sitemaps"``: the sitemaps' files and checksums, by the
    URLs they list, see :func:`ndlld.site._sitemaps`; and ``"files"``: what the file system
    said of each record file, see :func:`ndlld.build._record_keys`) and key, in one SQLite file.

    ``Cache(None)`` keeps nothing: every lookup misses. Use it as a context
    manager: the writes of one build are committed when it ends, also when the
    data had errors (the entries are right all the same); entries it did not use,
    of the kinds it used, are dropped only after a build that went through.
    """

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path is not None else None
        self.fingerprint = fingerprint() if path is not None else b""
        self._used: dict[str, set[bytes]] = {}
        self._db: sqlite3.Connection | None = None
        self.hits = self.misses = 0

    def __enter__(self) -> Cache:
        if self.path is None:
            return self
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            try:
                self._open()
            except sqlite3.DatabaseError as err:
                if isinstance(err, sqlite3.OperationalError):  # locked or unwritable: not ours to remove
                    raise
                (self.path / "cache.sqlite").unlink()  # not a cache file (any more): start a new one
                self._open()
        except (OSError, sqlite3.Error) as err:
            if self._db is not None:
                self._db.close()
                self._db = None
            raise ConfigError(
                f"cannot use the build cache ({err}); wait for another build, or build with --no-cache", path=self.path
            ) from None
        return self

    def _open(self) -> None:
        if self._db is not None:
            self._db.close()
        self._db = sqlite3.connect(self.path / "cache.sqlite", isolation_level=None, timeout=60)
        self._db.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # takes effect on a new file only; see __exit__
        self._db.execute("CREATE TABLE IF NOT EXISTS entry (kind TEXT, key BLOB, value BLOB, PRIMARY KEY (kind, key)) WITHOUT ROWID")
        self._db.execute("BEGIN IMMEDIATE")  # one build at a time writes the cache

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._db is None:
            return
        if exc_type is None:
            self._forget_unused()
        if exc_type is None or issubclass(exc_type, NdlldError):  # entries are right even if the data is not
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")
        if exc_type is None and self._db.execute("PRAGMA page_size").fetchone()[0] != PAGE_SIZE:
            try:  # a file made by an older ndlld: rewritten once with the new page size (atomic, as a commit)
                self._db.execute("VACUUM")
            except sqlite3.OperationalError:  # another build has it now: the next one will do it
                pass
        self._db.close()
        self._db = None

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def get_many(self, kind: str, keys: Iterable[bytes], counted: bool = True, used: bool = True) -> dict[bytes, bytes]:
        """The entries of *kind* found for *keys*; the keys count as used by this build
        unless *used* is false, and among the hits and misses if *counted*."""
        keys = list(keys)
        if used:
            self._used.setdefault(kind, set()).update(keys)
        if self._db is None:
            self.misses += len(keys) if counted else 0
            return {}
        found: dict[bytes, bytes] = {}
        for start in range(0, len(keys), 500):  # SQLite's limit on query parameters
            batch = keys[start : start + 500]
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(f"SELECT key, value FROM entry WHERE kind = ? AND key IN ({marks})", [kind, *batch])
            found.update(rows)
        if counted:
            self.hits += len(found)
            self.misses += len(keys) - len(found)
        return found

    def get(self, kind: str, key: bytes) -> bytes | None:
        """One entry of *kind*, or None; it counts as used, but not among the hits and
        misses, which count the work a build did or saved."""
        self._used.setdefault(kind, set()).add(key)
        if self._db is None:
            return None
        row = self._db.execute("SELECT value FROM entry WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return row[0] if row else None

    def all(self, kind: str) -> dict[bytes, bytes]:
        """Every entry of *kind* (those the last build kept); none counts as used until :meth:`keep`."""
        if self._db is None:
            return {}
        return dict(self._db.execute("SELECT key, value FROM entry WHERE kind = ?", (kind,)))

    def keep(self, kind: str, keys: Iterable[bytes]) -> None:
        """Count *keys* of *kind* as used by this build, so that they stay."""
        self._used.setdefault(kind, set()).update(keys)

    def put_many(self, kind: str, entries: Mapping[bytes, bytes]) -> None:
        self._used.setdefault(kind, set()).update(entries)
        if self._db is not None:
            self._db.executemany("INSERT OR REPLACE INTO entry VALUES (?, ?, ?)", [(kind, k, v) for k, v in entries.items()])

    def _forget_unused(self) -> None:
        """Drop the entries of the kinds this run used that it did not use: an ``ndlld
        validate`` (no pages, no dumps) keeps the build's pages and dumps for the next."""
        # Keyed like the entries, so that the DELETE below is one lookup per entry, not a scan.
        self._db.execute("CREATE TEMP TABLE used (kind TEXT, key BLOB, PRIMARY KEY (kind, key)) WITHOUT ROWID")
        self._db.executemany("INSERT OR IGNORE INTO used VALUES (?, ?)", [(kind, k) for kind, keys in self._used.items() for k in keys])
        kinds = sorted(self._used)
        self._db.execute(
            f"DELETE FROM entry WHERE kind IN ({','.join('?' * len(kinds))})"
            " AND NOT EXISTS (SELECT 1 FROM used WHERE used.kind = entry.kind AND used.key = entry.key)",
            kinds,
        )
        self._db.execute("DROP TABLE used")


# -- the records' parts, many records to an entry -----------------------------
# One entry per record made a one-record edit at 100,000 organizations fetch
# 100,000 entries by random lookups and decode 100,000 small JSON documents: most
# of its reading. The records are grouped instead, about RECORDS_PER_ENTRY to a
# group, and each group is one entry: its records' N-Triples end to end, the path
# index and line of every triple as one packed array, and the rest (nodes,
# references, errors, which triples have an inverse) as one JSON document.
#
# A group is a run of files in path order that ends where a path's hash says so,
# so that adding or removing a file changes its own group only. An entry's key is
# made of the paths and record keys of its files (a record's key is made of its
# path, its bytes and the fingerprint): an edited record misses its group's entry,
# and the parts of the group's other records are then taken from the entries of the
# last build (unpack_each_record), not read again.
#
# A group's entry decodes as one ndlld.graph.Part of many files; merging it gives
# what merging the parts of its files one by one gives (the triples are
# deduplicated and the nodes checked for duplicates across parts, in order; the
# errors are sorted), tested in tests/test_cache_records.py.

RECORDS_PER_ENTRY = 1024  # on average: a one-record edit rewrites about this many records' parts
_HEAD = 4  # bytes of the length of the JSON head


def record_groups(files: list[str], size: int | None = None) -> list[list[str]]:
    """*files* cut into runs, each ending after a file whose path's CRC-32 is a multiple of
    *size* (by default :data:`RECORDS_PER_ENTRY`)."""
    size = size or RECORDS_PER_ENTRY
    runs: list[list[str]] = [[]]
    for path in files:
        runs[-1].append(path)
        if zlib.crc32(path.encode("utf-8", "surrogateescape")) % size == 0:
            runs.append([])
    return [run for run in runs if run]


def pack_records(keys: list[bytes], parts: list[Part], inverses: dict[str, str]) -> bytes:
    """One entry holding the one-file *parts* (one per record, in file order) and their record
    *keys*, with the indices of the triples whose predicate has an inverse in *inverses* (the
    build's: the fingerprint in the entry's key covers them)."""
    counts = [len(part.origins) // 2 for part in parts]
    inverted, start = [], 0
    for part, count in zip(parts, counts):
        quads = parse(part.ntriples, format=RdfFormat.N_TRIPLES, lenient=True)
        inverted += [start + i for i, quad in enumerate(quads) if quad.predicate.value in inverses]
        start += count
    head = {
        "paths": [part.paths[0] for part in parts],
        "keys": [key.hex() for key in keys],
        "counts": counts,
        "sizes": [len(part.ntriples) for part in parts],
        "nodes": [(iri, written, i, line) for i, part in enumerate(parts) for iri, written, _, line in part.nodes],
        "references": [(iri, i, line) for i, part in enumerate(parts) for iri, _, line in part.references],
        "read_errors": [(i, *error) for i, part in enumerate(parts) for error in part.read_errors],
        "errors": [(i, *error) for i, part in enumerate(parts) for error in part.errors],
        "inverted": inverted,
    }
    origins = array("I")
    for i, part in enumerate(parts):
        spots = part.origins[:]  # (0, line) per triple: the path index becomes the file's index in the entry
        spots[0::2] = array("I", [i]) * counts[i]
        origins += spots
    if sys.byteorder == "big":  # the entry is little-endian wherever it was made
        origins.byteswap()
    head_bytes = json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogateescape")  # paths: any bytes
    return len(head_bytes).to_bytes(_HEAD, "big") + head_bytes + origins.tobytes() + b"".join(part.ntriples for part in parts)


def _unpacked(entry: bytes) -> tuple[dict, array, bytes]:
    size = int.from_bytes(entry[:_HEAD], "big")
    head = json.loads(entry[_HEAD : _HEAD + size].decode("utf-8", "surrogateescape"))
    end = _HEAD + size + 8 * sum(head["counts"])
    origins = array("I")
    origins.frombytes(entry[_HEAD + size : end])
    if sys.byteorder == "big":
        origins.byteswap()
    return head, origins, entry[end:]


def unpack_records(entry: bytes) -> Part:
    """The entry as one Part of many files, ready for :func:`ndlld.graph.merge_parts`."""
    head, origins, ntriples = _unpacked(entry)
    return Part(
        paths=head["paths"],
        ntriples=ntriples,
        origins=origins,
        nodes=head["nodes"],
        references=head["references"],
        read_errors=[tuple(error[1:]) for error in head["read_errors"]],
        errors=[tuple(error[1:]) for error in head["errors"]],
        inverted=head["inverted"],
    )


def unpack_each_record(entry: bytes) -> dict[tuple[str, bytes], Part]:
    """The entry's one-file parts by path and record key: what an entry of the last build
    gives to a group that changed."""
    head, origins, ntriples = _unpacked(entry)
    files = range(len(head["paths"]))
    nodes, references, read_errors, errors = ({i: [] for i in files} for _ in range(4))
    for iri, written, i, line in head["nodes"]:
        nodes[i].append((iri, written, 0, line))
    for iri, i, line in head["references"]:
        references[i].append((iri, 0, line))
    for i, *error in head["read_errors"]:
        read_errors[i].append(tuple(error))
    for i, *error in head["errors"]:
        errors[i].append(tuple(error))
    parts: dict[tuple[str, bytes], Part] = {}
    first = start = 0
    for i, (path, key, count, size) in enumerate(zip(head["paths"], head["keys"], head["counts"], head["sizes"])):
        spots = origins[2 * first : 2 * (first + count)]
        spots[0::2] = array("I", [0]) * count
        parts[path, bytes.fromhex(key)] = Part(
            [path], ntriples[start : start + size], spots, nodes[i], references[i], read_errors[i], errors[i]
        )
        first, start = first + count, start + size
    return parts
