"""The graph indexed for web pages: what each page shows, as plain data.

A page is a *document*: a resource whose IRI has no fragment
(``…/id/ifla``). The resources with hash IRIs under it (``…/id/ifla#ndl-
regular-member``: roles, counts, single meetings) are described on the same
page, each in its own section, so their IRIs dereference there too.

Everything here is computed from the triples in one pass of indexing; the
templates only lay out what they are given.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Triple

from ndlld.context import Context
from ndlld.graph import document_of
from ndlld.namespaces import NDL, RDF_TYPE, SCHEMA
from ndlld.rdf import subject_value

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
DCTERMS_SOURCE = "http://purl.org/dc/terms/source"
ORGANIZATION_TYPES = {str(SCHEMA) + t for t in ("Organization", "Library", "GovernmentOrganization")}
_GROUPED_FROM = 16  # statements from which a resource's values are found by property, not by a scan
_NAME_PROPERTIES = (str(SCHEMA) + "name", str(SCHEMA) + "roleName", SKOS_PREF_LABEL, RDFS_LABEL)


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
class Section:
    """One resource on a page: the document itself, or one of its hash resources."""

    anchor: str | None
    iri: str
    title: str
    types: list[str]
    statements: list[Statement] = field(default_factory=list)


@dataclass(frozen=True)
class Involvement:
    """A dated part the publisher (the NDL) took: a membership, a role, a meeting."""

    year: int
    label: str
    iri: str


class Index(dict):
    """Triples by IRI (an empty list for an IRI not there), noting which IRIs were
    looked up while :attr:`reads` is a set: what a page was made from."""

    def __init__(self, name: str, items: dict[str, list] | None = None):
        super().__init__(items or {})
        self.name = name
        self.reads: set[tuple[str, str]] | None = None

    def __missing__(self, key: str) -> list:
        value = self[key] = []
        return value

    def __getitem__(self, key: str) -> list:
        if self.reads is not None:
            self.reads.add((self.name, key))
        return super().__getitem__(key)

    def get(self, key: str, default=None):
        if self.reads is not None:
            self.reads.add((self.name, key))
        return super().get(key, default)

    def __contains__(self, key) -> bool:
        """Whether there are triples for *key* (an IRI only looked up before is not in)."""
        if self.reads is not None:
            self.reads.add((self.name, key))
        return bool(super().get(key))


class SiteView:
    """The triples indexed by subject, object and document, with names and labels."""

    def __init__(self, triples: Iterable[Triple], vocabulary: Iterable[Triple], base: str, context: Context):
        self.base = base
        self.context = context
        # Made as plain dicts, then handed to the indexes: each lookup of an Index is a call
        # in Python (it notes what is read), three for each of 2 million triples.
        by_subject: dict[str, list[Triple]] = defaultdict(list)
        by_object: dict[str, list[Triple]] = defaultdict(list)
        by_document: dict[str, list[Triple]] = defaultdict(list)
        for triple in triples:
            subject = subject_value(triple)
            by_subject[subject].append(triple)
            by_document[document_of(subject)].append(triple)
            if isinstance(triple.object, NamedNode):
                by_object[triple.object.value].append(triple)
        self.by_subject = Index("subject", by_subject)
        self.by_object = Index("object", by_object)
        self.by_document = Index("document", by_document)
        self.labels: dict[str, dict[str, str]] = defaultdict(dict)  # IRI -> language -> label
        for triple in vocabulary:
            if triple.predicate.value in (RDFS_LABEL, SKOS_PREF_LABEL) and isinstance(triple.object, Literal):
                self.labels[subject_value(triple)].setdefault(triple.object.language or "", triple.object.value)
        self.dataset = self.base + "id/dataset"
        self.publisher = self.value(self.dataset, str(SCHEMA) + "publisher")
        self._involvements: list[Involvement] | None = None
        self._by_predicate: dict[str, dict[str, list]] = {}  # for values(), filled as asked
        self._involvements_by_document: dict[str, list[Involvement]] = {}
        self._names: dict[tuple[str, str], str] = {}  # for name()

    def record_reads(self) -> set[tuple[str, str]]:
        """From now on, note every lookup by IRI in the set returned (until :meth:`stop_recording`)."""
        reads: set[tuple[str, str]] = set()
        for index in (self.by_subject, self.by_object, self.by_document):
            index.reads = reads
        return reads

    def stop_recording(self) -> None:
        for index in (self.by_subject, self.by_object, self.by_document):
            index.reads = None

    def index(self, name: str) -> Index:
        return {"subject": self.by_subject, "object": self.by_object, "document": self.by_document}[name]

    # -- looking things up ---------------------------------------------------
    def values(self, subject: str, predicate: str) -> list:
        triples = self.by_subject.get(subject, ())  # noted as read, as every lookup must be
        if len(triples) < _GROUPED_FROM:
            return [t.object for t in triples if t.predicate.value == predicate]
        grouped = self._by_predicate.get(subject)
        if grouped is None:  # a resource with many statements (the NDL, a country) is asked for its name thousands of times
            grouped = self._by_predicate[subject] = defaultdict(list)
            for t in triples:
                grouped[t.predicate.value].append(t.object)
        return list(grouped.get(predicate, ()))

    def value(self, subject: str, predicate: str) -> str | None:
        found = self.values(subject, predicate)
        return found[0].value if found else None

    def types(self, iri: str) -> list[str]:
        return sorted(t.value for t in self.values(iri, RDF_TYPE.value))

    def text(self, iri: str, predicate: str, language: str) -> str | None:
        for obj in self.values(iri, predicate):
            if isinstance(obj, Literal) and obj.language == language:
                return obj.value
        return None

    def name(self, iri: str, language: str = "en") -> str:
        """The name to show for *iri*: its name, role name or label, else a short IRI.

        Kept once made: the index sorts every organization by name, and pages name what
        they link to. Made from *iri*'s own statements alone, so a name given again is
        noted as that one lookup, as making it would be (for the page's digest)."""
        found = self._names.get((iri, language))
        if found is None:
            found = self._names[(iri, language)] = self._name(iri, language)
        elif self.by_subject.reads is not None:
            self.by_subject.reads.add((self.by_subject.name, iri))
        return found

    def _name(self, iri: str, language: str) -> str:
        for predicate in _NAME_PROPERTIES:
            found = self.text(iri, predicate, language)
            if found:
                return found
        if iri in self.labels:
            return self.labels[iri].get(language) or self.labels[iri].get("en") or next(iter(self.labels[iri].values()))
        return self.context.compact(iri) if not iri.startswith(self.base) else iri[len(self.base) :]

    def short_name(self, iri: str) -> str:
        """An abbreviation where there is one (IFLA), else the name."""
        alternate = [o.value for o in self.values(iri, str(SCHEMA) + "alternateName")]
        return min(alternate, key=len) if alternate else self.name(iri)

    def documents(self) -> list[str]:
        """The IRIs that get a page: every described resource without a fragment, under the base."""
        prefix = self.base + "id/"
        return sorted(iri for iri in self.by_document if iri.startswith(prefix) and "#" not in iri)

    def organizations(self) -> list[str]:
        found = {subject_value(t) for t in self.by_object_types(ORGANIZATION_TYPES)}
        return sorted(found, key=lambda iri: (self.name(iri).lower(), iri))

    def by_object_types(self, types: set[str]) -> list[Triple]:
        return [t for type_iri in sorted(types) for t in self.by_object.get(type_iri, ()) if t.predicate == RDF_TYPE]

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

    def property_label(self, predicate: str) -> str:
        """``schema:parentOrganization`` as 'parent organization', ndl: terms by their rdfs:label."""
        if predicate in self.labels and "en" in self.labels[predicate]:
            return self.labels[predicate]["en"]
        if predicate == RDF_TYPE.value:
            return "type"
        local = re.split(r"[/#]", predicate)[-1]
        return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", local).lower()

    # -- what a page shows -------------------------------------------------
    def sections(self, document: str, most: int | None = None) -> list[Section]:
        """The document first, then its hash resources in IRI order; at most *most* values a statement."""
        subjects = sorted({t.subject.value for t in self.by_document[document]}, key=lambda s: (s != document, s))
        return [self.section(subject, self.path(document), most) for subject in subjects]

    def section(self, iri: str, page: str, most: int | None = None) -> Section:
        fragment = iri.partition("#")[2] or None
        shown_above = set(_NAME_PROPERTIES[:2]) | (set() if fragment else {str(SCHEMA) + "description"})
        rows: dict[str, list] = defaultdict(list)
        for triple in self.by_subject.get(iri, ()):
            if triple.predicate != RDF_TYPE and triple.predicate.value not in shown_above:
                rows[self.property_label(triple.predicate.value)].append(self.show(triple.object, page))
        if fragment:  # a role names its holder by the link that points at it: NDL memberOf role
            for triple in self.by_object.get(iri, ()):
                if triple.predicate.value == str(SCHEMA) + "memberOf":
                    rows["member"].append(self.link(triple.subject.value, page))
        statements = []
        for label, values in sorted(rows.items()):
            values.sort(key=_sort_key)
            statements.append(Statement(label, values[:most], len(values) - len(values[:most])))
        title = self.quantity(iri) or self.name(iri)
        return Section(fragment, iri, title, [self.name(t) for t in self.types(iri)], statements)

    def show(self, obj, page: str) -> Text | Link:
        if isinstance(obj, Literal):
            return Text(obj.value, obj.language)
        quantity = self.quantity(obj.value)
        if quantity:
            return Link(relative(self.path(obj.value), page), quantity)
        return self.link(obj.value, page)

    def quantity(self, iri: str) -> str | None:
        """A count as the source words it: 'more than 1,700 members'."""
        if str(SCHEMA) + "QuantitativeValue" not in self.types(iri):
            return None
        value = self.value(iri, str(SCHEMA) + "value")
        unit = self.value(iri, str(SCHEMA) + "unitText") or ""
        qualifier = self.value(iri, str(NDL) + "countQualifier")
        number = f"{int(value):,}" if value and value.isdigit() else (value or "?")
        if qualifier and qualifier != str(NDL) + "Exactly":
            return f"{self.name(qualifier)} {number} {unit}".strip()
        return f"{number} {unit}".strip()

    def links_here(self, document: str, most: int | None = None) -> tuple[list[tuple[Link, str]], int]:
        """Resources on other pages that link to this page's resources, as (who, how), by
        name: the first *most* of them (all by default), and how many there are in all."""
        targets = {t.subject.value for t in self.by_document[document]}
        labels: dict[str, str] = {}  # predicate -> how it is shown
        rows = set()
        for target in targets:
            for triple in self.by_object.get(target, ()):
                source = triple.subject.value
                if triple.predicate == RDF_TYPE or document_of(source) == document:
                    continue
                predicate = triple.predicate.value
                how = labels.get(predicate) or labels.setdefault(predicate, self.property_label(predicate))
                rows.add((source, how))
        # Links made only for the rows shown: the page of a source every record cites has them all.
        ordered = sorted((self.link_text(source).lower(), how, source) for source, how in rows)
        page = self.path(document)
        return [(self.link(source, page), how) for _, how, source in ordered[:most]], len(ordered)

    def involvements(self, about: str | None = None) -> list[Involvement]:
        """The publisher's dated parts: roles it holds, meetings it attended or hosted.

        With *about*, only those described on that document's page or held in it.
        """
        involvements = self._involvements if self._involvements is not None else self._index_involvements()
        if about is None:
            return involvements
        return self._involvements_by_document.get(about, [])

    def _index_involvements(self) -> list[Involvement]:
        """Found once for the whole site: every page then looks its own up."""
        found: dict[str, tuple[Involvement, str | None]] = {}
        if self.publisher:
            related = [t.object.value for t in self.by_subject.get(self.publisher, ()) if isinstance(t.object, NamedNode)]
            related += [t.subject.value for t in self.by_object.get(self.publisher, ())]
            for iri in related:
                start = self.value(iri, str(SCHEMA) + "startDate")
                if start and iri not in found:
                    held_in = self._held_in(iri)
                    found[iri] = (Involvement(int(start[:4]), self._involvement_label(iri, held_in), iri), held_in)
        ordered = sorted(found.values(), key=lambda item: (item[0].year, item[0].label, item[0].iri))
        self._involvements = [involvement for involvement, _ in ordered]
        self._involvements_by_document = defaultdict(list)
        for involvement, held_in in ordered:
            pages = {document_of(involvement.iri)} | ({document_of(held_in)} if held_in else set())
            for page in pages:
                self._involvements_by_document[page].append(involvement)
        return self._involvements

    def _held_in(self, iri: str) -> str | None:
        """What a role is held in (the organization or series), for its label."""
        for triple in self.by_subject.get(iri, ()):
            if triple.predicate.value == str(SCHEMA) + "memberOf" and isinstance(triple.object, NamedNode):
                return triple.object.value
        for triple in self.by_object.get(iri, ()):
            if triple.predicate.value in (str(SCHEMA) + "attendee", str(SCHEMA) + "funder", str(SCHEMA) + "subEvent"):
                return triple.subject.value
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


def relative(target: str, from_path: str) -> str:
    """A link from the page at *from_path* to the site path *target* (both from the site root)."""
    path, hash_, fragment = target.partition("#")
    path = path or from_path
    here = posixpath.dirname(from_path)
    parts, up = path.split("/"), here.split("/") if here else []
    if _ODD_SEGMENTS.isdisjoint(parts) and _ODD_SEGMENTS.isdisjoint(up):
        # What posixpath.relpath gives for plain paths, without its abspath and normpath
        # calls: a page links to thousands of others, and relpath was most of linking.
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
