"""What the index lists, as the index reads it.

Every page gives the index an :class:`Entry`: the resources it lists and the publisher's
links and involvements through the resources it describes. The index shows the first
resources of each list by name, the organizations drawn in the network picture and the
publisher's involvements; it reads them through a :class:`Listing`, not the entries
themselves, so that an incremental build can give it the lists kept sorted in its state
(:mod:`ndlld.incremental.listing`) rather than every page's entry to sort again. A build
from scratch gives it the entries themselves (:class:`EntriesListing`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import astuple, dataclass
from typing import Protocol

from ndlld.namespaces import SCHEMA
from ndlld.site.view import ORGANIZATION_TYPES, Involvement, by_year

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


class Listing(Protocol):
    """What the index reads of all the entries."""

    def first(self, name: str, most: int) -> tuple[list[Listed], int]:
        """The first *most* of the list *name* (of :func:`lists_of`) by name, and how many more."""
        ...

    def organizations(self) -> dict[str, tuple[str, ...]]:
        """Every organization's IRI, with those of its parents."""
        ...

    def items(self, iris: Iterable[str]) -> list[Listed]:
        """The organizations of *iris*, by name."""
        ...

    def links(self) -> list[tuple[str, str]]:
        """The publisher's links to organizations, as the entries give them."""
        ...

    def involvements(self) -> list[Involvement]:
        """The publisher's involvements, by year."""
        ...


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

    def organizations(self) -> dict[str, tuple[str, ...]]:
        return {item.iri: item.parents for item in self._lists.get(ORGANIZATIONS, [])}

    def items(self, iris: Iterable[str]) -> list[Listed]:
        return sorted((self._listed[iri] for iri in iris), key=by_name)

    def links(self) -> list[tuple[str, str]]:
        return [link for document in sorted(self._entries) for link in self._entries[document].links]

    def involvements(self) -> list[Involvement]:
        return given_involvements(self._entries)
