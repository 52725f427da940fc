"""The search index of the last build, kept beside its state for ``ndlld serve``
(``search.sqlite`` in the cache directory; :mod:`ndlld.search`).

It is not in the output: a SQLite file changed in place is not the bytes a build from
scratch writes, and every file of the output must be. So it follows the state: a build
from scratch writes it whole; an incremental one changes the rows of the pages it made
again or removed (each page gives the resource it lists, :attr:`ndlld.site.Written.searched`)
and leaves the others. The rows are written before the new output is swapped in, in a
transaction committed right after (:meth:`KeptIndex.publish`) that notes the output they
are of (the SHA-256 of its ``SHA256SUMS``, as the state notes it): a server reads the last
committed rows meanwhile, and can tell whether they are those of the output it serves. An
index that is not of the output the state describes (none yet, another format, a build
killed in between) is written whole from the new graph.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

from ndlld import search
from ndlld.errors import ConfigError
from ndlld.published import output_digest
from ndlld.search import INDEX_FILE, Resource


class KeptIndex:
    """The index in the cache directory *directory*, written in one transaction per build."""

    def __init__(self, directory: Path):
        self.path = directory / INDEX_FILE
        self.db: sqlite3.Connection | None = None

    def of_output(self, output: bytes | str | None) -> bool:
        """Whether the index is that of the output whose ``SHA256SUMS`` has the digest *output*."""
        return isinstance(output, bytes) and search.made_with(self.path) == output.hex()

    def write_all(self, resources: Iterable[Resource], base: str) -> None:
        search.write_all(self._begun(), resources, base)

    def start_all(self, base: str) -> None:
        """The index written whole, a part at a time as the pages are made (:meth:`add`),
        so that a build from scratch never holds every page's rows: then :meth:`finish_all`."""
        search.start_all(self._begun(), base)

    def add(self, resources: Iterable[Resource]) -> None:
        search.add(self._begun(), resources)

    def finish_all(self) -> None:
        search.finish_all(self._begun())

    def change(self, resources: Mapping[str, Resource | None]) -> int:
        """The rows of these IRIs made theirs (None: removed); how many changed."""
        return search.change(self._begun(), resources)

    def publish(self, out_dir: Path) -> None:
        """Commit what this build wrote, as the index of the output now in *out_dir*."""
        if self.db is None or not self.db.in_transaction:
            return
        try:
            output = output_digest(out_dir)
            if output is None:
                raise OSError(f"no SHA256SUMS in {out_dir}")
            search.set_meta(self.db, "output", output)
            self.db.execute("COMMIT")
        except (OSError, sqlite3.Error) as err:
            self.rollback()
            raise ConfigError(f"the output is published, but its search index could not be kept ({err})", path=self.path) from None

    def rollback(self) -> None:
        if self.db is not None and self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def close(self) -> None:
        self.rollback()
        if self.db is not None:
            self.db.close()
            self.db = None

    def _begun(self) -> sqlite3.Connection:
        """The connection, in a transaction; a file that is no SQLite database is started anew."""
        try:
            if self.db is None:
                self.db = self._connected()
            if not self.db.in_transaction:
                self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            raise ConfigError(f"cannot use the build cache's search index: {err}", path=self.path) from None
        return self.db

    def _connected(self) -> sqlite3.Connection:
        try:
            return search.connect(self.path)
        except sqlite3.DatabaseError:  # not a database: left by something else
            remove_index(self.path.parent)
            return search.connect(self.path)


def remove_index(directory: Path) -> None:
    """The index of the cache directory *directory*, and its journal, removed."""
    for suffix in ("", "-wal", "-shm"):
        (directory / (INDEX_FILE + suffix)).unlink(missing_ok=True)
