"""A large graph validated in parts, in forked processes, the results merged by document.

pySHACL's cost grows faster than the graph, so it goes in parts of
:data:`CHUNK_DOCUMENTS` documents; rudof goes in one run up to
:data:`RUDOF_WHOLE_TRIPLES` (its memory), above in parts of about
:data:`PART_TRIPLES` statements, validating only each part's own resources. Each
part's data is its documents' surroundings (:func:`ndlld.checks.scope.surroundings`),
and only the results about its own documents are kept: the tests check that the
findings are those of one pySHACL run over the whole graph.

The surroundings are read from :class:`Surroundings`, an index made in one pass
over the graph that keeps statements as their positions: per-document lookups over
millions of statements were slow. Its answers are those of :mod:`ndlld.checks.scope`
(the tests compare them).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple

from ndlld.checks.engines import Rules, engine_for, focus_nodes, run
from ndlld.checks.report import by_document, parse_ntriples, refused
from ndlld.checks.scope import DATASET_CLASS_IRI, MODIFIED_IRI, PARENT_IRI, RDF_TYPE_IRI, TOO_MANY_PARENTS, Needs, too_many_parents
from ndlld.graph import Graph, document_of
from ndlld.lookup import statement_order
from ndlld.rdf import Term, serialized, subject_of, subject_value, term_text

CHUNK_DOCUMENTS = 2_000  # documents (with their hash resources) per pySHACL run, at scale
# rudof's memory grows with the statements it validates, and its time faster than them:
# larger graphs go in parts (bench/history.md has the sizes measured).
RUDOF_WHOLE_TRIPLES = 50_000
# Statements (about) per rudof part, a part to a process; a resource's statements are
# seldom split across parts.
PART_TRIPLES = 25_000

_DATASET_CLASS = NamedNode(DATASET_CLASS_IRI)

_INTEGER_TYPES = {
    "http://www.w3.org/2001/XMLSchema#" + name
    for name in (
        "integer",
        "nonNegativeInteger",
        "positiveInteger",
        "nonPositiveInteger",
        "negativeInteger",
        "long",
        "unsignedLong",
        "decimal",
    )
}


@dataclass(frozen=True)
class Sizes:
    """How a graph is cut: at most *chunk* documents a part (pySHACL's default
    :data:`CHUNK_DOCUMENTS`), parts of about *part_triples* statements for rudof, in
    one rudof run up to *whole_triples*, on *workers* processes (all cores by default).
    None: the module's value when the checks run."""

    chunk: int | None = None
    workers: int | None = None
    whole_triples: int | None = None
    part_triples: int | None = None

    def whole(self) -> int:
        return RUDOF_WHOLE_TRIPLES if self.whole_triples is None else self.whole_triples

    def part(self) -> int:
        return PART_TRIPLES if self.part_triples is None else self.part_triples


def is_large(graph: Graph, sizes: Sizes) -> bool:
    """Too large for one rudof run: what points at a resource is cut to what the shapes
    can see, and rudof told each part's own resources. Only then: reading both from the
    shapes takes rdflib, slow to import for a small run, whose parts are small anyway."""
    return len(graph) > sizes.whole()


class Surroundings:
    """The surroundings of every document of a graph (:func:`ndlld.checks.scope.surroundings`),
    as positions in ``graph.triples``, indexed in one pass that also notes what decides
    how the graph is checked (blank-node subjects, integers rudof misjudges, parent links)."""

    def __init__(self, graph: Graph, needs: Needs = None):
        self.triples = graph.triples
        self.needs = needs
        self.own: dict[str, list[int]] = {}  # document -> its statements
        # In graph order (dicts, not sets): the same on every build.
        self.subjects: dict[str, dict[str, None]] = {}  # document -> its subjects (itself, its hash resources)
        self.targets: dict[str, dict[str, None]] = {}  # document -> the IRIs its statements point at
        self.incoming: dict[str, list[int]] = {}  # IRI -> the statements pointing at it that the shapes see
        self.types: dict[str, list[int]] = {}  # subject -> its rdf:type statements
        self.parents: dict[str, list[tuple[int, str]]] = {}  # organization -> (statement, parent)
        self.named_parents: dict[str, list[int]] = {}  # the same, where the parent is an IRI
        self.dataset: list[int] = []  # its type and date of last change: in every document's surroundings
        self.blank_subjects = self.long_integers = False
        self._keep_first(self._read(graph.triples, needs), needs or {})

    def _read(self, triples: list[Triple], needs: Needs) -> dict[tuple[str, str], list[int]]:
        """The one pass; returns the statements of bounded properties by object and property, to choose from."""
        bounded: dict[tuple[str, str], list[int]] = {}
        incoming, types = self.incoming, self.types
        current: str | None = None  # the subject of the statements before
        own: list[int] = []
        targets: dict[str, None] = {}
        for position, triple in enumerate(triples):
            subject = subject_of(triple)
            value = subject.value
            if value != current:  # a record's statements come together: its document found once
                current = value
                own, targets = self._subject(subject, value)
            own.append(position)
            predicate = triple.predicate.value
            target = triple.object
            if isinstance(target, NamedNode):
                target_value = target.value
                targets[target_value] = None
                if needs is None or predicate in needs:
                    if needs is None or needs[predicate] is None:
                        incoming.setdefault(target_value, []).append(position)
                    else:
                        bounded.setdefault((target_value, predicate), []).append(position)
            elif isinstance(target, Literal) and not self.long_integers:
                self.long_integers = len(target.value) > 18 and target.datatype.value in _INTEGER_TYPES
            if predicate == RDF_TYPE_IRI:
                types.setdefault(value, []).append(position)
                if target == _DATASET_CLASS:
                    self.dataset.append(position)
            elif predicate == PARENT_IRI:
                self._parent(value, position, target)
        self._dataset_modified()
        return bounded

    def _dataset_modified(self) -> None:
        """Add the dataset's date of last change to its type, read in the pass: every
        document's check sees them (:func:`ndlld.checks.scope.dataset_modified`)."""
        triples = self.triples
        for subject in {subject_of(triples[p]).value for p in self.dataset}:
            own = self.own[document_of(subject)]
            self.dataset += [p for p in own if triples[p].predicate.value == MODIFIED_IRI and subject_of(triples[p]).value == subject]

    def _subject(self, subject: NamedNode | BlankNode, value: str) -> tuple[list[int], dict[str, None]]:
        """The lists a subject's statements go to: its document's."""
        if isinstance(subject, BlankNode):
            self.blank_subjects = True
        document = value.partition("#")[0]  # document_of, inlined
        own = self.own.get(document)
        if own is None:
            own = self.own[document] = []
            self.subjects[document] = {}
            self.targets[document] = {}
        self.subjects[document][value] = None
        return own, self.targets[document]

    def _parent(self, organization: str, position: int, parent: Term) -> None:
        self.parents.setdefault(organization, []).append((position, term_text(parent)))
        if isinstance(parent, NamedNode):
            self.named_parents.setdefault(organization, []).append(position)

    def _keep_first(self, bounded: dict[tuple[str, str], list[int]], needs: dict[str, int | None]) -> None:
        """Of each bounded property's statements pointing at an IRI, the first ones in statement order."""
        triples = self.triples
        for (target, predicate), positions in bounded.items():
            bound = needs[predicate] or 0
            if len(positions) > bound:
                positions = heapq.nsmallest(bound, positions, key=lambda p: statement_order(triples[p]))
            self.incoming.setdefault(target, []).extend(positions)

    def too_many_parents(self) -> Triple | None:
        """:func:`ndlld.checks.scope.too_many_parents` of the graph's parent links."""
        triples = self.triples
        return too_many_parents({o: [triples[p] for p in links] for o, links in self.named_parents.items()})

    def above(self, organization: str) -> tuple[set[int], set[str]]:
        """Every parent link above *organization*, and the organizations they are of:
        *organization* and every one above it."""
        links: set[int] = set()
        above = {organization}
        todo = [organization]
        while todo:
            for position, parent in self.parents.get(todo.pop(), ()):
                if position not in links:
                    links.add(position)
                    above.add(parent)
                    todo.append(parent)
        return links, above

    def positions(self, document: str) -> set[int]:
        """The positions in the graph of the surroundings of *document*."""
        found = set(self.own.get(document, ()))
        found.update(self.dataset)
        if document in self.parents:
            found |= self.above(document)[0]
        # Each subject and object once: the NDL states thousands of facts and is
        # pointed at by thousands; per statement, that was quadratic.
        pointing, typing = self.incoming.get, self.types.get
        for subject in self.subjects.get(document, ()):
            found.update(pointing(subject, ()))
        for target in self.targets.get(document, ()):
            found.update(typing(target, ()))
        return found

    def of(self, document: str) -> set[Triple]:
        """The surroundings of *document*."""
        return self.gather([document])

    def gather(self, documents: Iterable[str]) -> set[Triple]:
        """A validation run's data: the surroundings of *documents*."""
        positions: set[int] = set()
        for document in documents:
            positions |= self.positions(document)
        triples = self.triples
        return {triples[position] for position in positions}

    def size(self, document: str) -> int:
        """About how many statements the surroundings of *document* hold (its own and those
        pointing at it; the few types and parent links left out), without gathering them."""
        return len(self.own[document]) + sum(len(self.incoming.get(subject, ())) for subject in self.subjects[document])

    def touched_by(self, iris: Iterable[str]) -> set[str]:
        """:func:`ndlld.checks.scope.touched_documents` of *iris*."""
        iris = frozenset(iris)
        found = {document_of(iri) for iri in iris} & self.own.keys()
        found.update(document for document, targets in self.targets.items() if not iris.isdisjoint(targets))
        found.update(self._pointed_at_by(iris))
        for organization in self.parents.keys() & self.own.keys():
            if organization not in found and not iris.isdisjoint(self.above(organization)[1]):
                found.add(organization)
        return found

    def _pointed_at_by(self, iris: frozenset[str]) -> set[str]:
        """The documents that the statements about *iris* point at, as far as the shapes see them."""
        found: set[str] = set()
        triples, needs = self.triples, self.needs
        for iri in iris:
            for position in self.own.get(document_of(iri), ()):
                t = triples[position]
                if subject_value(t) == iri and isinstance(t.object, NamedNode) and (needs is None or t.predicate.value in needs):
                    found.add(document_of(t.object.value))
        return found & self.own.keys()


def parts(index: Surroundings, documents: list[str], chunk: int, most: int) -> list[list[str]]:
    """*documents* in consecutive parts of at most *chunk* documents and about *most*
    statements; a document larger than that alone in its part."""
    found: list[list[str]] = []
    current: list[str] = []
    size = 0
    for document in documents:
        grows = index.size(document)
        if current and (len(current) >= chunk or size + grows > most):
            found.append(current)
            current, size = [], 0
        current.append(document)
        size += grows
    if current:
        found.append(current)
    return found


def validated(graph: Graph, index: Surroundings, rules: Rules, documents: Iterable[str] | None, sizes: Sizes, collect: bool):
    """The results of the documents of *graph* (those of *documents*, when given), by document
    (see :func:`ndlld.checks.report.by_document`). *index*: the graph's surroundings;
    *collect*: whether pySHACL runs with the collector."""
    link = index.too_many_parents()
    if link is not None:  # refused: no engine is given the graph
        return refused(link, TOO_MANY_PARENTS)
    rules = engine_for(rules, index.long_integers)
    chosen = sorted(index.own) if documents is None else sorted(index.own.keys() & set(documents))
    if index.blank_subjects or _whole(graph, rules, documents is None, len(chosen), sizes):
        return _in_one_run(graph, rules, None if documents is None else chosen, sizes.workers, collect)
    return _in_parts(index, rules, chosen, sizes, is_large(graph, sizes) and rules.engine == "rudof", collect)


def _whole(graph: Graph, rules: Rules, every: bool, count: int, sizes: Sizes) -> bool:
    """Whether one run over the whole graph is the way: for pySHACL, every document and
    few of them; for rudof, while its memory allows, for every document or more than a
    part's (its cost grows with the graph, no faster; parts would repeat what they share)."""
    chunk = sizes.chunk or CHUNK_DOCUMENTS
    if rules.engine == "pyshacl":
        return every and count <= chunk
    return len(graph) <= sizes.whole() and (every or count > min(chunk, CHUNK_DOCUMENTS))


def _in_one_run(graph: Graph, rules: Rules, documents: list[str] | None, workers: int | None, collect: bool) -> dict[str, list[Triple]]:
    data = serialized(graph.triples, RdfFormat.N_TRIPLES)
    about = set(documents) if documents is not None else None
    [text] = run(_validate_whole, [data], (rules, about), rules, workers, collect)
    return by_document(parse_ntriples(text), documents)


def _validate_whole(shared: tuple[Rules, set[str] | None], data: bytes) -> bytes:
    rules, about = shared
    return rules.validate(data, about)


def _in_parts(index: Surroundings, rules: Rules, documents: list[str], sizes: Sizes, focused: bool, collect: bool):
    chunk = sizes.chunk or (CHUNK_DOCUMENTS if rules.engine == "pyshacl" else max(len(documents), 1))
    cut = parts(index, documents, chunk, sizes.part())
    if focused and cut:
        _ = rules.targets, rules.superclasses  # what focus_nodes needs in every child, made once
    size = {document: index.size(document) for document in documents}
    cut.sort(key=lambda part: sum(size[document] for document in part), reverse=True)  # the longest first: none left alone at the end
    results: dict[str, list[Triple]] = {}
    for found in run(_validate_part, cut, (rules, index, focused), rules, sizes.workers, collect):
        results.update((document, parse_ntriples(text) if text else []) for document, text in found.items())
    return results


def _validate_part(shared: tuple[Rules, Surroundings, bool], own: list[str]) -> dict[str, bytes]:
    """In a child: validate the surroundings of the documents *own*; the results about
    each of them, as N-Triples (what crosses the pipe)."""
    rules, index, focused = shared
    triples = index.gather(own)
    focus = focus_nodes(triples, set(own), rules) if focused else None
    report = parse_ntriples(rules.validate(serialized(list(triples), RdfFormat.N_TRIPLES), set(own), focus))
    return {document: serialized(found, RdfFormat.N_TRIPLES) if found else b"" for document, found in by_document(report, own).items()}
