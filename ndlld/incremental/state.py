"""The last build, kept on disk: what an incremental build starts from.

Two stores in the cache directory (``.dist.cache/`` beside ``dist/``):

* ``graph/``, a pyoxigraph store (RocksDB) holding the graph as the embedded
  store lays it out (the dataset in its named graph, the vocabulary in
  another): indexed by subject, predicate and object, so that a resource's
  statements, or those pointing at it, are read without loading the rest; and
  queryable: once a build has published, a checkpoint of it is what ``ndlld
  query`` opens instead of loading the dumps (:mod:`ndlld.published`).
* ``state.sqlite``: what the build made of each record file and of each
  resource, in tables of plain columns; statements are N-Triples text, lists
  JSON. One codec: SQLite's rows.

Both are written only when a build has published its output, each in one
transaction, and both carry the same generation number: a build killed between
the two leaves them apart, and the next one starts again from scratch. Beside them,
``search.sqlite``, the search index ``ndlld serve`` reads
(:mod:`ndlld.incremental.search`), notes the output it is of.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad, RdfFormat, Store, Triple, parse

from ndlld import published
from ndlld.errors import ConfigError
from ndlld.incremental.search import KeptIndex, remove_index
from ndlld.rdf import serialized
from ndlld.store import dataset_graph

SUBJECT_NT = "'<' || iri || '>'"  # a subject as N-Triples writes it, in SQL: the key of subjects_by_nt
SCHEMA_VERSION = 12  # of the files below; another version is started again from scratch
GENERATION = NamedNode("urn:ndlld:state:generation")  # where the graph store keeps its generation

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID;
-- a record file as the last build read it: what the file system said of it, a digest of its bytes,
-- and what the graph stage made of it (statements as N-Triples, one line each; the rest JSON)
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, facts BLOB, digest BLOB, part TEXT) WITHOUT ROWID;
-- what every build reads of them, without their parts, which are large
CREATE INDEX IF NOT EXISTS files_facts ON files (path, facts, digest);
-- each statement of the graph (a digest of its N-Triples line) and the files that state it
-- (directly, or as the inverse of one of theirs): a statement leaves the graph with the last
CREATE TABLE IF NOT EXISTS stated (statement BLOB, path TEXT, PRIMARY KEY (statement, path)) WITHOUT ROWID;
-- the resources described, where; and the references to resources of the dataset, from where
CREATE TABLE IF NOT EXISTS nodes (iri TEXT PRIMARY KEY, path TEXT, line INTEGER, written TEXT) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nodes_by_path ON nodes (path);
CREATE TABLE IF NOT EXISTS refs (iri TEXT, path TEXT, line INTEGER, PRIMARY KEY (iri, path, line)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS refs_by_path ON refs (path);
-- every subject of the graph with its document: the order of the dumps, and a document's resources
CREATE TABLE IF NOT EXISTS subjects (iri TEXT PRIMARY KEY, document TEXT) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS subjects_by_document ON subjects (document);
-- what the shapes found about each document with results: its SHACL results (N-Triples), its
-- findings (JSON), and the record files they point at
CREATE TABLE IF NOT EXISTS findings (document TEXT PRIMARY KEY, results TEXT, findings TEXT, paths TEXT) WITHOUT ROWID;
-- each dump's chunks in order: where each ends, and where its bytes are in the published files
CREATE TABLE IF NOT EXISTS chunks (dump TEXT, last TEXT, offset INTEGER, length INTEGER,
    zoffset INTEGER, zlength INTEGER, crc INTEGER, PRIMARY KEY (dump, last)) WITHOUT ROWID;
-- each page's files as published (name, inode, size, mtime), what it gives the index, and what it
-- read (a digest of its reads, and each read); of a `stated` read, and of a long `pointing_at` one, its
-- answer in the graph as N-Triples: a page that names thousands of resources reads them again from
-- here, in one query, and the page of a source every record cites what points at it
CREATE TABLE IF NOT EXISTS pages (document TEXT PRIMARY KEY, files TEXT, entry TEXT, reads BLOB) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lookups (id INTEGER PRIMARY KEY, kind TEXT, key TEXT, answer TEXT);
-- the answer of a long `pointing_at` read (its lookups row's answer is then ''): who points at the
-- object, by which predicate; changed row by row with the graph, not written again whole
CREATE TABLE IF NOT EXISTS pointing (object TEXT, subject TEXT, predicate TEXT, PRIMARY KEY (object, subject, predicate)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reads (document TEXT, lookup INTEGER, PRIMARY KEY (document, lookup)) WITHOUT ROWID;
-- what sorting each row of a list cut short read, of the rows not shown (ndlld.lookup.ranked):
-- a change to one makes the page again only when the row may now sort among those shown
CREATE TABLE IF NOT EXISTS ranked (document TEXT, row TEXT, lookup INTEGER, PRIMARY KEY (document, row, lookup)) WITHOUT ROWID;
-- and the key each such row sorted by: a page made again places it by that, unread; and who the
-- row is, which a change to what its key read of that resource itself finds it by (not in ranked)
CREATE TABLE IF NOT EXISTS row_keys (document TEXT, row TEXT, key TEXT, who TEXT, PRIMARY KEY (document, row)) WITHOUT ROWID;
-- what the pages give the index (ndlld.incremental.listing): each resource listed in each list it
-- is in, by its sort key (its name in lower case) and IRI, with its parents and fields (JSON); and
-- of each page giving some, the publisher's links and involvements (JSON)
CREATE TABLE IF NOT EXISTS listed (list TEXT, sort TEXT, iri TEXT, document TEXT, parents TEXT, item TEXT,
    PRIMARY KEY (list, sort, iri)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS listed_by_document ON listed (document);
CREATE INDEX IF NOT EXISTS listed_by_iri ON listed (iri);
CREATE TABLE IF NOT EXISTS given (document TEXT PRIMARY KEY, links TEXT, involvements TEXT) WITHOUT ROWID;
"""
# Every table but meta, which :meth:`State.clear` empties: read from their definitions, so that none is forgotten.
_DATA_TABLES = [name for name in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", _TABLES) if name != "meta"]
BULK_LOAD_AT_ONCE = 100_000  # statements handed to the graph store's bulk loader at a time

# The pages' reads by what was read: dropped while a build from scratch writes millions of rows.
READ_INDEXES = {
    "lookups_by_read": "CREATE UNIQUE INDEX IF NOT EXISTS lookups_by_read ON lookups (kind, key)",
    "reads_by_lookup": "CREATE INDEX IF NOT EXISTS reads_by_lookup ON reads (lookup)",
    "ranked_by_lookup": "CREATE INDEX IF NOT EXISTS ranked_by_lookup ON ranked (lookup)",
    "row_keys_by_who": "CREATE INDEX IF NOT EXISTS row_keys_by_who ON row_keys (who)",
}
_TABLES += "".join(f"{statement};\n" for statement in READ_INDEXES.values())
# The subjects by N-Triples subject, the order of two dumps: a chunk's subjects found without a scan.
_TABLES += f"CREATE INDEX IF NOT EXISTS subjects_by_nt ON subjects ({SUBJECT_NT});\n"


def statement_digest(line: bytes) -> bytes:
    """What the ``stated`` table knows a statement by: a digest of its N-Triples line."""
    return hashlib.blake2b(line, digest_size=16).digest()


@dataclass
class State:
    """The cache directory's two stores, open for one build."""

    directory: Path
    db: sqlite3.Connection
    store: Store
    search: KeptIndex

    @classmethod
    def open(cls, directory: str | Path) -> State:
        """Open (or create) the state in *directory*; one this code cannot use (another
        version's, or not a state at all) is removed and started empty."""
        directory = Path(directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            db = _connected(directory)
            if db is None:
                _remove(directory)
                db = _connected(directory)
            assert db is not None  # a new file is always this version's
            db.executescript(_TABLES)
            store = Store(str(directory / "graph"))
        except (OSError, sqlite3.DatabaseError) as err:
            raise ConfigError(f"cannot use the build cache: {err}", path=directory) from None
        return cls(directory, db, store, KeptIndex(directory))

    def close(self) -> None:
        self.search.close()
        self.db.close()
        del self.store

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- what the state is -----------------------------------------------------
    def get(self, key: str) -> bytes | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def text(self, key: str) -> str:
        """A value of the state's meta table as text ("" when missing)."""
        value = self.get(key)
        return value.decode("utf-8") if isinstance(value, bytes) else "" if value is None else str(value)

    def put(self, key: str, value: bytes | str | int | None) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def generation(self) -> int | None:
        """The generation both stores agree on, or None (empty, or left apart by a killed build)."""
        kept = self.get("generation")
        in_store = [str(q.object) for q in self.store.quads_for_pattern(GENERATION, GENERATION, None, DefaultGraph())]
        if kept is None or in_store != [str(Literal(str(int(kept))))]:
            return None
        return int(kept)

    @contextmanager
    def writing(self, keep: bool = True) -> Iterator[None]:
        """One transaction of the SQLite store, kept at the end of the block when *keep*
        (the generation is raised in both stores), and rolled back otherwise or on an error."""
        generation = (self.generation or 0) + 1
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            self.search.rollback()
            raise
        self.search.rollback()  # what the build wrote and did not publish (KeptIndex.publish)
        if not keep:
            self.db.execute("ROLLBACK")
            return
        self.put("generation", generation)
        self._set_store_generation(generation)
        self.db.execute("COMMIT")

    def _set_store_generation(self, generation: int) -> None:
        old = list(self.store.quads_for_pattern(GENERATION, GENERATION, None, DefaultGraph()))
        for quad in old:
            self.store.remove(quad)
        self.store.add(Quad(GENERATION, GENERATION, Literal(str(generation)), DefaultGraph()))
        self.store.flush()

    def clear(self) -> None:
        """Empty both stores (inside :meth:`writing`): the next state is written whole."""
        for table in _DATA_TABLES:
            self.db.execute(f"DELETE FROM {table}")  # noqa: S608 - the names are these constants
        self.db.execute("DELETE FROM meta WHERE key NOT IN ('schema', 'generation')")

    # -- the graph ---------------------------------------------------------------
    def load_graph(self, triples: list[Triple], graph: NamedNode, vocabulary: list[Triple], vocabulary_graph: NamedNode) -> None:
        """The whole graph into the graph store (emptied first), as the embedded store lays it out."""
        self.store.clear()
        self.store.flush()
        # A part at a time: the bulk loader holds up to a million statements for each thread.
        for start in range(0, len(triples), BULK_LOAD_AT_ONCE):
            self.store.bulk_extend(Quad(t.subject, t.predicate, t.object, graph) for t in triples[start : start + BULK_LOAD_AT_ONCE])
        self.store.bulk_extend(Quad(t.subject, t.predicate, t.object, vocabulary_graph) for t in vocabulary)
        self.store.optimize()  # the parts' files merged: queries read fewer of them

    def change_graph(self, removed: Iterable[Triple], added: Iterable[Triple], graph: NamedNode) -> None:
        for t in removed:
            self.store.remove(Quad(t.subject, t.predicate, t.object, graph))
        self.store.extend(Quad(t.subject, t.predicate, t.object, graph) for t in added)

    def checkpoint(self, out_dir: Path) -> None:
        """The graph store as committed, kept for ``ndlld query`` to open read-only while
        *out_dir* holds the output it is the graph of (:mod:`ndlld.published`)."""
        generation = self.generation
        if generation is None:  # pragma: no cover - called after a commit, which sets it
            return
        try:
            published.keep(self.store, self.directory, out_dir, generation, dataset_graph(self.text("base")))
        except OSError as err:
            raise ConfigError(
                f"the output is published, but its graph could not be kept for 'ndlld query' ({err}): queries load the dumps",
                path=self.directory,
            ) from None


def _connected(directory: Path) -> sqlite3.Connection | None:
    """The SQLite store of *directory*, if it is one of this version (or new)."""
    db = sqlite3.connect(directory / "state.sqlite", isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA cache_size=-65536")  # KiB: the default 2 MB thrashes on the reads of 100,000 pages
        if _schema_version(db) == SCHEMA_VERSION:
            return db
    except sqlite3.DatabaseError:  # not an SQLite file
        pass
    db.close()
    return None


def _schema_version(db: sqlite3.Connection) -> int | None:
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID")
    row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if row is None:
        if db.execute("SELECT count(*) FROM meta").fetchone()[0]:
            return None  # an older state, from before the version was kept
        db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        return SCHEMA_VERSION
    return int(row[0])


def _remove(directory: Path) -> None:
    for name in ("state.sqlite", "state.sqlite-wal", "state.sqlite-shm"):
        (directory / name).unlink(missing_ok=True)
    shutil.rmtree(directory / "graph", ignore_errors=True)
    remove_index(directory)
    published.forget(directory)  # a checkpoint a query has open stays until the next build


def ntriples(triples: Iterable[Triple]) -> str:
    return serialized(list(triples), RdfFormat.N_TRIPLES).decode("utf-8")


def triples_of(text: str) -> list[Triple]:
    return [q.triple for q in parse(text.encode("utf-8"), format=RdfFormat.N_TRIPLES)]


def keeps_pointers(db: sqlite3.Connection, obj: str) -> bool:
    """Whether the state keeps who points at *obj* (the answer of a long ``pointing_at`` read)."""
    return db.execute("SELECT 1 FROM lookups WHERE kind = 'pointing_at' AND key = ? AND answer IS NOT NULL", (obj,)).fetchone() is not None


def kept_pointers(db: sqlite3.Connection, obj: str) -> list[tuple[str, str]]:
    """Who points at *obj*, by which predicate, as the state keeps it (:func:`keep_pointers`):
    in the order of the IRIs, as :func:`ndlld.lookup.in_order` gives such statements."""
    return db.execute("SELECT subject, predicate FROM pointing WHERE object = ? ORDER BY subject, predicate", (obj,)).fetchall()


def keep_pointers(db: sqlite3.Connection, obj: str, pointers: Iterable[tuple[str, str]]) -> None:
    """Keep who points at the IRI *obj* (*pointers*: subject and predicate IRIs, a graph with
    a blank node stops at its dumps before the state keeps anything of it)."""
    db.executemany("INSERT OR IGNORE INTO pointing VALUES (?, ?, ?)", ((obj, subject, predicate) for subject, predicate in pointers))


def forget_pointers(db: sqlite3.Connection, obj: str, pointers: Iterable[tuple[str, str]]) -> None:
    db.executemany("DELETE FROM pointing WHERE object = ? AND subject = ? AND predicate = ?", ((obj, s, p) for s, p in pointers))


def to_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def note_subjects(state: State, subjects: Iterable[str]) -> None:
    """Every subject of a graph (written whole), with its document."""
    from ndlld.lookup import document_of

    state.db.execute("DELETE FROM subjects")
    state.db.executemany("INSERT INTO subjects VALUES (?, ?)", ((s, document_of(s)) for s in sorted(set(subjects))))


def change_subjects(state: State, gone: Iterable[str], new: Iterable[str]) -> None:
    from ndlld.lookup import document_of

    state.db.executemany("DELETE FROM subjects WHERE iri = ?", ((s,) for s in gone))
    state.db.executemany("INSERT OR IGNORE INTO subjects VALUES (?, ?)", ((s, document_of(s)) for s in new))
