"""Where queries run: the embedded store, or any SPARQL 1.1 endpoint.

Both hold the dataset in the same layout, the one ``ndlld publish`` gives a
remote store: the dataset in a named graph of its own (by default the
dataset's IRI, ``<base>id/dataset``) and the vocabulary in
``https://w3id.org/ndlld/vocab``. Queries are run with the dataset graph as
their default graph and both graphs as named graphs (the SPARQL 1.1 Protocol's
``default-graph-uri`` and ``named-graph-uri``), so a query means the same on
both sides: ``{ ?s ?p ?o }`` is the dataset, ``GRAPH <…/vocab> { … }`` the
vocabulary's labels.

The embedded store is pyoxigraph: bench/query_engines.py measures it against
rdflib's own engine on the queries of queries/ (bench/README.md has the figures).
It is the store a build with the cache kept of the published graph, opened
read-only (:mod:`ndlld.published`), or else the dumps loaded into memory.
"""

from __future__ import annotations

import os
import re
import weakref
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    Triple,
    parse,
    parse_query_results,
)

from ndlld.dumps import DATASET_FILES, read_triples
from ndlld.errors import ConfigError, QueryError

VOCABULARY_GRAPH = NamedNode("https://w3id.org/ndlld/vocab")
# What loading the embedded store reads of a build's output: a store opened instead stands for these.
LOADED_FILES = (DATASET_FILES["ntriples"], "ontology.ttl", "void.ttl")


def malformed(err: SyntaxError, source: str | Path | None = None) -> QueryError:
    """A SPARQL syntax error as one line, with the line and column pyoxigraph found it at."""
    text = str(err).replace("\n", " ")
    match = re.match(r"error at (\d+):(\d+): (.*)", text)
    if not match:
        return QueryError(f"malformed query: {text[:200]}", path=source)
    line, column, problem = int(match[1]), int(match[2]), match[3]
    if len(problem) > 80:  # pyoxigraph lists every token it would accept
        problem = problem[:80].rsplit(" ", 1)[0] + " …"
    return QueryError(f"malformed query at line {line}, column {column}: {problem}", path=source, line=line)


def dataset_graph(base: str) -> NamedNode:
    """The named graph that holds the dataset: the dataset's own IRI."""
    return NamedNode(base + "id/dataset")


def read_base(dist_dir: Path) -> str:
    """The base IRI a build used, read back from its VoID description."""
    void = dist_dir / "void.ttl"
    if void.is_file():
        for triple in read_triples(void, RdfFormat.TURTLE):
            if triple.predicate.value == "http://xmlns.com/foaf/0.1/homepage" and isinstance(triple.object, NamedNode):
                return triple.object.value
    raise ConfigError(f"no void.ttl in {dist_dir}: run 'ndlld build' first", path=dist_dir)


@dataclass
class EmbeddedStore:
    """The published graph in a pyoxigraph store: the dumps loaded, or the build's store opened."""

    store: Store
    graph: NamedNode

    @classmethod
    def published(cls, dist_dir: str | Path, cache_dir: str | Path) -> EmbeddedStore:
        """The store the build kept in *cache_dir* of the output in *dist_dir*, opened
        read-only, if the output is still that one; else the dumps loaded (:meth:`open`)."""
        from ndlld.published import open_published

        opened = open_published(Path(cache_dir), Path(dist_dir))
        if opened is None:
            return cls.open(dist_dir)
        store, graph, lock = opened
        embedded = cls(store, graph)
        weakref.finalize(embedded, os.close, lock)  # the checkpoint may be removed once this is gone
        return embedded

    @classmethod
    def open(cls, dist_dir: str | Path) -> EmbeddedStore:
        """The dumps of *dist_dir* loaded into a store in memory."""
        dist_dir = Path(dist_dir)
        dataset, ontology = dist_dir / DATASET_FILES["ntriples"], dist_dir / "ontology.ttl"
        for path in (dataset, ontology):
            if not path.is_file():
                raise ConfigError(f"no {path.name} in {dist_dir}: run 'ndlld build' first", path=dist_dir)
        graph = dataset_graph(read_base(dist_dir))
        store = Store()
        store.bulk_load(path=str(dataset), format=RdfFormat.N_TRIPLES, to_graph=graph)
        store.bulk_load(path=str(ontology), format=RdfFormat.TURTLE, to_graph=VOCABULARY_GRAPH)
        return cls(store, graph)

    def query(
        self, text: str, default_graph: list[NamedNode] | None = None, named_graphs: list[NamedNode] | None = None
    ) -> QuerySolutions | QueryBoolean | QueryTriples:
        """SELECT -> QuerySolutions, ASK -> QueryBoolean, CONSTRUCT/DESCRIBE -> triples."""
        default: list[NamedNode | BlankNode | DefaultGraph] = [*(default_graph or [self.graph])]
        named: list[NamedNode | BlankNode] = [*(named_graphs or [self.graph, VOCABULARY_GRAPH])]
        try:
            return self.store.query(text, default_graph=default, named_graphs=named)
        except SyntaxError as err:
            raise malformed(err) from None


@dataclass
class RemoteEndpoint:
    """A SPARQL 1.1 query endpoint, reached through SPARQLWrapper."""

    url: str
    graph: NamedNode | None = None
    timeout: float = 60.0

    def query(self, text: str) -> QuerySolutions | QueryBoolean | list[Triple]:
        """SELECT -> QuerySolutions, ASK -> QueryBoolean, CONSTRUCT/DESCRIBE -> triples."""
        from SPARQLWrapper import POST, SPARQLWrapper
        from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

        wrapper = SPARQLWrapper(self.url)
        wrapper.setMethod(POST)
        wrapper.setTimeout(int(self.timeout))
        wrapper.setQuery(text)
        if self.graph is not None:
            wrapper.addDefaultGraph(self.graph.value)
            wrapper.addNamedGraph(self.graph.value)
            wrapper.addNamedGraph(VOCABULARY_GRAPH.value)
        # The one format each query form has, asked for by the Accept header alone: SPARQLWrapper
        # would add format=xml&output=xml&results=xml to the request, which Virtuoso obeys over
        # the header (406 Unacceptable), and Virtuoso answers a CONSTRUCT with a table of
        # bindings when the results' type is acceptable at all.
        wrapper.setOnlyConneg(True)
        wrapper.addCustomHttpHeader("Accept", "application/n-triples" if _makes_triples(text) else "application/sparql-results+json")
        try:
            response = wrapper.query().response
            body = response.read()
            media_type = (response.headers.get("Content-Type") or "").split(";")[0].strip()
        except SPARQLWrapperException as err:
            raise QueryError(f"{self.url}: the endpoint refused the query: {_first_line(err)}") from None
        except OSError as err:
            raise QueryError(f"{self.url}: {_reason(err)}") from None
        rdf_format = RdfFormat.from_media_type(media_type) if media_type else None
        if rdf_format is not None:
            return [quad.triple for quad in parse(body, format=rdf_format)]  # the default graph's quads
        results_format = QueryResultsFormat.from_media_type(media_type) or QueryResultsFormat.JSON
        try:
            return parse_query_results(body, format=results_format)
        except SyntaxError as err:
            raise QueryError(f"{self.url}: the answer is not SPARQL results: {err}") from None


def _spelled(word: str) -> re.Pattern:
    """*word* in any case, each letter also as a ``\\u`` or ``\\U`` escape: SPARQL 1.1 §19.2
    has those processed before parsing (pyoxigraph 0.5 does not, a later one may)."""

    def code(letter: str) -> str:
        return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{ord(letter):02x}")

    letters = []
    for c in word:
        codes = f"(?:{code(c.lower())}|{code(c.upper())})"
        # '+0' too: pyoxigraph's unescaping read the digits with Rust's from_str_radix, which takes a sign.
        letters.append(rf"(?:[{c.lower()}{c.upper()}]|\\u(?:00|\+0){codes}|\\U(?:000000|\+00000){codes})")
    return re.compile("".join(letters))


SERVICE_KEYWORD = _spelled("service")  # every way a query may spell it
_SILENT = _spelled("silent")


def without_services(text: str) -> str:
    """*text* with each ``SERVICE`` (``SILENT`` or not) read as ``GRAPH``: a query of the
    same form that calls nothing when an empty store runs it."""
    return re.sub(SERVICE_KEYWORD.pattern + r"(?:\s+" + _SILENT.pattern + ")?", "GRAPH", text)


def _makes_triples(text: str) -> bool:
    """Whether the query *text* is a CONSTRUCT or DESCRIBE, as an empty store answers it
    (SPARQLWrapper's guess takes a 'describe' in a comment for the query's form).

    Each SERVICE is read as a GRAPH first, which has the same form: the query is meant
    for the endpoint, and an ASK would otherwise call its services from this machine."""
    try:
        return isinstance(Store().query(without_services(text)), QueryTriples)
    except SyntaxError:
        return False  # the endpoint says what is wrong with it


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _reason(err: OSError) -> str:
    """A one-line reason for a failed HTTP request."""
    code = getattr(err, "code", None)
    if code:
        return f"HTTP {code} {getattr(err, 'reason', '')}".strip()
    reason = getattr(err, "reason", None) or err.strerror or err
    return f"cannot reach the endpoint ({reason})"


def open_target(
    endpoint: str | None, graph: str | None, data_dir: Path, dist_dir: Path, cache_dir: Path
) -> tuple[EmbeddedStore | RemoteEndpoint, str]:
    """Where a query runs, and the base IRI of the dataset there: the remote *endpoint*
    (its dataset graph *graph*, by default the one ``ndlld publish`` uses for the
    records in *data_dir*), or the embedded store of the build in *dist_dir* (its
    cache in *cache_dir*)."""
    if endpoint:
        from ndlld.sources import read_base

        base = read_base(data_dir)
        return RemoteEndpoint(endpoint, NamedNode(graph) if graph else dataset_graph(base)), base
    store = EmbeddedStore.published(dist_dir, cache_dir)
    return store, store.graph.value.removesuffix("id/dataset")
