"""The SHACL engines, and what ndlld fixes in rudof's report so that both say the same.

rudof (``pyrudof``, written in Rust) is the default, several times faster at scale;
pySHACL is the reference in Python. The tests run both on every fixture and require
the same findings. rudof's report is rewritten as pySHACL writes it: each result's
message is its shape's sh:message, a blank-node shape stays a blank node with its
description copied from the shapes graph; integers rudof misjudges go to pySHACL
(:func:`engine_for`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, parse

from ndlld import parallel
from ndlld.checks.report import (
    FOCUS_NODE,
    RDF_TYPE,
    RESULT,
    RESULT_MESSAGE,
    SOURCE_SHAPE,
    VALIDATION_REPORT,
    About,
    first,
    index,
    list_items,
    parse_ntriples,
    rdflib_graph,
)
from ndlld.errors import ConfigError, NdlldError, ShapesError
from ndlld.graph import document_of
from ndlld.namespaces import SH
from ndlld.rdf import Term, serialized, subject_of, subject_value

if TYPE_CHECKING:
    import rdflib

    from ndlld.checks.scope import Alone

ENGINES = ("rudof", "pyshacl")
DEFAULT_ENGINE = "rudof"
RDF_TYPE_IRI = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_SUBCLASS_OF = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
MESSAGE = SH.message
# Where the blank-node shapes get the IRIs rudof sees (RFC 7511's well-known genid).
SKOLEM = "https://w3id.org/ndlld/.well-known/genid/"
# The parameters whose values are shapes, one or a list of them (https://www.w3.org/TR/shacl/#shapes-recursion).
SHAPE_PARAMETERS = {SH.property, SH.node, SH.qualifiedValueShape, getattr(SH, "not")}
SHAPE_LISTS = {getattr(SH, "or"), getattr(SH, "and"), SH.xone}
# What a failed rudof run suggests, in the commands that have the option (harvest has not).
OTHER_ENGINE = ("--shacl-engine", "or --shacl-engine pyshacl")


def shape_files(shapes_dir: str | Path) -> list[Path]:
    """The ``*.ttl`` files of *shapes_dir*, which together are the shapes graph."""
    files = sorted(Path(shapes_dir).glob("*.ttl"))
    if not files:
        raise ShapesError(f"no shapes (*.ttl) in {shapes_dir}")
    return files


def load_shapes(shapes_dir: str | Path) -> rdflib.Graph:
    """Every ``*.ttl`` file of *shapes_dir* as one rdflib shapes graph."""
    return _parse_turtle(shape_files(shapes_dir), ShapesError, "shapes")


def load_turtle(*paths: str | Path) -> rdflib.Graph:
    """The vocabulary files the checks need beside the data, as one rdflib graph."""
    return _parse_turtle(paths, ConfigError, "the vocabulary")


def _parse_turtle(paths, error: type[NdlldError], what: str) -> rdflib.Graph:
    import rdflib

    graph = rdflib.Graph()
    for path in paths:
        try:
            graph.parse(path, format="turtle")
        except Exception as err:  # rdflib raises many parser-specific types
            raise error(f"cannot read {what}: {err}", path=path) from None
    return graph


def read_rules(shapes_dir: str | Path, vocabulary: list[Path], engine: str = DEFAULT_ENGINE) -> Rules:
    """The shapes of *shapes_dir* and the *vocabulary* files, read by pyoxigraph:
    what the checks need, without rdflib (pySHACL gets rdflib graphs of them when it runs)."""
    return Rules(
        _read_turtle(shape_files(shapes_dir), ShapesError, "shapes"), _read_turtle(vocabulary, ConfigError, "the vocabulary"), engine
    )


def _read_turtle(paths, error: type[NdlldError], what: str) -> list[Triple]:
    triples: list[Triple] = []
    for path in paths:
        try:
            # Each file's blank nodes are its own, as when rdflib parses the files into one graph.
            triples += [quad.triple for quad in parse(path=path, format=RdfFormat.TURTLE, rename_blank_nodes=True)]
        except SyntaxError as err:
            raise error(f"cannot read {what}: {err.msg}", path=path, line=err.lineno) from None
        except (OSError, ValueError) as err:
            raise error(f"cannot read {what}: {err}", path=path) from None
    return triples


def triples_of(graph: rdflib.Graph) -> list[Triple]:
    """An rdflib graph's triples, for :class:`Rules`."""
    return parse_ntriples(graph.serialize(format="nt", encoding="utf-8"))


def to_rdflib(triples: list[Triple]) -> rdflib.Graph:
    """The triples as an rdflib graph, for pySHACL."""
    import rdflib

    graph = rdflib.Graph()
    add = graph.add
    for t in triples:
        add((_rdflib_term(t.subject), rdflib.URIRef(t.predicate.value), _rdflib_term(t.object)))
    return graph


def _rdflib_term(term):
    import rdflib

    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
    return rdflib.URIRef(term.value)


@dataclass
class Rules:
    """What a validation run needs besides the data: the shapes, the vocabulary
    (class hierarchies) and the engine that applies them. The shapes and the
    vocabulary are pyoxigraph triples; pySHACL gets them as rdflib graphs."""

    shapes: list[Triple]
    ontology: list[Triple]
    engine: str = DEFAULT_ENGINE

    def validate(self, data: bytes, about: set[str] | None = None, focus: dict[str, set[str]] | None = None) -> bytes:
        """The SHACL report on *data* (N-Triples), as N-Triples, the same whichever the engine;
        given *about* (documents), rudof's results on other resources may be left out,
        and given *focus* (:func:`focus_nodes`), rudof validates only those. Run rudof
        only in a child process (:func:`run`)."""
        if self.engine == "pyshacl":
            report = pyshacl_report(rdflib_graph(data), self.shapes_graph, self.ontology_graph)
            return report.serialize(format="nt", encoding="utf-8")
        return _validate_rudof(data, self, about, focus)

    @cached_property
    def incoming(self) -> dict[str, int | None] | None:
        """What the shapes see of the statements pointing at a resource (:func:`ndlld.checks.scope.incoming_needs`)."""
        from ndlld.checks.scope import incoming_needs

        return incoming_needs(self.shapes_graph)

    @cached_property
    def alone(self) -> Alone | None:
        """Which statements the shapes judge one at a time (:func:`ndlld.checks.scope.judged_alone`)."""
        from ndlld.checks.scope import judged_alone

        return judged_alone(self.shapes_graph, self.superclasses)

    @cached_property
    def shapes_graph(self) -> rdflib.Graph:
        return rdflib_graph(serialized(self.shapes, RdfFormat.N_TRIPLES))

    @cached_property
    def ontology_graph(self) -> rdflib.Graph:
        return rdflib_graph(serialized(self.ontology, RdfFormat.N_TRIPLES))

    @cached_property
    def ontology_text(self) -> str:
        return serialized(self.ontology, RdfFormat.N_TRIPLES).decode("utf-8")

    @cached_property
    def messages(self) -> dict[NamedNode | BlankNode, list[Term]]:
        """Each shape's sh:message: a literal in SHACL, any term here as pySHACL copies it."""
        found: dict[NamedNode | BlankNode, list[Term]] = {}
        for t in self.shapes:
            if t.predicate == MESSAGE:
                found.setdefault(subject_of(t), []).append(t.object)
        return found

    @cached_property
    def blank_shapes(self) -> set[BlankNode]:
        """The shapes that are blank nodes: those with a message, and the values of the
        parameters that take shapes (sh:property, sh:node, the members of sh:or ...)."""
        about = index(self.shapes)
        found: set[Term] = set(self.messages)
        for t in self.shapes:
            if t.predicate in SHAPE_PARAMETERS:
                found.add(t.object)
            elif t.predicate in SHAPE_LISTS:
                found.update(list_items(about, t.object))
        return {shape for shape in found if isinstance(shape, BlankNode)}

    @cached_property
    def rudof_shapes(self) -> tuple[str, dict[str, BlankNode]]:
        """The shapes for rudof, each blank-node shape given a skolem IRI (the
        blank nodes of rudof's report are its own), and the blank node behind each IRI."""
        return serialized(self.skolemized, RdfFormat.N_TRIPLES).decode("utf-8"), {
            SKOLEM + shape.value: shape for shape in self.blank_shapes
        }

    @cached_property
    def skolemized(self) -> list[Triple]:
        """The shapes, each blank-node shape named by a skolem IRI (made from its label of this reading)."""
        named: dict[Term, NamedNode] = {shape: NamedNode(SKOLEM + shape.value) for shape in self.blank_shapes}
        return [Triple(named.get(t.subject, t.subject), t.predicate, named.get(t.object, t.object)) for t in self.shapes]

    def without_targets(self) -> str:
        """The rudof shapes without their targets (sh:targetClass, sh:targetSubjectsOf, sh:targetObjectsOf)."""
        kinds = {NamedNode(f"{SH}{kind}") for kind in ("targetClass", "targetSubjectsOf", "targetObjectsOf")}
        return serialized([t for t in self.skolemized if t.predicate not in kinds], RdfFormat.N_TRIPLES).decode("utf-8")

    @cached_property
    def targets(self) -> tuple[str, list[tuple[str, str, str]]] | None:
        """The rudof shapes without their targets, and each target (shape, kind, class
        or property), for :func:`focus_nodes`; None when a shape targets in a way not
        handled here (sh:targetNode, sh:target, a shape that is also a class, a blank
        node shape with a target), and then parts keep the shapes' own targets."""
        import rdflib
        from rdflib.namespace import SH as S

        shapes_text, _ = self.rudof_shapes
        graph = rdflib.Graph().parse(data=shapes_text, format="nt")
        kinds = (S.targetClass, S.targetSubjectsOf, S.targetObjectsOf)
        if any((None, kind, None) in graph for kind in (S.targetNode, S.target)):
            return None
        shape_kinds = (S.NodeShape, S.PropertyShape)
        for shape in set(graph.subjects(rdflib.RDF.type, None)):
            types = set(graph.objects(shape, rdflib.RDF.type))
            if types & {rdflib.RDFS.Class, rdflib.OWL.Class} and types & set(shape_kinds):
                return None
        if any(isinstance(shape, rdflib.BNode) for kind in kinds for shape in graph.subjects(kind, None)):
            return None
        targets = [(str(shape), str(kind), str(value)) for kind in kinds for shape, value in graph.subject_objects(kind)]
        return self.without_targets(), targets

    @cached_property
    def superclasses(self) -> dict[str, set[str]]:
        """Each class of the vocabulary with itself and every class above it (rdfs:subClassOf)."""
        import rdflib

        ontology = self.ontology_graph
        above: dict[str, set[str]] = {}
        for cls in set(ontology.subjects(rdflib.RDFS.subClassOf, None)):
            above[str(cls)] = {str(c) for c in ontology.transitive_objects(cls, rdflib.RDFS.subClassOf)}
        return above


def engine_for(rules: Rules, long_integers: bool) -> Rules:
    """The rules with the engine that judges this data right: rudof misjudges integers
    of 19 digits and more (sh:minInclusive 0 fails them), pySHACL compares Python's."""
    if rules.engine not in ENGINES:
        raise ConfigError(f"unknown SHACL engine {rules.engine!r}: use one of {', '.join(ENGINES)}")
    return replace(rules, engine="pyshacl") if rules.engine == "rudof" and long_integers else rules


def run(function: Callable[[Any, Any], Any], jobs: list, shared: Any, rules: Rules, workers: int | None, collect: bool) -> list:
    """``function(shared, job)`` for each job, in order (see :func:`ndlld.parallel.fork_map`).

    rudof runs only in processes forked for it, even for one job: a process
    forked after rudof ran in its parent can hang, and this one may fork
    others later (the pages). pySHACL runs here when there is one job.
    *collect*: whether pySHACL's runs have the collector (rdflib's graphs hold cycles).
    rudof's never do: their few Python objects hold none, and a collection in a child
    would walk, and so copy, the memory it shares with this process.
    """
    if rules.engine == "pyshacl" and len(jobs) == 1:  # no process to start
        with parallel.collecting(collect):
            return [function(shared, jobs[0])]
    if rules.engine == "rudof":
        _ = rules.rudof_shapes, rules.ontology_text  # made once, here, for every child
        function, shared, collect = _without_certificates, (function, shared), False
    try:
        return parallel.fork_map(function, jobs, shared, workers, collect=collect)
    except parallel.ChildDied as died:
        raise ShapesError(f"the validation process ended without a report ({died.how}); try again", hint=OTHER_ENGINE) from None


def _without_certificates(shared: tuple[Callable, Any], job: Any) -> Any:
    """In a rudof child: give rudof no CA certificates to read, then run the job.

    rudof reads every certificate of the system each time it reads data, for the
    SPARQL endpoints it knows of; validation reads text and never the network.
    Set in the child only: its environment ends with it.
    """
    os.environ["SSL_CERT_FILE"] = os.environ["SSL_CERT_DIR"] = os.devnull
    function, argument = shared
    return function(argument, job)


def pyshacl_report(data: rdflib.Graph, shapes: rdflib.Graph, ontology: rdflib.Graph) -> rdflib.Graph:
    """pySHACL's report on *data*."""
    import pyshacl  # heavy: imported only when validating

    data += ontology  # what pySHACL's ont_graph does, without its copy of the whole data graph
    queried = _queries_parsed_once()(store=data.store, identifier=data.identifier, namespace_manager=data.namespace_manager)
    _conforms, report_graph, _text = pyshacl.validate(queried, shacl_graph=shapes, inference="none")
    return report_graph


@cache
def _queries_parsed_once() -> type:
    """An rdflib graph, over the same store, that parses each SPARQL text once.

    pySHACL asks rdflib a SPARQL-based constraint's query, as text, for each focus
    node, and rdflib parses a text each time it is asked: the parse, not the query,
    was most of such a constraint's cost. A prepared query is rdflib's way to run one
    query with other bindings (``prepareQuery``)."""
    import rdflib
    from rdflib.plugins.sparql import prepareQuery

    class QueriesParsedOnce(rdflib.Graph):
        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self.prepared: dict[str, Any] = {}

        def query(self, query_object, *args, **kwargs):
            if isinstance(query_object, str):
                if query_object not in self.prepared:  # with the graph's prefixes, as rdflib parses a text
                    self.prepared[query_object] = prepareQuery(query_object, initNs=dict(self.namespaces()))
                query_object = self.prepared[query_object]
            return super().query(query_object, *args, **kwargs)

    return QueriesParsedOnce


def focus_nodes(triples: set[Triple], own: set[str], rules: Rules) -> dict[str, set[str]] | None:
    """The resources of the documents *own* each shape targets in *triples* (as
    sh:targetClass, sh:targetSubjectsOf and sh:targetObjectsOf select them, classes
    above through the vocabulary); None when :attr:`Rules.targets` cannot say.

    The rest of a part (what its resources point at, typed for sh:class) would be
    targeted too, and fail for lack of its own statements: work thrown away. Given
    these focus nodes, rudof validates only them.
    """
    targets = rules.targets
    if targets is None:
        return None
    chosen = _targeted(triples, own, targets[1], rules)
    if chosen is None:
        return None
    focus: dict[str, set[str]] = {}
    for shape, kind, value in targets[1]:
        focus.setdefault(shape, set()).update(n for n in chosen[kind].get(value, ()) if not n.startswith("_:"))
    return focus


def _targeted(
    triples: set[Triple], own: set[str], targets: list[tuple[str, str, str]], rules: Rules
) -> dict[str, dict[str, set[str]]] | None:
    """By kind of target (*targets*: those of :attr:`Rules.targets`), what each class or
    property selects among *own*'s resources; None for a class hierarchy in the data
    itself (rudof's own targets then)."""
    # One pass, and only the properties some target names: each term of a pyoxigraph
    # triple is a new object at every access.
    subjects_of = {value for _, kind, value in targets if kind == str(SH) + "targetSubjectsOf"}
    objects_of = {value for _, kind, value in targets if kind == str(SH) + "targetObjectsOf"}
    chosen: dict[str, dict[str, set[str]]] = {str(SH) + kind: {} for kind in ("targetClass", "targetSubjectsOf", "targetObjectsOf")}
    objects = chosen[str(SH) + "targetObjectsOf"]
    for t in triples:
        predicate = t.predicate.value
        if predicate == RDFS_SUBCLASS_OF:
            return None
        if predicate in objects_of:
            target = t.object
            if isinstance(target, NamedNode) and document_of(target.value) in own:
                objects.setdefault(predicate, set()).add(target.value)
        if predicate == RDF_TYPE_IRI or predicate in subjects_of:
            _by_subject(t, predicate, own, rules, chosen, predicate in subjects_of)
    return chosen


def _by_subject(
    t: Triple, predicate: str, own: set[str], rules: Rules, chosen: dict[str, dict[str, set[str]]], property_target: bool
) -> None:
    """What a statement of one of *own*'s resources selects: its classes (and those above),
    and the property, when a target names it."""
    subject = subject_value(t)
    if document_of(subject) not in own:
        return
    if predicate == RDF_TYPE_IRI and isinstance(t.object, NamedNode):
        cls = t.object.value
        for above in rules.superclasses.get(cls, {cls}) | {cls}:
            chosen[str(SH) + "targetClass"].setdefault(above, set()).add(subject)
    if property_target:
        chosen[str(SH) + "targetSubjectsOf"].setdefault(predicate, set()).add(subject)


def _validate_rudof(data: bytes, rules: Rules, about: set[str] | None = None, focus: dict[str, set[str]] | None = None) -> bytes:
    """rudof's report on *data*, as N-Triples, written as pySHACL writes it. With
    *about*, only the results on those documents' resources."""
    import pyrudof  # imported only when validating

    shapes_text, _ = rules.rudof_shapes
    if focus is not None and rules.targets is not None:  # the same shapes, each targeting its focus nodes by name
        target_node = f"<{SH}targetNode>"
        shapes_text = rules.targets[0] + "".join(
            f"<{shape}> {target_node} <{node}> .\n" for shape, nodes in focus.items() for node in sorted(nodes)
        )
    rudof = pyrudof.Rudof(pyrudof.RudofConfig())
    try:
        rudof.read_shacl(shapes_text, pyrudof.ShaclFormat.NTriples)
        rudof.read_data(data.decode("utf-8") + rules.ontology_text, pyrudof.RDFFormat.NTriples, reader_mode=pyrudof.ReaderMode.Strict)
        rudof.validate_shacl()
        text = rudof.serialize_shacl_validation_results(format=pyrudof.ResultShaclValidationFormat.NTriples)
    except pyrudof.RudofError as err:
        raise ShapesError(f"rudof cannot validate: {' '.join(str(err).split())}", hint=OTHER_ENGINE) from None
    report = parse_ntriples(text)
    return serialized(_as_pyshacl_writes(only_about(report, about) if about is not None else report, rules), RdfFormat.N_TRIPLES)


def _as_pyshacl_writes(report: list[Triple], rules: Rules) -> list[Triple]:
    """rudof's *report* with each result's message its shape's sh:message (rudof words
    some of its own), and each blank-node shape a blank node again, described as in the
    shapes graph: a blank node means nothing outside its graph (SHACL's sh:sourceShape is
    "the shape", and pySHACL copies it so)."""
    shapes, messages = _shapes_and_messages(report, rules)
    corrected = []
    for t in report:
        if t.predicate == RESULT_MESSAGE and t.subject in messages:
            continue
        if t.predicate == SOURCE_SHAPE and t.subject in shapes:
            t = Triple(t.subject, SOURCE_SHAPE, shapes[t.subject])
        corrected.append(t)
    corrected += [Triple(result, RESULT_MESSAGE, message) for result, found in messages.items() for message in found]
    described = index(rules.shapes)
    for shape in set(shapes.values()):
        corrected += _description(described, shape)
    return corrected


def _description(about: About, node: BlankNode) -> list[Triple]:
    """*node*'s statements in the shapes graph, and those of the blank nodes below it."""
    found: dict[Triple, None] = {}
    todo: list[BlankNode] = [node]
    while todo:
        subject = todo.pop()
        for predicate, objects in about.get(subject, {}).items():
            for value in objects:
                triple = Triple(subject, predicate, value)
                if triple not in found and isinstance(value, BlankNode):
                    todo.append(value)
                found[triple] = None
    return list(found)


def _shapes_and_messages(report: list[Triple], rules: Rules) -> tuple[dict, dict]:
    """Each result's (and each detail's) blank-node shape, where rudof named one by its
    skolem IRI, and each result's shape's sh:message."""
    _, blank_shapes = rules.rudof_shapes
    about = index(report)
    shapes: dict = {}
    messages: dict = {}
    for result in {t.subject for t in report if t.predicate == SOURCE_SHAPE}:
        shape = first(about, result, SOURCE_SHAPE)
        if isinstance(shape, NamedNode) and shape.value in blank_shapes:
            shape = shapes[result] = blank_shapes[shape.value]
        if isinstance(shape, (NamedNode, BlankNode)) and shape in rules.messages:
            messages[result] = rules.messages[shape]
    return shapes, messages


def only_about(report: list[Triple], documents: set[str]) -> list[Triple]:
    """rudof's *report* with only the results on the resources of *documents*.

    A part holds resources of other documents too (what its own point at, typed for
    sh:class), which fail the shapes for lack of their own statements unless
    :func:`focus_nodes` leaves them out; their results are many, and slow to read.
    """
    below: dict = {}  # subject -> its statements
    for t in report:
        below.setdefault(t.subject, []).append(t)
    dropped = {
        t.subject
        for t in report
        if t.predicate == FOCUS_NODE and isinstance(t.object, NamedNode) and document_of(t.object.value) not in documents
    }
    kept: list[Triple] = []

    def copy(node) -> None:  # a result and everything below it through blank nodes
        for t in below.get(node, ()):
            kept.append(t)
            if isinstance(t.object, BlankNode):
                copy(t.object)

    for node in {t.subject for t in report if t.predicate == RDF_TYPE and t.object == VALIDATION_REPORT}:
        for t in below[node]:
            if t.predicate != RESULT:
                kept.append(t)
            elif t.object not in dropped:
                kept.append(t)
                copy(t.object)
    return kept
