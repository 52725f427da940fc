"""A resource's links outward on its page: its ``schema:sameAs`` and ``schema:url`` links
grouped by authority, each with what states it: the graphs the quads dumps put it in
(:mod:`ndlld.site.cited`), which are those of the sources its ``rdf:Statement`` names
(:mod:`ndlld.links` reifies each link with its ``dcterms:source``), or their passages.

Every language groups and orders them alike (home pages, other links, then the authorities
by their English names); a page heads a group in its language where the catalogue names
the authority (``links.authorities``), else by the name ontology/authorities.yaml gives.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from pyoxigraph import NamedNode

from ndlld.links import identify
from ndlld.namespaces import SCHEMA
from ndlld.site.messages import messages
from ndlld.site.parts import Cite, Link, Text
from ndlld.site.view import SiteView

_SAME_AS = str(SCHEMA) + "sameAs"
_HOME_PAGE, _SAME = "home_page", "same_as"  # the groups no authority names, by their key in the catalogues


@dataclass
class LinkGroup:
    """A resource's links outward to one authority (or its home pages), each with its sources."""

    authority: Text
    links: list[tuple[Link, list[Link]]]


def outward_links(view: SiteView, iri: str, page: str, cite: Cite, language: str = "en") -> list[LinkGroup]:
    """*iri*'s links outward as the page at *page* in *language* shows them: by authority,
    each link by its identifier with what states it (*cite*)."""
    groups: dict[tuple[str, str], list[tuple[Link, list[Link]]]] = defaultdict(list)
    for triple in view.graph.about(iri):
        predicate = triple.predicate.value
        if predicate in (_SAME_AS, str(SCHEMA) + "url") and isinstance(triple.object, NamedNode):
            found = identify(triple.object.value) if predicate == _SAME_AS else None
            # (key, English name): an authority's, else the home pages' or the other links' (no name)
            group = (found[0].key, found[0].name) if found else (_HOME_PAGE if predicate != _SAME_AS else _SAME, "")
            view.name(triple.object.value)  # read, as for every resource a page links to, though the graph names none outside it
            shown = Link(triple.object.value, found[1] if found else triple.object.value, external=True)
            groups[group].append((shown, cite([triple])))
    order = sorted(groups, key=lambda group: (group[0] not in (_HOME_PAGE, _SAME), group[1].lower(), group[0]))
    return [LinkGroup(authority_name(key, name, language), sorted(groups[key, name], key=lambda link: link[0].text)) for key, name in order]


def authority_name(key: str, name: str, language: str) -> Text:
    """How a page in *language* heads the links to one authority (*key* of
    ontology/authorities.yaml, whose *name* is English) or a group no authority names
    (*name* empty): as the catalogue names it, else by *name*."""
    names = messages(language)["links"]
    if key in names["authorities"]:
        return Text(names["authorities"][key], language)
    return Text(name, "en") if name else Text(names[key], language)
