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

What the index's pictures draw is chosen from every organization's parents and every link
and involvement of the publisher. The state keeps the choice (meta ``network`` and
``timeline``) until a page made again changes what it is chosen from (:func:`change`):
an edit that renames an organization reads 60 rows, not 100,000. An organization with no
edge in the picture, added or removed, leaves the network's choice as it is when the
picture is full of organizations with one (:func:`_still_drawn`). The count of each list
(``counts``) is kept too, changed by the rows of the pages made again.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import astuple
from typing import TYPE_CHECKING

from ndlld.incremental.state import State, to_json

if TYPE_CHECKING:
    from ndlld.site.listing import Entry, Listed, Network, Timeline

# The choices kept in the state's meta, each dropped when a page made again changes the rows it is made of.
NETWORK, TIMELINE = "network", "timeline"
LINKS = "links"  # of the rows the network is chosen from: the publisher's links (the rest, the organizations')
COUNTS = "counts"  # how many rows each list has, by list: changed with the rows (counting reads them all)
# Where the publisher's page cuts the involvements it lists (ndlld.site.last_involvement_shown), as
# JSON: kept from the entries it was last made of, "null" when it lists them all.
SHOWN = "involvements shown"


def keep_all(state: State, entries: Mapping[str, Entry]) -> None:
    """The rows of every page's entry, into an emptied state (a build from scratch)."""
    _insert(state, entries)


def change(state: State, made: Mapping) -> None:
    """The rows of the pages *made* (each a :class:`ndlld.site.Written`; None: gone) made
    those of their new entries; the pictures' choices dropped where their rows changed, and
    the lists' counts changed with them."""
    before = _rows_of(state, made)
    for document in made:
        state.db.execute("DELETE FROM listed WHERE document = ?", (document,))
        state.db.execute("DELETE FROM given WHERE document = ?", (document,))
    _insert(state, {document: page.entry for document, page in made.items() if page is not None})
    after = _rows_of(state, made)
    counts = json.loads(state.get(COUNTS) or "{}")  # of the lists counted so far
    state.put(COUNTS, to_json({name: count + after[COUNTS][name] - before[COUNTS][name] for name, count in counts.items()}))
    if before[LINKS] != after[LINKS] or (before[NETWORK] != after[NETWORK] and not _still_drawn(state, before[NETWORK], after[NETWORK])):
        state.put(NETWORK, None)
    if before[TIMELINE] != after[TIMELINE]:
        state.put(TIMELINE, None)


def _still_drawn(state: State, before: list[tuple[str, str | None]], after: list[tuple[str, str | None]]) -> bool:
    """Whether the network picture's choice kept stands, the organizations of the pages made
    again having been *before* and being *after* (each IRI with its parents), their links the
    same: it does when the picture is full (:class:`ndlld.site.listing.Drawn`: each drawn but
    the publisher has an edge) and they only add or remove organizations with none: no parent,
    no child among the organizations, no link of the publisher to them from any page."""
    kept = state.get(NETWORK)
    if kept is None:
        return False
    center, _, _, full, _ = json.loads(kept)
    changed = set(before) ^ set(after)
    iris = {iri for iri, _ in changed}
    if not full or center in iris or any(parents for _, parents in changed):
        return False
    from ndlld.site.listing import ORGANIZATIONS

    # An IRI stands in the JSON of parents and links as its JSON string.
    edges = (
        "SELECT 1 FROM listed WHERE list = :list AND instr(parents, :iri) UNION ALL SELECT 1 FROM given WHERE instr(links, :iri) LIMIT 1"
    )
    return not any(state.db.execute(edges, {"list": ORGANIZATIONS, "iri": to_json(iri)}).fetchone() for iri in iris)


def change_publishers_page(state: State, before: Mapping[str, Entry], made: Mapping) -> bool:
    """Whether the pages *made* (each a :class:`ndlld.site.Written`; None: gone), which gave
    the publisher's page the involvements of their entries *before*, change what it lists:
    they give other ones, and either not as many (it counts them) or one that sorts up to
    the last one it shows. Asked before :func:`change`: where it was cut is read from the rows
    it was made of when not kept (:func:`publishers_page_made`)."""
    from ndlld.site.parts import involvement_order

    removed: Counter = Counter()
    added: Counter = Counter()
    for document, page in made.items():
        removed.update(before[document].involvements if document in before else ())
        added.update(page.entry.involvements if page is not None else ())
    gone, came = removed - added, added - removed
    if not gone and not came:
        return False
    if gone.total() != came.total():
        return True
    last = _last_shown(state)
    return last is None or any(involvement_order(involvement) <= last for involvement in gone + came)


def publishers_page_made(state: State, entries: Mapping[str, Entry]) -> None:
    """Keep where the publisher's page, made of *entries*, cuts its involvements (meta :data:`SHOWN`)."""
    from ndlld.site import last_involvement_shown

    state.put(SHOWN, to_json(last_involvement_shown(entries)))


def _last_shown(state: State) -> tuple | None:
    kept = state.get(SHOWN)
    if kept is None:  # not kept by a build before (one from scratch): the page published was made of these rows
        publishers_page_made(state, given_entries(state))
        kept = state.get(SHOWN)
    last = json.loads(kept or "null")
    return tuple(last) if last is not None else None


def _rows_of(state: State, documents: Iterable[str]) -> dict:
    """Of the rows of *documents*: those the pictures are chosen from (:data:`NETWORK`: the
    organizations' parents, ``LINKS``: the publisher's links; :data:`TIMELINE`: its
    involvements), and how many each list has (:data:`COUNTS`)."""
    from ndlld.site.listing import ORGANIZATIONS

    rows: dict = {NETWORK: [], LINKS: [], TIMELINE: [], COUNTS: Counter()}
    for document in documents:
        for name, iri, parents in state.db.execute(
            "SELECT list, iri, parents FROM listed WHERE document = ? ORDER BY list, iri", (document,)
        ):
            rows[COUNTS][name] += 1
            if name == ORGANIZATIONS:
                rows[NETWORK].append((iri, parents))
        for links, involvements in state.db.execute("SELECT links, involvements FROM given WHERE document = ?", (document,)):
            rows[LINKS].append(links)
            rows[TIMELINE].append(involvements)
    return rows


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
    """The state's rows as the index reads them (:class:`ndlld.site.listing.Listing`); what
    the pictures draw chosen again only when the state keeps no choice (:func:`change`)."""

    def __init__(self, state: State):
        self._state = state
        self._db = state.db

    def first(self, name: str, most: int) -> tuple[list[Listed], int]:
        from ndlld.site.listing import Listed

        rows = self._db.execute("SELECT item FROM listed WHERE list = ? ORDER BY sort, iri LIMIT ?", (name, most))
        shown = [Listed.from_json(json.loads(item)) for (item,) in rows]
        counts = json.loads(self._state.get(COUNTS) or "{}")
        if name not in counts:
            (counts[name],) = self._db.execute("SELECT COUNT(*) FROM listed WHERE list = ?", (name,)).fetchone()
            self._state.put(COUNTS, to_json(counts))
        return shown, max(counts[name] - most, 0)

    def network(self, center: str | None, most: int, key: Callable[[str], str]) -> Network:
        from ndlld.site.listing import Network, drawn_organizations

        kept = self._state.get(NETWORK)
        kept_center, drawn, links, _, kept_most = json.loads(kept) if kept else (None, None, [], False, None)
        if drawn is None or kept_center != center or kept_most != most:
            links = [link for document_links in self._given("links") for link in document_links]
            drawn, full = drawn_organizations(self._organizations(), links, center, most, key)
            chosen = set(drawn)
            links = [link for link in links if link[1] in chosen]
            self._state.put(NETWORK, to_json([center, drawn, links, full, most]))
        return Network(self._items(drawn), [(how, organization) for how, organization in links])

    def timeline(self, shown: int, drawn: int) -> Timeline:
        from ndlld.site.listing import Timeline, timeline_of
        from ndlld.site.parts import Involvement, by_year

        kept = self._state.get(TIMELINE)
        if kept:
            first, more, spread = json.loads(kept)
            return Timeline([Involvement(*i) for i in first], more, [Involvement(*i) for i in spread])
        made = timeline_of(by_year(Involvement(*i) for document in self._given("involvements") for i in document), shown, drawn)
        self._state.put(TIMELINE, to_json([[astuple(i) for i in made.first], made.more, [astuple(i) for i in made.drawn]]))
        return made

    def _organizations(self) -> dict[str, tuple[str, ...]]:
        from ndlld.site.listing import ORGANIZATIONS

        rows = self._db.execute("SELECT iri, parents FROM listed WHERE list = ?", (ORGANIZATIONS,))
        return {iri: tuple(json.loads(parents)) if parents else () for iri, parents in rows}

    def _items(self, iris: Iterable[str]) -> list[Listed]:
        from ndlld.site.listing import ORGANIZATIONS, Listed, by_name

        found = []
        for iri in iris:
            (item,) = self._db.execute("SELECT item FROM listed WHERE iri = ? AND list = ?", (iri, ORGANIZATIONS)).fetchone()
            found.append(Listed.from_json(json.loads(item)))
        return sorted(found, key=by_name)

    def _given(self, column: str) -> Iterator[list]:
        """Each page's links or involvements (*column* of ``given``), in the order of their documents."""
        return (json.loads(value) for (value,) in self._db.execute(f"SELECT {column} FROM given ORDER BY document"))  # noqa: S608 - a column's name
