"""Which pages of the output being replaced can stay as they are.

While a page is rendered, the view notes every lookup it made (its own
statements, the names of what it links to, the links pointing at it, the roles
and meetings of the NDL's it lists …: :meth:`ndlld.lookup.Recording.reads`). The
page's *digest* hashes what those lookups returned, with what every page shares
(the dataset's header, the vocabulary, the base and publisher; ndlld's code and
templates through the cache fingerprint).

What each page read, its digest and its files are kept for the whole site in one
cache entry, the *page state*, with the identity of the graph the pages were made
from. When the graph of this build says what changed since that one
(:class:`ndlld.graph.Delta`), a page none of whose lookups is of a changed IRI, and
whose involvements are the same, would be rendered the same: it is kept without
looking at anything else. Otherwise the digest of every page is made again over
the same lookups, and a page whose digest is unchanged is kept.

A page records the digest of the NDL's involvements it shows beside it, as it did
when they were not among its lookups; they now are, so it is no longer compared.

A page is kept only once its files' inode, size and modification time show they
are the files a build wrote: where the new output is written over the spare (the
output before the last, see :class:`ndlld.build._staging`), most are already
there; the others are hard-linked from the output being replaced.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import struct
import sys
import zlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from pyoxigraph import RdfFormat, Triple, serialize

from ndlld.cache import Cache
from ndlld.cache import key as cache_key
from ndlld.graph import Delta
from ndlld.lookup import Read
from ndlld.site.view import SiteView

PAGE_DIRECTORIES = ("id", "embed")  # where page_files are, and nothing else
UNKNOWN = bytes(20)  # the digest of a page whose digest was not made: no page has it


def page_files(path: str) -> list[str]:
    """The files of the page at site path *path* (``id/ifla``), as the site writes them."""
    return [path + ".html", path + ".ttl", path + ".nt", path + ".jsonld", "embed/" + path.removeprefix("id/") + ".html"]


class PageReuse:
    """The page state of the last build, and this build's, for one build."""

    def __init__(
        self,
        cache: Cache,
        view: SiteView,
        site: dict,
        vocabulary: Iterable[Triple],
        previous: Path | None,
        out_dir: Path,
        graph: bytes | None = None,
        delta: Delta | None = None,
    ):
        self.cache, self.view, self.previous, self.out_dir = cache, view, previous, out_dir
        self.graph, self.delta = graph, delta
        self._directories: set[str] = set()
        shared = json.dumps(site, sort_keys=True, ensure_ascii=False, default=repr)
        self.salt = cache_key(
            cache.fingerprint, "page", view.base, view.publisher or "", shared, serialize(list(vocabulary), format=RdfFormat.N_TRIPLES)
        )
        self._state_key = cache_key(self.salt, "pages")
        self._lookups: dict[Read, bytes] = {}
        self.following = False  # whether the pages kept follow the delta (see keep)
        self.state = PageState(graph)  # this build's: the pages kept, then those written

    def keep(self, documents: list[str]) -> set[str]:
        """Keep the files of every page of *documents* that has not changed, those in
        the output directory already or else linked from the previous; return those documents."""
        state = PageState.unpack(self.cache.get("pages", self._state_key)) or PageState()
        delta = self.delta
        follow = self.following = delta is not None and self.graph is not None and state.graph == delta.since
        self.state = state.successor(self.graph)
        rows = state.rows
        if rows is None or (self.previous is None and not any(os.path.isdir(self.out_dir / name) for name in PAGE_DIRECTORIES)):
            return set()
        changed = rows.reading(state.lookups_of(delta.iris)) if follow else None
        # Files are looked at and linked by their names relative to the two directories
        # held open: no joined paths, and no walk from the root for each page's files.
        self._to = os.open(self.out_dir, os.O_RDONLY | os.O_DIRECTORY)
        self._from = os.open(self.previous, os.O_RDONLY | os.O_DIRECTORY) if self.previous is not None else None
        try:
            return self._keep_unchanged(documents, state, changed)
        finally:
            os.close(self._to)
            if self._from is not None:
                os.close(self._from)

    def _keep_unchanged(self, documents: list[str], state: PageState, changed: set[int] | None) -> set[str]:
        """The pages of *documents* in *state* that did not change, kept: those not among
        the rows *changed* when the pages follow the delta, else those of the same digest."""
        rows = state.rows
        at = rows.at()
        kept = set()
        for document in documents:
            row = at.get(document)
            if row is None:
                continue
            if changed is not None:
                if row in changed:
                    continue
            elif self.digest(document, map(state.lookup, rows.reads_of(row))) != rows.digest(row):
                continue
            names = page_files(self.view.path(document))
            if _described(names, rows, row, self._to) or self._link(names, rows, row):
                kept.add(document)
                self.state.kept.append(row)
        return kept

    def entry(self, document: str, reads: set[Read]) -> tuple[str, tuple]:
        """What to keep of a page just written: its digests, what it read, its files.

        When the pages follow the delta, its digest is not made (:data:`UNKNOWN`): the
        next build that follows it does not need it, and one that cannot renders the page
        again; the digest of a page that lists every organization is long to make. Nor are
        its reads sorted then: their order matters only to a digest, and the page of the
        source every record cites has one for each of them."""
        facts, modified = array("Q"), array("q")
        for name in page_files(self.view.path(document)):
            info = os.lstat(self.out_dir / name)
            facts.extend((info.st_ino, info.st_size))
            modified.append(info.st_mtime_ns)
        if self.following:
            return document, (UNKNOWN, UNKNOWN, list(reads), facts, modified)
        ordered = sorted(reads)
        return document, (self.digest(document, ordered), UNKNOWN, ordered, facts, modified)

    def store(self, entries: dict[str, tuple]) -> None:
        """Keep the state of the pages kept and of those written (*entries*) for the next build."""
        state = self.state
        for document, (digest, involved, reads, facts, modified) in entries.items():
            state.pages[document] = Page(digest, involved, state.numbers(reads), facts, modified)
        packed = state.pack()
        if packed is not None:  # else the last state stays, for another graph: the next build checks every page
            self.cache.put_many("pages", {self._state_key: packed})

    def digest(self, document: str, reads: Iterable[Read]) -> bytes:
        """The page's digest over its *reads*, in order."""
        digest = hashlib.blake2b(self.salt, digest_size=20)
        digest.update(document.encode("utf-8", "surrogateescape"))
        lookups = self._lookups
        for read in reads:
            digest.update(lookups.get(read) or self._lookup(*read))  # most are shared with other pages
        return digest.digest()

    def _lookup(self, kind: str, key: str) -> bytes:
        """A digest of what the lookup *kind* of *key* answers (memoized: pages share them),
        asked of the graph behind the view's recording: looking is not reading here."""
        found = self._lookups.get((kind, key))
        if found is None:
            lookup = self.view.graph.lookup
            if kind == "documents":
                answer = "\n".join(lookup.documents()).encode("utf-8", "surrogateescape")
            else:
                answer = serialize(list(getattr(lookup, kind)(key)), format=RdfFormat.N_TRIPLES)
            content = kind.encode() + b"\0" + key.encode("utf-8", "surrogateescape") + b"\0" + answer
            found = self._lookups[(kind, key)] = hashlib.blake2b(content, digest_size=20).digest()
        return found

    def _link(self, names: list[str], rows: Rows, row: int) -> bool:
        source, target = self._from, self._to
        if source is None or not _described(names, rows, row, source):
            return False
        linked = []
        try:
            for name in names:
                directory = name.rpartition("/")[0]
                if directory not in self._directories:
                    os.makedirs(os.path.join(self.out_dir, directory), exist_ok=True)
                    self._directories.add(directory)
                _remove(name, target)  # another version of the page, left in the spare
                os.link(name, name, src_dir_fd=source, dst_dir_fd=target, follow_symlinks=False)
                linked.append(name)
        except OSError:  # then the page is rendered: never into a file shared with the old output
            for name in linked:
                os.unlink(name, dir_fd=target)
            return False
        return True


class Page(NamedTuple):
    """What the next build needs of a page: its digest, that of the involvements it
    shows (no longer made, :data:`UNKNOWN`: they are among its lookups now), its lookups, as numbers in :attr:`PageState.table`, and what the file system
    said of each of its files (:func:`page_files`): inode and size (*facts*, two numbers a
    file) and modification time in ns (*modified*). Arrays, not tuples: 650,000 files'
    numbers made as Python objects took seconds to read at 100,000 organizations."""

    digest: bytes
    involved: bytes
    reads: array
    facts: array
    modified: array


_STATE_HEAD = struct.Struct("<32sQQQQ")  # graph, pages, lookups, reads, bytes of text
_DIGESTS = 40  # bytes of a page's two digests
_FILES = len(page_files("id/x"))  # a page's files


class Rows(NamedTuple):
    """The pages of a state read back from the cache, as columns: row *i* is the page of
    ``documents[i]``, its reads ``reads[offsets[i]:offsets[i + 1]]``, its files' numbers
    ``facts[2 * _FILES * i:…]`` and ``modified[_FILES * i:…]``, its digests ``digests[40 * i:…]``.
    A build looks at each page's columns where they are: a :class:`Page` for every one of
    130,000 pages took more than a second to make at 100,000 organizations."""

    documents: list[str]
    offsets: array
    reads: array
    facts: array
    modified: array
    digests: bytes

    def at(self) -> dict[str, int]:
        """Each document's row."""
        return dict(zip(self.documents, range(len(self.documents))))

    def page(self, row: int) -> Page:
        digests = self.digests[_DIGESTS * row : _DIGESTS * (row + 1)]
        return Page(
            digests[:20],
            digests[20:],
            self.reads_of(row),
            self.facts[2 * _FILES * row : 2 * _FILES * (row + 1)],
            self.modified[_FILES * row : _FILES * (row + 1)],
        )

    def reads_of(self, row: int) -> array:
        return self.reads[self.offsets[row] : self.offsets[row + 1]]

    def digest(self, row: int) -> bytes:
        return self.digests[_DIGESTS * row : _DIGESTS * row + 20]

    def reading(self, numbers: Iterable[int]) -> set[int]:
        """The rows of the pages that read any of the lookups *numbers*: found in the
        reads' bytes, not by a look at each page's (a few dozen numbers, two million reads)."""
        found: set[int] = set()
        data, size = self.reads.tobytes(), self.reads.itemsize
        offsets = self.offsets
        for number in numbers:
            pattern = number.to_bytes(size, sys.byteorder)
            at = data.find(pattern)
            while at != -1:
                if at % size == 0:  # else the bytes straddle two reads
                    found.add(bisect.bisect_right(offsets, at // size) - 1)
                    at += size - 1
                at = data.find(pattern, at + 1)
        return found


@dataclass
class PageState:
    """The pages of a site, by document, and the identity of the graph they were made
    from (None if not known), kept as one cache entry: the lookups are numbered and the
    rest is in arrays (a JSON entry a page took seconds to read at 100,000 organizations).

    A state read back has its pages as :class:`Rows`. The state a build makes has the
    pages it *kept* (rows of the state it succeeds, *inherited*) and the :class:`Page`
    of each it made (*pages*)."""

    graph: bytes | None = None
    pages: dict[str, Page] = field(default_factory=dict)
    table: list[str] = field(default_factory=list)  # the lookups by number, as the kind's letter + key
    _numbers: dict[str, int] | None = None
    rows: Rows | None = None
    inherited: Rows | None = None
    kept: list[int] = field(default_factory=list)

    def successor(self, graph: bytes | None) -> PageState:
        """A state with no pages yet, for *graph*, that can keep this one's: its lookups
        numbered as in this one, so that the pages kept keep their reads as they are."""
        return PageState(graph, {}, self.table, self._numbers, inherited=self.rows)

    def get(self, document: str) -> Page | None:
        """The page of *document*, if this state has one."""
        if document in self.pages:
            return self.pages[document]
        row = self.rows.at().get(document) if self.rows is not None else None
        return self.rows.page(row) if row is not None else None

    def lookup(self, number: int) -> Read:
        """The lookup (kind, key) of *number*."""
        text = self.table[number]
        return _KINDS[text[0]], text[1:]

    def numbers(self, reads: Iterable[Read]) -> array:
        """The numbers of *reads* (kind, key), numbering those not in the table yet."""
        if self._numbers is None:
            self._numbers = {text: number for number, text in enumerate(self.table)}
        found = array("I")
        for name, iri in reads:
            text = name[0] + iri
            number = self._numbers.get(text)
            if number is None:
                number = self._numbers[text] = len(self.table)
                self.table.append(text)
            found.append(number)
        return found

    def lookups_of(self, iris: Iterable[str]) -> set[int]:
        """The numbers of the lookups of *iris*, of any kind, and of the list of documents
        if any IRI changed (one may have been added or removed)."""
        self.numbers(())
        iris = list(iris)
        found = {self._numbers[letter + iri] for iri in iris for letter in _KINDS if letter + iri in self._numbers}
        if iris and "d" in self._numbers:
            found.add(self._numbers["d"])
        return found

    def pack(self) -> bytes | None:
        """The state as one entry (None if a name cannot be kept on a line of its own):
        the rows it kept, a run of neighbouring rows at a time, then the pages it made."""
        documents: list[str] = []
        reads, offsets, facts, modified = array("I"), array("Q", [0]), array("Q"), array("q")
        digests: list[bytes] = []
        if self.kept and self.inherited is not None:
            rows = self.inherited
            for first, last in _runs(sorted(self.kept)):
                documents += rows.documents[first:last]
                start, shift = rows.offsets[first], len(reads)
                reads.extend(rows.reads[start : rows.offsets[last]])
                offsets.extend(end - start + shift for end in rows.offsets[first + 1 : last + 1])
                facts.extend(rows.facts[2 * _FILES * first : 2 * _FILES * last])
                modified.extend(rows.modified[_FILES * first : _FILES * last])
                digests.append(rows.digests[_DIGESTS * first : _DIGESTS * last])
        for document in sorted(self.pages):
            page = self.pages[document]
            documents.append(document)
            reads.extend(page.reads)
            offsets.append(len(reads))
            facts.extend(page.facts)
            modified.extend(page.modified)
            digests.append(page.digest + page.involved)
        table = self.table
        if len(table) > 2 * len(set(reads)):  # lookups no page reads any more: numbered afresh
            renumbered: dict[int, int] = {}
            reads = array("I", [renumbered.setdefault(number, len(renumbered)) for number in reads])
            table = [self.table[number] for number in renumbered]
        text = "\n".join([*documents, *table])
        if text.count("\n") != max(len(documents) + len(table) - 1, 0):
            return None  # an IRI with a line break: not kept, every page is made next time
        encoded = text.encode("utf-8", "surrogateescape")
        head = _STATE_HEAD.pack(self.graph or bytes(32), len(documents), len(table), len(reads), len(encoded))
        return zlib.compress(
            b"".join([head, encoded, offsets.tobytes(), reads.tobytes(), facts.tobytes(), modified.tobytes(), *digests]), 1
        )

    @classmethod
    def unpack(cls, entry: bytes | None) -> PageState | None:
        """The state packed in *entry*, if there is one."""
        if entry is None:
            return None
        data = zlib.decompress(entry)
        graph, count, lookups, total, size = _STATE_HEAD.unpack_from(data)
        at = _STATE_HEAD.size
        lines = data[at : at + size].decode("utf-8", "surrogateescape").split("\n") if size else []
        at += size
        offsets, at = _array("Q", data, at, count + 1)
        reads, at = _array("I", data, at, total)
        facts, at = _array("Q", data, at, 2 * _FILES * count)
        modified, at = _array("q", data, at, _FILES * count)
        rows = Rows(lines[:count], offsets, reads, facts, modified, data[at : at + _DIGESTS * count])
        return cls(graph if any(graph) else None, {}, lines[count : count + lookups], rows=rows)


def _runs(rows: list[int]) -> Iterator[tuple[int, int]]:
    """The runs of consecutive numbers in sorted *rows*, as (first, last + 1)."""
    if not rows:
        return
    first = previous = rows[0]
    for row in rows[1:]:
        if row != previous + 1:
            yield first, previous + 1
            first = row
        previous = row
    yield first, previous + 1


_KINDS = {kind[0]: kind for kind in ("about", "pointing_at", "in_document", "documents")}  # the lookups, by first letter


def _array(typecode: str, data: bytes, at: int, count: int) -> tuple[array, int]:
    found = array(typecode)
    end = at + count * found.itemsize
    found.frombytes(data[at:end])
    return found, end


def _described(names: list[str], rows: Rows, row: int, directory: int) -> bool:
    """Whether each file of the page of *row*, by its *names*, is in *directory* as the row describes it."""
    facts, modified = rows.facts, rows.modified
    for i, name in enumerate(names, start=_FILES * row):
        try:
            info = os.lstat(name, dir_fd=directory)
        except OSError:
            return False
        if info.st_ino != facts[2 * i] or info.st_size != facts[2 * i + 1] or info.st_mtime_ns != modified[i]:
            return False
    return True


def _remove(name: str, directory: int) -> None:
    try:
        os.unlink(name, dir_fd=directory)
    except FileNotFoundError:
        pass
