"""What each page of the site shows, as plain data, read from the graph through a Lookup.

A page is a *document*: a resource whose IRI has no fragment
(``…/id/ifla``). The resources with hash IRIs under it (``…/id/ifla#ndl-
regular-member``: roles, counts, single meetings) are described on the same
page, each in its own section, so their IRIs dereference there too.

The view reads the graph only through :attr:`SiteView.graph`, a
:class:`ndlld.lookup.Recording`: what a page is made from is what was looked up
while it was made (``view.graph.reads()``). What the view keeps from one page to
the next is kept by :func:`ndlld.lookup.remembered`, which notes again the lookups
behind each answer it gives back; the view has no room (``__slots__``) for any
other copy of the graph, so a memo cannot be added that hides what a page read.

Each lookup answers in :func:`ndlld.lookup.statement_order`, and where several
statements could give one value (two start dates, two English names) the rule
says which: so a page depends on the statements alone, not on the order of the
records they came from. The templates only lay out what they are given.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Triple

from ndlld.context import Context
from ndlld.links import identify
from ndlld.lookup import Lookup, Recording, TriplesLookup, document_of, remembered
from ndlld.namespaces import NDL, RDF, RDF_TYPE, SCHEMA
from ndlld.rdf import subject_value

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
DCTERMS_SOURCE = "http://purl.org/dc/terms/source"
ORGANIZATION_TYPES = {str(SCHEMA) + t for t in ("Organization", "Library", "GovernmentOrganization")}
_NAME_PROPERTIES = (str(SCHEMA) + "name", str(SCHEMA) + "roleName", SKOS_PREF_LABEL, RDFS_LABEL)
_RDF_TYPE = RDF_TYPE.value
_QUANTITY = str(SCHEMA) + "QuantitativeValue"
_MEMBER_OF = str(SCHEMA) + "memberOf"
_START_DATE = str(SCHEMA) + "startDate"
# What holds a role or meeting that points at it: a meeting its attendee role, a
# series its meetings, an organization the role of who funds it.
_STATEMENT = str(RDF) + "Statement"
_RDF_SUBJECT, _RDF_PREDICATE, _RDF_OBJECT = (str(RDF) + name for name in ("subject", "predicate", "object"))
_SAME_AS = str(SCHEMA) + "sameAs"
_LINKS = (_SAME_AS, str(SCHEMA) + "url")  # links outward: shown by authority (LinkGroup)
_LINK_SOURCE = "source of its links"  # how a source's page lists what cites it for a link
_HOLDING = (str(SCHEMA) + "attendee", str(SCHEMA) + "funder", str(SCHEMA) + "subEvent")


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


@dataclass
class Statement:
    """One row of a resource's table: a property and its values."""

    label: str
    values: list[Text | Link]
    more: int = 0  # values not shown


@dataclass
class LinkGroup:
    """A resource's links outward to one authority (or its home pages), each with its sources."""

    authority: str
    links: list[tuple[Link, list[Link]]]


@dataclass
class Section:
    """One resource on a page: the document itself, or one of its hash resources."""

    anchor: str | None
    iri: str
    title: str
    types: list[str]
    statements: list[Statement] = field(default_factory=list)
    links: list[LinkGroup] = field(default_factory=list)


@dataclass(frozen=True)
class Involvement:
    """A dated part the publisher (the NDL) took: a membership, a role, a meeting."""

    year: int
    label: str
    iri: str


class SiteView:
    """The graph as the pages show it: names, links, sections, involvements.

    *graph* is any :class:`ndlld.lookup.Lookup`, wrapped in a :class:`Recording` unless
    it is one; *vocabulary* gives the labels of the properties and classes (fixed for
    a build, so not among what a page reads)."""

    __slots__ = ("graph", "base", "context", "labels", "dataset", "_remembered")

    def __init__(self, graph: Lookup, vocabulary: Iterable[Triple], base: str, context: Context):
        self.graph = graph if isinstance(graph, Recording) else Recording(graph)
        self.base = base
        self.context = context
        self.labels = _labels(vocabulary)  # IRI -> language -> label
        self.dataset = self.base + "id/dataset"

    @classmethod
    def of(cls, triples: Iterable[Triple], vocabulary: Iterable[Triple], base: str, context: Context) -> SiteView:
        """A view of *triples* held in memory."""
        return cls(TriplesLookup(triples), vocabulary, base, context)

    @property
    def publisher(self) -> str | None:
        """Who publishes the dataset (the NDL): the involvements are its."""
        return self._publisher()

    @remembered
    def _publisher(self) -> str | None:
        return self.value(self.dataset, str(SCHEMA) + "publisher")

    # -- looking things up ---------------------------------------------------
    def values(self, subject: str, predicate: str) -> list:
        """The objects of *subject*'s statements by *predicate*, in statement order."""
        return [t.object for t in self.graph.stated(subject, predicate)]

    def value(self, subject: str, predicate: str) -> str | None:
        """The first of *subject*'s values of *predicate* in statement order (IRIs before
        literals, each by its text), if it has any."""
        found = self.values(subject, predicate)
        return found[0].value if found else None

    def types(self, iri: str) -> list[str]:
        return sorted(t.value for t in self.values(iri, _RDF_TYPE))

    def text(self, iri: str, predicate: str, language: str) -> str | None:
        """The first of *iri*'s texts in *language* by *predicate*, by its text."""
        for obj in self.values(iri, predicate):
            if isinstance(obj, Literal) and obj.language == language:
                return obj.value
        return None

    @remembered
    def name(self, iri: str, language: str = "en") -> str:
        """The name to show for *iri*: its name, role name or label, else a short IRI.

        Kept once made: the index sorts every organization by name, and pages name what
        they link to."""
        for predicate in _NAME_PROPERTIES:
            found = self.text(iri, predicate, language)
            if found:
                return found
        if iri in self.labels:
            return self.labels[iri].get(language) or self.labels[iri].get("en") or next(iter(self.labels[iri].values()))
        return self.context.compact(iri) if not iri.startswith(self.base) else iri[len(self.base) :]

    def short_name(self, iri: str) -> str:
        """An abbreviation where there is one (IFLA), the shortest (then the first by its
        text) of several; else the name."""
        alternate = [o.value for o in self.values(iri, str(SCHEMA) + "alternateName")]
        return min(alternate, key=lambda text: (len(text), text)) if alternate else self.name(iri)

    @remembered
    def documents(self) -> list[str]:
        """The IRIs that get a page: every described resource without a fragment, under the base."""
        return [iri for iri in self.graph.documents() if self.has_page(iri)]

    def has_page(self, document: str) -> bool:
        """Whether *document*, when described, gets a page."""
        return document.startswith(self.base + "id/") and "#" not in document

    @remembered
    def organizations(self) -> list[str]:
        """Every organization, by name."""
        found = {subject_value(t) for t in self.by_object_types(ORGANIZATION_TYPES)}
        return sorted(found, key=lambda iri: (self.name(iri).lower(), iri))

    def by_object_types(self, types: Iterable[str]) -> list[Triple]:
        """The rdf:type statements of each of *types*."""
        return [t for type_iri in sorted(types) for t in self.graph.pointing_at(type_iri) if t.predicate == RDF_TYPE]

    def sources(self, document: str) -> list[str]:
        """What *document* cites as its sources: those the whole dataset comes from
        first, then its own, by name."""
        general = {o.value for o in self.values(self.dataset, DCTERMS_SOURCE)}
        cited = {o.value for o in self.values(document, DCTERMS_SOURCE)}
        return sorted(cited, key=lambda iri: (iri not in general, self.link_text(iri).lower(), iri))

    # -- paths and links ---------------------------------------------------
    def path(self, iri: str) -> str:
        """The site-relative path of a resource's page: ``id/ifla`` (with ``#fragment``)."""
        return iri[len(self.base) :]

    def link(self, iri: str, from_path: str) -> Link:
        """A link from the page at *from_path* to *iri*: relative inside the site."""
        if iri.startswith(self.base):
            return Link(relative(self.path(iri), from_path), self.link_text(iri))
        return Link(iri, self.link_text(iri), external=True)

    def link_text(self, iri: str) -> str:
        """What a link to *iri* says: its name inside the site, else its label or compact IRI."""
        if iri.startswith(self.base):
            return self.name(iri)
        return self.labels.get(iri, {}).get("en") or self.context.compact(iri)

    @remembered
    def property_label(self, predicate: str) -> str:
        """``schema:parentOrganization`` as 'parent organization', ndl: terms by their rdfs:label.
        Kept once made: every row of every page has one (it reads the vocabulary only)."""
        if predicate in self.labels and "en" in self.labels[predicate]:
            return self.labels[predicate]["en"]
        if predicate == _RDF_TYPE:
            return "type"
        local = re.split(r"[/#]", predicate)[-1]
        return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", local).lower()

    # -- what a page shows -------------------------------------------------
    def sections(self, document: str, most: int | None = None) -> list[Section]:
        """The document first, then its hash resources in IRI order; at most *most* values a statement."""
        subjects = sorted(self._described(document)[0], key=lambda s: (s != document, s))
        # A link's statement (its source) is shown with the link, in the links of what it is about.
        subjects = [s for s in subjects if _STATEMENT not in self.types(s)]
        return [self.section(subject, self.path(document), most) for subject in subjects]

    def described(self, document: str) -> list[str]:
        """The resources described on *document*'s page: the document and its hash resources with statements."""
        return self._described(document)[0]

    @remembered
    def _described(self, document: str) -> tuple[list[str], list[str]]:
        """The resources described on *document*'s page, and those of them or held by them
        that may be the publisher's involvements (with a start date, or a meeting or role
        they hold): one pass over the page's statements, which every part of it needs."""
        subjects: dict[str, None] = {}
        dated = []
        for t in self.graph.in_document(document):
            subject, predicate = subject_value(t), t.predicate.value
            subjects[subject] = None
            if predicate == _START_DATE:
                dated.append(subject)
            elif predicate in _HOLDING and isinstance(t.object, NamedNode):
                dated.append(t.object.value)
        return list(subjects), dated

    def description(self, document: str) -> list[Triple]:
        """What *document*'s own RDF says, as LodView and Pubby describe a resource: its
        statements (and its hash resources'), the statements of other pages pointing at
        them, and the names of every resource these link to or from."""
        own = list(self.graph.in_document(document))
        incoming = [
            t
            for target in self._described(document)[0]
            for t in self.graph.pointing_at(target)
            if document_of(subject_value(t)) != document
        ]
        linked = [t.object.value for t in own if isinstance(t.object, NamedNode) and t.predicate != RDF_TYPE]
        linked += [subject_value(t) for t in incoming]
        linked += [document_of(subject_value(t)) for t in incoming]  # a hash resource's page lists it by its owner's name
        names = [t for iri in dict.fromkeys(linked) if document_of(iri) != document for t in self.names(iri)]
        return own + incoming + names

    def names(self, iri: str) -> Sequence[Triple]:
        """*iri*'s statements of the first property it is named by (:meth:`name`'s order),
        in every language it has."""
        for predicate in _NAME_PROPERTIES:
            found = self.graph.stated(iri, predicate)
            if found:
                return found
        return ()

    def section(self, iri: str, page: str, most: int | None = None) -> Section:
        fragment = iri.partition("#")[2] or None
        shown_above = set(_NAME_PROPERTIES[:2]) | (set() if fragment else {str(SCHEMA) + "description"})
        rows: dict[str, list] = defaultdict(list)
        for triple in self.graph.about(iri):
            if triple.predicate != RDF_TYPE and triple.predicate.value not in shown_above and triple.predicate.value not in _LINKS:
                rows[self.property_label(triple.predicate.value)].append(self.show(triple.object, page))
        if fragment:  # a role names its holder by the link that points at it: NDL memberOf role
            for triple in self.graph.pointing_at(iri):
                if triple.predicate.value == _MEMBER_OF:
                    rows["member"].append(self.link(subject_value(triple), page))
        statements = []
        for label, values in sorted(rows.items()):
            values.sort(key=_sort_key)
            statements.append(Statement(label, values[:most], len(values) - len(values[:most])))
        title = self.quantity(iri) or self.name(iri)
        return Section(fragment, iri, title, [self.name(t) for t in self.types(iri)], statements, self.links(iri, page))

    def links(self, iri: str, page: str) -> list[LinkGroup]:
        """*iri*'s links outward grouped by the authority's name (home pages first), each link
        shown by its identifier with the sources its statement names."""
        sources: dict[tuple[str, str], list[str]] = defaultdict(list)
        for triple in self.graph.pointing_at(iri):
            if triple.predicate.value == _RDF_SUBJECT:
                statement = subject_value(triple)
                link = (self.value(statement, _RDF_PREDICATE) or "", self.value(statement, _RDF_OBJECT) or "")
                sources[link] += [o.value for o in self.values(statement, DCTERMS_SOURCE)]
        groups: dict[str, list[tuple[Link, list[Link]]]] = defaultdict(list)
        for triple in self.graph.about(iri):
            predicate = triple.predicate.value
            if predicate in _LINKS and isinstance(triple.object, NamedNode):
                found = identify(triple.object.value) if predicate == _SAME_AS else None
                group = found[0].name if found else "home page" if predicate != _SAME_AS else "same as"
                self.name(triple.object.value)  # read, as for every resource a page links to, though the graph names none outside it
                shown = Link(triple.object.value, found[1] if found else triple.object.value, external=True)
                cited = [self.link(source, page) for source in sorted(set(sources[(predicate, triple.object.value)]))]
                groups[group].append((shown, cited))
        order = sorted(groups, key=lambda name: (name not in ("home page", "same as"), name.lower()))
        return [LinkGroup(name, sorted(groups[name], key=lambda link: link[0].text)) for name in order]

    def show(self, obj, page: str) -> Text | Link:
        if isinstance(obj, Literal):
            return Text(obj.value, obj.language)
        quantity = self.quantity(obj.value)
        if quantity:
            return Link(relative(self.path(obj.value), page), quantity)
        return self.link(obj.value, page)

    def quantity(self, iri: str) -> str | None:
        """A count as the source words it: 'more than 1,700 members'."""
        if not any(t.value == _QUANTITY for t in self.values(iri, _RDF_TYPE)):  # most links are not counts
            return None
        value = self.value(iri, str(SCHEMA) + "value") or self.value(iri, str(SCHEMA) + "minValue")  # "more than": a lower bound
        unit = self.value(iri, str(SCHEMA) + "unitText") or ""
        qualifier = self.value(iri, str(NDL) + "countQualifier")
        number = f"{int(value):,}" if value and value.isdigit() else (value or "?")
        if qualifier and qualifier != str(NDL) + "Exactly":
            return f"{self.name(qualifier)} {number} {unit}".strip()
        return f"{number} {unit}".strip()

    def links_here(self, document: str, most: int | None = None) -> tuple[list[tuple[Link, str]], int]:
        """Resources on other pages that link to this page's resources, as (who, how), by
        name: the first *most* of them (all by default), and how many there are in all."""
        targets = self._described(document)[0]
        labels: dict[str, str] = {}  # predicate -> how it is shown
        rows = set()
        for target in targets:
            for triple in self.graph.pointing_at(target):
                source, predicate = subject_value(triple), triple.predicate.value
                if predicate == DCTERMS_SOURCE and _STATEMENT in self.types(source):  # a link's source: who links
                    source, predicate = self.value(source, _RDF_SUBJECT) or source, _LINK_SOURCE
                if triple.predicate == RDF_TYPE or document_of(source) == document:
                    continue
                how = labels.get(predicate) or labels.setdefault(
                    predicate, _LINK_SOURCE if predicate == _LINK_SOURCE else self.property_label(predicate)
                )
                rows.add((source, how))
        # Links made only for the rows shown: the page of a source every record cites has them all.
        ordered = sorted((self.link_text(source).lower(), how, source) for source, how in rows)
        page = self.path(document)
        return [(self.link(source, page), how) for _, how, source in ordered[:most]], len(ordered)

    # -- the publisher's dated parts ---------------------------------------
    def involvements(self, about: str) -> list[Involvement]:
        """The publisher's dated parts (roles it holds, meetings it attended or hosted)
        shown on *about*'s page: those described on it or held in what it describes (the
        document itself, or one of its hash resources that has statements).

        Found from the document's side, so that its page reads its own statements and
        those of the roles and meetings around it, not all the publisher's: the
        publisher's page lists those the other pages give (:func:`ndlld.site.index_entry`)."""
        return self._involvements_of(about)

    @remembered
    def _involvements_of(self, document: str) -> list[Involvement]:
        publisher = self.publisher
        found = []
        for iri in self._around(document) if publisher else ():
            # The start date first: a candidate may be the publisher, linked to everything.
            made = self._involvement(iri) if publisher and self.value(iri, _START_DATE) and self._linked_with(iri, publisher) else None
            if made is not None and document in _pages_of(iri, made[1]):
                found.append(made[0])
        return by_year(found)

    def _around(self, document: str) -> list[str]:
        """What may be an involvement shown on *document*'s page: its resources with a start
        date, what they hold (meetings, attendee roles), and the roles that are members of them."""
        subjects, found = self._described(document)
        found = list(found)
        for holder in dict.fromkeys([document, *subjects]):
            found += [subject_value(t) for t in self.graph.pointing_at(holder) if t.predicate.value == _MEMBER_OF]
        return list(dict.fromkeys(found))

    def _linked_with(self, iri: str, publisher: str) -> bool:
        """Whether the publisher links to *iri* or *iri* to the publisher."""
        return any(subject_value(t) == publisher for t in self.graph.pointing_at(iri)) or any(
            isinstance(t.object, NamedNode) and t.object.value == publisher for t in self.graph.about(iri)
        )

    @remembered
    def _involvement(self, iri: str) -> tuple[Involvement, str | None] | None:
        """*iri* as an involvement, with what it is held in; None without a start date."""
        start = self.value(iri, _START_DATE)
        if not start:
            return None
        held_in = self._held_in(iri)
        return Involvement(int(start[:4]), self._involvement_label(iri, held_in), iri), held_in

    def _held_in(self, iri: str) -> str | None:
        """What a role is held in (the organization or series), for its label: the first
        it is a member of, else the first that holds it, in statement order."""
        for triple in self.graph.about(iri):
            if triple.predicate.value == _MEMBER_OF and isinstance(triple.object, NamedNode):
                return triple.object.value
        for triple in self.graph.pointing_at(iri):
            if triple.predicate.value in _HOLDING:
                return subject_value(triple)
        return None

    def _organizer(self, iri: str) -> str:
        """A series by who runs it ('CDNLAO'), anything else by its short name."""
        organizers = sorted(o.value for o in self.values(iri, str(SCHEMA) + "organizer"))
        return self.short_name(organizers[0]) if organizers else self.short_name(iri)

    def _involvement_label(self, iri: str, held_in: str | None) -> str:
        name = self.name(iri)
        if str(SCHEMA) + "Event" in self.types(iri):
            hosted = any(o.value == self.publisher for o in self.values(iri, str(SCHEMA) + "organizer"))
            return f"{'hosted' if hosted else 'attended'} the {name}"
        return f"{name}, {self._organizer(held_in)}" if held_in else name


def _labels(vocabulary: Iterable[Triple]) -> dict[str, dict[str, str]]:
    """The vocabulary's labels, by IRI and language (the first of each, as the file gives them)."""
    labels: dict[str, dict[str, str]] = {}
    for triple in vocabulary:
        if triple.predicate.value in (RDFS_LABEL, SKOS_PREF_LABEL) and isinstance(triple.object, Literal):
            labels.setdefault(subject_value(triple), {}).setdefault(triple.object.language or "", triple.object.value)
    return labels


def _pages_of(iri: str, held_in: str | None) -> set[str]:
    """The documents whose pages show an involvement: its own, and that of what it is held in."""
    return {document_of(iri)} | ({document_of(held_in)} if held_in else set())


def by_year(involvements: Iterable[Involvement]) -> list[Involvement]:
    """Involvements by year, then label, then IRI: one order however they were gathered."""
    return sorted(involvements, key=lambda i: (i.year, i.label, i.iri))


def relative(target: str, from_path: str) -> str:
    """A link from the page at *from_path* to the site path *target* (both from the site root)."""
    path, hash_, fragment = target.partition("#")
    path = path or from_path
    here = posixpath.dirname(from_path)
    parts, up = path.split("/"), here.split("/") if here else []
    if _ODD_SEGMENTS.isdisjoint(parts) and _ODD_SEGMENTS.isdisjoint(up):
        # What posixpath.relpath gives for plain paths, without its abspath and normpath
        # calls: a page may link to every organization, and normalizing each path cost more than the link.
        common = 0
        for mine, theirs in zip(parts, up):
            if mine != theirs:
                break
            common += 1
        href = "/".join([".."] * (len(up) - common) + parts[common:]) or "."
    else:
        href = posixpath.relpath(path, here or ".")
    return href + (hash_ + fragment if hash_ else "")


_ODD_SEGMENTS = {"", ".", ".."}  # paths with these are left to posixpath.relpath, which normalizes them


def _sort_key(value) -> tuple:
    return (0, value.text.lower(), value.href) if isinstance(value, Link) else (1, value.language or "", value.text)
