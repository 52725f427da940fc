"""SHACL validation of the graph, each result traced back to its record.

The shapes in shapes/ (https://www.w3.org/TR/shacl/) are run by one of two
engines: rudof (``pyrudof``, written in Rust), by default, or pySHACL, the
reference in Python. rudof is several times faster at scale; the tests run
both on every fixture and require the same findings. A non-conforming graph is
a result, not an exception: :func:`check` returns a :class:`Report` whose
findings carry the file and line of the record that states (or should state)
the fact, taken from the origins the graph stage kept. Violations make the
data non-conforming; Warnings (something recommended is missing, e.g. a
Japanese name) do not.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from functools import cached_property, partial
from pathlib import Path

import rdflib
import rdflib.collection
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, serialize
from rdflib.namespace import SH

from ndlld.cache import Cache
from ndlld.cache import key as cache_key
from ndlld.context import Context
from ndlld.errors import ConfigError, NdlldError, ShapesError
from ndlld.graph import Graph, Origin, document_of

ENGINES = ("rudof", "pyshacl")
DEFAULT_ENGINE = "rudof"
RDF_TYPE_IRI = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PARENT_IRI = "http://schema.org/parentOrganization"
SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


@dataclass(frozen=True)
class Finding:
    """One SHACL result, in a librarian's terms."""

    severity: str
    message: str
    focus: str
    path: str | None = None
    value: str | None = None
    shape: str | None = None
    origin: Origin | None = None

    def __str__(self) -> str:
        where = f"{self.origin}: " if self.origin else ""
        about = f" [{self.focus}" + (f" {self.path}" if self.path else "") + "]"
        return f"{where}{self.severity}: {self.message}{about}"


@dataclass
class Report:
    """The outcome of :func:`check`: findings and pySHACL's own report graph."""

    findings: list[Finding]
    graph: rdflib.Graph = field(repr=False)

    @property
    def conforms(self) -> bool:
        return not any(f.severity == "Violation" for f in self.findings)

    def count(self, severity: str) -> int:
        return sum(f.severity == severity for f in self.findings)

    def summary(self) -> str:
        verdict = "conforms" if self.conforms else "does not conform"
        return f"the data {verdict}: {self.count('Violation')} violation(s), {self.count('Warning')} warning(s)"

    def text(self) -> str:
        return "\n".join([*(str(f) for f in self.findings), self.summary()])

    def json(self) -> str:
        findings = []
        for finding in self.findings:
            item = asdict(finding)
            origin = item.pop("origin")
            item["file"], item["line"] = (origin["path"], origin["line"]) if origin else (None, None)
            findings.append(item)
        return json.dumps({"conforms": self.conforms, "findings": findings}, ensure_ascii=False, indent=2)

    def turtle(self) -> str:
        return self.graph.serialize(format="turtle")


def load_shapes(shapes_dir: str | Path) -> rdflib.Graph:
    """Every ``*.ttl`` file of *shapes_dir* as one shapes graph."""
    files = sorted(Path(shapes_dir).glob("*.ttl"))
    if not files:
        raise ShapesError(f"no shapes (*.ttl) in {shapes_dir}")
    return _parse_turtle(files, ShapesError, "shapes")


def load_turtle(*paths: str | Path) -> rdflib.Graph:
    """The vocabulary files the checks need beside the data, as one graph."""
    return _parse_turtle(paths, ConfigError, "the vocabulary")


def _parse_turtle(paths, error: type[NdlldError], what: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in paths:
        try:
            graph.parse(path, format="turtle")
        except Exception as err:  # rdflib raises many parser-specific types
            raise error(f"cannot read {what}: {err}", path=path) from None
    return graph


def to_rdflib(triples: list[Triple]) -> rdflib.Graph:
    """The triples as an rdflib graph, for pySHACL."""
    graph = rdflib.Graph()
    add = graph.add
    for t in triples:
        add((_rdflib_term(t.subject), rdflib.URIRef(t.predicate.value), _rdflib_term(t.object)))
    return graph


def _rdflib_term(term):
    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
    return rdflib.URIRef(term.value)


CHUNK_DOCUMENTS = 2_000  # resources (with their hash resources) per pySHACL run, at scale
# rudof needs about 8 KB a triple while validating (1.75 GB at 200,000 triples,
# measured): larger graphs go in parts.
RUDOF_WHOLE_TRIPLES = 250_000
# Statements (about) per rudof part: 0.6 to 1 GB of rudof's memory and 6 to 9 s
# each (measured at 30,000 and 100,000 organizations), two at a time on 2 cores;
# a resource's statements are seldom split across parts (3% repeated at 30,000).
PART_TRIPLES = 100_000


def check(
    graph: Graph,
    shapes: rdflib.Graph,
    ontology: rdflib.Graph,
    context: Context | None = None,
    chunk: int | None = None,
    workers: int | None = None,
    cache: Cache | None = None,
    engine: str = DEFAULT_ENGINE,
) -> Report:
    """Validate *graph* against *shapes* with *engine*; *ontology* supplies class hierarchies.

    A large graph is validated in parts, in parallel processes: each part holds
    some resources with everything their shapes look at (their own statements,
    the statements that point at them as far as the shapes can see them, the
    types of what they point at, and the parent links above them, for the cycle
    check), and only the results about its own resources are kept. pySHACL's
    cost grows faster than the graph, so it goes in parts of *chunk* resources
    (:data:`CHUNK_DOCUMENTS`); rudof goes in one run up to
    :data:`RUDOF_WHOLE_TRIPLES` (its memory), above in parts of about
    :data:`PART_TRIPLES` statements (and at most *chunk* resources, when given),
    validating only each part's own resources. The tests check that the findings
    are those of one pySHACL run over the whole graph.

    For the same reason a resource's results depend only on those statements:
    with a *cache* (whose fingerprint covers shapes/ and ontology/, so only for
    the project's shapes), a resource is validated again only when they changed.
    """
    if engine not in ENGINES:
        raise ConfigError(f"unknown SHACL engine {engine!r}: use one of {', '.join(ENGINES)}")
    too_high = _too_many_parents(graph)
    if too_high is not None:
        return _refused(too_high, graph, context)
    if engine == "rudof" and _has_long_integers(graph):
        engine = "pyshacl"  # rudof misjudges integers of 19 digits and more (sh:minInclusive 0 fails them)
    rules = Rules(shapes, ontology, engine)
    documents = _documents(graph)
    cached = cache is not None and cache.enabled
    # Without a cache, rudof goes fastest in one run, while its memory allows.
    if chunk is None:  # rudof's parts are sized by statements alone (PART_TRIPLES)
        whole = len(documents) <= CHUNK_DOCUMENTS if engine == "pyshacl" else len(graph) <= RUDOF_WHOLE_TRIPLES
        chunk = CHUNK_DOCUMENTS if engine == "pyshacl" else max(len(documents), 1)
    else:
        whole = len(documents) <= chunk or (engine == "rudof" and len(graph) <= RUDOF_WHOLE_TRIPLES)
    if any(isinstance(t.subject, BlankNode) for t in graph.triples) or (whole and not cached):
        [text] = _run(_report, [serialize(graph.triples, format=RdfFormat.N_TRIPLES)], rules, workers)
        report_graph = rdflib.Graph().parse(data=text.decode("utf-8"), format="nt")
    else:
        report_graph = _validate_in_parts(graph, documents, rules, chunk, workers, cache if cached else None)
    findings = [_finding(report_graph, result, graph, context) for result in report_graph.objects(None, SH.result)]
    findings.sort(key=lambda f: (f.origin.path if f.origin else "~", f.origin.line if f.origin else 0, f.message, f.focus, f.value or ""))
    return Report(findings=findings, graph=report_graph)


# The cycle check's property path (parentOrganization+) is followed by rdflib
# recursively: about a thousand organizations above one would exhaust Python's
# stack. No real organization has more than a few.
MAX_PARENTS = 100


def _too_many_parents(graph: Graph) -> Triple | None:
    """The first parent link (in record order) of an organization with more than
    :data:`MAX_PARENTS` organizations above it, directly or through others; or None."""
    parents: dict[str, list[Triple]] = {}
    for triple in graph.triples:
        if triple.predicate.value == PARENT_IRI and isinstance(triple.object, NamedNode):
            parents.setdefault(triple.subject.value, []).append(triple)
    for organization, links in parents.items():
        above: set[str] = set()
        todo = [organization]
        while todo and len(above) <= MAX_PARENTS:
            for link in parents.get(todo.pop(), ()):
                if link.object.value not in above:
                    above.add(link.object.value)
                    todo.append(link.object.value)
        if len(above) > MAX_PARENTS:
            return links[0]
    return None


def _refused(link: Triple, graph: Graph, context: Context | None) -> Report:
    """A report of one violation, the organization with too many above it, without running an engine."""
    report, node, result = rdflib.Graph(), rdflib.BNode(), rdflib.BNode()
    message = f"has more than {MAX_PARENTS} parent organizations above it, directly or through others (a chain or a cycle too long to check)"
    report.add((node, rdflib.RDF.type, SH.ValidationReport))
    report.add((node, SH.conforms, rdflib.Literal(False)))
    report.add((node, SH.result, result))
    for predicate, value in [
        (rdflib.RDF.type, SH.ValidationResult),
        (SH.focusNode, rdflib.URIRef(link.subject.value)),
        (SH.resultPath, rdflib.URIRef(PARENT_IRI)),
        (SH.value, rdflib.URIRef(link.object.value)),
        (SH.resultSeverity, SH.Violation),
        (SH.resultMessage, rdflib.Literal(message)),
    ]:
        report.add((result, predicate, value))
    return Report(findings=[_finding(report, result, graph, context)], graph=report)


def check_with_project_shapes(graph: Graph, context: Context, cache: Cache | None = None, engine: str = DEFAULT_ENGINE) -> Report:
    """:func:`check` with the shapes of shapes/ and the vocabulary ndlld ships."""
    from ndlld.resources import ontology_path, schemaorg_path, shapes_dir

    shapes, ontology = load_shapes(shapes_dir()), load_turtle(ontology_path(), schemaorg_path())
    return check(graph, shapes, ontology, context, cache=cache, engine=engine)


@dataclass
class Rules:
    """What a validation run needs besides the data: the shapes, the vocabulary
    (class hierarchies) and the engine that applies them."""

    shapes: rdflib.Graph
    ontology: rdflib.Graph
    engine: str = DEFAULT_ENGINE

    def validate(self, data: bytes, about: set[str] | None = None, focus: dict[str, set[str]] | None = None) -> rdflib.Graph:
        """The SHACL report graph on *data* (N-Triples), the same whichever the engine;
        given *about* (documents), rudof's results on other resources may be left out,
        and given *focus* (:func:`focus_nodes`), rudof validates only those."""
        if self.engine == "pyshacl":
            return _validate(rdflib.Graph().parse(data=data.decode("utf-8"), format="nt"), self.shapes, self.ontology)
        return _validate_rudof(data, self, about, focus)

    @cached_property
    def incoming(self) -> dict[str, int | None] | None:
        """What the shapes see of the statements pointing at a resource: :func:`incoming_needs`."""
        return incoming_needs(self.shapes)

    @cached_property
    def ontology_text(self) -> str:
        return self.ontology.serialize(format="nt")

    @cached_property
    def rudof_shapes(self) -> tuple[str, dict[rdflib.URIRef, rdflib.BNode]]:
        """The shapes for rudof, each blank-node shape given a skolem IRI (the
        blank nodes of rudof's report are its own), and the blank node behind each."""
        named = {}
        for shape in set(self.shapes.subjects(SH.message, None)):
            if isinstance(shape, rdflib.BNode):
                named[shape] = shape.skolemize()
        skolemized = rdflib.Graph()
        for s, p, o in self.shapes:
            skolemized.add((named.get(s, s), p, named.get(o, o)))
        return skolemized.serialize(format="nt"), {iri: shape for shape, iri in named.items()}

    @cached_property
    def targets(self) -> tuple[str, list[tuple[str, rdflib.URIRef, str]]] | None:
        """The rudof shapes without their targets, and each target (shape, kind, class
        or property), for :func:`focus_nodes`; None when a shape targets in a way not
        handled here (sh:targetNode, sh:target, a shape that is also a class, a blank
        node shape with a target), and then parts keep the shapes' own targets."""
        shapes_text, _ = self.rudof_shapes
        graph = rdflib.Graph().parse(data=shapes_text, format="nt")
        kinds = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf)
        if any((None, kind, None) in graph for kind in (SH.targetNode, SH.target)):
            return None
        for cls in (rdflib.RDFS.Class, rdflib.OWL.Class):
            if any((shape, rdflib.RDF.type, cls) in graph for shape in graph.subjects(rdflib.RDF.type, None)
                   if (shape, rdflib.RDF.type, SH.NodeShape) in graph or (shape, rdflib.RDF.type, SH.PropertyShape) in graph):
                return None
        targets = [(str(shape), kind, str(value)) for kind in kinds for shape, value in graph.subject_objects(kind)]
        if any(isinstance(shape, rdflib.BNode) for kind in kinds for shape in graph.subjects(kind, None)):
            return None
        for kind in kinds:
            graph.remove((None, kind, None))
        return graph.serialize(format="nt"), targets

    @cached_property
    def superclasses(self) -> dict[str, set[str]]:
        """Each class of the vocabulary with itself and every class above it (rdfs:subClassOf)."""
        above: dict[str, set[str]] = {}
        for cls in set(self.ontology.subjects(rdflib.RDFS.subClassOf, None)):
            above[str(cls)] = {str(c) for c in self.ontology.transitive_objects(cls, rdflib.RDFS.subClassOf)}
        return above


# What a shape may say of a property shape without looking at its values' own
# statements: the non-validating parameters, and sh:minCount.
_NOT_CONSTRAINTS = {
    rdflib.RDF.type, rdflib.RDFS.comment, rdflib.RDFS.label, SH.path, SH.message, SH.severity,
    SH.name, SH.description, SH.order, SH.group, SH.deactivated,
}


def incoming_needs(shapes: rdflib.Graph) -> dict[str, int | None] | None:
    """How many of the statements pointing at a resource the *shapes* can see, by property.

    A resource's part need not carry every statement that points at it: the source
    every record cites is pointed at by 232,000 at 100,000 organizations, and rudof
    needs about 8 KB a statement. Read from the shapes graph: a property followed
    backwards (``sh:inversePath``) by property shapes asking only ``sh:minCount n``
    needs n such statements (n values say as much as more); followed backwards in
    any other way, by ``sh:targetObjectsOf`` or named in a SPARQL constraint, all of
    them (None); a property the shapes never follow backwards, none (absent). None
    altogether, every statement, for a path or target this function does not handle.
    """
    needs: dict[str, int | None] = {}

    def need(predicate, bound: int | None) -> None:
        key = str(predicate)
        if key in needs and (needs[key] is None or bound is None):
            needs[key] = None
        else:
            needs[key] = max(needs.get(key) or 0, bound) if bound is not None else None

    if (None, SH.target, None) in shapes:  # SPARQL-based or custom targets: anything
        return None
    for predicate in shapes.objects(None, SH.targetObjectsOf):
        need(predicate, None)
    for shape, path in shapes.subject_objects(SH.path):
        if isinstance(path, rdflib.URIRef):
            continue
        statements = list(shapes.predicate_objects(path))
        if [p for p, _ in statements] == [SH.alternativePath]:
            members = list(rdflib.collection.Collection(shapes, statements[0][1]))
            if members and all(isinstance(m, rdflib.URIRef) for m in members):
                continue
            return None
        if [p for p, _ in statements] != [SH.inversePath] or not isinstance(statements[0][1], rdflib.URIRef):
            return None  # sequences, inverses of paths, closures: not handled
        parameters = {p for p in shapes.predicates(shape) if p not in _NOT_CONSTRAINTS}
        counts = list(shapes.objects(shape, SH.minCount))
        if parameters == {SH.minCount} and len(counts) == 1 and isinstance(counts[0].toPython(), int):
            need(statements[0][1], counts[0].toPython())
        else:
            need(statements[0][1], None)
    for constraint in shapes.objects(None, SH.sparql):
        predicates = _sparql_predicates(shapes.value(constraint, SH.select))
        if predicates is None:
            return None
        for predicate in predicates:
            need(predicate, None)
    return needs


def _sparql_predicates(select) -> set[rdflib.URIRef] | None:
    """The properties a SPARQL query names; None when it could match any (a variable
    or a negated property, or a query that does not parse on its own)."""
    from rdflib.plugins.sparql import prepareQuery
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath

    try:
        algebra = prepareQuery(str(select)).algebra
    except Exception:  # e.g. prefixes declared with sh:prefixes: not handled
        return None
    found: set[rdflib.URIRef] = set()

    def path(p) -> bool:
        if isinstance(p, rdflib.URIRef):
            found.add(p)
            return True
        if isinstance(p, (InvPath, MulPath)):
            return path(p.path if isinstance(p, MulPath) else p.arg)
        if isinstance(p, (SequencePath, AlternativePath)):
            return all(path(a) for a in p.args)
        return False  # a variable, a negated property set

    def walk(node) -> bool:
        if isinstance(node, CompValue):
            if "triples" in node and not all(path(t[1]) for t in node["triples"]):
                return False
            return all(walk(v) for k, v in node.items() if k != "triples")
        if isinstance(node, (list, tuple)):
            return all(walk(v) for v in node)
        return True

    return found if walk(algebra) else None


def _validate(data: rdflib.Graph, shapes: rdflib.Graph, ontology: rdflib.Graph) -> rdflib.Graph:
    """pySHACL's report on *data*."""
    import pyshacl  # heavy: imported only when validating

    data += ontology  # what pySHACL's ont_graph does, without its copy of the whole data graph
    _conforms, report_graph, _text = pyshacl.validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    return report_graph


def _validate_rudof(data: bytes, rules: Rules, about: set[str] | None = None, focus: dict[str, set[str]] | None = None) -> rdflib.Graph:
    """rudof's report on *data*, written as pySHACL writes it: each result's
    message is its shape's sh:message (rudof words some of its own), a
    blank-node shape stays a blank node, and Warnings alone conform. With
    *about*, only the results on those documents' resources."""
    import pyrudof  # imported only when validating

    shapes_text, blank_shapes = rules.rudof_shapes
    if focus is not None:  # the same shapes, each targeting its focus nodes by name
        target_node = f"<{SH.targetNode}>"
        shapes_text = rules.targets[0] + "".join(f"<{shape}> {target_node} <{node}> .\n" for shape, nodes in focus.items() for node in sorted(nodes))
    rudof = pyrudof.Rudof(pyrudof.RudofConfig())
    try:
        rudof.read_shacl(shapes_text, pyrudof.ShaclFormat.NTriples)
        rudof.read_data(data.decode("utf-8") + rules.ontology_text, pyrudof.RDFFormat.NTriples, reader_mode=pyrudof.ReaderMode.Strict)
        rudof.validate_shacl()
        text = rudof.serialize_shacl_validation_results(format=pyrudof.ResultShaclValidationFormat.NTriples)
    except pyrudof.RudofError as err:
        raise ShapesError(f"rudof cannot validate: {' '.join(str(err).split())} (try --shacl-engine pyshacl)") from None
    report = _report_graph(text, about)
    violated = False
    for result in list(report.objects(None, SH.result)):
        shape = report.value(result, SH.sourceShape)
        original = blank_shapes.get(shape, shape)
        if original != shape:
            report.set((result, SH.sourceShape, original))
        messages = list(rules.shapes.objects(original, SH.message))
        if messages:
            report.remove((result, SH.resultMessage, None))
            for message in messages:
                report.add((result, SH.resultMessage, message))
        violated = violated or report.value(result, SH.resultSeverity) == SH.Violation
    for node in list(report.subjects(rdflib.RDF.type, SH.ValidationReport)):
        report.set((node, SH.conforms, rdflib.Literal(not violated)))
    return report


def _report_graph(text: str, about: set[str] | None) -> rdflib.Graph:
    """rudof's report (N-Triples) as an rdflib graph, with only the results on the
    resources of the documents *about* (all without it).

    A part holds resources of other documents too (what its own point at, typed for
    sh:class), which fail the shapes for lack of their own statements unless
    :func:`focus_nodes` leaves them out. 3,000 of the NDL's membership roles gave
    174,000 statements of results: 12 s for rdflib to read; read by pyoxigraph and
    left out here, the whole run took 3.6 s (measured).
    """
    from pyoxigraph import parse

    if about is None:
        return rdflib.Graph().parse(data=text, format="nt")
    below: dict = {}  # subject -> its statements
    for triple in parse(text, format=RdfFormat.N_TRIPLES):
        below.setdefault(triple.subject, []).append(triple)
    report = rdflib.Graph()
    add = report.add
    sh_result, focus_node = NamedNode(str(SH.result)), NamedNode(str(SH.focusNode))

    def copy(node) -> None:  # a result and everything below it through blank nodes
        for t in below.get(node, ()):
            add((_rdflib_term(t.subject), rdflib.URIRef(t.predicate.value), _rdflib_term(t.object)))
            if isinstance(t.object, BlankNode):
                copy(t.object)

    a, validation_report = NamedNode(RDF_TYPE_IRI), NamedNode(str(SH.ValidationReport))
    for node, statements in list(below.items()):
        if not any(t.predicate == a and t.object == validation_report for t in statements):
            continue
        results = [t.object for t in statements if t.predicate == sh_result]
        for t in statements:  # the report node itself
            if t.predicate != sh_result:
                add((_rdflib_term(t.subject), rdflib.URIRef(t.predicate.value), _rdflib_term(t.object)))
        for result in results:
            focus = next((t.object for t in below.get(result, ()) if t.predicate == focus_node), None)
            if isinstance(focus, NamedNode) and document_of(focus.value) not in about:
                continue
            add((_rdflib_term(node), SH.result, _rdflib_term(result)))
            copy(result)
    return report


_INTEGER_TYPES = {
    "http://www.w3.org/2001/XMLSchema#" + name
    for name in ("integer", "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger",
                 "long", "unsignedLong", "decimal")
}


def _has_long_integers(graph: Graph) -> bool:
    """Whether an integer of the graph has 19 digits or more: rudof compares those
    wrongly (found by the property tests), pySHACL with Python's exact integers."""
    return any(
        isinstance(t.object, Literal) and len(t.object.value) > 18 and t.object.datatype.value in _INTEGER_TYPES
        for t in graph.triples
    )


def _documents(graph: Graph) -> dict[str, list[Triple]]:
    by_document: dict[str, list[Triple]] = {}
    for triple in graph.triples:
        by_document.setdefault(document_of(triple.subject.value), []).append(triple)
    return by_document


class _Surroundings:
    """What the shapes look at for a resource: its statements, those pointing at it
    (as many as the shapes can see: :func:`incoming_needs`), the types of what it
    points at, and the parent links above it."""

    def __init__(self, graph: Graph, documents: dict[str, list[Triple]], needs: dict[str, int | None] | None = None):
        self.documents = documents
        self.incoming: dict[str, list[Triple]] = {}
        self.types: dict[str, list[Triple]] = {}
        self.parents: dict[str, list[Triple]] = {}
        seen: dict[tuple[str, str], int] = {}  # statements kept so far, by object and property, where bounded
        for triple in graph.triples:
            predicate = triple.predicate.value
            if isinstance(triple.object, NamedNode) and (needs is None or predicate in needs):
                bound = needs[predicate] if needs is not None else None
                if bound is None:
                    self.incoming.setdefault(triple.object.value, []).append(triple)
                else:  # the first *bound* in graph order: the same ones on every build, for the cache
                    kept = seen.get((triple.object.value, predicate), 0)
                    if kept < bound:
                        seen[(triple.object.value, predicate)] = kept + 1
                        self.incoming.setdefault(triple.object.value, []).append(triple)
            if predicate == RDF_TYPE_IRI:
                self.types.setdefault(triple.subject.value, []).append(triple)
            elif predicate == PARENT_IRI:
                self.parents.setdefault(triple.subject.value, []).append(triple)

    def of(self, document: str) -> set[Triple]:
        own = self.documents[document]
        triples = _ancestry(document, self.parents)
        triples.update(own)
        # Each subject and object once: the NDL states thousands of facts and is
        # pointed at by thousands; per statement, that was quadratic.
        for subject in {t.subject.value for t in own}:
            triples.update(self.incoming.get(subject, ()))
        for target in {t.object.value for t in own if isinstance(t.object, NamedNode)}:
            triples.update(self.types.get(target, ()))
        return triples

    def size(self, document: str) -> int:
        """About how many statements :meth:`of` holds (its own and those pointing at
        it; the few types and parent links left out), without gathering them."""
        own = self.documents[document]
        return len(own) + sum(len(self.incoming.get(subject, ())) for subject in {t.subject.value for t in own})

    def gather(self, documents: list[str]) -> set[Triple]:
        """A validation run's data: the surroundings of *documents*."""
        triples: set[Triple] = set()
        for document in documents:
            triples |= self.of(document)
        return triples


def _parts(surroundings: _Surroundings, names: list[str], chunk: int, most: int) -> list[list[str]]:
    """*names* in consecutive parts of at most *chunk* resources and about *most*
    statements; a resource larger than that alone in its part."""
    parts: list[list[str]] = []
    current: list[str] = []
    size = 0
    for name in names:
        grows = surroundings.size(name)
        if current and (len(current) >= chunk or size + grows > most):
            parts.append(current)
            current, size = [], 0
        current.append(name)
        size += grows
    if current:
        parts.append(current)
    return parts


def _validate_in_parts(graph, documents, rules: Rules, chunk, workers, cache: Cache | None) -> rdflib.Graph:
    surroundings = _Surroundings(graph, documents, rules.incoming)
    names = sorted(documents)
    results: dict[str, bytes] = {}  # document -> its results, as N-Triples
    keys: dict[str, bytes] = {}
    if cache is not None:
        salt = cache_key(cache.fingerprint, "checks", rules.engine)
        for name in names:
            statements = serialize(list(surroundings.of(name)), format=RdfFormat.N_TRIPLES)
            keys[name] = cache_key(salt, name, b"\n".join(sorted(statements.splitlines())))
        found = cache.get_many("checks", keys.values())
        results = {name: found[keys[name]] for name in names if keys[name] in found}
    missing = [name for name in names if name not in results]
    if rules.engine == "rudof" and len(missing) > min(chunk, CHUNK_DOCUMENTS) and len(graph) <= RUDOF_WHOLE_TRIPLES:
        # One run over the whole graph: rudof's cost grows with the graph, no
        # faster, and parts would repeat the statements they share.
        parts = [(serialize(graph.triples, format=RdfFormat.N_TRIPLES), missing)]
    else:  # each part's data made by the process that validates it, from the surroundings it inherits
        parts = [(None, part) for part in _parts(surroundings, missing, chunk, PART_TRIPLES)]
        sizes = {name: surroundings.size(name) for name in missing}
        parts.sort(key=lambda part: sum(sizes[name] for name in part[1]), reverse=True)  # the longest first, so that none is left to run alone at the end
    fresh: dict[str, bytes] = {}
    for part_results in _run(_results_by_document, parts, rules, workers, surroundings):
        fresh.update(part_results)
    if cache is not None:
        cache.put_many("checks", {keys[name]: fresh[name] for name in missing})
    results.update(fresh)
    merged = rdflib.Graph()
    report = rdflib.BNode()
    merged.add((report, rdflib.RDF.type, SH.ValidationReport))
    for name in names:
        if results[name]:  # each parsed on its own: blank node labels are local to it
            merged.parse(data=results[name].decode("utf-8"), format="nt")
    found_results = {r for r in merged.subjects(rdflib.RDF.type, SH.ValidationResult) if (None, SH.detail, r) not in merged}  # not rudof's details of an sh:or
    for result in found_results:
        merged.add((report, SH.result, result))
    conforms = not any(merged.value(r, SH.resultSeverity) == SH.Violation for r in found_results)
    merged.add((report, SH.conforms, rdflib.Literal(conforms)))
    return merged


def _ancestry(organization: str, parents: dict[str, list[Triple]]) -> set[Triple]:
    """Every parent link above *organization*: what the cycle check follows."""
    found: set[Triple] = set()
    todo = [organization]
    while todo:
        for triple in parents.get(todo.pop(), ()):
            if triple not in found:
                found.add(triple)
                todo.append(triple.object.value)
    return found


def _run(function, jobs: list, rules: Rules, workers: int | None, surroundings: _Surroundings | None = None) -> list:
    """``function(job, rules)`` for each job, in order.

    rudof runs only in processes forked for it, even for one job: a process
    forked after rudof ran in its parent can hang, and this one may fork
    others later (the pages). pySHACL runs here when there is one job.
    """
    if not jobs:
        return []
    if rules.engine == "rudof":
        rules.rudof_shapes, rules.ontology_text  # made once, here
    _WORKER.update(rules=rules, surroundings=surroundings)  # inherited by the forked workers
    try:
        if rules.engine == "pyshacl" and len(jobs) == 1:  # no process to start
            return [function(jobs[0], rules)]
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        fork = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(min(len(jobs), workers or os.cpu_count() or 1), fork) as pool:
            return list(pool.map(partial(_in_worker, function), jobs))
    finally:
        _WORKER.clear()


_WORKER: dict = {}


def _in_worker(function, job):
    return function(job, _WORKER["rules"])


def _report(data: bytes, rules: Rules) -> bytes:
    """The report on *data*, as N-Triples."""
    return rules.validate(data).serialize(format="nt", encoding="utf-8")


def focus_nodes(triples: set[Triple], own: set[str], rules: Rules) -> dict[str, set[str]] | None:
    """The resources of the documents *own* each shape targets in *triples* (as
    sh:targetClass, sh:targetSubjectsOf and sh:targetObjectsOf select them, classes
    above through the vocabulary); None when :attr:`Rules.targets` cannot say.

    The rest of a part (what its resources point at, typed for sh:class) would be
    targeted too, and fail for lack of its own statements: at 100,000 organizations
    the NDL's part held 34,000 membership roles, 79 s and 4 GB of rudof's results
    thrown away (measured). Given these focus nodes, rudof validates only them.
    """
    if rules.targets is None or any(t.predicate.value == str(rdflib.RDFS.subClassOf) for t in triples):
        return None  # a class hierarchy in the data itself: rudof's own targets
    ours = [t for t in triples if document_of(t.subject.value) in own]
    classes: dict[str, set[str]] = {}
    properties: dict[str, set[str]] = {}
    for t in ours:
        if t.predicate.value == RDF_TYPE_IRI and isinstance(t.object, NamedNode):
            for cls in rules.superclasses.get(t.object.value, {t.object.value}) | {t.object.value}:
                classes.setdefault(cls, set()).add(t.subject.value)
        properties.setdefault(t.predicate.value, set()).add(t.subject.value)
    objects: dict[str, set[str]] = {}
    for t in triples:
        if isinstance(t.object, NamedNode) and document_of(t.object.value) in own:
            objects.setdefault(t.predicate.value, set()).add(t.object.value)
    chosen = {SH.targetClass: classes, SH.targetSubjectsOf: properties, SH.targetObjectsOf: objects}
    focus: dict[str, set[str]] = {}
    for shape, kind, value in rules.targets[1]:
        focus.setdefault(shape, set()).update(n for n in chosen[kind].get(value, ()) if not n.startswith("_:"))
    return focus


def _results_by_document(part: tuple[bytes | None, list[str]], rules: Rules) -> dict[str, bytes]:
    """Validate one part (its data, or None for the surroundings of its resources);
    the results about each of its own resources, as N-Triples."""
    data_text, own = part
    focus = None
    if data_text is None:
        triples = _WORKER["surroundings"].gather(own)
        data_text = serialize(list(triples), format=RdfFormat.N_TRIPLES)
        if rules.engine == "rudof":
            focus = focus_nodes(triples, set(own), rules)
    report = rules.validate(data_text, set(own), focus)
    kept = {document: rdflib.Graph() for document in own}
    for result in report.objects(None, SH.result):
        focus = report.value(result, SH.focusNode)
        if isinstance(focus, rdflib.URIRef) and document_of(str(focus)) in kept:
            _copy_tree(report, result, kept[document_of(str(focus))])
    return {document: g.serialize(format="nt", encoding="utf-8") if len(g) else b"" for document, g in kept.items()}


def _copy_tree(source: rdflib.Graph, node, target: rdflib.Graph) -> None:
    """A result and everything below it through blank nodes (paths, lists)."""
    for triple in source.triples((node, None, None)):
        target.add(triple)
        if isinstance(triple[2], rdflib.BNode):
            _copy_tree(source, triple[2], target)


def _finding(report: rdflib.Graph, result, graph: Graph, context: Context | None) -> Finding:
    value = report.value(result, SH.value)
    focus = report.value(result, SH.focusNode)
    severity = SEVERITIES.get(report.value(result, SH.resultSeverity), "Violation")
    message = report.value(result, SH.resultMessage) or "does not conform to its shape"
    shape = report.value(result, SH.sourceShape)
    predicates = _predicates(report, report.value(result, SH.resultPath))
    # The statement that breaks the rule, when there is one: its line is the one to fix.
    triple = None
    if value is not None and isinstance(focus, rdflib.URIRef) and not isinstance(value, rdflib.BNode):
        for predicate in predicates:
            candidate = Triple(NamedNode(str(focus)), NamedNode(predicate), _oxigraph_term(value))
            if candidate in graph.origins:
                triple, predicates = candidate, [predicate]
                break
    name = context.compact if context else str
    return Finding(
        severity=severity,
        message=str(message),
        focus=_short(str(focus), graph.base),
        path=" | ".join(name(p) for p in predicates) or None,
        value=_short(str(value), graph.base) if value is not None else None,
        shape=str(shape) if isinstance(shape, rdflib.URIRef) else None,
        origin=graph.origin(str(focus), triple),
    )


def _predicates(report: rdflib.Graph, path) -> list[str]:
    """The properties a result path names: one, or each of an sh:alternativePath."""
    if isinstance(path, rdflib.URIRef):
        return [str(path)]
    alternatives = report.value(path, SH.alternativePath) if path is not None else None
    if alternatives is not None:
        return [str(p) for p in rdflib.collection.Collection(report, alternatives) if isinstance(p, rdflib.URIRef)]
    return []  # inverse and other complex paths: the finding points at the resource


def _oxigraph_term(term):
    if isinstance(term, rdflib.Literal):
        if term.language:
            return Literal(str(term), language=term.language)
        return Literal(str(term), datatype=NamedNode(str(term.datatype or rdflib.XSD.string)))
    return NamedNode(str(term))


def _short(iri: str, base: str) -> str:
    """``<base>id/ifla`` as ``ifla``: the id the librarian wrote."""
    prefix = base + "id/"
    return iri[len(prefix):] if iri.startswith(prefix) else iri
