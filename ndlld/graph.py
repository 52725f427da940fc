"""Records -> RDF graph, through the project's JSON-LD context.

The records are YAML-LD (https://www.w3.org/TR/yaml-ld/): JSON-LD written as
YAML. This module turns them into triples the way a JSON-LD 1.1 processor
would (https://www.w3.org/TR/json-ld11-api/#deserialize-json-ld-to-rdf-algorithm)
for the subset of JSON-LD the context uses, and differs from one on purpose
in four ways that serve the librarian who edits the records:

* a key the context does not define is an error, not silently dropped;
* every node must have an ``id`` (no blank nodes a consumer cannot link to);
* every triple remembers the file and line it was written on;
* a link outward (``sameAs``, ``url``) is written ``{id: IRI, source: record}``, and
  its source is the link's: stated of the link by RDF reification
  (``…/id/ifla#sameas-wikidata-q46166``, an ``rdf:Statement``), where a JSON-LD
  processor would state it of the linked resource (ndlld.links).

The tests check that pyld, an independent JSON-LD processor, makes the same
triples from every record.
"""

from __future__ import annotations

import datetime
import difflib
import functools
import re
from array import array
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from pyoxigraph import Literal, NamedNode, Triple

from ndlld.context import Context, Term
from ndlld.errors import SourceError, SourceErrors
from ndlld.ids import IRI_FORBIDDEN, id_problem, not_an_iri, suggested_id
from ndlld.links import LINK_PROPERTIES, LinkReader
from ndlld.namespaces import RDF_TYPE, XSD
from ndlld.sources import Pointer, Record, Sources, pointed_items

# ASCII digits only (\d takes every script's), and \Z, not $ (which lets a final newline through)
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*\Z")  # BCP 47, the common forms
_YEAR = re.compile(r"^[0-9]{4}\Z")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
# Control characters HTML and XML do not allow in text; YAML lets them in through escapes ("\0").
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class Origin(NamedTuple):
    """Where in the source records something was written.

    A named tuple, not a dataclass: there is one per triple, and a tuple is made at
    C speed (``Origin._make``).
    """

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class Graph:
    """The dataset as triples, each traced back to its record."""

    base: str
    triples: list[Triple] = field(default_factory=list)
    origins: dict[Triple, Origin] = field(default_factory=dict)  # where each triple was stated
    nodes: dict[str, Origin] = field(default_factory=dict)  # where each resource is described

    def __len__(self) -> int:
        return len(self.triples)

    def origin(self, subject: str, triple: Triple | None = None) -> Origin | None:
        """The best place to point at: the triple's line, else the resource's."""
        if triple is not None and triple in self.origins:
            return self.origins[triple]
        return self.nodes.get(subject)


def document_of(iri: str) -> str:
    """The resource a hash IRI belongs to (``…/id/ifla#ndl-member`` -> ``…/id/ifla``)."""
    return iri.partition("#")[0]


def resource_base(base: str) -> str:
    """Record ids are relative to ``<base>id/``: ``ifla`` is ``<base>id/ifla``."""
    return base + "id/"


def build_graph(sources: Sources, context: Context, inverses: dict[str, str] | None = None) -> Graph:
    """Turn every record into triples; raise :class:`SourceErrors` listing every problem,
    those of the files that could not be read (``sources.unread``) with the others'.

    *inverses* maps a property IRI to its inverse (schema:subOrganization to
    schema:parentOrganization and back): a link a record states one way is
    added the other way too, traced to the same line.
    """
    reader = _Reader(context, sources.base)
    for record in [sources.dataset, *sources.records]:
        reader.read(record)
    if not sources.unread:  # else a reference may be to a record in a file that could not be read
        reader.check_references()
    if reader.errors or sources.unread:
        raise SourceErrors([*sources.unread, *reader.errors])
    if inverses:
        _add_inverses(reader.graph, inverses)
    return reader.graph


def _add_inverses(graph: Graph, inverses: dict[str, str], candidates: list[Triple] | None = None) -> None:
    """Add the inverse of each triple of *graph* (or of *candidates*: its triples, in order, among
    which all those whose predicate has an inverse) unless it is there already."""
    for triple in list(graph.triples) if candidates is None else candidates:
        inverse = inverses.get(triple.predicate.value)
        if inverse and isinstance(triple.object, NamedNode):
            mirrored = Triple(triple.object, NamedNode(inverse), triple.subject)
            if mirrored not in graph.origins:
                graph.origins[mirrored] = graph.origins[triple]
                graph.triples.append(mirrored)


class _Reader(LinkReader):
    def __init__(self, context: Context, base: str):
        self.context = context
        self.base = resource_base(base)
        self.graph = Graph(base=base)
        self.errors: list[SourceError] = []
        self.references: list[tuple[str, Origin]] = []
        self.id_key = context.alias_of.get("@id", "@id")
        self.type_key = context.alias_of.get("@type", "@type")
        self.graph_key = context.alias_of.get("@graph", "@graph")
        self.resolved: dict[str, str] = {}  # id as written -> IRI
        self.track_ids = False  # for read_part: the id as written of each described node
        self.written_ids: dict[str, str] = {}
        self._record: Record | None = None  # the record being read, its path as text and its lines' origins
        self._path = ""
        self._origin_at: dict[int, Origin] = {}

    # -- reporting ---------------------------------------------------------
    def error(self, message: str, record: Record, pointer: Pointer) -> None:
        self.errors.append(SourceError(message, path=record.path, line=record.line(pointer)))

    def emit(self, triple: Triple, record: Record, pointer: Pointer) -> None:
        origins = self.graph.origins
        known = len(origins)
        origins.setdefault(triple, self.origin(record, pointer))  # a triple hashes once (pyoxigraph keeps no hash)
        if len(origins) > known:
            self.graph.triples.append(triple)

    # -- records and nodes -------------------------------------------------
    def read(self, record: Record) -> None:
        try:
            self.read_nodes(record)
        except RecursionError:  # nodes inside nodes, hundreds deep
            self.error("nodes nested too deeply", record, ())

    def read_nodes(self, record: Record) -> None:
        data = record.data
        if self.graph_key in data:
            extra = sorted(set(data) - {self.graph_key})
            if extra:
                self.error(f"a file with '{self.graph_key}' holds nothing else (found '{extra[0]}')", record, (extra[0],))
            nodes = data[self.graph_key]
            if not isinstance(nodes, list):
                self.error(f"'{self.graph_key}' must be a list of nodes", record, (self.graph_key,))
                return
            for i, node in enumerate(nodes):
                if isinstance(node, dict):
                    self.node(record, node, (self.graph_key, i))
                else:
                    self.error("each item of the list must be a node with an 'id'", record, (self.graph_key, i))
        else:
            self.node(record, data, ())

    def node(self, record: Record, data: dict, pointer: Pointer) -> NamedNode | None:
        if self.id_key not in data:
            self.error(f"this node has no '{self.id_key}'; give it one so that others can link to it", record, pointer)
            return None
        iri = self.iri(record, data[self.id_key], pointer + (self.id_key,))
        if iri is None:
            return None
        subject = NamedNode(iri)
        if len(data) > 1 and not iri.startswith(self.base):  # a page and a place in the dumps it could not have
            name = suggested_id(iri)
            self.error(
                f"a record describes a resource of this dataset: give it an id such as '{name}', and link to {iri} with sameAs",
                record,
                pointer + (self.id_key,),
            )
            return None
        if len(data) > 1:  # described here, not only referred to
            here = Origin(str(record.path), record.line(pointer + (self.id_key,)))
            first = self.graph.nodes.setdefault(iri, here)
            if self.track_ids:
                self.written_ids.setdefault(iri, data[self.id_key])
            if first != here:
                self.error(f"duplicate id '{data[self.id_key]}': already described at {first}", record, pointer + (self.id_key,))
        for key, value in data.items():
            at = pointer + (key,)
            if key == self.id_key:
                continue
            if key == self.type_key:
                for item, item_at in pointed_items(value, at):
                    self.type(record, subject, item, item_at)
            elif key in self.context.terms:
                for item, item_at in pointed_items(value, at):
                    self.value(record, subject, self.context.terms[key], item, item_at)
            else:
                self.unknown_key(record, key, at)
        if "countryCode" in data:
            self.country_links(record, data, pointer)
        return subject

    def unknown_key(self, record: Record, key: str, at: Pointer) -> None:
        close = closest_key(key, [*self.context.terms, self.id_key, self.type_key])
        hint = f"; did you mean '{close}'?" if close else "; see ontology/context.jsonld for the keys"
        self.error(f"unknown key '{key}'{hint}", record, at)

    def type(self, record: Record, subject: NamedNode, value: Any, at: Pointer) -> None:
        if not isinstance(value, str):
            self.error(f"'{self.type_key}' takes a class name such as Organization", record, at)
            return
        iri = self.context.expand(value)
        if value not in self.context.names and iri == value:
            close = difflib.get_close_matches(value, list(self.context.names), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            self.error(f"unknown type '{value}'{hint}", record, at)
            return
        self.emit(Triple(subject, RDF_TYPE, NamedNode(iri)), record, at)

    # -- values ------------------------------------------------------------
    def value(self, record: Record, subject: NamedNode, term: Term, value: Any, at: Pointer) -> None:
        if value is None or value == "":
            self.error(f"'{term.name}' is empty; give a value or remove the key", record, at)
            return
        if term.container == "@language":
            self.language_map(record, subject, term, value, at)
            return
        if isinstance(value, dict) and not term.is_reference:
            self.error(f"'{term.name}' takes a value, not a mapping", record, at)
            return
        if term.iri in LINK_PROPERTIES:
            self.link(record, subject, term, value, at)
            return
        if term.is_reference:  # a reverse term is one: its object becomes the subject
            node = self.node(record, value, at) if isinstance(value, dict) else self.reference(record, term, value, at)
            if node is not None:
                predicate = NamedNode(term.iri)
                self.emit(Triple(node, predicate, subject) if term.reverse else Triple(subject, predicate, node), record, at)
            return
        literal = self.literal(record, term, value, at)
        if literal is not None:
            self.emit(Triple(subject, NamedNode(term.iri), literal), record, at)

    def reference(self, record: Record, term: Term, value: Any, at: Pointer) -> NamedNode | None:
        if not isinstance(value, str):
            self.error(f"'{term.name}' takes an id such as 'ifla', not {type(value).__name__} {value!r}", record, at)
            return None
        if term.type == "@vocab":
            if value not in self.context.names:
                close = difflib.get_close_matches(value, list(self.context.names), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                self.error(f"unknown value '{value}' for '{term.name}'{hint}", record, at)
                return None
            return NamedNode(self.context.names[value])
        iri = self.iri(record, value, at)
        return NamedNode(iri) if iri else None

    def iri(self, record: Record, value: Any, at: Pointer) -> str | None:
        if not isinstance(value, str) or not value:
            self.error(f"an id must be text such as 'ifla', not {value!r}", record, at)
            return None
        iri = self.resolved.get(value)
        if iri is None:
            iri, problem = self.resolve(value)
            if problem:
                self.error(problem, record, at)
                return None
            self.resolved[value] = iri
        if iri.startswith(self.base):
            self.references.append((iri, self.origin(record, at)))
        return iri

    def resolve(self, value: str) -> tuple[str, str | None]:
        """The IRI *value* names (an id, relative to ``<base>id/``, a compact IRI or an
        absolute IRI), or why it names none: every IRI under ``<base>id/`` is an id's."""
        expanded = self.context.expand(value)
        if not self.context.is_absolute(expanded):
            return self.base + value, id_problem(value)
        if IRI_FORBIDDEN.search(value):
            return expanded, not_an_iri(value)
        try:
            NamedNode(expanded)  # RFC 3987, as pyoxigraph checks it
        except ValueError as err:
            reason = str(err)
            return expanded, f"'{value}' is not a valid id or IRI ({reason[:1].lower()}{reason[1:]})"
        return expanded, id_problem(expanded[len(self.base) :]) if expanded.startswith(self.base) else None

    def origin(self, record: Record, at: Pointer) -> Origin:
        """One Origin object per file and line, shared by the triples written there
        (kept by line for the record being read: a path hashes slowly)."""
        if record is not self._record:
            self._record, self._path, self._origin_at = record, str(record.path), {}
        line = record.line(at)
        found = self._origin_at.get(line)
        if found is None:
            found = self._origin_at[line] = Origin._make((self._path, line))
        return found

    def literal(self, record: Record, term: Term, value: Any, at: Pointer) -> Literal | None:
        control = CONTROL_CHARACTERS.search(value) if isinstance(value, str) else None
        if control:
            made: Literal | str = _control_message(control)
        elif term.type is None:
            made = _plain_literal(value)
        else:
            made = _typed_literal(NamedNode(term.type), value)
        if isinstance(made, str):  # what is wrong with the value
            self.error(f"'{term.name}' {made}", record, at)
            return None
        return made

    def language_map(self, record: Record, subject: NamedNode, term: Term, value: Any, at: Pointer) -> None:
        if not isinstance(value, dict):
            self.error(f"'{term.name}' takes text per language, e.g. '{term.name}: {{en: ..., ja: ...}}'", record, at)
            return
        predicate = NamedNode(term.iri)
        for language, texts in value.items():
            problem = language_problem(language)
            if problem:
                self.error(problem, record, at + (language,))
                continue
            for text, text_at in pointed_items(texts, at + (language,)):
                if not isinstance(text, str) or not text.strip():
                    self.error(f"'{term.name}' in '{language}' must be non-empty text", record, text_at)
                    continue
                control = CONTROL_CHARACTERS.search(text)
                if control:
                    self.error(f"'{term.name}' in '{language}' {_control_message(control)}", record, text_at)
                    continue
                self.emit(Triple(subject, predicate, Literal(text, language=language.lower())), record, text_at)

    # -- across records ----------------------------------------------------
    def check_references(self) -> None:
        for iri, origin in self.references:
            if iri not in self.graph.nodes:
                name = iri[len(self.base) :]
                close = difflib.get_close_matches(name, [n[len(self.base) :] for n in self.graph.nodes], n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                self.errors.append(SourceError(f"'{name}' is not described by any record{hint}", path=origin.path, line=origin.line))


def closest_key(key: str, known: list[str]) -> str | None:
    """The key of *known* that *key* most likely means: the shortest that it begins, in any
    case (``area``: ``areaServed``), else one it misspells (``foundngYear``)."""
    lowered = key.lower()
    begun = sorted((k for k in known if len(lowered) >= 3 and k.lower().startswith(lowered)), key=len)
    if begun:
        return begun[0]
    close = difflib.get_close_matches(key, known, n=1)
    return close[0] if close else None


def language_problem(tag: str) -> str | None:
    """Why *tag* is not a BCP 47 language tag of a known language, or None if it is one.

    A language with a two-letter ISO 639-1 code is tagged with it (``en``, not ``eng``); a
    three-letter code of another language (``ain``) cannot be checked against the list.
    """
    if not _LANGUAGE_TAG.match(tag):
        return f"'{tag}' is not a language tag such as en or ja"
    primary = tag.split("-")[0].lower()
    known = _languages()
    if primary in known and known[primary][1]:
        name, instead = known[primary]
        return f"'{tag}' is not a known language tag; {name} is '{instead}' (BCP 47 takes the two-letter code)"
    if len(primary) == 2 and primary not in known:
        return f"'{tag}' is not a known language tag: '{primary}' is no ISO 639-1 language code (English is en, Japanese ja)"
    return None


@functools.cache
def _languages() -> dict[str, tuple[str, str]]:
    """code -> (English name, the code to use instead or ''), from ontology/languages.tsv."""
    from ndlld.resources import languages_path

    found = {}
    for line in languages_path().read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, name, *instead = line.split("\t")
            found[code] = (name, instead[0] if instead else "")
    return found


def _control_message(control: re.Match[str]) -> str:
    return f"holds the control character U+{ord(control.group()):04X}, which pages and XML cannot carry; remove it"


def _plain_literal(value: Any) -> Literal | str:
    """The literal of a term without a type: text, a boolean or a whole number; or what is wrong."""
    if isinstance(value, bool):
        return Literal(str(value).lower(), datatype=XSD.boolean)
    if isinstance(value, str):
        return Literal(value)
    if isinstance(value, int):
        return Literal(str(value), datatype=XSD.integer)
    return f"takes text, not {type(value).__name__}"


def _typed_literal(datatype: NamedNode, value: Any) -> Literal | str:
    """The literal of a term of *datatype*, or what is wrong with *value* for it."""
    if datatype == XSD.gYear:
        text = str(value)
        if isinstance(value, bool) or not _YEAR.match(text):
            return f"must be a year such as 1966, not {value!r}"
        return Literal(text, datatype=datatype)
    if datatype == XSD.date:
        if not isinstance(value, str) or not _DATE.match(value) or not _valid_date(value):
            return f"must be a date such as 2003-10-01, not {value!r}"
        return Literal(value, datatype=datatype)
    if datatype == XSD.integer:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be a whole number, not {value!r}"
        return Literal(str(value), datatype=datatype)
    if not isinstance(value, str):
        return f"takes text, not {value!r}"
    return Literal(value, datatype=datatype)


def _valid_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


# -- reading in parallel ------------------------------------------------------
# At scale the records are read and turned into triples by several processes,
# each over a share of the files; the parts are then merged in file order, so
# the graph, its origins and its errors are those of reading the files one by
# one (the tests compare the two).


@dataclass
class Part:
    """What one process made of its share of the record files: plain data, to pickle."""

    paths: list[str]
    ntriples: bytes = b""
    origins: array = field(default_factory=lambda: array("I"))  # per triple: path index, then line (flat: half the memory of pairs)
    nodes: list[tuple[str, str, int, int]] = field(default_factory=list)  # (IRI, id as written, path index, line)
    references: list[tuple[str, int, int]] = field(default_factory=list)
    read_errors: list[tuple[str | None, int | None, str]] = field(default_factory=list)  # (path, line, message)
    errors: list[tuple[str | None, int | None, str]] = field(default_factory=list)


def read_part(paths: list[str], base: str, context_document: dict) -> Part:
    """Read and convert *paths* (not dataset.yaml) as :func:`build_graph` would."""
    return _read_part(paths, base, Context(context_document))


def read_each(paths: list[str], base: str, context_document: dict) -> list[Part]:
    """One :class:`Part` per file of *paths*: what the build cache keeps of each record."""
    context = Context(context_document)
    return [_read_part([path], base, context) for path in paths]


def _read_part(paths: list[str], base: str, context: Context) -> Part:
    from pyoxigraph import RdfFormat

    from ndlld.rdf import serialized
    from ndlld.sources import read_record

    part = Part(paths=paths)
    reader = _Reader(context, base)
    reader.track_ids = True
    for path in paths:
        try:
            record = read_record(Path(path))
        except SourceErrors as err:
            part.read_errors += [(e.path, e.line, e.message) for e in err.errors]
            continue
        except SourceError as err:
            part.read_errors.append((err.path, err.line, err.message))
            continue
        reader.read(record)
    index = {path: i for i, path in enumerate(paths)}
    triples = reader.graph.triples
    part.ntriples = serialized(triples, RdfFormat.N_TRIPLES)
    # The origins dict holds the triples in the list's order (emit adds to both): no triple hashed again.
    part.origins = array("I", [n for o in reader.graph.origins.values() for n in (index[o.path], o.line)])
    part.nodes = [(iri, reader.written_ids[iri], index[o.path], o.line) for iri, o in reader.graph.nodes.items()]
    part.references = [(iri, index[o.path], o.line) for iri, o in reader.references]
    part.errors = [(e.path, e.line, e.message) for e in reader.errors]
    return part


def merge_parts(dataset: Record, parts: list[Part], base: str, context: Context, inverses: dict[str, str] | None) -> Graph:
    """The graph of the dataset record and the parts, as if read one file after another."""
    from pyoxigraph import RdfFormat, parse

    read_errors = [SourceError(m, path=p, line=line) for part in parts for p, line, m in part.read_errors]
    reader = _Reader(context, base)
    reader.read(dataset)
    graph = reader.graph
    # The triples of all parts parsed at once (one parse per part costs more than parsing);
    # the data is pyoxigraph's own output, checked when it was made.
    triples = list(map(attrgetter("triple"), parse(b"".join(part.ntriples for part in parts), format=RdfFormat.N_TRIPLES, lenient=True)))
    origins: list[Origin] = []
    for part in parts:  # one Origin per triple: all but a few triples have a line of their own
        origins += map(Origin._make, zip(map(part.paths.__getitem__, part.origins[0::2]), part.origins[1::2]))
    _add_triples(graph, triples, origins)
    _add_nodes(graph, parts, reader.errors)
    nodes = graph.nodes
    for part in parts:
        reader.errors += [SourceError(m, path=p, line=line) for p, line, m in part.errors]
    # Only a reference to no described node makes an error: the others need no Origin.
    reader.references += [
        (iri, Origin(part.paths[path_index], line)) for part in parts for iri, path_index, line in part.references if iri not in nodes
    ]
    if not read_errors:  # as build_graph: a reference may be to a record in a file that could not be read
        reader.check_references()
    if reader.errors or read_errors:
        raise SourceErrors([*read_errors, *reader.errors])
    if inverses:
        _add_inverses(graph, inverses)
    return graph


def _add_nodes(graph: Graph, parts: list[Part], errors: list[SourceError]) -> None:
    """Add the nodes the parts describe, each where it is first described; a node
    described again is an error. As :func:`_add_triples`: all at once when no id
    repeats (nearly always), else one by one."""
    iris: list[str] = []
    heres: list[Origin] = []
    for part in parts:
        iris += map(itemgetter(0), part.nodes)
        heres += map(Origin._make, zip(map(part.paths.__getitem__, map(itemgetter(2), part.nodes)), map(itemgetter(3), part.nodes)))
    combined = dict(graph.nodes)
    combined.update(zip(iris, heres))
    if len(combined) == len(graph.nodes) + len(iris):
        graph.nodes = combined
        return
    for part in parts:
        paths = part.paths
        for iri, written, path_index, line in part.nodes:
            here = Origin(paths[path_index], line)
            first = graph.nodes.setdefault(iri, here)
            if first != here:
                errors.append(SourceError(f"duplicate id '{written}': already described at {first}", path=here.path, line=line))


def _add_triples(graph: Graph, triples: list[Triple], origins: list[Origin]) -> None:
    """Add *triples* after those of *graph*, each with its origin, but those already there.

    Records seldom state the same triple twice: then all of them are new, and one
    dict made at C speed says so; else each is looked at in turn.
    """
    combined = dict(graph.origins)
    combined.update(zip(triples, origins))
    if len(combined) == len(graph.origins) + len(triples):  # none was there before, none came twice
        graph.origins = combined
        graph.triples += triples
        return
    for triple, origin in zip(triples, origins):
        if triple not in graph.origins:
            graph.origins[triple] = origin
            graph.triples.append(triple)
