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

import gc
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, parse, serialize

from ndlld.cache import Cache
from ndlld.cache import key as cache_key
from ndlld.context import Context
from ndlld.errors import ConfigError, NdlldError, ShapesError
from ndlld.graph import Graph, Origin, document_of
from ndlld.namespaces import RDF, SH

if TYPE_CHECKING:  # rdflib is imported only for pySHACL and for callers that ask for rdflib graphs
    import rdflib

ENGINES = ("rudof", "pyshacl")
DEFAULT_ENGINE = "rudof"
RDF_TYPE_IRI = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PARENT_IRI = "http://schema.org/parentOrganization"
RDFS_SUBCLASS_OF = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
SEVERITIES = {str(SH) + name: name for name in ("Violation", "Warning", "Info")}

# The terms of a SHACL report that ndlld reads and writes.
RDF_TYPE, RDF_FIRST, RDF_REST, RDF_NIL = RDF.type, RDF.first, RDF.rest, RDF.nil
VALIDATION_REPORT, VALIDATION_RESULT, VIOLATION = SH.ValidationReport, SH.ValidationResult, SH.Violation
RESULT, CONFORMS, DETAIL, FOCUS_NODE, VALUE = SH.result, SH.conforms, SH.detail, SH.focusNode, SH.value
RESULT_PATH, ALTERNATIVE_PATH, SEVERITY = SH.resultPath, SH.alternativePath, SH.resultSeverity
RESULT_MESSAGE, SOURCE_SHAPE, MESSAGE = SH.resultMessage, SH.sourceShape, SH.message
# Where the blank-node shapes get the IRIs rudof sees (RFC 7511's well-known genid).
SKOLEM = "https://w3id.org/ndlld/.well-known/genid/"


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
    """The outcome of :func:`check`: findings and the SHACL report graph, as
    pyoxigraph triples (an rdflib graph on demand: rdflib takes a while to import)."""

    findings: list[Finding]
    triples: list[Triple] = field(repr=False)

    @cached_property
    def graph(self) -> rdflib.Graph:
        """The report graph in rdflib, as pySHACL writes it."""
        return _rdflib_graph(serialize(self.triples, format=RdfFormat.N_TRIPLES))

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
            del item["origin"]
            origin = finding.origin
            item["file"], item["line"] = (origin.path, origin.line) if origin else (None, None)
            findings.append(item)
        return json.dumps({"conforms": self.conforms, "findings": findings}, ensure_ascii=False, indent=2)

    def turtle(self) -> str:
        return self.graph.serialize(format="turtle")


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
    what :func:`check` needs, without rdflib (pySHACL gets rdflib graphs of them when it runs)."""
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


def _triples_of(graph: rdflib.Graph) -> list[Triple]:
    return _parse_ntriples(graph.serialize(format="nt", encoding="utf-8"))


def _parse_ntriples(data: bytes | str, fresh_blank_nodes: bool = False) -> list[Triple]:
    return [quad.triple for quad in parse(data, format=RdfFormat.N_TRIPLES, rename_blank_nodes=fresh_blank_nodes)]


def _rdflib_graph(data: bytes) -> rdflib.Graph:
    import rdflib

    return rdflib.Graph().parse(data=data.decode("utf-8"), format="nt")


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
    rules = Rules(_triples_of(shapes), _triples_of(ontology), engine)
    return check_rules(graph, rules, context, chunk, workers, cache)


def check_rules(
    graph: Graph,
    rules: Rules,
    context: Context | None = None,
    chunk: int | None = None,
    workers: int | None = None,
    cache: Cache | None = None,
) -> Report:
    """:func:`check` with the shapes and vocabulary as :class:`Rules` (see :func:`read_rules`)."""
    if rules.engine not in ENGINES:
        raise ConfigError(f"unknown SHACL engine {rules.engine!r}: use one of {', '.join(ENGINES)}")
    # The surroundings are made, used and dropped with the collector paused: when it runs
    # again, they are gone (see _collector_paused).
    with _collector_paused():
        outcome = _check(graph, rules, context, chunk, workers, cache)
    if isinstance(outcome, Report):
        return outcome
    report, results = outcome
    about = _index(report)
    findings = [_finding(about, result, graph, context) for result in results]
    findings.sort(key=lambda f: (f.origin.path if f.origin else "~", f.origin.line if f.origin else 0, f.message, f.focus, f.value or ""))
    return Report(findings=findings, triples=report)


def _check(graph: Graph, rules: Rules, context, chunk, workers, cache: Cache | None) -> Report | tuple[list[Triple], list]:
    """The report graph and its results (or the report refusing the graph), for :func:`check_rules`."""
    cached = cache is not None and cache.enabled
    # What points at a resource is cut to what the shapes can see, and rudof told each part's
    # own resources, only where memory asks for it: reading both from the shapes takes
    # rdflib, slow to import for a small run, whose parts are small anyway.
    large = len(graph) > RUDOF_WHOLE_TRIPLES
    if large and cached:
        _read_rules_cache(rules, cache)
    surroundings = _Surroundings(graph, rules.incoming if large else None)
    too_high = _too_many_parents(graph, surroundings.named_parents)
    if too_high is not None:
        return _refused(too_high, graph, context)
    if rules.engine == "rudof" and surroundings.long_integers:
        rules = replace(rules, engine="pyshacl")  # rudof misjudges integers of 19 digits and more (sh:minInclusive 0 fails them)
    surroundings.focused = large and rules.engine == "rudof"
    documents = surroundings.own
    # Without a cache, rudof goes fastest in one run, while its memory allows.
    if chunk is None:  # rudof's parts are sized by statements alone (PART_TRIPLES)
        whole = len(documents) <= CHUNK_DOCUMENTS if rules.engine == "pyshacl" else len(graph) <= RUDOF_WHOLE_TRIPLES
        chunk = CHUNK_DOCUMENTS if rules.engine == "pyshacl" else max(len(documents), 1)
    else:
        whole = len(documents) <= chunk or (rules.engine == "rudof" and len(graph) <= RUDOF_WHOLE_TRIPLES)
    if surroundings.blank_subjects or (whole and not cached):
        [text] = _run(_report, [serialize(graph.triples, format=RdfFormat.N_TRIPLES)], rules, workers)
        report = _parse_ntriples(text)
        results = list(dict.fromkeys(t.object for t in report if t.predicate == RESULT))
    else:
        report, results = _validate_in_parts(graph, surroundings, rules, chunk, workers, cache if cached else None)
    return report, results


# The cycle check's property path (parentOrganization+) is followed by rdflib
# recursively: about a thousand organizations above one would exhaust Python's
# stack. No real organization has more than a few.
MAX_PARENTS = 100


def _too_many_parents(graph: Graph, parents: dict[str, list[int]]) -> Triple | None:
    """The first parent link (in record order) of an organization with more than
    :data:`MAX_PARENTS` organizations above it, directly or through others; or None.
    *parents*: each organization's links to parents named by IRI (positions in the graph)."""
    triples = graph.triples
    above_of = {organization: [triples[p].object.value for p in links] for organization, links in parents.items()}
    for organization, links in parents.items():
        above: set[str] = set()
        todo = [organization]
        while todo and len(above) <= MAX_PARENTS:
            for parent in above_of.get(todo.pop(), ()):
                if parent not in above:
                    above.add(parent)
                    todo.append(parent)
        if len(above) > MAX_PARENTS:
            return triples[links[0]]
    return None


def _refused(link: Triple, graph: Graph, context: Context | None) -> Report:
    """A report of one violation, the organization with too many above it, without running an engine."""
    node, result = BlankNode(), BlankNode()
    message = (
        f"has more than {MAX_PARENTS} parent organizations above it, directly or through others (a chain or a cycle too long to check)"
    )
    report = [Triple(node, RDF_TYPE, VALIDATION_REPORT), Triple(node, CONFORMS, Literal(False)), Triple(node, RESULT, result)]
    for predicate, value in [
        (RDF_TYPE, VALIDATION_RESULT),
        (FOCUS_NODE, link.subject),
        (RESULT_PATH, NamedNode(PARENT_IRI)),
        (VALUE, link.object),
        (SEVERITY, VIOLATION),
        (RESULT_MESSAGE, Literal(message)),
    ]:
        report.append(Triple(result, predicate, value))
    return Report(findings=[_finding(_index(report), result, graph, context)], triples=report)


def check_with_project_shapes(graph: Graph, context: Context, cache: Cache | None = None, engine: str = DEFAULT_ENGINE) -> Report:
    """:func:`check` with the shapes of shapes/ and the vocabulary ndlld ships."""
    from ndlld.resources import ontology_path, schemaorg_path, shapes_dir

    rules = read_rules(shapes_dir(), [ontology_path(), schemaorg_path()], engine)
    return check_rules(graph, rules, context, cache=cache)


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
        and given *focus* (:func:`focus_nodes`), rudof validates only those."""
        if self.engine == "pyshacl":
            report = _validate(_rdflib_graph(data), self.shapes_graph, self.ontology_graph)
            return report.serialize(format="nt", encoding="utf-8")
        return _validate_rudof(data, self, about, focus)

    @cached_property
    def incoming(self) -> dict[str, int | None] | None:
        """What the shapes see of the statements pointing at a resource: :func:`incoming_needs`."""
        return incoming_needs(self.shapes_graph)

    @cached_property
    def shapes_graph(self) -> rdflib.Graph:
        return _rdflib_graph(serialize(self.shapes, format=RdfFormat.N_TRIPLES))

    @cached_property
    def ontology_graph(self) -> rdflib.Graph:
        return _rdflib_graph(serialize(self.ontology, format=RdfFormat.N_TRIPLES))

    @cached_property
    def ontology_text(self) -> str:
        return serialize(self.ontology, format=RdfFormat.N_TRIPLES).decode("utf-8")

    @cached_property
    def messages(self) -> dict[NamedNode | BlankNode, list[Literal]]:
        """Each shape's sh:message."""
        found: dict[NamedNode | BlankNode, list[Literal]] = {}
        for t in self.shapes:
            if t.predicate == MESSAGE:
                found.setdefault(t.subject, []).append(t.object)
        return found

    @cached_property
    def rudof_shapes(self) -> tuple[str, dict[str, BlankNode]]:
        """The shapes for rudof, each blank-node shape given a skolem IRI (the
        blank nodes of rudof's report are its own), and the blank node behind each IRI."""
        return serialize(self.skolemized, format=RdfFormat.N_TRIPLES).decode("utf-8"), {
            SKOLEM + shape.value: shape for shape in self.messages if isinstance(shape, BlankNode)
        }

    @cached_property
    def skolemized(self) -> list[Triple]:
        """The shapes, each blank-node shape named by a skolem IRI (made from its label of this reading)."""
        named = {shape: NamedNode(SKOLEM + shape.value) for shape in self.messages if isinstance(shape, BlankNode)}
        return [Triple(named.get(t.subject, t.subject), t.predicate, named.get(t.object, t.object)) for t in self.shapes]

    def without_targets(self) -> str:
        """The rudof shapes without their targets (sh:targetClass, sh:targetSubjectsOf, sh:targetObjectsOf)."""
        kinds = {NamedNode(f"{SH}{kind}") for kind in ("targetClass", "targetSubjectsOf", "targetObjectsOf")}
        return serialize([t for t in self.skolemized if t.predicate not in kinds], format=RdfFormat.N_TRIPLES).decode("utf-8")

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
        for cls in (rdflib.RDFS.Class, rdflib.OWL.Class):
            if any(
                (shape, rdflib.RDF.type, cls) in graph
                for shape in graph.subjects(rdflib.RDF.type, None)
                if (shape, rdflib.RDF.type, S.NodeShape) in graph or (shape, rdflib.RDF.type, S.PropertyShape) in graph
            ):
                return None
        targets = [(str(shape), str(kind), str(value)) for kind in kinds for shape, value in graph.subject_objects(kind)]
        if any(isinstance(shape, rdflib.BNode) for kind in kinds for shape in graph.subjects(kind, None)):
            return None
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


def _read_rules_cache(rules: Rules, cache: Cache) -> None:
    """What the checks of a large graph read from the shapes with rdflib (:attr:`Rules.incoming`,
    and for rudof :attr:`Rules.targets` and :attr:`Rules.superclasses`), kept in *cache*: the
    import and the parse took about half a second of every build after a one-record edit.
    Keyed by the shapes and vocabulary themselves, as well as by the cache's fingerprint."""
    rudof = rules.engine == "rudof"
    key = cache_key(cache.fingerprint, "rules", rules.engine, _labelled_in_order(rules.shapes), _labelled_in_order(rules.ontology))
    found = cache.get("checks", key)
    if found is not None:
        kept = json.loads(found)
        rules.__dict__["incoming"] = kept["incoming"]  # where functools.cached_property keeps its value
        if rudof:
            # Only the targets: the shapes' text names blank-node shapes by their labels of this reading.
            rules.__dict__["targets"] = None if kept["targets"] is None else (rules.without_targets(), [tuple(t) for t in kept["targets"]])
            rules.__dict__["superclasses"] = {cls: set(above) for cls, above in kept["superclasses"].items()}
        return
    kept = {"incoming": rules.incoming}
    if rudof:
        kept.update(
            targets=rules.targets and rules.targets[1], superclasses={cls: sorted(above) for cls, above in rules.superclasses.items()}
        )
    cache.put_many("checks", {key: json.dumps(kept).encode()})


def _labelled_in_order(triples: list[Triple]) -> bytes:
    """*triples* as N-Triples, blank nodes labelled in order of appearance: the same
    text for the same files, whose blank nodes are given fresh labels at each reading."""
    labels: dict[BlankNode, BlankNode] = {}

    def label(term):
        if isinstance(term, BlankNode):
            return labels.setdefault(term, BlankNode(f"b{len(labels)}"))
        return term

    return serialize([Triple(label(t.subject), t.predicate, label(t.object)) for t in triples], format=RdfFormat.N_TRIPLES)


# What a shape may say of a property shape without looking at its values' own
# statements: the non-validating parameters, and sh:minCount.
_NOT_CONSTRAINTS = {
    RDF_TYPE_IRI,
    "http://www.w3.org/2000/01/rdf-schema#comment",
    "http://www.w3.org/2000/01/rdf-schema#label",
    *(str(SH) + name for name in ("path", "message", "severity", "name", "description", "order", "group", "deactivated")),
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
    import rdflib
    from rdflib.collection import Collection
    from rdflib.namespace import SH as S

    needs: dict[str, int | None] = {}

    def need(predicate, bound: int | None) -> None:
        key = str(predicate)
        if key in needs and (needs[key] is None or bound is None):
            needs[key] = None
        else:
            needs[key] = max(needs.get(key) or 0, bound) if bound is not None else None

    if (None, S.target, None) in shapes:  # SPARQL-based or custom targets: anything
        return None
    for predicate in shapes.objects(None, S.targetObjectsOf):
        need(predicate, None)
    for shape, path in shapes.subject_objects(S.path):
        if isinstance(path, rdflib.URIRef):
            continue
        statements = list(shapes.predicate_objects(path))
        if [p for p, _ in statements] == [S.alternativePath]:
            members = list(Collection(shapes, statements[0][1]))
            if members and all(isinstance(m, rdflib.URIRef) for m in members):
                continue
            return None
        if [p for p, _ in statements] != [S.inversePath] or not isinstance(statements[0][1], rdflib.URIRef):
            return None  # sequences, inverses of paths, closures: not handled
        parameters = {p for p in shapes.predicates(shape) if str(p) not in _NOT_CONSTRAINTS}
        counts = list(shapes.objects(shape, S.minCount))
        if parameters == {S.minCount} and len(counts) == 1 and isinstance(counts[0].toPython(), int):
            need(statements[0][1], counts[0].toPython())
        else:
            need(statements[0][1], None)
    for constraint in shapes.objects(None, S.sparql):
        predicates = _sparql_predicates(shapes.value(constraint, S.select))
        if predicates is None:
            return None
        for predicate in predicates:
            need(predicate, None)
    return needs


def _sparql_predicates(select) -> set[rdflib.URIRef] | None:
    """The properties a SPARQL query names; None when it could match any (a variable
    or a negated property, or a query that does not parse on its own)."""
    import rdflib
    from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
    from rdflib.plugins.sparql import prepareQuery
    from rdflib.plugins.sparql.parserutils import CompValue

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


# What a failed rudof run suggests, in the commands that have the option (harvest has not).
OTHER_ENGINE = ("--shacl-engine", "or --shacl-engine pyshacl")


def _validate_rudof(data: bytes, rules: Rules, about: set[str] | None = None, focus: dict[str, set[str]] | None = None) -> bytes:
    """rudof's report on *data*, as N-Triples, written as pySHACL writes it: each
    result's message is its shape's sh:message (rudof words some of its own), a
    blank-node shape stays a blank node, and Warnings alone conform. With
    *about*, only the results on those documents' resources."""
    import pyrudof  # imported only when validating

    shapes_text, blank_shapes = rules.rudof_shapes
    if focus is not None:  # the same shapes, each targeting its focus nodes by name
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
    report = _only_about(_parse_ntriples(text), about) if about is not None else _parse_ntriples(text)
    about = _index(report)
    shapes: dict = {}  # result -> its shape, where rudof named a blank-node shape
    messages: dict = {}  # result -> its shape's sh:message
    violated = False
    for result in {t.object for t in report if t.predicate == RESULT}:
        shape = _first(about, result, SOURCE_SHAPE)
        if isinstance(shape, NamedNode) and shape.value in blank_shapes:
            shape = shapes[result] = blank_shapes[shape.value]
        if shape in rules.messages:
            messages[result] = rules.messages[shape]
        violated = violated or _first(about, result, SEVERITY) == VIOLATION
    reports = {t.subject for t in report if t.predicate == RDF_TYPE and t.object == VALIDATION_REPORT}
    corrected = []
    for t in report:
        if (t.predicate == RESULT_MESSAGE and t.subject in messages) or (t.predicate == CONFORMS and t.subject in reports):
            continue
        if t.predicate == SOURCE_SHAPE and t.subject in shapes:
            t = Triple(t.subject, SOURCE_SHAPE, shapes[t.subject])
        corrected.append(t)
    corrected += [Triple(result, RESULT_MESSAGE, message) for result, found in messages.items() for message in found]
    corrected += [Triple(node, CONFORMS, Literal(not violated)) for node in reports]
    return serialize(corrected, format=RdfFormat.N_TRIPLES)


def _index(triples: list[Triple]) -> dict:
    """subject -> predicate -> objects: a report graph, to read results from."""
    about: dict = {}
    for t in triples:
        about.setdefault(t.subject, {}).setdefault(t.predicate, []).append(t.object)
    return about


def _first(about: dict, subject, predicate):
    """An object of *subject*'s *predicate* (a result has one of each), or None."""
    objects = about.get(subject, {}).get(predicate)
    return objects[0] if objects else None


def _only_about(report: list[Triple], documents: set[str]) -> list[Triple]:
    """rudof's *report* with only the results on the resources of *documents*.

    A part holds resources of other documents too (what its own point at, typed for
    sh:class), which fail the shapes for lack of their own statements unless
    :func:`focus_nodes` leaves them out. 3,000 of the NDL's membership roles gave
    174,000 statements of results: 12 s for rdflib to read, 3.6 s for the whole run
    once left out here (measured).
    """
    below: dict = {}  # subject -> its statements
    for t in report:
        below.setdefault(t.subject, []).append(t)
    dropped = set()
    for t in report:
        if t.predicate == FOCUS_NODE and isinstance(t.object, NamedNode) and document_of(t.object.value) not in documents:
            dropped.add(t.subject)
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


class _Surroundings:
    """What the shapes look at for a resource: its statements, those pointing at it
    (as many as the shapes can see: :func:`incoming_needs`), the types of what it
    points at, and the parent links above it.

    Made in one pass over the graph, which also notes what decides how the graph
    is checked (blank-node subjects, integers rudof misjudges, the parent links
    for :func:`_too_many_parents`): at 100,000 organizations each pass over the
    two million statements costs one to three seconds (measured). Statements are
    kept as their positions in ``graph.triples``, so that a resource's cache key is
    made from the N-Triples lines of the whole graph, written once (:meth:`key`).
    """

    def __init__(self, graph: Graph, needs: dict[str, int | None] | None = None, focused: bool = False):  # noqa: C901 - one pass, kept whole for speed until issue 20 replaces it
        self.triples = graph.triples
        self.focused = focused  # rudof validates only each part's own resources (focus_nodes)
        self.bounded = needs is not None  # what points at a resource cut to what the shapes can see: other keys
        self.own: dict[str, list[int]] = {}  # document -> its statements
        self.runs: dict[str, list[tuple[int, int]]] = {}  # document -> its statements, as runs [start, end)
        # In graph order (dicts, not sets), so that the keys made from them are the same on every build.
        self.subjects: dict[str, dict[str, None]] = {}  # document -> its subjects (itself, its hash resources)
        self.targets: dict[str, dict[str, None]] = {}  # document -> the resources its statements point at
        self.incoming: dict[str, list[int]] = {}
        self.types: dict[str, list[int]] = {}
        self.parents: dict[str, list[tuple[int, str]]] = {}  # organization -> (statement, parent)
        self.named_parents: dict[str, list[int]] = {}  # the same, where the parent is an IRI
        self.blank_subjects = self.long_integers = False
        seen: dict[tuple[str, str], int] = {}  # statements kept so far, by object and property, where bounded
        incoming, types, parents = self.incoming, self.types, self.parents
        subject_value = own = targets = run_document = None
        run_start = 0
        for position, triple in enumerate(graph.triples):
            subject = triple.subject
            value = subject.value
            if value != subject_value:  # a record's statements come together: its document found once
                subject_value = value
                if isinstance(subject, BlankNode):
                    self.blank_subjects = True
                document = value.partition("#")[0]  # document_of, inlined: called per statement
                if document != run_document:
                    if run_document is not None:
                        self.runs[run_document].append((run_start, position))
                    run_document, run_start = document, position
                    own = self.own.get(document)
                    if own is None:
                        own = self.own[document] = []
                        self.runs[document] = []
                        self.subjects[document] = {}
                        targets = self.targets[document] = {}
                    else:
                        targets = self.targets[document]
                self.subjects[document][value] = None
            own.append(position)
            predicate = triple.predicate.value
            target = triple.object
            if isinstance(target, NamedNode):
                target_value = target.value
                targets[target_value] = None
                if needs is None or predicate in needs:
                    bound = needs[predicate] if needs is not None else None
                    if bound is None:
                        incoming.setdefault(target_value, []).append(position)
                    else:  # the first *bound* in graph order: the same ones on every build, for the cache
                        kept = seen.get((target_value, predicate), 0)
                        if kept < bound:
                            seen[(target_value, predicate)] = kept + 1
                            incoming.setdefault(target_value, []).append(position)
            elif isinstance(target, Literal):
                if not self.long_integers and len(target.value) > 18 and target.datatype.value in _INTEGER_TYPES:
                    self.long_integers = True
            if predicate == RDF_TYPE_IRI:
                types.setdefault(value, []).append(position)
            elif predicate == PARENT_IRI:
                named = isinstance(target, NamedNode)
                parents.setdefault(value, []).append((position, target_value if named else target.value))
                if named:
                    self.named_parents.setdefault(value, []).append(position)
        if run_document is not None:
            self.runs[run_document].append((run_start, len(graph.triples)))

    def touched_by(self, iris: frozenset[str]) -> set[str]:
        """The documents whose surroundings (:meth:`of`) may hold a statement about one of
        *iris* or pointing at one (see :class:`ndlld.graph.Delta`): their own, what points at
        their subjects, the types of what they point at, the parent links above them."""
        found = {document_of(iri) for iri in iris} & self.own.keys()
        found.update(document for document, targets in self.targets.items() if not iris.isdisjoint(targets))
        for organization in self.parents.keys() & self.own.keys():
            if organization not in found and not iris.isdisjoint(_ancestry(organization, self.parents)[1]):
                found.add(organization)
        return found

    def positions(self, document: str) -> set[int]:
        """The positions in the graph of what :meth:`of` holds."""
        found = set(self.own[document])
        if document in self.parents:
            found |= _ancestry(document, self.parents)[0]
        # Each subject and object once: the NDL states thousands of facts and is
        # pointed at by thousands; per statement, that was quadratic.
        pointing, typing = self.incoming.get, self.types.get
        for subject in self.subjects[document]:
            more = pointing(subject)
            if more:
                found.update(more)
        for target in self.targets[document]:
            more = typing(target)
            if more:
                found.update(more)
        return found

    def of(self, document: str) -> set[Triple]:
        triples = self.triples
        return {triples[position] for position in self.positions(document)}

    def key(self, document: str, lines: list[bytes], salt: bytes) -> bytes:
        """The cache key of *document*'s results: its name and the N-Triples lines
        (*lines*: the graph's, one per statement) of what :meth:`of` holds, in an order
        the graph decides: its own statements (runs of lines, taken whole), the parent
        links above it, then what points at each of its subjects and the types of
        what it points at. The same statements in another order, or some twice, make
        another key, which only misses; the same key is always the same statements."""
        chunk: list[bytes] = []
        for start, end in self.runs[document]:
            chunk += lines[start:end]
        if document in self.parents:
            chunk += [lines[position] for position in sorted(_ancestry(document, self.parents)[0])]
        line = lines.__getitem__
        pointing, typing = self.incoming.get, self.types.get
        for subject in self.subjects[document]:
            more = pointing(subject)
            if more:
                chunk += map(line, more)
        for target in self.targets[document]:
            more = typing(target)
            if more:
                chunk += map(line, more)
        return cache_key(salt, document, b"\n".join(chunk))

    def size(self, document: str) -> int:
        """About how many statements :meth:`of` holds (its own and those pointing at
        it; the few types and parent links left out), without gathering them."""
        return len(self.own[document]) + sum(len(self.incoming.get(subject, ())) for subject in self.subjects[document])

    def gather(self, documents: list[str]) -> set[Triple]:
        """A validation run's data: the surroundings of *documents*."""
        positions: set[int] = set()
        for document in documents:
            positions |= self.positions(document)
        triples = self.triples
        return {triples[position] for position in positions}


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


def _validate_in_parts(graph, surroundings: _Surroundings, rules: Rules, chunk, workers, cache: Cache | None) -> tuple[list[Triple], list]:
    """The report graph merged from the parts' (and the cache's) results, and its results."""
    names = sorted(surroundings.own)
    results: dict[str, bytes] = {}  # document -> its results, as N-Triples
    keys: dict[str, bytes] = {}
    if cache is not None:
        salt = cache_key(cache.fingerprint, "checks", rules.engine)
        keys_key = cache_key(salt, "keys by resource", "bounded" if surroundings.bounded else "whole")
        keys = _keys_following(graph, surroundings, _unpack_keys(cache.get("checks", keys_key)))
        if keys is None:
            # The graph written once, a line per statement (N-Triples escapes line breaks),
            # rather than each resource's surroundings written apart: most statements are
            # in the surroundings of several resources (the type of what many point at, in each).
            lines = serialize(graph.triples, format=RdfFormat.N_TRIPLES).split(b"\n")
            if len(lines) != len(graph.triples) + 1:  # not one line per statement: never seen, but the keys would be wrong
                raise ShapesError("the graph's N-Triples are not one line per statement; build with --no-cache")
            keys = {name: surroundings.key(name, lines, salt) for name in names}
            del lines
        else:  # the keys of the resources the delta touched made again, the others' as they were
            lines = _Lines(graph.triples)
            keys = {name: keys.get(name) or surroundings.key(name, lines, salt) for name in names}
        if graph.identity is not None:
            cache.put_many("checks", {keys_key: _pack_keys(graph.identity, keys)})
        kept_key = cache_key(salt, "results by resource")
        kept = _unpack_results(cache.get("checks", kept_key) or b"")
        results = {name: kept[keys[name]] for name in names if keys[name] in kept}
        cache.hits += len(results)
        cache.misses += len(names) - len(results)
    missing = [name for name in names if name not in results]
    if rules.engine == "rudof" and len(missing) > min(chunk, CHUNK_DOCUMENTS) and len(graph) <= RUDOF_WHOLE_TRIPLES:
        # One run over the whole graph: rudof's cost grows with the graph, no
        # faster, and parts would repeat the statements they share.
        parts = [(serialize(graph.triples, format=RdfFormat.N_TRIPLES), missing)]
    else:  # each part's data made by the process that validates it, from the surroundings it inherits
        parts = [(None, part) for part in _parts(surroundings, missing, chunk, PART_TRIPLES)]
        if surroundings.focused and parts:
            _ = rules.targets, rules.superclasses  # what focus_nodes needs in every worker, made once
        sizes = {name: surroundings.size(name) for name in missing}
        parts.sort(
            key=lambda part: sum(sizes[name] for name in part[1]), reverse=True
        )  # the longest first, so that none is left to run alone at the end
    fresh: dict[str, bytes] = {}
    for part_results in _run(_results_by_document, parts, rules, workers, surroundings):
        fresh.update(part_results)
    results.update(fresh)
    if cache is not None and (missing or len(kept) != len(results)):  # what this build found, and only that
        cache.put_many("checks", {kept_key: _pack_results({keys[name]: results[name] for name in names})})
    report = BlankNode()
    merged = [Triple(report, RDF_TYPE, VALIDATION_REPORT)]
    for name in names:
        if results[name]:  # blank node labels are local to each document's results: made fresh
            merged += _parse_ntriples(results[name], fresh_blank_nodes=True)
    merged = list(dict.fromkeys(merged))
    details = {t.object for t in merged if t.predicate == DETAIL}  # rudof's details of an sh:or are no results of their own
    found = [t.subject for t in merged if t.predicate == RDF_TYPE and t.object == VALIDATION_RESULT and t.subject not in details]
    about = _index(merged)
    conforms = not any(_first(about, result, SEVERITY) == VIOLATION for result in found)
    merged += [Triple(report, RESULT, result) for result in found]
    merged.append(Triple(report, CONFORMS, Literal(conforms)))
    return merged, found


_PAUSED: list[bool] = []  # for each pause in force, whether the collector ran before it


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while the checks make and use the surroundings.

    They are millions of small lists, dicts and numbers, none in a cycle; the collector
    walked them again each time they grew by a quarter, more than half of the time of
    making them (1.1 s against 0.55 s at 30,000 organizations, measured), and again
    when it ran after they were made. Freed as they go out of use, they need no collector.
    """
    _PAUSED.append(gc.isenabled())
    gc.disable()
    try:
        yield
    finally:
        if _PAUSED.pop():
            gc.enable()


@contextmanager
def _collector_as_before() -> Iterator[None]:
    """The collector as it was before the checks paused it: for pySHACL in this process
    (rdflib's graphs hold cycles)."""
    if not (_PAUSED and _PAUSED[0]):
        yield
        return
    gc.enable()
    try:
        yield
    finally:
        gc.disable()


# Each resource's results are kept under its key (of its name and its surroundings), all
# in one cache entry: 100,000 lookups in SQLite took 0.6 s at 100,000 organizations, the
# entry is read in a few hundredths. Most resources conform: their results are empty.
def _pack_results(results: dict[bytes, bytes]) -> bytes:
    """*results* (key -> N-Triples) as the bytes of one cache entry: how many, the keys,
    then for each non-empty result its index, its size and itself."""
    found = [len(results).to_bytes(4, "big"), *results]
    for index, value in enumerate(results.values()):
        if value:
            found += [index.to_bytes(4, "big"), len(value).to_bytes(4, "big"), value]
    return b"".join(found)


def _unpack_results(data: bytes) -> dict[bytes, bytes]:
    """What :func:`_pack_results` packed (nothing from no bytes)."""
    if not data:
        return {}
    count = int.from_bytes(data[:4], "big")
    keys = [data[start : start + 32] for start in range(4, 4 + 32 * count, 32)]
    results = dict.fromkeys(keys, b"")
    offset = 4 + 32 * count
    while offset < len(data):
        index, size = int.from_bytes(data[offset : offset + 4], "big"), int.from_bytes(data[offset + 4 : offset + 8], "big")
        results[keys[index]] = data[offset + 8 : offset + 8 + size]
        offset += 8 + size
    return results


def _keys_following(graph: Graph, surroundings: _Surroundings, earlier: tuple[bytes, dict[str, bytes]] | None) -> dict[str, bytes] | None:
    """The resources' keys made for the graph before (*earlier*: its identity and the keys),
    when this graph's delta starts from it, but those whose surroundings the delta touched
    (:meth:`_Surroundings.touched_by`); None when the delta does not start from it."""
    delta = graph.delta
    if earlier is None or delta is None or delta.since != earlier[0]:
        return None
    touched = surroundings.touched_by(delta.iris)
    return {name: key for name, key in earlier[1].items() if name not in touched}


def _pack_keys(graph: bytes, keys: dict[str, bytes]) -> bytes:
    """The identity of the graph checked and each resource's key, as one cache entry."""
    names = "\n".join(keys).encode("utf-8", "surrogateescape")
    return graph + len(names).to_bytes(8, "big") + names + b"".join(keys.values())


def _unpack_keys(data: bytes | None) -> tuple[bytes, dict[str, bytes]] | None:
    """What :func:`_pack_keys` packed (None from nothing, or if a name held a line break)."""
    if not data:
        return None
    size = int.from_bytes(data[32:40], "big")
    names = data[40 : 40 + size].decode("utf-8", "surrogateescape").split("\n") if size else []
    keys = data[40 + size :]
    if len(keys) != 32 * len(names):
        return None
    return data[:32], {name: keys[32 * i : 32 * (i + 1)] for i, name in enumerate(names)}


def _ancestry(organization: str, parents: dict[str, list[tuple[int, str]]]) -> tuple[set[int], set[str]]:
    """Every parent link above *organization* (what the cycle check follows), and the
    organizations they are of: *organization* and every one above it."""
    links: set[int] = set()
    above = {organization}
    todo = [organization]
    while todo:
        for position, parent in parents.get(todo.pop(), ()):
            if position not in links:
                links.add(position)
                above.add(parent)
                todo.append(parent)
    return links, above


class _Lines:
    """The graph's N-Triples lines, as :meth:`_Surroundings.key` takes them, each written
    when asked for: the same bytes as a line of the whole graph written at once."""

    def __init__(self, triples: list[Triple]):
        self.triples = triples

    def __getitem__(self, at):
        if isinstance(at, slice):
            return serialize(self.triples[at], format=RdfFormat.N_TRIPLES).split(b"\n")[:-1]
        return serialize([self.triples[at]], format=RdfFormat.N_TRIPLES)[:-1]


def _run(function, jobs: list, rules: Rules, workers: int | None, surroundings: _Surroundings | None = None) -> list:
    """``function(job, rules)`` for each job, in order.

    rudof runs only in processes forked for it, even for one job: a process
    forked after rudof ran in its parent can hang, and this one may fork
    others later (the pages). pySHACL runs here when there is one job.
    """
    if not jobs:
        return []
    if rules.engine == "rudof":
        _ = rules.rudof_shapes, rules.ontology_text  # made once, here
    _WORKER.update(rules=rules, surroundings=surroundings)  # inherited by the forked workers
    try:
        if len(jobs) == 1:
            if rules.engine == "pyshacl":  # no process to start
                with _collector_as_before():
                    return [function(jobs[0], rules)]
            return [_in_child(function, jobs[0], rules)]
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        fork = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(min(len(jobs), workers or os.cpu_count() or 1), fork, initializer=_worker_started) as pool:
            return list(pool.map(partial(_in_worker, function), jobs))
    finally:
        _WORKER.clear()


_WORKER: dict = {}


def _worker_started() -> None:
    """In a validation worker of a pool: no CA certificates, and the collector as the
    build had it (each worker runs pySHACL on part after part)."""
    _no_certificates()
    if _PAUSED and _PAUSED[0]:
        gc.enable()


def _no_certificates() -> None:
    """In a validation worker: give rudof no CA certificates to read.

    rudof reads every certificate of the system (about 150 ms, measured) each time
    it reads data, for the SPARQL endpoints it knows of; validation reads text and
    never the network. The worker's environment ends with it.
    """
    os.environ["SSL_CERT_FILE"] = os.environ["SSL_CERT_DIR"] = os.devnull


def _in_child(function, job, rules: Rules):
    """``function(job, rules)`` in one child process forked for it: without a
    process pool's machinery, which took longer than a small validation."""
    import pickle

    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run the job, send back its outcome, and end at once
        try:
            os.close(reading)
            _no_certificates()
            try:
                outcome = (True, function(job, rules))
            except BaseException as err:  # noqa: BLE001 - the parent raises it
                outcome = (False, err)
            with os.fdopen(writing, "wb") as pipe:
                pickle.dump(outcome, pipe)
        finally:
            os._exit(0)
    os.close(writing)
    try:
        with os.fdopen(reading, "rb") as pipe:
            sent = pipe.read()
    finally:
        _pid, status = os.waitpid(pid, 0)
    if not sent:
        how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit code {os.waitstatus_to_exitcode(status)}"
        raise ShapesError(f"the validation process ended without a report ({how}); try again", hint=OTHER_ENGINE)
    done, value = pickle.loads(sent)
    if not done:
        raise value
    return value


def _in_worker(function, job):
    return function(job, _WORKER["rules"])


def _report(data: bytes, rules: Rules) -> bytes:
    """The report on *data*, as N-Triples."""
    return rules.validate(data)


def focus_nodes(triples: set[Triple], own: set[str], rules: Rules) -> dict[str, set[str]] | None:
    """The resources of the documents *own* each shape targets in *triples* (as
    sh:targetClass, sh:targetSubjectsOf and sh:targetObjectsOf select them, classes
    above through the vocabulary); None when :attr:`Rules.targets` cannot say.

    The rest of a part (what its resources point at, typed for sh:class) would be
    targeted too, and fail for lack of its own statements: at 100,000 organizations
    the NDL's part held 34,000 membership roles, 79 s and 4 GB of rudof's results
    thrown away (measured). Given these focus nodes, rudof validates only them.
    """
    if rules.targets is None:
        return None
    # One pass, and only the properties some target names: each term of a pyoxigraph
    # triple is a new object at every access, and a part holds about 100,000 triples.
    subjects_of = {value for _, kind, value in rules.targets[1] if kind == str(SH) + "targetSubjectsOf"}
    objects_of = {value for _, kind, value in rules.targets[1] if kind == str(SH) + "targetObjectsOf"}
    classes: dict[str, set[str]] = {}
    properties: dict[str, set[str]] = {}
    objects: dict[str, set[str]] = {}
    for t in triples:
        predicate = t.predicate.value
        if predicate == RDFS_SUBCLASS_OF:
            return None  # a class hierarchy in the data itself: rudof's own targets
        if predicate in objects_of:
            target = t.object
            if isinstance(target, NamedNode) and document_of(target.value) in own:
                objects.setdefault(predicate, set()).add(target.value)
        typed = predicate == RDF_TYPE_IRI
        if not typed and predicate not in subjects_of:
            continue
        subject = t.subject.value
        if document_of(subject) not in own:
            continue
        if typed:
            target = t.object
            if isinstance(target, NamedNode):
                for cls in rules.superclasses.get(target.value, {target.value}) | {target.value}:
                    classes.setdefault(cls, set()).add(subject)
        if predicate in subjects_of:
            properties.setdefault(predicate, set()).add(subject)
    chosen = {str(SH) + "targetClass": classes, str(SH) + "targetSubjectsOf": properties, str(SH) + "targetObjectsOf": objects}
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
        surroundings = _WORKER["surroundings"]
        triples = surroundings.gather(own)
        data_text = serialize(list(triples), format=RdfFormat.N_TRIPLES)
        if surroundings.focused:
            focus = focus_nodes(triples, set(own), rules)
    report = _parse_ntriples(rules.validate(data_text, set(own), focus))
    about = _index(report)
    kept: dict[str, dict[Triple, None]] = {document: {} for document in own}
    for result in dict.fromkeys(t.object for t in report if t.predicate == RESULT):
        node = _first(about, result, FOCUS_NODE)
        if isinstance(node, NamedNode) and document_of(node.value) in kept:
            _copy_tree(about, result, kept[document_of(node.value)])
    return {document: serialize(list(triples), format=RdfFormat.N_TRIPLES) if triples else b"" for document, triples in kept.items()}


def _copy_tree(about: dict, node, target: dict[Triple, None]) -> None:
    """A result and everything below it through blank nodes (paths, lists)."""
    for predicate, objects in about.get(node, {}).items():
        for value in objects:
            target[Triple(node, predicate, value)] = None
            if isinstance(value, BlankNode):
                _copy_tree(about, value, target)


def _finding(about: dict, result, graph: Graph, context: Context | None) -> Finding:
    value = _first(about, result, VALUE)
    focus = _first(about, result, FOCUS_NODE)
    severity = _first(about, result, SEVERITY)
    message = _first(about, result, RESULT_MESSAGE)
    shape = _first(about, result, SOURCE_SHAPE)
    predicates = _predicates(about, _first(about, result, RESULT_PATH))
    # The statement that breaks the rule, when there is one: its line is the one to fix.
    triple = None
    if value is not None and isinstance(focus, NamedNode) and not isinstance(value, BlankNode):
        for predicate in predicates:
            candidate = Triple(focus, NamedNode(predicate), value)
            if candidate in graph.origins:
                triple, predicates = candidate, [predicate]
                break
    name = context.compact if context else str
    focus_text = focus.value if focus is not None else "None"
    return Finding(
        severity=SEVERITIES.get(severity.value if severity is not None else "", "Violation"),
        message=message.value if message is not None and message.value else "does not conform to its shape",
        focus=_short(focus_text, graph.base),
        path=" | ".join(name(p) for p in predicates) or None,
        value=_short(value.value, graph.base) if value is not None else None,
        shape=shape.value if isinstance(shape, NamedNode) else None,
        origin=graph.origin(focus_text, triple),
    )


def _predicates(about: dict, path) -> list[str]:
    """The properties a result path names: one, or each of an sh:alternativePath."""
    if isinstance(path, NamedNode):
        return [path.value]
    alternatives = _first(about, path, ALTERNATIVE_PATH) if path is not None else None
    predicates = []
    seen = set()
    while alternatives is not None and alternatives != RDF_NIL and alternatives not in seen:  # an RDF list
        seen.add(alternatives)
        item = _first(about, alternatives, RDF_FIRST)
        if isinstance(item, NamedNode):
            predicates.append(item.value)
        alternatives = _first(about, alternatives, RDF_REST)
    return predicates  # none for inverse and other complex paths: the finding points at the resource


def _short(iri: str, base: str) -> str:
    """``<base>id/ifla`` as ``ifla``: the id the librarian wrote."""
    prefix = base + "id/"
    return iri[len(prefix) :] if iri.startswith(prefix) else iri
