"""A list cut short: its first rows by key shown, the others counted.

A page lists at most so many of the resources that link to it. Sorting them takes
each row's key (a name read from the graph), but an incremental build knows which
rows still sort after the last one shown, and the key each sorted by
(:class:`ndlld.lookup.KeptAfter`): those are counted and not read again, unless the
others left are too few to show; then those whose kept keys come first are read.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from itertools import chain

from ndlld.lookup import KeptAfter, Read
from ndlld.site.parts import Text


@dataclass(frozen=True)
class Cut:
    """The rows shown (each ``(key, text, language, who, how)``), how many rows there are,
    the key of the last shown when the list is cut after it, what each row's key read, and,
    when the list took the rows the last build kept after it (:class:`ndlld.lookup.KeptAfter`),
    those of them it sorted again or no longer has (*unkept*); the others it kept, unsorted."""

    shown: list[tuple]
    total: int
    last: str | None
    keys: dict[str, str]  # by who, for the rows sorted
    reads: dict[str, Collection[Read]]  # by who, for the rows sorted
    unkept: set[str] | None  # each a who; None: the last build kept none

    def as_read(self) -> set[str]:
        """The rows whose reads a page notes as they are: those sorted up to the last shown,
        ties included, so that the others sort strictly after it."""
        return {who for who, key in self.keys.items() if self.last is None or key <= self.last}


@dataclass(frozen=True)
class Rows:
    """The rows of a list, by who: *hows* gives the texts (each with a language) a who is
    shown with, each a row of its own, and *total* counts them all; so that a list of
    hundreds of thousands is not made row by row to show a thousand of them."""

    whos: AbstractSet[str]
    hows: Callable[[str], Collection[Text]]
    total: int


def cut_short(rows: Rows, most: int | None, key_of: Callable[[str], tuple[str, Collection[Read]]], kept: KeptAfter | None) -> Cut:
    """The first *most* of *rows* by who's key (*key_of* gives it and what it read), then by
    how; all of them when *most* is None."""
    everyone = rows.whos
    after = _kept_still(kept.rows, everyone) if kept is not None and most is not None else {}
    keys: dict[str, str] = {}
    reads: dict[str, Collection[Read]] = {}

    def ordered(whom: set[str]) -> list[tuple]:
        for who in whom - keys.keys():
            keys[who], reads[who] = key_of(who)
        return sorted((keys[who], how.text, how.language or "", who, how) for who in whom for how in rows.hows(who))

    found = ordered(everyone - after.keys())
    if after and most is not None and kept is not None and (len(found) < most or found[most - 1][0] > kept.last):
        after = _still_after(found, after, most)  # a row kept after may now be among those shown
        found = ordered(everyone - after.keys())
    shown = found[:most]
    last = shown[-1][0] if shown and len(shown) < rows.total else None
    unkept = (kept.rows.keys() - after.keys()) | kept.moved if kept is not None else None
    return Cut(shown, rows.total, last, keys, reads, unkept)


def _kept_still(rows: dict[str, str], everyone: AbstractSet[str]) -> dict[str, str]:
    """The rows kept after the cut (*rows*) of those the list still has: the sets compared in C,
    as the list of the source every record cites has hundreds of thousands of rows."""
    gone = rows.keys() - everyone
    if not gone:
        return rows
    still = dict(rows)
    for who in gone:
        del still[who]
    return still


def _still_after(found: list[tuple], after: dict[str, str], most: int) -> dict[str, str]:
    """Of the rows kept *after* (by who, with the key each was kept with), those that sort
    after the first *most* of them and the rows *found*: the others are to be read and shown.
    A who of several rows counts once here, so that a few more may be read, never fewer."""
    cut_at = heapq.nsmallest(most, chain((key for key, *_ in found), after.values()))[-1]
    return {who: key for who, key in after.items() if key > cut_at}
