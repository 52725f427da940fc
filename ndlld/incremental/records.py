"""Which record files changed since the last build, and what the graph gains and loses by it.

A file whose device, inode, mode, size and times are those the last build noted
is taken as unchanged without being read, as git's index does; one changed
less than :data:`RACY_NANOSECONDS` before that build looked could have been
rewritten since with the same facts, so it is read again. A file read again
whose bytes are those the last build read is unchanged too.

A changed file's statements are compared with those it made before, and a
statement enters or leaves the graph only with the first or the last file
stating it (directly, or as the inverse of one of its statements).
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import NamedNode, RdfFormat, Triple, parse

from ndlld.context import Context
from ndlld.graph import Part, read_each
from ndlld.incremental.state import State, statement_digest, to_json
from ndlld.rdf import serialized
from ndlld.sources import MAX_FILE_BYTES

RACY_NANOSECONDS = 2_000_000_000
_FACTS = struct.Struct("<QQQQqq")  # device, inode, mode, size, modification and change times (ns)


def facts(info: os.stat_result | None) -> bytes | None:
    """What the file system says of a file, as the state keeps it."""
    if info is None:
        return None
    return _FACTS.pack(info.st_dev, info.st_ino, info.st_mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


@dataclass
class FileChange:
    """A record file that is new, gone, or whose bytes changed; its parts before and after."""

    path: str
    before: Part | None
    after: Part | None


@dataclass
class Delta:
    """What the records that changed change in the graph."""

    files: list[FileChange] = field(default_factory=list)
    removed: set[Triple] = field(default_factory=set)
    added: set[Triple] = field(default_factory=set)
    noted: dict[str, tuple[bytes | None, bytes]] = field(default_factory=dict)  # path -> (facts, digest) to keep

    @property
    def paths(self) -> list[str]:
        return [change.path for change in self.files]


def changed_files(
    state: State, files: list[tuple[str, os.stat_result | None]], looked: int
) -> tuple[list[str], dict[str, tuple[bytes | None, bytes]]]:
    """The record files (but dataset.yaml) whose bytes differ from those the last build read,
    those gone, and what to note of each file read now (facts and digest)."""
    # The digests are read only for the files whose facts differ: reading them all costs more than the rest.
    noted = dict(state.db.execute("SELECT path, facts FROM files"))
    noted.pop(state.text("dataset_path"), None)  # its digest says whether it changed (a build from scratch then)
    changed, keep = [], {}
    recent = looked - RACY_NANOSECONDS
    for path, info in files:
        now = facts(info)
        known = path in noted
        before = noted.pop(path, None)
        if known and now is not None and before == now:
            continue
        digest = _digest(path)
        if digest is not None:
            keep[path] = (_trusted(now, recent), digest)
        if not known or digest is None or digest != _noted_digest(state, path):
            changed.append(path)
    changed += list(noted)  # removed since
    return changed, keep


def _noted_digest(state: State, path: str) -> bytes | None:
    row = state.db.execute("SELECT digest FROM files WHERE path = ?", (path,)).fetchone()
    return row[0] if row else None


def noted_now(files: list[tuple[str, os.stat_result | None]], looked: int) -> dict[str, tuple[bytes | None, bytes]]:
    """What to note of each record file for a build from scratch, taken before it reads them
    (*looked*): its facts (None for one changed too close to that) and a digest of its bytes."""
    recent = looked - RACY_NANOSECONDS
    noted = {}
    for path, info in files:
        digest = _digest(path)
        if digest is not None:
            noted[path] = (_trusted(facts(info), recent), digest)
    return noted


def _trusted(now: bytes | None, recent: int) -> bytes | None:
    """*now*, if a later build may trust it; None for a file changed too close to this look."""
    if now is None:
        return None
    *_, modified, changed = _FACTS.unpack(now)
    return now if max(modified, changed) < recent else None


def _digest(path: str) -> bytes | None:
    """A digest of the file's bytes, or None for what reading would refuse."""
    try:
        info = os.stat(path)
        if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_FILE_BYTES:
            return hashlib.sha256(Path(path).read_bytes()).digest()
    except OSError:
        pass
    return None


def read_changes(state: State, paths: list[str], base: str, context: Context) -> list[FileChange]:
    """Each changed file's part as the last build had it, and as it is now (None: gone)."""
    existing = [path for path in paths if os.path.lexists(path)]
    fresh = {part.paths[0]: part for part in read_each(existing, base, context.document)}
    changes = []
    for path in paths:
        row = state.db.execute("SELECT part FROM files WHERE path = ?", (path,)).fetchone()
        changes.append(FileChange(path, decode_part(path, row[0]) if row else None, fresh.get(path)))
    return changes


def has_errors(changes: list[FileChange]) -> bool:
    """Whether a changed file could not be read or converted: the build from scratch then
    reports every problem of every file, as it words them."""
    return any(c.after is not None and (c.after.read_errors or c.after.errors) for c in changes)


def contribution(part: Part, inverses: dict[str, str]) -> set[Triple]:
    """The statements one file brings to the graph: its own and their inverses."""
    return {q.triple for q in parse(part.ntriples, format=RdfFormat.N_TRIPLES)} | set(_inverses(part, inverses))


def apply(state: State, changes: list[FileChange], notes: dict[str, tuple[bytes | None, bytes]], inverses: dict[str, str]) -> Delta:
    """Note the changed files in the state (their parts, nodes, references, and which
    statements each states) and return what the graph gains and loses: a statement leaves
    it with the last file stating it, and enters it with the first."""
    delta = Delta(files=changes)
    leaving, entering = set(), set()
    for change in changes:
        before = contribution(change.before, inverses) if change.before else set()
        after = contribution(change.after, inverses) if change.after else set()
        for triple in before - after:
            digest = _line_digest(triple)
            state.db.execute("DELETE FROM stated WHERE statement = ? AND path = ?", (digest, change.path))
            if state.db.execute("SELECT 1 FROM stated WHERE statement = ?", (digest,)).fetchone() is None:
                leaving.add(triple)
        for triple in after - before:
            digest = _line_digest(triple)
            if state.db.execute("SELECT 1 FROM stated WHERE statement = ?", (digest,)).fetchone() is None:
                entering.add(triple)
            state.db.execute("INSERT INTO stated VALUES (?, ?)", (digest, change.path))
        _note_file(state, change, notes.get(change.path))
    for path, (facts_, digest) in notes.items():
        state.db.execute("UPDATE files SET facts = ?, digest = ? WHERE path = ?", (facts_, digest, path))
    delta.removed, delta.added = leaving - entering, entering - leaving
    return delta


def _note_file(state: State, change: FileChange, note: tuple[bytes | None, bytes] | None, emptied: bool = False) -> None:
    """The file's row, nodes and references as they are now (in place of those it had,
    unless the state was *emptied*)."""
    for table in () if emptied else ("files", "nodes", "refs"):
        state.db.execute(f"DELETE FROM {table} WHERE path = ?", (change.path,))  # noqa: S608 - constant names
    part = change.after
    if part is None:
        return
    facts_, digest = note or (None, b"")
    state.db.execute("INSERT INTO files VALUES (?, ?, ?, ?)", (change.path, facts_, digest, encode_part(part)))
    state.db.executemany(
        "INSERT OR REPLACE INTO nodes VALUES (?, ?, ?, ?)", [(iri, change.path, line, written) for iri, written, _, line in part.nodes]
    )
    state.db.executemany("INSERT OR IGNORE INTO refs VALUES (?, ?, ?)", [(iri, change.path, line) for iri, _, line in part.references])


def broken_links(state: State, changes: list[FileChange]) -> bool:
    """Whether the changes leave a reference to a resource no record describes, or a
    resource described twice: the build from scratch then says where, as it words it."""
    described_now = [iri for c in changes if c.after for iri, *_ in c.after.nodes]
    if any(_descriptions(state, iri) != 1 for iri in described_now):
        return True
    gone = {iri for c in changes if c.before for iri, *_ in c.before.nodes} - set(described_now)
    referenced = {iri for c in changes if c.after for iri, *_ in c.after.references}
    return any(_descriptions(state, iri) == 0 and (iri in referenced or _referenced(state, iri)) for iri in gone | referenced)


def _descriptions(state: State, iri: str) -> int:
    return state.db.execute("SELECT count(*) FROM nodes WHERE iri = ?", (iri,)).fetchone()[0]


def _referenced(state: State, iri: str) -> bool:
    return state.db.execute("SELECT 1 FROM refs WHERE iri = ?", (iri,)).fetchone() is not None


def note_all(state: State, parts: list[Part], notes: dict[str, tuple[bytes | None, bytes]], inverses: dict[str, str]) -> None:
    """Every record file of a build from scratch into the emptied state: one part per file."""
    stated: set[tuple[bytes, str]] = set()
    for part in parts:
        change = FileChange(part.paths[0], None, part)
        _note_file(state, change, notes.get(change.path), emptied=True)
        lines = part.ntriples.splitlines(keepends=True)
        mirrored = _inverses(part, inverses)
        if mirrored:
            lines += serialized(mirrored, RdfFormat.N_TRIPLES).splitlines(keepends=True)
        stated.update((statement_digest(line), change.path) for line in lines)
    # In the table's order: rows in the order of their digests would be written all over it.
    state.db.executemany("INSERT INTO stated VALUES (?, ?)", sorted(stated))


def _inverses(part: Part, inverses: dict[str, str]) -> list[Triple]:
    return [
        Triple(t.object, NamedNode(inverses[t.predicate.value]), t.subject)
        for t in (q.triple for q in parse(part.ntriples, format=RdfFormat.N_TRIPLES))
        if t.predicate.value in inverses and isinstance(t.object, NamedNode)
    ]


def _line_digest(triple: Triple) -> bytes:
    return statement_digest(serialized([triple], RdfFormat.N_TRIPLES))


def encode_part(part: Part) -> str:
    """A file's part as the state keeps it: JSON, its statements as N-Triples text."""
    return to_json(
        {
            "ntriples": part.ntriples.decode("utf-8"),
            "lines": list(part.origins[1::2]),
            "nodes": [[iri, written, line] for iri, written, _, line in part.nodes],
            "references": [[iri, line] for iri, _, line in part.references],
        }
    )


def decode_part(path: str, text: str) -> Part:
    import json
    from array import array

    kept = json.loads(text)
    origins = array("I")
    for line in kept["lines"]:
        origins.extend((0, line))
    return Part(
        paths=[path],
        ntriples=kept["ntriples"].encode("utf-8"),
        origins=origins,
        nodes=[(iri, written, 0, line) for iri, written, line in kept["nodes"]],
        references=[(iri, 0, line) for iri, line in kept["references"]],
    )
