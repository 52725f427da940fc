"""A resource's links outward on its page: its ``schema:sameAs`` and ``schema:url`` links
grouped by authority, each with the sources its statement names (:mod:`ndlld.links`
reifies each link as an ``rdf:Statement`` with its ``dcterms:source``).

Every language groups and orders them alike (home pages, other links, then the authorities
by their English names); a page heads a group in its language where the catalogue names
the authority (``links.authorities``), else by the name ontology/authorities.yaml gives.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from pyoxigraph import NamedNode

from ndlld.links import identify
from ndlld.namespaces import RDF, SCHEMA
from ndlld.rdf import subject_value
from ndlld.site.messages import messages
from ndlld.site.view import DCTERMS_SOURCE, Link, SiteView, Text

_SAME_AS = str(SCHEMA) + "sameAs"
_RDF_SUBJECT, _RDF_PREDICATE, _RDF_OBJECT = (str(RDF) + name for name in ("subject", "predicate", "object"))
_HOME_PAGE, _SAME = "home_page", "same_as"  # the groups no authority names, by their key in the catalogues


@dataclass
class LinkGroup:
    """A resource's links outward to one authority (or its home pages), each with its sources."""

    authority: Text
    links: list[tuple[Link, list[Link]]]


def outward_links(view: SiteView, iri: str, page: str, language: str = "en") -> list[LinkGroup]:
    """*iri*'s links outward as the page at *page* in *language* shows them: by authority,
    each link by its identifier with the sources its statement names."""
    sources: dict[tuple[str, str], list[str]] = defaultdict(list)
    for triple in view.graph.pointing_at(iri):
        if triple.predicate.value == _RDF_SUBJECT:
            statement = subject_value(triple)
            link = (view.value(statement, _RDF_PREDICATE) or "", view.value(statement, _RDF_OBJECT) or "")
            sources[link] += [o.value for o in view.values(statement, DCTERMS_SOURCE)]
    groups: dict[tuple[str, str], list[tuple[Link, list[Link]]]] = defaultdict(list)
    for triple in view.graph.about(iri):
        predicate = triple.predicate.value
        if predicate in (_SAME_AS, str(SCHEMA) + "url") and isinstance(triple.object, NamedNode):
            found = identify(triple.object.value) if predicate == _SAME_AS else None
            # (key, English name): an authority's, else the home pages' or the other links' (no name)
            group = (found[0].key, found[0].name) if found else (_HOME_PAGE if predicate != _SAME_AS else _SAME, "")
            view.name(triple.object.value)  # read, as for every resource a page links to, though the graph names none outside it
            shown = Link(triple.object.value, found[1] if found else triple.object.value, external=True)
            cited = [view.link(source, page, language) for source in sorted(set(sources[(predicate, triple.object.value)]))]
            groups[group].append((shown, cited))
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
