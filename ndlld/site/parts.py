"""What a page is made of, as plain data: texts, links, a resource's table and its rows,
the publisher's involvements, and the orders they are listed in. The view
(:mod:`ndlld.site.view`) reads them from the graph; the templates only lay them out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pyoxigraph import Triple


@dataclass(frozen=True)
class Text:
    """A literal as shown: its text and, for tagged text, its language."""

    text: str
    language: str | None = None


@dataclass(frozen=True)
class Link:
    """A link to another resource, with the name to show for it."""

    href: str
    text: str
    external: bool = False
    language: str | None = None  # of the text, when it is in one (a name; not a compact IRI)


@dataclass
class Statement:
    """One row of a resource's table: a property and its values."""

    label: str
    values: list[Text | Link]
    more: int = 0  # values not shown
    language: str | None = None  # of the label
    sources: list[Link] = field(default_factory=list)  # what states the values shown: sources, passages


@dataclass
class Section:
    """One resource on a page: the document itself, or one of its hash resources."""

    anchor: str | None
    iri: str
    title: Text
    types: list[Text]
    statements: list[Statement] = field(default_factory=list)
    sources: list[Link] = field(default_factory=list)  # what states its name, types (and description) shown above


# What states some statements, as links of a page (ndlld.site.cited.Citations): the view
# reads the graph, the quads' attribution is ndlld.provenance's.
Cite = Callable[[list[Triple]], list[Link]]


@dataclass(frozen=True)
class Involvement:
    """A dated part the publisher (the NDL) took: a membership, a role, a meeting. *kind*
    says how ('hosted' or 'attended' a meeting, or held a 'role'); the pages word it in
    their language around *name* and *held* (the short name of what the role is held in)."""

    year: int
    kind: str
    name: str
    held: str
    iri: str


def by_year(involvements: Iterable[Involvement]) -> list[Involvement]:
    """Involvements by year, then name, then what holds them, then IRI: one order however
    they were gathered, and the same in every language."""
    return sorted(involvements, key=involvement_order)


def involvement_order(involvement: Involvement) -> tuple[int, str, str, str]:
    """What :func:`by_year` sorts an involvement by."""
    return (involvement.year, involvement.name, involvement.held, involvement.iri)


def value_order(value: Text | Link) -> tuple:
    """How the values of a row of a resource's table are listed: links by their text, then
    where they lead; then texts by language and text."""
    return (0, value.text.lower(), value.href) if isinstance(value, Link) else (1, value.language or "", value.text)
