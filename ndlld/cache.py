"""The build cache: what a build made of each record, what the shapes found about
each resource, and what each page was made from, kept by content hash so that
the next build redoes only what changed.

Each entry's key is a SHA-256 of everything the entry depends on: ndlld's own
code and templates, the context, the vocabulary and the shapes (the
*fingerprint*), plus the record's path and bytes, or, for a resource's checks,
the statements its shapes look at. Change any of them and the key changes, so
an entry is never stale: a new ndlld, an edited shape or an edited record
simply misses. Entries that a build did not use are dropped when it ends, so
the cache stays the size of one build.

It is one SQLite file (Python's own ``sqlite3``): each build's writes are one
transaction, so a build killed midway leaves the cache as it was.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

from ndlld import __version__
from ndlld.errors import ConfigError, NdlldError
from ndlld.resources import resource_dir

_PACKAGE = Path(__file__).resolve().parent
SCHEMA_VERSION = 1  # of the cache file itself
# SQLite's page size for the cache file: the records' entries are megabytes each
# (ndlld.partstore), which SQLite reads page by page; 64 kB pages read them 3 times
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
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.digest()


class Cache:
    """Entries by kind (``"records"``: the parts of a group of records, see :mod:`ndlld.partstore`,
    and ``"record entries"``: which those were at the last build; ``"checks"``, ``"page"``, and
    ``"files"``: what the file system said of each record file, see :func:`ndlld.build._record_keys`)
    and key, in one SQLite file.

    ``Cache(None)`` keeps nothing: every lookup misses. Use it as a context
    manager: the writes of one build are committed when it ends, also when the
    data had errors (the entries are right all the same); entries it did not use
    are dropped only after a build that went through.
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
            raise ConfigError(f"cannot use the build cache ({err}); wait for another build, or build with --no-cache", path=self.path) from None
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

    def put_many(self, kind: str, entries: Mapping[bytes, bytes]) -> None:
        self._used.setdefault(kind, set()).update(entries)
        if self._db is not None:
            self._db.executemany("INSERT OR REPLACE INTO entry VALUES (?, ?, ?)", [(kind, k, v) for k, v in entries.items()])

    def _forget_unused(self) -> None:
        # Keyed like the entries, so that the DELETE below is one lookup per entry, not a scan.
        self._db.execute("CREATE TEMP TABLE used (kind TEXT, key BLOB, PRIMARY KEY (kind, key)) WITHOUT ROWID")
        self._db.executemany("INSERT OR IGNORE INTO used VALUES (?, ?)", [(kind, k) for kind, keys in self._used.items() for k in keys])
        self._db.execute("DELETE FROM entry WHERE NOT EXISTS (SELECT 1 FROM used WHERE used.kind = entry.kind AND used.key = entry.key)")
        self._db.execute("DROP TABLE used")
