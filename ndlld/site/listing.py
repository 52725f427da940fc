"""What the index lists, as the index reads it.

Every page gives the index an :class:`Entry`: the resources it lists and the publisher's
links and involvements through the resources it describes. The index shows the first
resources of each list by name, the organizations drawn in the network picture and the
publisher's involvements; it reads them through a :class:`Listing`, not the entries
themselves, so that an incremental build can give it the lists kept sorted in its state
(:mod:`ndlld.incremental.listing`) rather than every page's entry to sort again. A build
from scratch gives it the entries themselves (:class:`EntriesListing`). Either chooses
what the pictures draw by the same rules (:func:`drawn_organizations`, :func:`timeline_of`).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import astuple, dataclass
from typing import NamedTuple, Protocol

from ndlld.namespaces import SCHEMA
from ndlld.site.parts import Involvement, by_year
from ndlld.site.view import ORGANIZATION_TYPES

ORGANIZATIONS = "organizations"  # the index's list of every organization (hash IRIs too)
GROUPS = [  # the index's lists by kind, by the key of their heading in the catalogues' ``groups``
    (ORGANIZATIONS, ORGANIZATION_TYPES),
    ("series", {str(SCHEMA) + "EventSeries"}),
    ("publications", {str(SCHEMA) + t for t in ("Periodical", "WebSite", "WebPage")}),
    ("places", {str(SCHEMA) + t for t in ("Country", "City", "Place")}),
    ("sources", {str(SCHEMA) + t for t in ("Legislation", "CreativeWork")}),
]
LISTED_TYPES = frozenset().union(*(types for _, types in GROUPS))  # what the index lists (and search finds)


@dataclass(frozen=True)
class Listed:
    """A resource the index lists (an organization, a series, a place ...): what it shows of it."""

    iri: str
    name: str
    short_name: str
    types: tuple[str, ...]
    parents: tuple[str, ...]
    name_ja: str = ""  # the Japanese name, where the records give one: the Japanese index shows it

    @classmethod
    def from_json(cls, kept: list) -> Listed:
        iri, name, short, types, parents, ja = kept
        return cls(iri, name, short, tuple(types), tuple(parents), ja)


@dataclass(frozen=True)
class Entry:
    """What a page gives the index: its resources to list and, through the resources it
    describes, the publisher's links to the organizations it takes part in and its
    involvements (which the publisher's page lists too)."""

    listed: tuple[Listed, ...] = ()
    links: tuple[tuple[str, str], ...] = ()  # (how, organization)
    involvements: tuple[Involvement, ...] = ()

    def to_json(self) -> list:
        return [
            [list(astuple(item)) for item in self.listed],
            [list(link) for link in self.links],
            [list(astuple(i)) for i in self.involvements],
        ]

    @classmethod
    def from_json(cls, kept: list) -> Entry:
        listed, links, involvements = kept
        return cls(
            tuple(Listed.from_json(item) for item in listed),
            tuple((how, organization) for how, organization in links),
            tuple(Involvement(*i) for i in involvements),
        )


def by_name(item: Listed) -> tuple[str, str]:
    """The order of the index's lists: by name, the IRI breaking ties (same bytes every build)."""
    return (item.name.lower(), item.iri)


def lists_of(item: Listed) -> list[str]:
    """The index's lists *item* is in: every organization is in :data:`ORGANIZATIONS`; a
    resource is in the list of each of its kinds (:data:`GROUPS`), but for hash IRIs."""
    types = set(item.types)
    found = [ORGANIZATIONS] if ORGANIZATION_TYPES & types else []
    if "#" not in item.iri:
        found += [f"group {key}" for key, kinds in GROUPS if kinds & types]
    return found


@dataclass(frozen=True)
class Network:
    """What the network picture draws: organizations (by name), and the publisher's links to them."""

    organizations: list[Listed]
    links: list[tuple[str, str]]  # (how, organization)


@dataclass(frozen=True)
class Timeline:
    """What the index shows of the publisher's involvements: the first listed, how many
    more there are, and those the picture draws."""

    first: list[Involvement]
    more: int
    drawn: list[Involvement]


class Listing(Protocol):
    """What the index reads of all the entries."""

    def first(self, name: str, most: int) -> tuple[list[Listed], int]:
        """The first *most* of the list *name* (of :func:`lists_of`) by name, and how many more."""
        ...

    def network(self, center: str | None, most: int, key: Callable[[str], str]) -> Network:
        """The organizations the network picture draws (:func:`drawn_organizations`; *key*
        orders ties), with the links of the publisher (*center*) to them."""
        ...

    def timeline(self, shown: int, drawn: int) -> Timeline:
        """The publisher's involvements as the index shows them (:func:`timeline_of`)."""
        ...


Edges = dict[tuple[str, str], set[str]]  # (IRI of one organization, IRI of another) -> labels


def network_edges(parents: Mapping[str, tuple[str, ...]], center: str | None, links: Iterable[tuple[str, str]]) -> Edges:
    """An edge 'part of' from each organization of *parents* to each of its parents among
    them; from the publisher (*center*, when among them) to each organization it takes
    part in, labelled by how (*links*)."""
    edges: Edges = {}
    for iri, its_parents in parents.items():
        for parent in its_parents:
            if parent in parents and parent != iri:  # part of itself: the checks refuse it, a picture cannot draw it
                edges.setdefault((iri, parent), set()).add("part of")
    if center is not None and center in parents:
        for label, organization in links:
            if organization in parents and organization != center:
                edges.setdefault((center, organization), set()).add(label)
    return edges


class Drawn(NamedTuple):
    """The organizations the network picture draws, and whether it is *full*: more
    organizations than it draws, and each drawn but the publisher with an edge. Then an
    organization with no edge (no parent among them, none of them its child, no link of the
    publisher to it), added or removed, is not drawn and changes no other's edges."""

    organizations: list[str]
    full: bool


def drawn_organizations(
    parents: Mapping[str, tuple[str, ...]], links: Iterable[tuple[str, str]], center: str | None, most: int, key: Callable[[str], str]
) -> Drawn:
    """Of the organizations of *parents*, those a picture of *most* draws: all of them, or
    past that the *most* with the most links (:func:`network_edges`; the publisher's,
    *center*, counting a hundred times, ties by *key*), and the publisher itself."""
    if len(parents) <= most:  # a picture of thousands of circles shows nothing: the closest partners
        return Drawn(list(parents), full=False)
    degree: dict[str, int] = defaultdict(int)
    for (source, target), labels in network_edges(parents, center, links).items():
        weight = len(labels) + (100 if source == center else 0)
        degree[source] += weight
        degree[target] += weight
    drawn = set(heapq.nsmallest(most, parents, key=lambda iri: (-degree[iri], key(iri))))
    if center is not None and center in parents:
        drawn.add(center)
    return Drawn([iri for iri in parents if iri in drawn], full=all(degree[iri] > 0 for iri in drawn if iri != center))


def spread(items: Sequence, most: int) -> list:
    """At most *most* of *items* (in order), evenly spread: a picture of thousands of labels
    shows nothing, and placing them costs more than the rest of the page."""
    if len(items) <= most:
        return list(items)
    return [items[i * len(items) // most] for i in range(most)]


def timeline_of(involvements: list[Involvement], shown: int, drawn: int) -> Timeline:
    """The first *shown* of *involvements* (by year), and *drawn* of them spread over the years."""
    return Timeline(involvements[:shown], max(len(involvements) - shown, 0), spread(involvements, drawn))


def given_involvements(entries: Mapping[str, Entry]) -> list[Involvement]:
    """The involvements *entries* give, by year; ties in the order of their documents."""
    return by_year(i for document in sorted(entries) for i in entries[document].involvements)


class EntriesListing:
    """A :class:`Listing` of every page's entry, held in memory."""

    def __init__(self, entries: Mapping[str, Entry]):
        self._entries = entries
        self._listed = {item.iri: item for entry in entries.values() for item in entry.listed}
        self._lists: dict[str, list[Listed]] = defaultdict(list)
        for item in sorted(self._listed.values(), key=by_name):
            for name in lists_of(item):
                self._lists[name].append(item)

    def first(self, name: str, most: int) -> tuple[list[Listed], int]:
        items = self._lists.get(name, [])
        return items[:most], max(len(items) - most, 0)

    def network(self, center: str | None, most: int, key: Callable[[str], str]) -> Network:
        parents = {item.iri: item.parents for item in self._lists.get(ORGANIZATIONS, [])}
        links = [link for document in sorted(self._entries) for link in self._entries[document].links]
        drawn = drawn_organizations(parents, links, center, most, key).organizations
        chosen = set(drawn)
        return Network(sorted((self._listed[iri] for iri in drawn), key=by_name), [link for link in links if link[1] in chosen])

    def timeline(self, shown: int, drawn: int) -> Timeline:
        return timeline_of(given_involvements(self._entries), shown, drawn)
