"""Where each statement comes from: the named graphs of the sources, or the passages of them, that state it.

The records name the sources of each resource (``source``, ``dcterms:source``); the
source records say what each is cited for and where in them each resource is
described, so that every statement of the graph can be put in the named graph of
what states it (an RDF 1.1 dataset, https://www.w3.org/TR/rdf11-concepts/#section-dataset):

* a passage of a source (a W3C Web Annotation ``oa:SpecificResource`` with an
  ``oa:TextPositionSelector``, https://www.w3.org/TR/annotation-model/#text-position-selector)
  whose ``dcterms:subject`` is the resource's document: the passage's graph;
* else the source itself: its graph, named by its IRI;
* a source with ``ndl:citedFor`` states only the statements with those properties
  (text only in its ``schema:inLanguage``); the resource's other sources state the rest;
* ``dcterms:source`` itself is in the graph of the source it names;
* a link outward, which an ``rdf:Statement`` describes (RDF reification,
  :func:`ndlld.links.statement_iri`), is in the graphs of the sources that
  ``rdf:Statement`` names, and so are the ``rdf:Statement``'s own statements: the
  reification says which source states the link, the named graphs hold the link where
  that source's statements are (``ndl:citedFor`` does not narrow them: the record named
  the sources of this statement);
* a resource that names no source (the source records, their passages) and the
  ``schema:Dataset`` are the project's own: :func:`project_graph`.

Everything is read from the graph through a :class:`~ndlld.lookup.Lookup`, so the
same rules hold for a build from scratch and for an incremental one.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode, Quad, Triple

from ndlld.links import link_statement
from ndlld.lookup import Lookup, document_of
from ndlld.namespaces import DCTERMS, NDL, OA, RDF, RDF_TYPE, SCHEMA
from ndlld.rdf import subject_value

SOURCE = DCTERMS.source.value
ABOUT = DCTERMS.subject.value  # a passage's: the resources it is about
HAS_SOURCE = OA.hasSource.value
CITED_FOR = NDL.citedFor.value
IN_LANGUAGE = SCHEMA.inLanguage.value
REIFIED = RDF.subject.value  # an rdf:Statement's: the subject of the statement it describes
_DATASET = SCHEMA.Dataset
_STATEMENT = RDF.Statement


def project_graph(base: str) -> str:
    """The graph of what the project states itself: the dataset's description, the sources'."""
    return base + "id/dataset#project"


class Provenance:
    """The graphs of each statement of the graph *lookup* reads (:meth:`graphs`)."""

    def __init__(self, lookup: Lookup, base: str):
        self.lookup = lookup
        self.project = project_graph(base)
        self._sources: dict[str, tuple[str, ...]] = {}
        self._cited_for: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self._passages: dict[tuple[str, str], tuple[str, ...]] = {}
        self._statements: dict[str, bool] = {}  # whether each subject is an rdf:Statement
        self._narrow: dict[tuple[str, ...], bool] = {}
        self._all: dict[tuple[tuple[str, ...], str], tuple[str, ...]] = {}  # (sources, document) -> the graphs of all they state

    def graphs(self, triple: Triple) -> tuple[str, ...]:
        """The names of the graphs *triple* is in, sorted (at least one)."""
        subject = subject_value(triple)
        if triple.predicate.value == SOURCE and isinstance(triple.object, NamedNode):
            return self.citations(triple.object.value, document_of(subject))
        statement = self._statement_of(subject, triple)
        if statement is not None:
            return self._stating(statement)
        return self._by_sources(self._holder(subject, triple.object), triple)

    def _by_sources(self, holder: str, triple: Triple) -> tuple[str, ...]:
        """The graphs of *triple*, a statement of *holder*'s: its sources', or the passages of
        them about its document; of a source cited for some properties, only those."""
        sources = self.sources(holder)
        if not sources:
            return (self.project,)
        document = document_of(holder)
        if not self._narrowed(sources):  # each of them states it: the same graphs for every statement of the document
            found = self._all.get((sources, document))
            if found is None:
                found = self._all[(sources, document)] = tuple(sorted({g for s in sources for g in self.citations(s, document)}))
            return found
        stating = [s for s in sources if self._states(s, triple.predicate.value, triple.object)]
        if not stating:
            stating = [s for s in sources if not self._scope(s)[0]] or list(sources)
        return tuple(sorted({g for s in stating for g in self.citations(s, document)}))

    def _narrowed(self, sources: tuple[str, ...]) -> bool:
        """Whether one of *sources* is cited for some properties only."""
        found = self._narrow.get(sources)
        if found is None:
            found = self._narrow[sources] = any(self._scope(s)[0] for s in sources)
        return found

    def _statement_of(self, subject: str, triple: Triple) -> str | None:
        """The rdf:Statement whose sources state *triple*: its subject, if that is one (a link's
        reification), or the one describing it, if it is a link outward; else None."""
        is_statement = self._statements.get(subject)
        if is_statement is None:
            is_statement = self._statements[subject] = any(t.object == _STATEMENT for t in self.lookup.stated(subject, RDF_TYPE.value))
        if is_statement:
            return subject
        statement = link_statement(triple)
        if statement is not None and any(t.object == triple.subject for t in self.lookup.stated(statement, REIFIED)):
            return statement
        return None

    def _stating(self, statement: str) -> tuple[str, ...]:
        """The graphs of a reified statement and of its ``rdf:Statement``: its sources', the
        passages of them about its subject's document; the project's if it names none."""
        subjects = [t.object.value for t in self.lookup.stated(statement, REIFIED) if isinstance(t.object, NamedNode)]
        document = document_of(subjects[0] if subjects else statement)
        sources = [t.object.value for t in self.lookup.stated(statement, SOURCE) if isinstance(t.object, NamedNode)]
        return tuple(sorted({g for s in sources for g in self.citations(s, document)})) or (self.project,)

    def quads(self, triples: Iterable[Triple]) -> list[Quad]:
        """Each of *triples* in each of its graphs."""
        return [Quad(t.subject, t.predicate, t.object, NamedNode(g)) for t in triples for g in self.graphs(t)]

    def _holder(self, subject: str, obj) -> str:
        """The resource whose sources state a statement: its subject, but for a link to a
        hash resource of another document (the NDL's memberships, written in the
        organization's record), that resource."""
        if isinstance(obj, NamedNode) and "#" in obj.value and document_of(obj.value) != document_of(subject):
            if self.sources(obj.value):
                return obj.value
        return subject

    def sources(self, resource: str) -> tuple[str, ...]:
        """The sources of *resource* (else of its document); none for the project's own."""
        found = self._sources.get(resource)
        if found is None:
            if any(t.object == _DATASET for t in self.lookup.stated(resource, RDF_TYPE.value)):
                found = ()
            else:
                found = tuple(sorted(t.object.value for t in self.lookup.stated(resource, SOURCE) if isinstance(t.object, NamedNode)))
                if not found and "#" in resource:
                    found = self.sources(document_of(resource))
            self._sources[resource] = found
        return found

    def _scope(self, source: str) -> tuple[frozenset[str], frozenset[str]]:
        """The properties *source* is cited for (none: all), and its languages."""
        found = self._cited_for.get(source)
        if found is None:
            cited = frozenset(t.object.value for t in self.lookup.stated(source, CITED_FOR) if isinstance(t.object, NamedNode))
            languages = frozenset(t.object.value.lower() for t in self.lookup.stated(source, IN_LANGUAGE) if isinstance(t.object, Literal))
            found = self._cited_for[source] = (cited, languages)
        return found

    def _states(self, source: str, predicate: str, obj) -> bool:
        """Whether *source*, cited for some properties, states a statement of *predicate*."""
        cited, languages = self._scope(source)
        if predicate not in cited:
            return False
        language = obj.language if isinstance(obj, Literal) else None
        return not (language and languages) or language.lower() in languages or language.lower().split("-")[0] in languages

    def citations(self, source: str, document: str) -> tuple[str, ...]:
        """The passages of *source* about *document*, else *source* itself."""
        key = (source, document)
        found = self._passages.get(key)
        if found is None:
            passages = {
                subject_value(t)
                for t in self.lookup.pointing_at(document)
                if t.predicate.value == ABOUT
                and any(h.object == NamedNode(source) for h in self.lookup.stated(subject_value(t), HAS_SOURCE))
            }
            found = self._passages[key] = tuple(sorted(passages)) or (source,)
        return found
