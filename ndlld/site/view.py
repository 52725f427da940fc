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
records they came from. The templates only lay out what they are given: the plain
data of :mod:`ndlld.site.parts`. The publisher's dated parts are read through the view
by :mod:`ndlld.site.involvements`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import nullcontext
from typing import cast

from pyoxigraph import Literal, NamedNode, Triple

from ndlld.context import Context
from ndlld.lookup import Lookup, Read, Recording, TriplesLookup, document_of, not_implied, remembered
from ndlld.namespaces import NDL, RDF, RDF_TYPE, SCHEMA
from ndlld.rdf import subject_value
from ndlld.site.cut import Cut, Rows, cut_short
from ndlld.site.messages import messages, term_labels
from ndlld.site.parts import Cite, Link, Section, Statement, Text, value_order
from ndlld.site.paths import relative

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
DCTERMS_SOURCE = "http://purl.org/dc/terms/source"
ORGANIZATION_TYPES = {str(SCHEMA) + t for t in ("Organization", "Library", "GovernmentOrganization")}
_NAME_PROPERTIES = (str(SCHEMA) + "name", str(SCHEMA) + "roleName", SKOS_PREF_LABEL, RDFS_LABEL)
_RDF_TYPE = RDF_TYPE.value
_QUANTITY = str(SCHEMA) + "QuantitativeValue"
_MEMBER_OF = str(SCHEMA) + "memberOf"
_MEMBER = str(SCHEMA) + "member"  # the inverse of memberOf: how a role names its holder
_ROLES = {str(SCHEMA) + "Role", str(SCHEMA) + "OrganizationRole"}
_START_DATE = str(SCHEMA) + "startDate"
# What holds a role or meeting that points at it: a meeting its attendee role, a
# series its meetings, an organization the role of who funds it.
_STATEMENT = str(RDF) + "Statement"
_RDF_SUBJECT = str(RDF) + "subject"
LINKS_OUTWARD = (str(SCHEMA) + "sameAs", str(SCHEMA) + "url")  # shown by authority, below the table (ndlld.site.outward)
_LINK_SOURCE = "ndlld:link-source"  # in place of a predicate: what cites a source for a link (worded by link_source_label)
_HOLDING = (str(SCHEMA) + "attendee", str(SCHEMA) + "funder", str(SCHEMA) + "subEvent")
_VALUES = "values"  # the lists of a section's rows cut short: "values|subject|predicate"


_NO_HOW = Text("")  # a row of a section's values is the value alone: one property


def _uncited(triples: list[Triple]) -> list[Link]:
    """No sources shown: a view used without the attribution (the tests of the view alone)."""
    return []


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
        for iri, by_language in term_labels(context).items():  # the vocabulary's own labels first
            for language, label in by_language.items():
                self.labels.setdefault(iri, {}).setdefault(language, label)
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

    def name(self, iri: str, language: str = "en") -> str:
        """The name to show for *iri* (:meth:`named`)."""
        return self.named(iri, language).text

    @remembered
    def named(self, iri: str, language: str = "en") -> Text:
        """The name to show for *iri* and its language: its name, role name or label in
        *language*, else in English; else the label of its type for a resource on another's
        page (a legal status), else a short IRI.

        Kept once made: the index sorts every organization by name, and pages name what
        they link to."""
        for wanted in dict.fromkeys((language, "en")):
            for predicate in _NAME_PROPERTIES:
                found = self.text(iri, predicate, wanted)
                if found:
                    return Text(found, wanted)
            if wanted in self.labels.get(iri, {}):
                return Text(self.labels[iri][wanted], wanted)
        if "" in self.labels.get(iri, {}):  # the labels of schemaorg.ttl, English untagged
            return Text(self.labels[iri][""], "en")
        if iri.startswith(self.base) and "#" in iri and self.types(iri):
            return self.named(self.types(iri)[0], language)
        return Text(self.context.compact(iri) if not iri.startswith(self.base) else iri[len(self.base) :])

    def short_name(self, iri: str) -> str:
        """An abbreviation where there is one (IFLA), the shortest (then the first by its
        text) of several; else the name."""
        alternate = [o.value for o in self.values(iri, str(SCHEMA) + "alternateName")]
        return min(alternate, key=lambda text: (len(text), text)) if alternate else self.name(iri)

    @remembered
    def documents(self) -> list[str]:
        """The IRIs that get a page: every described resource without a fragment, under the base."""
        return [iri for iri in self.graph.documents() if self.has_page(iri)]

    def page_count(self) -> int:
        """How many documents get a page (:meth:`documents`), counted without listing them."""
        return self.graph.count_documents(self.base + "id/")  # has_page's test, for a document

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
        return sorted(cited, key=lambda iri: (iri not in general, self.link_text(iri).text.lower(), iri))

    # -- paths and links ---------------------------------------------------
    def path(self, iri: str) -> str:
        """The site-relative path of a resource's page: ``id/ifla`` (with ``#fragment``)."""
        return iri[len(self.base) :]

    def link(self, iri: str, from_path: str, language: str = "en") -> Link:
        """A link from the page at *from_path* to *iri*: relative inside the site."""
        text = self.link_text(iri, language)
        if iri.startswith(self.base):
            return Link(relative(self.path(iri), from_path), text.text, language=text.language)
        return Link(iri, text.text, external=True, language=text.language)

    def link_text(self, iri: str, language: str = "en") -> Text:
        """What a link to *iri* says: its name inside the site, else its label or compact IRI.
        A role or a meeting's part on another page is named with what holds it ('associate
        member, IFLA'): several have the same name."""
        if not iri.startswith(self.base):
            label = self.labels.get(iri, {})
            return (
                Text(label[language], language)
                if language in label
                else Text(label["en"], "en")
                if "en" in label
                else Text(self.context.compact(iri))
            )
        named = self.named(iri, language)
        if "#" in iri and _ROLES.intersection(self.types(iri)):
            held_in = self.held_in(iri)
            holder = self.short_name(held_in) if held_in is not None and held_in != iri else None
            if holder and holder not in (word.strip(".,;:()") for word in named.text.split()):  # 'donor to … of the IFLA' names it
                return Text(f"{named.text}, {holder}", named.language)
        return named

    @remembered
    def property_label(self, predicate: str, language: str = "en") -> Text:
        """``schema:parentOrganization`` as 'parent organization', ndl: terms by their rdfs:label,
        in *language* where the vocabulary or the site's messages have it, else in English.
        Kept once made: every row of every page has one (it reads the vocabulary only)."""
        for wanted in dict.fromkeys((language, "en")):
            if wanted in self.labels.get(predicate, {}):
                return Text(self.labels[predicate][wanted], wanted)
        local = re.split(r"[/#]", predicate)[-1]
        return Text(re.sub(r"(?<=[a-z])(?=[A-Z])", " ", local).lower(), "en")

    # -- what a page shows -------------------------------------------------
    def sections(self, document: str, most: int | None = None, language: str = "en", cite: Cite | None = None) -> list[Section]:
        """The document first, then its hash resources in IRI order; at most *most* values a
        statement, each row with what states it (:meth:`section`)."""
        subjects = sorted(self._described(document)[0], key=lambda s: (s != document, s))
        # A link's statement (its source) is shown with the link, in the links of what it is about.
        subjects = [s for s in subjects if _STATEMENT not in self.types(s)]
        return [self.section(subject, self.path(document), most, language, cite) for subject in subjects]

    def described(self, document: str) -> list[str]:
        """The resources described on *document*'s page: the document and its hash resources with statements."""
        return self._described(document)[0]

    def dated(self, document: str) -> list[str]:
        """Those of :meth:`described`, or held by them, that may be the publisher's
        involvements: with a start date, or a meeting or role they hold."""
        return self._described(document)[1]

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

    def description(self, document: str, listed: Collection[tuple[str, Text]] | None = None) -> list[Triple]:
        """What *document*'s own RDF says, as LodView and Pubby describe a resource: its
        statements (and its hash resources'), the statements of other pages pointing at
        them, and the names of every resource these link to or from.

        The statements pointing at it are those of the rows its English page lists under
        "Linked from" (*listed*, of :meth:`linked_from`; all rows without), so that the
        description of a resource every record cites does not hold the whole dataset, and
        agrees with its page."""
        own = list(self.graph.in_document(document))
        rows = self._incoming(document)
        if listed is not None:
            shown, labels = set(listed), self._row_labels(document, "en")
            rows = [row for row in rows if (row[3], labels[row[4]]) in shown]  # (…, who, how)
        incoming = [Triple(NamedNode(subject), NamedNode(predicate), NamedNode(target)) for subject, predicate, target, _, _ in rows]
        linked = [t.object.value for t in own if isinstance(t.object, NamedNode) and t.predicate != RDF_TYPE]
        linked += [subject for subject, *_ in rows]
        linked += [document_of(subject) for subject, *_ in rows]  # a hash resource's page lists it by its owner's name
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

    def section(self, iri: str, page: str, most: int | None = None, language: str = "en", cite: Cite | None = None) -> Section:
        """One resource's table, each row with what states the values it shows (*cite*:
        :class:`ndlld.site.cited.Citations`, as the quads dumps attribute them). Its sources
        are said once, under the page (:meth:`sources`), not again as a row of the document's
        table; a hash resource's, where they differ."""
        cite = cite or _uncited
        fragment = iri.partition("#")[2] or None
        shown, above = self._shown_rows(iri, fragment)
        rows: dict[Text, list[tuple[object, Triple]]] = defaultdict(list)
        for triple in shown:
            rows[self.property_label(triple.predicate.value, language)].append((triple.object, triple))
        if fragment:  # a role names its holder by the link that points at it: NDL memberOf role
            for triple in self.graph.pointing_at(iri):
                if triple.predicate.value == _MEMBER_OF:
                    rows[self.property_label(_MEMBER, language)].append((self.link(subject_value(triple), page, language), triple))
        statements = [
            self._statement(iri, label, pairs, page, most, language, cite)
            for label, pairs in sorted(rows.items(), key=lambda row: row[0].text)
        ]
        quantity = self.quantity(iri)
        title = Text(quantity, "en") if quantity else self.named(iri, language)
        return Section(fragment, iri, title, [self.named(t, language) for t in self.types(iri)], statements, cite(above))

    def _statement(
        self, iri: str, label: Text, pairs: list[tuple[object, Triple]], page: str, most: int | None, language: str, cite: Cite
    ) -> Statement:
        """A row of *iri*'s table, its values (each ``(value, triple)``) by :func:`~ndlld.site.parts.value_order`:
        the first *most* shown, the others counted. A row of more links of one property than
        it shows (the publisher's memberships) is cut short as :meth:`linked_from` is."""
        if most is not None and len(pairs) > most and len({t.predicate.value for _, t in pairs}) == 1:
            if all(isinstance(value, NamedNode) for value, _ in pairs):
                return self._links_cut_short(iri, label, [t for _, t in pairs], page, most, language, cite)
        values = sorted(
            ((value if isinstance(value, Link) else self.show(value, page, language), t) for value, t in pairs),
            key=lambda pair: value_order(pair[0]),
        )
        first = values[:most]
        return Statement(label.text, [v for v, _ in first], len(values) - len(first), label.language, cite([t for _, t in first]))

    def _links_cut_short(self, iri: str, label: Text, triples: list[Triple], page: str, most: int, language: str, cite: Cite) -> Statement:
        """The first *most* of *triples* (of one property, each linking to another resource)
        by how their links sort (:meth:`_value_key`), as :func:`ndlld.site.cut.cut_short`
        chooses them: the others' keys are read apart, so that what names them (a member
        organization renamed) makes the page again only when its link moves among those shown."""
        by_who = {cast(NamedNode, t.object).value: t for t in triples}
        cut = f"{_VALUES}|{iri}|{triples[0].predicate.value} {language} {document_of(iri)}"
        rows = Rows(by_who.keys(), lambda who: (_NO_HOW,), len(by_who))
        made = self._cut_short(cut, rows, most, lambda who: self._value_key(who, page, language))
        first = [who for *_, who, _ in made.shown]
        values: list[Text | Link] = [self.show(NamedNode(who), page, language) for who in first]
        return Statement(label.text, values, made.total - len(first), label.language, cite([by_who[who] for who in first]))

    def _value_key(self, who: str, page: str, language: str) -> str:
        """What a link to *who* in a row of :meth:`section` on *page* sorts by: its text, then
        where it leads (:func:`~ndlld.site.parts.value_order`, as one string: no name holds a NUL)."""
        link = cast(Link, self.show(NamedNode(who), page, language))
        return f"{link.text.lower()}\x00{link.href}"

    def _shown_rows(self, iri: str, fragment: str | None) -> tuple[list[Triple], list[Triple]]:
        """*iri*'s statements its table shows, and those the page shows above it (its type and
        name; the document's description). Not below it (its links outward:
        :mod:`ndlld.site.outward`), nor the document's sources (said under the page), nor a
        hash resource's sources where they are the document's."""
        above_it = {*_NAME_PROPERTIES[:2]} | (set() if fragment else {str(SCHEMA) + "description"})
        elsewhere = {*LINKS_OUTWARD} | (set() if fragment else {DCTERMS_SOURCE})
        document_sources = {o.value for o in self.values(document_of(iri), DCTERMS_SOURCE)} if fragment else set()
        shown, above = [], []
        for t in self.graph.about(iri):
            if t.predicate == RDF_TYPE or t.predicate.value in above_it:
                above.append(t)
            elif t.predicate.value not in elsewhere and not (
                t.predicate.value == DCTERMS_SOURCE and isinstance(t.object, NamedNode) and t.object.value in document_sources
            ):
                shown.append(t)
        return shown, above

    def show(self, obj, page: str, language: str = "en") -> Text | Link:
        if isinstance(obj, Literal):
            return Text(obj.value, obj.language)
        quantity = self.quantity(obj.value)
        if quantity:  # worded from the record's unit, which is English
            return Link(relative(self.path(obj.value), page), quantity, language="en")
        return self.link(obj.value, page, language)

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

    def linked_from(self, document: str, most: int | None = None, language: str = "en") -> tuple[list[tuple[str, Text]], int]:
        """Resources on other pages that link to this page's resources, as (who, how shown in
        *language*), by who's name in *language*, then how: the first *most* of them (all by
        default), and how many there are in all. The rows the last build left sorting after
        those shown (:meth:`ndlld.lookup.Lookup.kept_after`) are counted, not sorted again,
        unless the others are now too few to show."""
        labels = self._row_labels(document, language)
        linking = self._linking(document)

        def hows(source: str) -> set[Text]:  # one row a label: two predicates shown alike are one
            return {labels[predicate] for predicate in linking[source]}

        alike = len(set(labels.values())) < len(labels)
        rows = Rows(linking.keys(), hows, sum(len(hows(source)) for source in linking) if alike else self._links_to(document))
        made = self._cut_short(f"linked_from {language} {document}", rows, most, lambda source: self._row_key(source, language))
        return [(source, how) for *_, source, how in made.shown], made.total

    def _cut_short(self, cut: str, rows: Rows, most: int | None, key: Callable[[str], str]) -> Cut:
        """The rows of the list *cut* (``"list language document"``) cut after the first *most*
        by who's *key* (:func:`ndlld.site.cut.cut_short`), and what sorting them read noted as
        the page's (:meth:`ndlld.lookup.Recording.note_cut`).

        A list cut short keeps of each row only what its key read beyond who it is, as a row
        not shown notes it, and not the names read: the page every record cites sorts hundreds
        of thousands. The keys of the rows shown are asked again, read as they are."""
        long_list = most is not None and rows.total > most

        def key_of(who: str) -> tuple[str, Collection[Read]]:
            with self.graph.apart() as found, self.graph.unkept() if long_list else nullcontext():
                return key(who), not_implied(found, who) if long_list else found

        made = cut_short(rows, most, key_of, self.graph.kept_after(cut))
        shown = made.as_read()
        for who in shown if long_list else ():
            key(who)
        self.graph.note_cut(cut, shown, made.reads, made.keys, made.last, made.unkept)
        return made

    def _row_key(self, source: str, language: str) -> str:
        """What a row of :meth:`linked_from` sorts by first: the name of who links."""
        return self.link_text(source, language).text.lower()

    def row_key(self, row: str) -> str:
        """The key *row* (of a ``ranked`` read: ``"linked_from language who"``) sorts by now:
        while it sorts after the key of its list's last row shown, its page stays as it is."""
        name, language, who = row.split(" ", 2)
        if name.startswith(_VALUES + "|"):  # a row of a section: values|subject|predicate
            subject = name.split("|")[1]
            return self._value_key(who, self.path(document_of(subject)), language)
        return self._row_key(who, language)

    def _row_labels(self, document: str, language: str) -> dict[str, Text]:
        """How each predicate of a row of :meth:`linked_from` is shown in *language*."""
        return {
            p: link_source_label(language) if p == _LINK_SOURCE else self.property_label(p, language) for p in self._linked_by(document)
        }

    @remembered
    def _linked_by(self, document: str) -> frozenset[str]:
        """The predicates of the rows of :meth:`linked_from`."""
        return frozenset(predicate for predicates in self._linking(document).values() for predicate in predicates)

    @remembered
    def _links_to(self, document: str) -> int:
        """How many (who, by which predicate) :meth:`linked_from` has."""
        return sum(map(len, self._linking(document).values()))

    @remembered
    def _linking(self, document: str) -> dict[str, tuple[str, ...]]:
        """Who links to :meth:`linked_from`'s page, and by which predicates: the same in every
        language. Tuples: hundreds of thousands link to the source every record cites, each by one."""
        by_who: dict[str, tuple[str, ...]] = {}
        for _, _, _, source, predicate in self._incoming(document):
            known = by_who.get(source)
            if known is None:
                by_who[source] = (predicate,)
            elif predicate not in known:
                by_who[source] = (*known, predicate)
        return by_who

    @remembered
    def _incoming(self, document: str) -> list[tuple[str, str, str, str, str]]:
        """Each statement of another page pointing at one of this page's resources, as its
        subject, predicate and object, with the row of :meth:`linked_from` it gives: who, by
        which predicate. A link's source (the ``rdf:Statement`` of a link) gives the resource
        that links, by no predicate. Kept: the page's list and its description both ask, and
        the source every record cites has hundreds of thousands, asked of the graph as who
        points at it (:meth:`ndlld.lookup.Lookup.pointers`), not as statements."""
        found = []
        statements: frozenset[str] | None = None  # read once, and only by a page that sources point at
        for target in self._described(document)[0]:
            for subject, predicate in self.graph.pointers(target):
                source, how = subject, predicate
                if predicate == DCTERMS_SOURCE:
                    statements = self._statements() if statements is None else statements
                    if source in statements:  # a link's source: who links
                        source, how = self.value(source, _RDF_SUBJECT) or source, _LINK_SOURCE
                if predicate != _RDF_TYPE and document_of(source) != document:
                    found.append((subject, predicate, target, source, how))
        return found

    @remembered
    def _statements(self) -> frozenset[str]:
        """The resources typed ``rdf:Statement`` (each link's source), read at once: a source
        is cited by every resource its records describe, and only a few of them are statements."""
        return frozenset(subject for subject, predicate in self.graph.pointers(_STATEMENT) if predicate == _RDF_TYPE)

    def held_in(self, iri: str) -> str | None:
        """What a role is held in (the organization or series), for its label: the first
        it is a member of, else the first that holds it, in statement order."""
        # By predicate: what a page names thousands of roles by is kept (a stated read), not all they say.
        for triple in self.graph.stated(iri, _MEMBER_OF):
            if isinstance(triple.object, NamedNode):
                return triple.object.value
        for triple in self.graph.pointing_at(iri):
            if triple.predicate.value in _HOLDING:
                return subject_value(triple)
        return None


def link_source_label(language: str) -> Text:
    """How a source's page says what cites it for a link outward (no property says it)."""
    return Text(messages(language)["links"]["source_of"], language)


def _labels(vocabulary: Iterable[Triple]) -> dict[str, dict[str, str]]:
    """The vocabulary's labels, by IRI and language (the first of each, as the file gives them)."""
    labels: dict[str, dict[str, str]] = {}
    for triple in vocabulary:
        if triple.predicate.value in (RDFS_LABEL, SKOS_PREF_LABEL) and isinstance(triple.object, Literal):
            labels.setdefault(subject_value(triple), {}).setdefault(triple.object.language or "", triple.object.value)
    return labels
