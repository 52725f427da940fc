"""Which pages of the output being replaced can stay as they are.

While a page is rendered, the view notes every IRI it looked up (its own
statements, the names of what it links to, the links pointing at it …). The
page's *digest* hashes what those lookups returned, with what every page shares
(the dataset's header, the vocabulary, the base and publisher; ndlld's code and
templates through the cache fingerprint) and the NDL's involvements it shows.
The next build recomputes the digest over the same lookups: when it is
unchanged, rendering would take the same path and write the same bytes, so the
page's files are kept instead, once their inode, size and modification time
show they are the files a build wrote: where the new output is written over the
spare (the output before the last, see :class:`ndlld.build._staging`), most are
already there; the others are hard-linked from the output being replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from collections.abc import Iterable
from pathlib import Path

from pyoxigraph import RdfFormat, Triple, serialize

from ndlld.cache import Cache
from ndlld.cache import key as cache_key
from ndlld.site.view import SiteView


PAGE_DIRECTORIES = ("id", "embed")  # where page_files are, and nothing else


def page_files(path: str) -> list[str]:
    """The files of the page at site path *path* (``id/ifla``), as the site writes them."""
    return [path + ".html", path + ".ttl", path + ".nt", path + ".jsonld", "embed/" + path.removeprefix("id/") + ".html"]


class PageReuse:
    """Page digests for one build, and the cache entries that keep them."""

    def __init__(self, cache: Cache, view: SiteView, site: dict, vocabulary: Iterable[Triple], previous: Path | None, out_dir: Path):
        self.cache, self.view, self.previous, self.out_dir = cache, view, previous, out_dir
        self._directories: set[str] = set()
        shared = json.dumps(site, sort_keys=True, ensure_ascii=False, default=repr)
        self.salt = cache_key(cache.fingerprint, "page", view.base, view.publisher or "", shared, serialize(list(vocabulary), format=RdfFormat.N_TRIPLES))
        self._lookups: dict[tuple[str, str], bytes] = {}
        view.involvements()  # indexed now, so that no page's reads include the whole index

    def keep(self, documents: list[str]) -> set[str]:
        """Keep the files of every page of *documents* that has not changed, those in
        the output directory already or else linked from the previous; return those documents."""
        if self.previous is None and not any(os.path.isdir(self.out_dir / name) for name in PAGE_DIRECTORIES):
            return set()
        keys = {document: self._key(document) for document in documents}
        found = self.cache.get_many("page", keys.values())
        kept = set()
        # Files are looked at and linked by their names relative to the two directories
        # held open: no joined paths, and no walk from the root for each of 65,000 files.
        self._to = os.open(self.out_dir, os.O_RDONLY | os.O_DIRECTORY)
        self._from = os.open(self.previous, os.O_RDONLY | os.O_DIRECTORY) if self.previous is not None else None
        try:
            for document in documents:
                raw = found.get(keys[document])
                if raw is None:
                    continue
                entry = json.loads(zlib.decompress(raw))
                if self.digest(document, [tuple(read) for read in entry["reads"]]) != entry["digest"]:
                    continue
                if _described(entry["files"], self._to) or self._link(entry["files"]):
                    kept.add(document)
        finally:
            os.close(self._to)
            if self._from is not None:
                os.close(self._from)
        return kept

    def entry(self, document: str, reads: set[tuple[str, str]]) -> tuple[bytes, bytes]:
        """The cache entry of a page just written: what it read, its digest, its files."""
        files = []
        for name in page_files(self.view.path(document)):
            info = os.lstat(self.out_dir / name)
            files.append([name, info.st_ino, info.st_size, info.st_mtime_ns])
        entry = {"reads": sorted(reads), "digest": self.digest(document, reads), "files": files}
        return self._key(document), zlib.compress(json.dumps(entry, ensure_ascii=False).encode("utf-8"))

    def store(self, entries: dict[bytes, bytes]) -> None:
        self.cache.put_many("page", entries)

    def digest(self, document: str, reads: Iterable[tuple[str, str]]) -> str:
        view = self.view
        digest = hashlib.blake2b(self.salt, digest_size=20)
        about = document if document != view.publisher else None
        digest.update(repr((document, view.involvements(about=about))).encode("utf-8"))
        lookups = self._lookups
        for read in sorted(reads):
            digest.update(lookups.get(read) or self._lookup(*read))  # most are shared with other pages
        return digest.hexdigest()

    def _lookup(self, name: str, iri: str) -> bytes:
        """A digest of what looking *iri* up in the index *name* returns (memoized: pages share them)."""
        found = self._lookups.get((name, iri))
        if found is None:
            triples = dict.get(self.view.index(name), iri) or []
            content = name.encode() + b"\0" + iri.encode() + b"\0" + serialize(triples, format=RdfFormat.N_TRIPLES)
            found = self._lookups[(name, iri)] = hashlib.blake2b(content, digest_size=20).digest()
        return found

    def _link(self, files: list) -> bool:
        source, target = self._from, self._to
        if source is None or not _described(files, source):
            return False
        linked = []
        try:
            for name, *_ in files:
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

    def _key(self, document: str) -> bytes:
        return cache_key(self.salt, document)


def _described(files: list, directory: int) -> bool:
    """Whether each of *files* (name, inode, size, modification time) is in *directory* as described."""
    for name, inode, size, mtime in files:
        try:
            info = os.lstat(name, dir_fd=directory)
        except OSError:
            return False
        if (info.st_ino, info.st_size, info.st_mtime_ns) != (inode, size, mtime):
            return False
    return True


def _remove(name: str, directory: int) -> None:
    try:
        os.unlink(name, dir_fd=directory)
    except FileNotFoundError:
        pass
