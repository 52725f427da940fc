"""The pages of an incremental build: only those that looked up something a change touched are made again.

While a page is rendered, its view notes every question it asks of the graph
(:class:`ndlld.lookup.Recording`); the state keeps those reads, by page. A change
answers some questions differently: ``about`` a subject whose statements came or
went, ``in_document`` of its document, ``pointing_at`` an object that gained or
lost one, and ``documents`` when a page appeared or went. The pages that asked
one of those are rendered again; every other page's files are kept as published,
once the file system shows they are (inode, size, time), else linked from the
published output, else rendered again too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import NamedNode, Triple

from ndlld.incremental.state import State, to_json
from ndlld.lookup import Read, document_of
from ndlld.rdf import subject_value


def touched_reads(removed: Iterable[Triple], added: Iterable[Triple], documents_changed: bool) -> set[Read]:
    """The questions a change answers differently."""
    reads: set[Read] = {("documents", "")} if documents_changed else set()
    for triple in [*removed, *added]:
        subject = subject_value(triple)
        reads.update({("about", subject), ("in_document", document_of(subject))})
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


@dataclass(frozen=True)
class Facts:
    """What the file system says of a published file: enough to notice it was changed."""

    inode: int
    size: int
    modified: int

    @classmethod
    def of(cls, path: Path) -> Facts | None:
        try:
            info = os.lstat(path)
        except OSError:
            return None
        return cls(info.st_ino, info.st_size, info.st_mtime_ns)


def keep_pages(state: State, out_dir: Path, written: dict) -> None:
    """Note each page's files (as they lie in *out_dir*) and what it read (each a
    :class:`ndlld.site.Written`); None: the page is gone."""
    for document, page in written.items():
        state.db.execute("DELETE FROM reads WHERE document = ?", (document,))
        state.db.execute("DELETE FROM pages WHERE document = ?", (document,))
        if page is None:
            continue
        facts = {name: _facts_row(out_dir / name) for name in page.files}
        state.db.execute("INSERT INTO pages VALUES (?, ?, ?)", (document, to_json(facts), to_json(page.entry.to_json())))
        state.db.executemany("INSERT OR IGNORE INTO lookups (kind, key) VALUES (?, ?)", page.reads)
        state.db.executemany(
            "INSERT OR IGNORE INTO reads SELECT id, ? FROM lookups WHERE kind = ? AND key = ?", ((document, k, v) for k, v in page.reads)
        )


def entries(state: State, excluded: set[str]) -> dict[str, list]:
    """What each published page but *excluded* gives the index, as kept (JSON)."""
    return {
        document: json.loads(entry) for document, entry in state.db.execute("SELECT document, entry FROM pages") if document not in excluded
    }


def published(state: State) -> set[str]:
    """The documents whose pages the last build published."""
    return {document for (document,) in state.db.execute("SELECT document FROM pages")}


def _facts_row(path: Path) -> list[int] | None:
    facts = Facts.of(path)
    return [facts.inode, facts.size, facts.modified] if facts else None


def kept_files(state: State, documents: set[str]) -> dict[str, dict[str, list[int] | None]]:
    """The files of every page but *documents*, with their facts as published (by name)."""
    return {
        document: json.loads(files)
        for document, files in state.db.execute("SELECT document, files FROM pages")
        if document not in documents
    }


def place_kept(out_dir: Path, previous: Path, kept: dict[str, dict[str, list[int] | None]]) -> set[str]:
    """Make each kept page's files in *out_dir* those published: there already, else linked
    from *previous*; the pages for which neither holds (edited by hand) are returned, to be
    rendered again."""
    again = set()
    for document, files in kept.items():
        for name, facts in files.items():
            if facts is not None and _facts_row(out_dir / name) == facts:
                continue
            if facts is not None and _facts_row(previous / name) == facts:
                _link(previous / name, out_dir / name)
                continue
            again.add(document)
            break
    return again


def _link(old: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(old, target, follow_symlinks=False)
    except FileExistsError:
        os.unlink(target)
        os.link(old, target, follow_symlinks=False)
