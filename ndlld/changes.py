"""What changed between two versions of the dataset: ``ndlld diff``, and the change feed.

A change is counted per resource (a page: a resource with its hash resources,
so an edited membership of the NDL in the IFLA is a change of ``…/id/ifla``).
A resource is *created* when the old version says nothing about it,
*deleted* when the new one says nothing, and *updated* otherwise. Between two
datasets (TriG, N-Quads: each statement in the graphs of what states it), a
statement of both versions in other graphs has *moved*: its resource is updated,
though its triples are not.

The feed is the IIIF Change Discovery API 1.0 (https://iiif.io/api/discovery/1.0/),
level 2: an ActivityStreams ``OrderedCollection`` whose pages are the releases,
each an ``OrderedCollectionPage`` of ``Create``, ``Update`` and ``Delete``
activities with the release time. The spec supports no negotiated resources,
only variants: an activity's ``object`` is the HTML page of a resource, its
``canonical`` the resource's IRI and its ``seeAlso`` the JSON-LD variant. The
same activities, with the triples of each resource, are the members of the
Linked Data Event Stream (:mod:`ndlld.eventstream`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pyoxigraph import Literal, RdfFormat, Triple, parse

from ndlld.context import Context
from ndlld.graph import document_of
from ndlld.rdf import Graphs, Term, serialized, subject_value, term_text

# The spec's context, by the IRI its section 3.4.1 names; a copy is in tests/contexts/.
DISCOVERY_CONTEXT = "http://iiif.io/api/discovery/1/context.json"
# Its section 4.1: the media type of the collection and its pages.
FEED_MEDIA_TYPE = f'application/ld+json;profile="{DISCOVERY_CONTEXT}"'
# The collection and its pages, by their path in the site: served with FEED_MEDIA_TYPE.
FEED_PATH = re.compile(r"releases/([^/]+/)?changes\.json")
ACTIVITY = {"created": "Create", "updated": "Update", "deleted": "Delete"}
JSONLD_COMPACTED = "http://www.w3.org/ns/json-ld#compacted"  # the JSON-LD variants are compacted
# `rights` must be a Creative Commons or RightsStatements.org URI (section 3.1).
RIGHTS = re.compile(r"^https?://(creativecommons\.org/(licenses|publicdomain)/|rightsstatements\.org/vocab/)\S+$")
# A count's number: its value, or its lower bound ("more than 1,700").
COUNT_NUMBERS = {"http://schema.org/value", "http://schema.org/minValue"}
RDF_TYPE_IRI = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_NAMES = {"http://schema.org/alternateName": 0, "http://schema.org/name": 1}  # the better label first
_NUMBERS = {f"http://www.w3.org/2001/XMLSchema#{name}" for name in ("integer", "int", "long", "nonNegativeInteger", "positiveInteger")}


@dataclass(frozen=True)
class Move:
    """A statement of both versions that is in other named graphs in the new one."""

    statement: str  # an N-Triples line
    before: tuple[str, ...]  # the graphs it was in, sorted
    after: tuple[str, ...]


@dataclass
class ResourceChange:
    """The triples one resource gained and lost, and its statements that moved between graphs."""

    iri: str
    status: str  # created, updated, deleted
    added: list[str] = field(default_factory=list)  # N-Triples lines
    removed: list[str] = field(default_factory=list)
    moved: list[Move] = field(default_factory=list)


@dataclass
class Changes:
    """The difference between two versions, by resource."""

    resources: list[ResourceChange]
    labels: dict[str, str] = field(default_factory=dict)  # IRI -> what people call it (IFLA), from either version
    graphs: tuple[Graphs, Graphs] | None = None  # of two datasets, the graphs of each statement, old and new

    @property
    def added(self) -> int:
        return sum(len(r.added) for r in self.resources)

    @property
    def removed(self) -> int:
        return sum(len(r.removed) for r in self.resources)

    @property
    def moved(self) -> int:
        return sum(len(r.moved) for r in self.resources)

    def summary(self) -> str:
        moved = f", {self.moved} moved between graphs" if self.moved else ""
        return f"{self.added} triple(s) added, {self.removed} removed{moved}, in {len(self.resources)} resource(s)"

    def text(self, context: Context) -> str:
        """The change list for people: each resource by its name, each change as
        ``IFLA · member count: 1,700 → 1,800`` (*context* names the properties)."""
        lines = []
        for change in self.resources:
            lines.append(f"{change.status} {self.label(change.iri)} <{change.iri}>")
            lines += _readable(change, self, context)
        lines.append(self.summary())
        return "\n".join(lines) + "\n"

    def label(self, iri: str) -> str:
        """What people call the resource *iri*: its short name, else its name, else its IRI;
        a passage of a source as the source's and its anchor (``Links § ifla``)."""
        if iri not in self.labels and "#" in iri and document_of(iri) in self.labels:
            return f"{self.labels[document_of(iri)]} § {iri.partition('#')[2]}"
        return self.labels.get(iri, iri)

    def ntriples(self) -> str:
        """The statements each resource gained (+) and lost (-), as N-Triples lines."""
        lines = []
        for change in self.resources:
            lines.append(f"{change.status} {change.iri}")
            lines += [f"  + {t}" for t in change.added]
            lines += [f"  - {t}" for t in change.removed]
        lines.append(self.summary())
        return "\n".join(lines) + "\n"

    def nquads(self) -> str:
        """As :meth:`ntriples`, with N-Quads lines: each statement in each of its graphs, so
        that a statement moved is a quad removed and one added. For two datasets only."""
        if self.graphs is None:
            raise ValueError("the N-Quads of a change are those of two datasets")
        lines = []
        for change in self.resources:
            lines.append(f"{change.status} {change.iri}")
            lines += _quad_lines(change, *self.graphs)
        lines.append(self.summary())
        return "\n".join(lines) + "\n"

    def json(self) -> str:
        return (
            json.dumps(
                {
                    "added": self.added,
                    "removed": self.removed,
                    "moved": self.moved,
                    "resources": [_resource_json(r) for r in self.resources],
                },
                ensure_ascii=False,
                indent=2,
            )
            + "\n"
        )


def _resource_json(change: ResourceChange) -> dict:
    found: dict[str, object] = {"id": change.iri, "status": change.status, "added": change.added, "removed": change.removed}
    if change.moved:
        found["moved"] = [{"statement": m.statement, "from": list(m.before), "to": list(m.after)} for m in change.moved]
    return found


def _quad_lines(change: ResourceChange, old: Graphs, new: Graphs) -> list[str]:
    """*change*'s quads added (+) and removed (-): its triples' in their graphs, and those of
    the graphs its statements moved to and from."""
    added = [(line, new[_triple(line)]) for line in change.added]
    removed = [(line, old[_triple(line)]) for line in change.removed]
    for move in change.moved:
        added.append((move.statement, frozenset(move.after) - frozenset(move.before)))
        removed.append((move.statement, frozenset(move.before) - frozenset(move.after)))
    return sorted(f"  + {_quad(line, graph)}" for line, graphs in added for graph in graphs) + sorted(
        f"  - {_quad(line, graph)}" for line, graphs in removed for graph in graphs
    )


def _triple(line: str) -> Triple:
    return next(parse(line.encode("utf-8"), format=RdfFormat.N_TRIPLES)).triple


def _quad(line: str, graph: str) -> str:
    """An N-Triples line as the N-Quads line of the statement in *graph* ("" the default graph)."""
    return f"{line[: -len(' .')]} <{graph}> ." if graph else line


def _readable(change: ResourceChange, changes: Changes, context: Context) -> list[str]:
    """*change*'s statements by subject and property: a value replaced as ``old → new``,
    others as ``+`` and ``-``."""
    by_statement: dict[tuple[str, str], tuple[list[Term], list[Term]]] = {}
    for lines, side in ((change.removed, 0), (change.added, 1)):
        for quad in parse("\n".join(lines), format=RdfFormat.N_TRIPLES):
            t = quad.triple
            by_statement.setdefault((term_text(t.subject), t.predicate.value), ([], []))[side].append(t.object)
    found = []
    for (subject, predicate), (removed, added) in sorted(by_statement.items()):
        where = _where(change.iri, subject, predicate, changes, context)
        if len(removed) == len(added) == 1:
            found.append(f"  {where}: {_value(removed[0], changes, context)} → {_value(added[0], changes, context)}")
            continue
        found += [f"  - {where}: {_value(value, changes, context)}" for value in removed]
        found += [f"  + {where}: {_value(value, changes, context)}" for value in added]
    for move in change.moved:
        t = _triple(move.statement)
        where = _where(change.iri, term_text(t.subject), t.predicate.value, changes, context)
        stated = [", ".join(changes.label(g) if g else "the default graph" for g in graphs) for graphs in (move.before, move.after)]
        found.append(f"  ~ {where}: {_value(t.object, changes, context)}, stated by {stated[0]} → by {stated[1]}")
    return found


def _where(document: str, subject: str, predicate: str, changes: Changes, context: Context) -> str:
    """``IFLA · member count``: the resource, the part of its page, and the property (a
    count's value is the count itself)."""
    parts = [changes.label(document)]
    if subject != document:
        fragment = subject.partition("#")[2]
        parts.append(fragment.replace("-", " ") if fragment else subject)
    if predicate not in COUNT_NUMBERS:
        parts.append(_property_name(predicate, context))
    return " · ".join(parts)


def _property_name(iri: str, context: Context) -> str:
    """``startYear`` as ``start year``: the records' name of a property, in words."""
    if iri == RDF_TYPE_IRI:
        return "type"
    name = next((t.name for t in context.terms.values() if t.iri == iri and not t.reverse), None)
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower() if name else context.compact(iri)


def _value(term: Term, changes: Changes, context: Context) -> str:
    """A value as people read it: 1,800; a name (ja) for a text in another language than
    English; a resource by its name."""
    if isinstance(term, Literal):
        text = term.value
        if term.datatype.value in _NUMBERS and re.fullmatch(r"[+-]?\d+", text):
            return f"{int(text):,}"
        shown = text if len(text) <= 100 else text[:99] + "…"
        return f"{shown} ({term.language})" if term.language and term.language != "en" else shown
    iri = term_text(term)
    return context.name_of(iri) or changes.labels.get(iri) or iri


def labels_of(triples: Iterable[Triple]) -> dict[str, str]:
    """What people call each resource: its short name (alternateName) in English or without a
    language, else its English name, else any name."""
    ranked: dict[str, tuple[int, str]] = {}
    for t in triples:
        if not isinstance(t.object, Literal) or t.predicate.value not in _NAMES:
            continue
        rank = _NAMES[t.predicate.value] + (0 if t.object.language in (None, "en") else 2)
        subject = term_text(t.subject)
        if subject not in ranked or (rank, t.object.value) < ranked[subject]:
            ranked[subject] = (rank, t.object.value)
    return {iri: text for iri, (_, text) in ranked.items()}


def _lines(triples: Iterable[Triple]) -> set[str]:
    # Split the bytes on \n only: N-Triples escapes line breaks in literals, but leaves U+2028,
    # U+2029 and NEL raw, which str.splitlines() would take for the ends of lines.
    return {line.decode("utf-8") for line in serialized(list(triples), RdfFormat.N_TRIPLES).split(b"\n") if line}


def diff(old: Iterable[Triple], new: Iterable[Triple], graphs: tuple[Graphs, Graphs] | None = None) -> Changes:
    """The triples added and removed, grouped by the resource (document) they describe; with the
    *graphs* of two datasets (old, new), the statements of both in other graphs too."""
    old, new = list(old), list(new)
    old_lines, new_lines = _lines(old), _lines(new)
    old_documents = {document_of(subject_value(t)) for t in old}
    new_documents = {document_of(subject_value(t)) for t in new}
    changes: dict[str, ResourceChange] = {}
    for line, sign in [(line, "+") for line in new_lines - old_lines] + [(line, "-") for line in old_lines - new_lines]:
        document = _document_of_line(line)
        if document not in changes:
            status = "created" if document not in old_documents else "deleted" if document not in new_documents else "updated"
            changes[document] = ResourceChange(document, status)
        (changes[document].added if sign == "+" else changes[document].removed).append(line)
    if graphs is not None:
        for move in _moves(*graphs):
            document = _document_of_line(move.statement)
            changes.setdefault(document, ResourceChange(document, "updated")).moved.append(move)
    for change in changes.values():
        change.added.sort()
        change.removed.sort()
        change.moved.sort(key=lambda m: m.statement)
    return Changes(sorted(changes.values(), key=lambda c: c.iri), {**labels_of(old), **labels_of(new)}, graphs)


def _moves(old: Graphs, new: Graphs) -> list[Move]:
    """The statements of both datasets that are in other graphs in *new*."""
    moved = [t for t in old.keys() & new.keys() if old[t] != new[t]]
    lines = serialized(moved, RdfFormat.N_TRIPLES).decode("utf-8").split("\n")  # one a triple, in their order
    return [Move(line, tuple(sorted(old[t])), tuple(sorted(new[t]))) for t, line in zip(moved, lines)]


def _document_of_line(line: str) -> str:
    """The document of an N-Triples line's subject (an IRI in angle brackets, or a blank node)."""
    subject = line.split(" ", 1)[0]
    return document_of(subject[1:-1]) if subject.startswith("<") else subject


def page_id(base: str, version: str) -> str:
    """The IRI of release *version*'s page of the feed."""
    return f"{base}releases/{version}/changes.json"


def activity_id(base: str, version: str, position: int) -> str:
    """The IRI of the activity at *position* (from 1) of release *version*'s page: the
    member of the event stream too."""
    return f"{page_id(base, version)}#{position}"


def release_page(changes: Changes, version: str, time: str, base: str, previous: str | None) -> dict:
    """One release as an OrderedCollectionPage of Create/Update/Delete.

    A page never changes once released, so it links only backwards (``prev``):
    a harvester starts at the collection's ``last`` and walks back to what it has seen.
    """
    page = {
        "@context": DISCOVERY_CONTEXT,
        "id": page_id(base, version),
        "type": "OrderedCollectionPage",
        "partOf": {"id": f"{base}releases/changes.json", "type": "OrderedCollection"},
        "summary": f"Release {version}: {changes.summary()}",
        "endTime": time,
        "totalItems": len(changes.resources),
        "orderedItems": [_activity(change, activity_id(base, version, n), time) for n, change in enumerate(changes.resources, 1)],
    }
    if previous:
        page["prev"] = {"id": page_id(base, previous), "type": "OrderedCollectionPage"}
    return page


def _activity(change: ResourceChange, iri: str, time: str) -> dict:
    """The activity of one changed resource: its HTML page, with the IRI as ``canonical``
    and the JSON-LD variant as the description software reads."""
    resource = change.iri
    jsonld = {"id": f"{resource}.jsonld", "type": "Dataset", "format": "application/ld+json", "profile": JSONLD_COMPACTED}
    page = {"id": f"{resource}.html", "type": "Text", "format": "text/html", "canonical": resource, "seeAlso": [jsonld]}
    return {"id": iri, "type": ACTIVITY[change.status], "object": page, "endTime": time}


def feed(pages: list[dict], base: str, rights: str | None) -> dict:
    """The OrderedCollection of the release pages (oldest first): its size, first and last
    page, the licence (*rights*, when the spec allows it) and where the dataset is described."""
    collection = {
        "@context": DISCOVERY_CONTEXT,
        "id": f"{base}releases/changes.json",
        "type": "OrderedCollection",
        "totalItems": sum(page["totalItems"] for page in pages),
    }
    if rights and RIGHTS.match(rights):
        collection["rights"] = rights
    collection["seeAlso"] = [
        _described(f"{base}void.ttl", "text/turtle", "http://www.w3.org/ns/dcat#", "DCAT and VoID description of the dataset"),
        _described(
            f"{base}releases/feed.trig", "application/trig", "https://w3id.org/ldes#", "The same changes as a Linked Data Event Stream"
        ),
    ]
    if pages:
        collection["first"] = {"id": pages[0]["id"], "type": "OrderedCollectionPage"}
        collection["last"] = {"id": pages[-1]["id"], "type": "OrderedCollectionPage"}
    return collection


def _described(iri: str, media_type: str, profile: str, label: str) -> dict:
    return {"id": iri, "type": "Dataset", "label": {"en": [label]}, "format": media_type, "profile": profile}
