"""The report model: SHACL results as findings a librarian can act on, kept by document.

A report is made from each document's results (the result trees whose focus node
is one of its resources), merged: so results kept from earlier runs and fresh ones
make the same report as one run over the whole graph (:func:`merged_report`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, parse

from ndlld.context import Context
from ndlld.errors import NdlldError, SourceErrors
from ndlld.graph import Graph, Origin, document_of
from ndlld.namespaces import NDLSH, RDF, SH
from ndlld.rdf import Term, serialized, term_text

if TYPE_CHECKING:  # rdflib is imported only for pySHACL and for callers that ask for rdflib graphs
    import rdflib

SEVERITIES = {str(SH) + name: name for name in ("Violation", "Warning", "Info")}
PARENT_IRI = "http://schema.org/parentOrganization"

# The terms of a SHACL report that ndlld reads and writes.
RDF_TYPE, RDF_FIRST, RDF_REST, RDF_NIL = RDF.type, RDF.first, RDF.rest, RDF.nil
VALIDATION_REPORT, VALIDATION_RESULT, VIOLATION = SH.ValidationReport, SH.ValidationResult, SH.Violation
RESULT, CONFORMS, DETAIL, FOCUS_NODE, VALUE = SH.result, SH.conforms, SH.detail, SH.focusNode, SH.value
RESULT_PATH, ALTERNATIVE_PATH, SEVERITY = SH.resultPath, SH.alternativePath, SH.resultSeverity
RESULT_MESSAGE, SOURCE_SHAPE, SOURCE_COMPONENT = SH.resultMessage, SH.sourceShape, SH.sourceConstraintComponent
# The shape whose check ndlld refuses to hand an engine (:func:`refused`), and how it checks.
PARENT_CYCLE_SHAPE, SPARQL_COMPONENT = NDLSH.NoParentCycle, SH.SPARQLConstraintComponent

# Where results about no document (their focus node a blank node) are kept.
NO_DOCUMENT = ""


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
    """The outcome of the checks: findings, the SHACL report graph as pyoxigraph triples
    (an rdflib graph on demand: rdflib takes a while to import), and each document's
    results (its result trees, blank nodes and all), for a caller to keep and merge."""

    findings: list[Finding]
    triples: list[Triple] = field(repr=False)
    by_document: dict[str, list[Triple]] = field(default_factory=dict, repr=False)

    @cached_property
    def graph(self) -> rdflib.Graph:
        """The report graph in rdflib, as pySHACL writes it."""
        return rdflib_graph(serialized(self.triples, RdfFormat.N_TRIPLES))

    @property
    def conforms(self) -> bool:
        """ndlld's verdict: no Violation, Warnings allowed (the report graph's sh:conforms is SHACL's)."""
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


def errors_json(error: NdlldError) -> str:
    """What ``validate --format json`` writes when the checks could not run (records that
    cannot be read, no dataset.yaml): the report's shape, each problem a finding of severity
    ``Error`` with its file and line, so a program reads one format whatever happened."""
    errors = error.errors if isinstance(error, SourceErrors) else [error]
    findings = [
        {
            "severity": "Error",
            "message": e.message,
            "focus": None,
            "path": None,
            "value": None,
            "shape": None,
            "file": e.path,
            "line": e.line,
        }
        for e in errors
    ]
    return json.dumps({"conforms": False, "findings": findings}, ensure_ascii=False, indent=2)


def merged_report(results: Mapping[str, Iterable[Triple]], graph: Graph, context: Context | None = None) -> Report:
    """One report from each document's results (*results*: document -> its result trees),
    however they were made: in one run, in parts, or kept from earlier runs. *graph* gives
    the findings their origins and short names: the whole graph, or a part holding at
    least the statements and resources of the documents with results."""
    kept = {document: list(results[document]) for document in sorted(results)}
    merged = _report_graph(kept)
    about = index(merged)
    found = [t.object for t in merged if t.predicate == RESULT]
    findings = sorted((_finding(about, result, graph, context) for result in found), key=_order)
    return Report(findings=findings, triples=merged, by_document=kept)


def combined(reports: Iterable[Report]) -> Report:
    """One report from reports on different documents (each document in one of them):
    the findings in the order of one run's, the report graph made again."""
    kept: dict[str, list[Triple]] = {}
    findings: list[Finding] = []
    for report in reports:
        kept.update(report.by_document)
        findings += report.findings
    kept = {document: kept[document] for document in sorted(kept)}
    return Report(findings=sorted(findings, key=_order), triples=_report_graph(kept), by_document=kept)


def _report_graph(results: Mapping[str, list[Triple]]) -> list[Triple]:
    """The SHACL report graph of each document's results, in document order."""
    report = BlankNode()
    merged = [Triple(report, RDF_TYPE, VALIDATION_REPORT)]
    for triples in results.values():
        merged += _relabelled(triples)  # each document's blank nodes its own, wherever they came from
    merged = list(dict.fromkeys(merged))
    details = {t.object for t in merged if t.predicate == DETAIL}  # rudof's details of an sh:or are no results of their own
    found = [t.subject for t in merged if t.predicate == RDF_TYPE and t.object == VALIDATION_RESULT and t.subject not in details]
    merged += [Triple(report, RESULT, result) for result in found]
    # SHACL's conforms (https://www.w3.org/TR/shacl/#conforms): true only without any result,
    # Warnings too; ndlld's own verdict, which allows Warnings, is Report.conforms.
    merged.append(Triple(report, CONFORMS, Literal(not found)))
    return merged


def _order(f: Finding) -> tuple:
    """Findings by file and line, then by what they say: the same order however the results came."""
    where = (f.origin.path, f.origin.line) if f.origin else ("~", 0)
    return (*where, f.message, f.focus, f.value or "", f.severity, f.path or "", f.shape or "")


def _relabelled(triples: list[Triple]) -> list[Triple]:
    fresh: dict[BlankNode, BlankNode] = {}

    def term(node):
        if isinstance(node, BlankNode):
            return fresh.setdefault(node, BlankNode())
        return node

    return [Triple(term(t.subject), t.predicate, term(t.object)) for t in triples]


def by_document(report: list[Triple], documents: Iterable[str] | None = None) -> dict[str, list[Triple]]:
    """An engine's *report* as each document's results: every result, and everything
    below it through blank nodes, under the document of its focus node (a focus that is
    a blank node: under :data:`NO_DOCUMENT`). Given *documents*, those only, each present."""
    about = index(report)
    kept: dict[str, dict[Triple, None]] = {document: {} for document in documents} if documents is not None else {}
    for result in dict.fromkeys(t.object for t in report if t.predicate == RESULT):
        node = first(about, result, FOCUS_NODE)
        document = document_of(node.value) if isinstance(node, NamedNode) else NO_DOCUMENT
        if documents is None:
            kept.setdefault(document, {})
        if document in kept:
            _copy_tree(about, result, kept[document])
    return {document: list(triples) for document, triples in kept.items()}


def _copy_tree(about: About, node, target: dict[Triple, None]) -> None:
    """A result and everything below it through blank nodes (paths, lists)."""
    for predicate, objects in about.get(node, {}).items():
        for value in objects:
            target[Triple(node, predicate, value)] = None
            if isinstance(value, BlankNode):
                _copy_tree(about, value, target)


def refused(link: Triple, message: str) -> dict[str, list[Triple]]:
    """The one result of a graph no engine is given: *link* (a parent link) breaks a rule
    the engines cannot check (ndlsh:NoParentCycle's, whose SPARQL would not end), as
    *message* says; by document, as :func:`by_document`."""
    result = BlankNode()
    triples = [
        Triple(result, predicate, value)
        for predicate, value in [
            (RDF_TYPE, VALIDATION_RESULT),
            (FOCUS_NODE, link.subject),
            (RESULT_PATH, NamedNode(PARENT_IRI)),
            (VALUE, link.object),
            (SEVERITY, VIOLATION),
            (RESULT_MESSAGE, Literal(message)),
            (SOURCE_SHAPE, PARENT_CYCLE_SHAPE),
            (SOURCE_COMPONENT, SPARQL_COMPONENT),
        ]
    ]
    subject = link.subject
    return {document_of(subject.value) if isinstance(subject, NamedNode) else NO_DOCUMENT: triples}


# A report graph by subject, then by predicate: what index() makes of it.
About = dict[Term, dict[NamedNode, list[Term]]]


def index(triples: list[Triple]) -> About:
    """subject -> predicate -> objects: a report graph, to read results from."""
    about: About = {}
    for t in triples:
        about.setdefault(t.subject, {}).setdefault(t.predicate, []).append(t.object)
    return about


def first(about: About, subject: Term, predicate: NamedNode) -> Term | None:
    """An object of *subject*'s *predicate* (a result has one of each), or None."""
    objects = about.get(subject, {}).get(predicate)
    return objects[0] if objects else None


def parse_ntriples(data: bytes | str, fresh_blank_nodes: bool = False) -> list[Triple]:
    return [quad.triple for quad in parse(data, format=RdfFormat.N_TRIPLES, rename_blank_nodes=fresh_blank_nodes)]


def rdflib_graph(data: bytes) -> rdflib.Graph:
    import rdflib

    return rdflib.Graph().parse(data=data.decode("utf-8"), format="nt")


def _finding(about: About, result: Term, graph: Graph, context: Context | None) -> Finding:
    value = first(about, result, VALUE)
    focus = first(about, result, FOCUS_NODE)
    severity = first(about, result, SEVERITY)
    message = first(about, result, RESULT_MESSAGE)
    shape = first(about, result, SOURCE_SHAPE)
    predicates = _predicates(about, first(about, result, RESULT_PATH))
    # The statement that breaks the rule, when there is one: its line is the one to fix.
    triple = None
    if value is not None and isinstance(focus, NamedNode) and not isinstance(value, BlankNode):
        for predicate in predicates:
            candidate = Triple(focus, NamedNode(predicate), value)
            if candidate in graph.origins:
                triple, predicates = candidate, [predicate]
                break
    name = context.compact if context else str
    focus_text = term_text(focus) if focus is not None else "None"
    return Finding(
        severity=SEVERITIES.get(_text(severity), "Violation"),
        message=_text(message) or "does not conform to its shape",
        focus=_short(focus_text, graph.base),
        path=" | ".join(name(p) for p in predicates) or None,
        value=_short(term_text(value), graph.base) if value is not None else None,
        shape=shape.value if isinstance(shape, NamedNode) else None,
        origin=graph.origin(focus_text, triple),
    )


def _text(term: Term | None) -> str:
    """*term*'s text (a triple term's too: the value of a result may be one), or "" for none."""
    return term_text(term) if term is not None else ""


def _predicates(about: About, path: Term | None) -> list[str]:
    """The properties a result path names: one, or each of an sh:alternativePath."""
    if isinstance(path, NamedNode):
        return [path.value]
    alternatives = first(about, path, ALTERNATIVE_PATH) if path is not None else None
    # none for inverse and other complex paths: the finding points at the resource
    return [item.value for item in list_items(about, alternatives) if isinstance(item, NamedNode)]


def list_items(about: About, head: Term | None) -> list[Term]:
    """The members of the RDF list at *head* (none for no list; a cycle ends it)."""
    items = []
    seen = set()
    while head is not None and head != RDF_NIL and head not in seen:
        seen.add(head)
        item = first(about, head, RDF_FIRST)
        if item is not None:
            items.append(item)
        head = first(about, head, RDF_REST)
    return items


def _short(iri: str, base: str) -> str:
    """``<base>id/ifla`` as ``ifla``: the id the librarian wrote."""
    prefix = base + "id/"
    return iri[len(prefix) :] if iri.startswith(prefix) else iri
