"""The search index: the names, alternate names and descriptions of every resource the
index page lists, in English and Japanese, as a SQLite file that ``ndlld serve`` queries
at ``/search`` and ``/reconcile`` (:mod:`ndlld.reconcile`).

* SQLite FTS5 (https://sqlite.org/fts5.html), in Python's standard library: the file is
  queried where it lies, by every server process, without loading it. Why a database and
  not a JSON index: bench/search.md.
* It is not in the output: a build with the cache keeps it beside its state and changes
  the rows of the pages it makes again (:mod:`ndlld.incremental.search`), and SQLite
  changed in place is not byte for byte what a build from scratch writes, which every file
  of the output must be. A server without it makes one from the output's dumps
  (:mod:`ndlld.finding`). Either way it is a function of the resources: the same queries
  get the same answers (tests/test_incremental.py).
* Japanese is written without spaces between words, so every run of kana and kanji is
  indexed as its character bigrams (and its last character, so that one character can be
  looked up by prefix); other scripts by word. Both sides are folded the same way: NFKC
  (full-width Latin and digits to ASCII, half-width katakana to full-width), then case;
  FTS5's ``unicode61`` tokenizer then drops diacritics. Kana and kanji stay as written:
  no reading is guessed.
* Ranking: a name, alternate name, abbreviation or id equal to the query (folded,
  punctuation aside, without a leading "The") first, then names that begin with it (the
  shortest first), then the other resources matching every word, names weighing ten times
  descriptions (FTS5's bm25); ties by IRI, so that no answer depends on the rows' order.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from ndlld.errors import LimitError

INDEX_FILE = "search.sqlite"
MAX_QUERY_CHARS = 200  # of a query: longer ones are refused (400)
MAX_RESULTS = 100  # a page of results at most
MAX_TOKENS = 24  # of a query's words and bigrams: the rest are ignored
CANDIDATES = 50  # looked at by a fuzzy query, the best by bm25
COMMON = 2_000  # names a word may be in and still help a fuzzy query find one
NAME, ALTERNATE, DESCRIPTION = "name", "alternateName", "description"
_SCHEMA = (
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID",
    "CREATE TABLE resource(id INTEGER PRIMARY KEY, iri TEXT UNIQUE, texts TEXT, types TEXT)",
    "CREATE TABLE name_key(key TEXT, id INTEGER, PRIMARY KEY(key, id)) WITHOUT ROWID",
    "CREATE INDEX name_key_by_id ON name_key(id)",
    "CREATE VIRTUAL TABLE words USING fts5(names, descriptions, tokenize = 'unicode61 remove_diacritics 2', detail = column)",
)
# Kana, kanji and their marks (々, ー): written without spaces, indexed by bigrams.
_CJK = "\u3005\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(f"([{_CJK}]+)|((?:(?![{_CJK}])[^\\W_])+)")
_THE = re.compile(r"^the\s+")
_PUNCTUATION = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class Resource:
    """What the index holds of one resource: its IRI, its types, and its texts as
    (property, language, text): names, alternate names, descriptions."""

    iri: str
    types: tuple[str, ...]
    texts: tuple[tuple[str, str, str], ...]

    def text(self, kind: str, language: str | None = None) -> str | None:
        for found, lang, value in self.texts:
            if found == kind and (language is None or lang == language):
                return value
        return None

    def all(self, kind: str) -> list[str]:
        return [value for found, _, value in self.texts if found == kind]

    @property
    def name(self) -> str:
        return self.text(NAME, "en") or self.text(NAME) or self.iri

    @property
    def names(self) -> list[str]:
        """Every name and alternate name, in every language."""
        return [value for kind, _, value in self.texts if kind in (NAME, ALTERNATE)]


def fold(text: str) -> str:
    """*text* as the index compares it: NFKC, case-folded, spaces made one."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def name_key(text: str) -> str:
    """A name as an exact match compares it: folded, punctuation as spaces ("IFLA-PAC" is
    "IFLA PAC"), without a leading "The"."""
    return _THE.sub("", " ".join(_PUNCTUATION.sub(" ", fold(text)).split()))


def tokens(text: str, query: bool = False) -> list[str]:
    """The words of *text*, and the bigrams of its runs of kana and kanji (with the last
    character of each run, for the index; for a query, a run of one character alone)."""
    found = []
    for cjk, word in _TOKEN.findall(fold(text)):
        if word:
            found.append(word)
        elif len(cjk) == 1 or not query:
            found += [cjk[i : i + 2] for i in range(len(cjk) - 1)] + [cjk[-1]]
        else:
            found += [cjk[i : i + 2] for i in range(len(cjk) - 1)]
    return found


# -- writing it ----------------------------------------------------------------------------
FORMAT = "2"  # of the tables below: an index of another format is made again whole


def connect(path: Path) -> sqlite3.Connection:
    """The index at *path* to write, in autocommit mode (transactions are the caller's), its
    journal a write-ahead log: the server processes read the last committed state while a
    build writes the next one. A commit is not synced to the disk (only the log's checkpoints
    are): a build's last one lost to a power cut leaves the index behind its output, which the
    next build sees and writes it whole (:mod:`ndlld.incremental.search`)."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def write_all(db: sqlite3.Connection, resources: Iterable[Resource], base: str, output: str = "") -> None:
    """The tables of *db* made again with *resources* alone (by IRI order), inside the
    caller's transaction."""
    start_all(db, base, output)
    add(db, sorted(resources, key=lambda r: r.iri))
    finish_all(db)


def start_all(db: sqlite3.Connection, base: str, output: str = "") -> None:
    """The tables of *db* made again, empty, inside the caller's transaction: their rows are
    added as they come (:func:`add`), then :func:`finish_all`."""
    for table in ("words", "name_key", "resource", "meta"):
        db.execute(f"DROP TABLE IF EXISTS {table}")  # noqa: S608 - these names
    for statement in _SCHEMA:  # one by one: executescript would commit the caller's transaction
        db.execute(statement)
    db.executemany("INSERT INTO meta VALUES (?, ?)", [("base", base), ("format", FORMAT), ("output", output)])


def add(db: sqlite3.Connection, resources: Iterable[Resource]) -> None:
    """Rows for *resources*, none of which the index has, inside the caller's transaction."""
    base = meta(db, "base") or ""
    for resource in resources:
        _insert(db, resource, base)


def finish_all(db: sqlite3.Connection) -> None:
    """The full-text index of an index written whole merged into one segment, as it is queried."""
    db.execute("INSERT INTO words(words) VALUES ('optimize')")


def change(db: sqlite3.Connection, resources: Mapping[str, Resource | None]) -> int:
    """The rows of the IRIs of *resources* made theirs (None: removed), inside the caller's
    transaction; those already so are left alone. How many changed."""
    base = meta(db, "base") or ""
    changed = 0
    for iri, resource in sorted(resources.items()):
        row = db.execute("SELECT id, texts, types FROM resource WHERE iri = ?", (iri,)).fetchone()
        if row is not None and resource is not None and _resource(iri, row[1], row[2]) == resource:
            continue
        if row is not None:
            db.execute("DELETE FROM words WHERE rowid = ?", (row[0],))
            db.execute("DELETE FROM name_key WHERE id = ?", (row[0],))
            db.execute("DELETE FROM resource WHERE id = ?", (row[0],))
        if resource is not None:
            _insert(db, resource, base)
        changed += 1
    return changed


def meta(db: sqlite3.Connection, key: str) -> str | None:
    """A value of the index's meta table (``base``, ``format``, ``output``); None when there
    is none, or no such table (not an index of this format)."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


def _insert(db: sqlite3.Connection, resource: Resource, base: str) -> None:
    texts = json.dumps(resource.texts, ensure_ascii=False)
    number = db.execute(
        "INSERT INTO resource(iri, texts, types) VALUES (?, ?, ?)", (resource.iri, texts, " ".join(resource.types))
    ).lastrowid
    keys = {name_key(text) for text in resource.names} | {name_key(resource.iri[len(base) + 3 :])}
    db.executemany("INSERT OR IGNORE INTO name_key VALUES (?, ?)", [(key, number) for key in sorted(keys) if key])
    names = " ".join(token for text in resource.names for token in tokens(text))
    descriptions = " ".join(token for text in resource.all(DESCRIPTION) for token in tokens(text))
    db.execute("INSERT INTO words(rowid, names, descriptions) VALUES (?, ?, ?)", (number, names, descriptions))


def made_with(path: Path) -> str | None:
    """The ``output`` the index at *path* was made for (the SHA-256 of its ``SHA256SUMS``),
    when it is an index of this format; else None."""
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        return meta(db, "output") if meta(db, "format") == FORMAT else None
    finally:
        db.close()


# -- queries, for ndlld serve --------------------------------------------------------------
@dataclass
class Hit:
    """A resource found, with how well it matched: *exact* when a name equals the query."""

    resource: Resource
    exact: bool
    rank: float  # FTS5's bm25: lower is better


@dataclass
class Query:
    """A query as the index runs it: its text, the types a result must have one of (any,
    when empty), how many results from which, and when to give up (a monotonic time)."""

    text: str
    types: frozenset[str] = frozenset()
    limit: int = 20
    offset: int = 0
    deadline: float = field(default_factory=lambda: time.monotonic() + 5.0)


class SearchIndex:
    """The index file at *path*, opened afresh for each query: a build that changes it
    commits at once, so the next query reads the new rows, and one under way its own."""

    def __init__(self, path: Path):
        self.path = path

    @staticmethod
    def refuse(text: str) -> str | None:
        """Why *text* cannot be searched for, or None."""
        if not text.strip():
            return "give a text to search for in the 'q' parameter"
        if len(text) > MAX_QUERY_CHARS:
            return f"the query may have at most {MAX_QUERY_CHARS} characters, not {len(text)}"
        return None

    def search(self, query: Query) -> list[Hit]:
        """Resources matching every word of the query (the last as a prefix), exact names first."""
        with self._open(query.deadline) as connection:
            return self._ranked(connection, query, _match(tokens(query.text, query=True), "AND"))

    def candidates(self, query: Query) -> list[Hit]:
        """Resources whose names share a word, a bigram or the first letters of a word with the
        query, for a caller that scores them itself (reconciliation): the best by bm25. Words in
        more than :data:`COMMON` names ("library") find nothing in particular and cost the more
        the larger the dataset: they are left out, unless nothing else is left."""
        words = tokens(query.text, query=True)
        # A word with a typo still begins as it should, mostly: "ifal" finds "ifla" by "if".
        starts = [(w[:2] if len(w) <= 5 else w[:3]) + "*" for w in words if len(w) >= 4 and w.isascii()]
        with self._open(query.deadline) as connection:
            connection.execute("CREATE VIRTUAL TABLE temp.vocabulary USING fts5vocab(main, words, 'col')")
            rare = [w for w in dict.fromkeys(words + starts) if _names_with(connection, w) <= COMMON]
            match = _match(rare, "OR") if rare else _match(words, "AND")
            return self._ranked(connection, query, match and f"names : ({match})")

    def get(self, ids: Iterable[str]) -> dict[str, Resource]:
        """The resources of these IRIs that the index has."""
        wanted = list(dict.fromkeys(ids))[: MAX_RESULTS * 10]
        with self._open(time.monotonic() + 5.0) as connection:
            marks = ",".join("?" * len(wanted))
            rows = connection.execute(f"SELECT iri, texts, types FROM resource WHERE iri IN ({marks})", wanted).fetchall()
        return {iri: _resource(iri, texts, types) for iri, texts, types in rows}

    def types(self) -> dict[str, int]:
        """Every type of an indexed resource, with how many have it."""
        counts: dict[str, int] = {}
        with self._open(time.monotonic() + 5.0) as connection:
            for (types,) in connection.execute("SELECT types FROM resource"):
                for type_ in types.split():
                    counts[type_] = counts.get(type_, 0) + 1
        return counts

    def base(self) -> str:
        with self._open(time.monotonic() + 5.0) as connection:
            return connection.execute("SELECT value FROM meta WHERE key = 'base'").fetchone()[0]

    def _ranked(self, connection: sqlite3.Connection, query: Query, match: str | None) -> list[Hit]:
        exact = _exact(connection, name_key(query.text))
        hits = {iri: Hit(_resource(iri, texts, types), True, -1e9) for iri, texts, types in exact}
        if match is not None:
            sql = (
                "SELECT r.iri, r.texts, r.types, bm25(words, 10.0, 1.0) AS rank FROM words JOIN resource r ON r.id = words.rowid "
                "WHERE words MATCH ? ORDER BY rank, r.iri LIMIT ?"
            )
            wanted = max(query.offset + query.limit, CANDIDATES) * (4 if query.types else 1)
            for iri, texts, types, rank in connection.execute(sql, (match, wanted)):
                hits.setdefault(iri, Hit(_resource(iri, texts, types), False, rank))
        found = [hit for hit in hits.values() if not query.types or query.types & set(hit.resource.types)]
        key = name_key(query.text)

        def order(hit: Hit) -> tuple:
            # Names that begin with the query next, the shortest first: "national diet" finds the
            # library before its bulletin.
            beginning = [len(n) for n in map(name_key, hit.resource.names) if n.startswith(key)]
            return (not hit.exact, not beginning, min(beginning, default=0), hit.rank, hit.resource.iri)

        found.sort(key=order)
        return found[query.offset : query.offset + query.limit]

    def _open(self, deadline: float) -> _Connection:
        return _Connection(self.path, deadline)


class _Connection:
    """A read-only connection to the index that stops its statement at *deadline* (503)."""

    def __init__(self, path: Path, deadline: float):
        self.path, self.deadline = path, deadline

    def __enter__(self) -> sqlite3.Connection:
        try:
            # Read-only, not immutable: a build changes the file in place (SQLite's write-ahead log
            # keeps each reader on the state it began with).
            self.connection = sqlite3.connect(f"file:{quote(str(self.path))}?mode=ro", uri=True, check_same_thread=False)
        except sqlite3.Error as err:
            raise LimitError(f"the search index cannot be read now: {err}", 503) from None
        self.connection.set_progress_handler(lambda: time.monotonic() > self.deadline, 100)
        return self.connection

    def __exit__(self, exc_type, exc, tb) -> None:
        self.connection.close()
        if isinstance(exc, sqlite3.OperationalError) and "interrupted" in str(exc):
            raise LimitError("the search took too long: try fewer or longer words", 503) from None
        if isinstance(exc, sqlite3.Error):
            raise LimitError(f"the search index cannot be read now: {exc}", 503) from None


def _exact(connection: sqlite3.Connection, key: str) -> Iterator[tuple[str, str, str]]:
    if not key:
        return iter(())
    sql = "SELECT r.iri, r.texts, r.types FROM name_key k JOIN resource r ON r.id = k.id WHERE k.key = ? ORDER BY r.iri LIMIT ?"
    return iter(connection.execute(sql, (key, MAX_RESULTS)).fetchall())


def _names_with(connection: sqlite3.Connection, word: str) -> int:
    """How many names have *word* (a prefix, with a trailing ``*``): FTS5's own vocabulary."""
    if word.endswith("*"):
        start = word[:-1]
        sql = "SELECT COALESCE(SUM(doc), 0) FROM vocabulary WHERE col = 'names' AND term >= ? AND term < ?"
        return connection.execute(sql, (start, start + "\U0010ffff")).fetchone()[0]
    return connection.execute("SELECT COALESCE(SUM(doc), 0) FROM vocabulary WHERE col = 'names' AND term = ?", (word,)).fetchone()[0]


def _match(words: list[str], operator: str) -> str | None:
    """An FTS5 query of *words* (each quoted; a trailing ``*`` kept as a prefix), joined by
    *operator*; the last word of an AND query is a prefix, for typing as one searches."""
    words = list(dict.fromkeys(words))[:MAX_TOKENS]
    if not words:
        return None
    quoted = [f'"{w[:-1]}"*' if w.endswith("*") else f'"{w}"' for w in words]
    if operator == "AND" and not quoted[-1].endswith("*"):
        quoted[-1] += "*"
    return f" {operator} ".join(quoted)


def _resource(iri: str, texts: str, types: str) -> Resource:
    return Resource(iri, tuple(types.split()), tuple(tuple(t) for t in json.loads(texts)))
