"""The publisher's dated parts each page shows: the roles it holds, the meetings it
attended or hosted, as :class:`~ndlld.site.parts.Involvement`.

Read through the view (:class:`~ndlld.site.view.SiteView`), from the document's side,
so that a page reads its own statements and those of the roles and meetings around it,
not all the publisher's: the publisher's page lists those the other pages give
(:func:`ndlld.site.index_entry`). What is worked out once is kept by
:func:`~ndlld.lookup.remembered`, with the reads behind it, as the view's own memos are.
"""

from __future__ import annotations

from pyoxigraph import NamedNode

from ndlld.lookup import document_of, remembered
from ndlld.namespaces import SCHEMA
from ndlld.rdf import subject_value
from ndlld.site.parts import Involvement, by_year
from ndlld.site.view import SiteView

_START_DATE = str(SCHEMA) + "startDate"
_MEMBER_OF = str(SCHEMA) + "memberOf"


def involvements_on(view: SiteView, about: str) -> list[Involvement]:
    """The publisher's dated parts shown on *about*'s page, by year: those described on it
    or held in what it describes (the document itself, or one of its hash resources that
    has statements)."""
    return _involvements_of(view, about)


@remembered
def _involvements_of(view: SiteView, document: str) -> list[Involvement]:
    publisher = view.publisher
    found = []
    for iri in _around(view, document) if publisher else ():
        # The start date first: a candidate may be the publisher, linked to everything.
        made = _involvement(view, iri) if publisher and view.value(iri, _START_DATE) and _linked_with(view, iri, publisher) else None
        if made is not None and document in _pages_of(iri, made[1]):
            found.append(made[0])
    return by_year(found)


def _around(view: SiteView, document: str) -> list[str]:
    """What may be an involvement shown on *document*'s page: its resources with a start
    date, what they hold (meetings, attendee roles), and the roles that are members of them."""
    found = list(view.dated(document))
    for holder in dict.fromkeys([document, *view.described(document)]):
        found += [subject_value(t) for t in view.graph.pointing_by(holder, _MEMBER_OF)]
    return list(dict.fromkeys(found))


def _linked_with(view: SiteView, iri: str, publisher: str) -> bool:
    """Whether the publisher links to *iri* or *iri* to the publisher."""
    return bool(view.graph.between(publisher, iri)) or any(
        isinstance(t.object, NamedNode) and t.object.value == publisher for t in view.graph.about(iri)
    )


@remembered
def _involvement(view: SiteView, iri: str) -> tuple[Involvement, str | None] | None:
    """*iri* as an involvement, with what it is held in; None without a start date."""
    start = view.value(iri, _START_DATE)
    if not start:
        return None
    held_in = view.held_in(iri)
    if str(SCHEMA) + "Event" in view.types(iri):
        hosted = any(o.value == view.publisher for o in view.values(iri, str(SCHEMA) + "organizer"))
        kind, held = ("hosted" if hosted else "attended"), ""
    else:
        kind, held = "role", _organizer(view, held_in) if held_in else ""
    return Involvement(int(start[:4]), kind, view.name(iri), held, iri), held_in


def _organizer(view: SiteView, iri: str) -> str:
    """A series by who runs it ('CDNLAO'), anything else by its short name."""
    organizers = sorted(o.value for o in view.values(iri, str(SCHEMA) + "organizer"))
    return view.short_name(organizers[0]) if organizers else view.short_name(iri)


def _pages_of(iri: str, held_in: str | None) -> set[str]:
    """The documents whose pages show an involvement: its own, and that of what it is held in."""
    return {document_of(iri)} | ({document_of(held_in)} if held_in else set())
