"""What the index lists, kept sorted in the state: the index costs what a change touched.

The index shows the first resources of each list by name, the organizations of the
network picture and the publisher's involvements, of every page's entry
(:class:`ndlld.site.Entry`). Rather than every entry read back and sorted again, the
state keeps each listed resource in the ``listed`` table by list, name and IRI (the
index reads the first rows of each list and counts the rest), and the publisher's links
and involvements in ``given``, one row for each page that gives some. The rows of the
pages made again or gone are changed before the index is made (in the build's open
transaction, so a failed build leaves them as they were). :class:`KeptListing` reads
them as the index's :class:`ndlld.site.listing.Listing`; a build from scratch reads the
entries themselves, and the property test holds both to the same files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from ndlld.incremental.state import State, to_json

if TYPE_CHECKING:
    from ndlld.site.listing import Entry, Listed
    from ndlld.site.view import Involvement


def keep_all(state: State, entries: Mapping[str, Entry]) -> None:
    """The rows of every page's entry, into an emptied state (a build from scratch)."""
    _insert(state, entries)


def change(state: State, made: Mapping) -> None:
    """The rows of the pages *made* (each a :class:`ndlld.site.Written`; None: gone) made
    those of their new entries."""
    for document in made:
        state.db.execute("DELETE FROM listed WHERE document = ?", (document,))
        state.db.execute("DELETE FROM given WHERE document = ?", (document,))
    _insert(state, {document: page.entry for document, page in made.items() if page is not None})


def _insert(state: State, entries: Mapping[str, Entry]) -> None:
    from ndlld.site.listing import by_name, lists_of

    state.db.executemany(
        "INSERT INTO listed VALUES (?, ?, ?, ?, ?, ?)",
        (
            (name, by_name(item)[0], item.iri, document, to_json(item.parents) if item.parents else None, _item_json(item))
            for document, entry in entries.items()
            for item in entry.listed
            for name in lists_of(item)
        ),
    )
    state.db.executemany(
        "INSERT INTO given VALUES (?, ?, ?)",
        (
            (document, to_json(links), to_json(involvements))
            for document, entry in entries.items()
            for _, links, involvements in [entry.to_json()]
            if links or involvements
        ),
    )


def _item_json(item: Listed) -> str:
    return to_json([item.iri, item.name, item.short_name, item.types, item.parents, item.name_ja])


def given_entries(state: State) -> dict[str, Entry]:
    """The entries of the pages that give the publisher links or involvements, but
    for what they list (which the publisher's page does not read)."""
    from ndlld.site.listing import Entry

    return {
        document: Entry.from_json([[], json.loads(links), json.loads(involvements)]) for document, links, involvements in _given_rows(state)
    }


def _given_rows(state: State) -> list[tuple[str, str, str]]:
    """The rows of ``given`` in the order of their documents (that of ties in the involvements)."""
    return state.db.execute("SELECT document, links, involvements FROM given ORDER BY document").fetchall()


class KeptListing:
    """The state's rows as the index reads them (:class:`ndlld.site.listing.Listing`)."""

    def __init__(self, state: State):
        self._db = state.db
        self._given = [(links, involvements) for _, links, involvements in _given_rows(state)]

    def first(self, name: str, most: int) -> tuple[list[Listed], int]:
        from ndlld.site.listing import Listed

        rows = self._db.execute("SELECT item FROM listed WHERE list = ? ORDER BY sort, iri LIMIT ?", (name, most))
        shown = [Listed.from_json(json.loads(item)) for (item,) in rows]
        (count,) = self._db.execute("SELECT COUNT(*) FROM listed WHERE list = ?", (name,)).fetchone()
        return shown, max(count - most, 0)

    def organizations(self) -> dict[str, tuple[str, ...]]:
        from ndlld.site.listing import ORGANIZATIONS

        rows = self._db.execute("SELECT iri, parents FROM listed WHERE list = ?", (ORGANIZATIONS,))
        return {iri: tuple(json.loads(parents)) if parents else () for iri, parents in rows}

    def items(self, iris: Iterable[str]) -> list[Listed]:
        from ndlld.site.listing import ORGANIZATIONS, Listed, by_name

        found = []
        for iri in iris:
            (item,) = self._db.execute("SELECT item FROM listed WHERE iri = ? AND list = ?", (iri, ORGANIZATIONS)).fetchone()
            found.append(Listed.from_json(json.loads(item)))
        return sorted(found, key=by_name)

    def links(self) -> list[tuple[str, str]]:
        return [(how, organization) for links, _ in self._given for how, organization in json.loads(links)]

    def involvements(self) -> list[Involvement]:
        from ndlld.site.view import Involvement, by_year

        return by_year(Involvement(*i) for _, involvements in self._given for i in json.loads(involvements))
