"""A list cut short: its first rows by key shown, the others counted.

A page lists at most so many of the resources that link to it. Sorting them takes
each row's key (a name read from the graph), but an incremental build knows which
rows still sort after the last one shown (:class:`ndlld.lookup.KeptAfter`): those
are counted and need no key, unless the others left are too few to show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ndlld.lookup import KeptAfter, Read


@dataclass(frozen=True)
class Cut:
    """The rows shown (each ``(key, text, language, who, how)``), how many rows there are,
    the key of the last shown when the list is cut after it, what each row's key read, and
    the rows kept after it, not sorted again (:class:`ndlld.lookup.KeptAfter`)."""

    shown: list[tuple]
    total: int
    last: str | None
    keys: dict[str, str]  # by who, for the rows sorted
    reads: dict[str, set[Read]]  # by who, for the rows sorted
    kept: list[str]  # each a who

    def as_read(self) -> set[str]:
        """The rows whose reads a page notes as they are: those sorted up to the last shown,
        ties included, so that the others sort strictly after it."""
        return {who for who, key in self.keys.items() if self.last is None or key <= self.last}


def cut_short(rows: set[tuple], most: int | None, key_of: Callable[[str], tuple[str, set[Read]]], kept: KeptAfter | None) -> Cut:
    """The first *most* of *rows* (``(who, how)``, *how* a text with a language) by who's key
    (*key_of* gives it and what it read), then by how; all of them when *most* is None."""
    everyone = {who for who, _ in rows}
    after = kept.rows & everyone if kept is not None and most is not None else frozenset()
    keys: dict[str, str] = {}
    reads: dict[str, set[Read]] = {}

    def ordered(whom: set[str]) -> list[tuple]:
        for who in whom - keys.keys():
            keys[who], reads[who] = key_of(who)
        return sorted((keys[who], how.text, how.language or "", who, how) for who, how in rows if who in whom)

    found = ordered(everyone - after)
    if after and most is not None and kept is not None and (len(found) < most or found[most - 1][0] > kept.last):
        found, after = ordered(everyone), frozenset()  # a row kept after may now be among those shown
    shown = found[:most]
    last = shown[-1][0] if shown and len(shown) < len(rows) else None
    return Cut(shown, len(rows), last, keys, reads, list(after))
