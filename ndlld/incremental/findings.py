"""The checks of an incremental build: only the resources a change touched are validated again.

A resource's results depend only on its surroundings (:func:`ndlld.checks.scope.surroundings`)
and, for the file and line its findings point at, on the records that state them.
So the documents validated again are those whose surroundings the change touched
(:func:`ndlld.checks.scope.documents_reached_by`), those described in a record that
changed, and those whose findings point into one; each is validated with its
surroundings as the data, their statements traced to their records as a build
from scratch traces them. Every other document keeps its findings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import astuple, dataclass

from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, parse

from ndlld.checks import Finding, Report, Rules, check, combined, documents_reached_by, surroundings
from ndlld.checks.scope import RDF_TYPE_IRI, Alone, Needs, alone_for, queried_in
from ndlld.context import Context
from ndlld.graph import Graph, Origin, Part
from ndlld.incremental.overlay import Overlay
from ndlld.incremental.records import Delta, decode_part
from ndlld.incremental.state import State, statement_digest, to_json
from ndlld.lookup import document_of
from ndlld.namespaces import SH
from ndlld.rdf import serialized, subject_value, term_text


@dataclass
class Seen:
    """What the shapes see of a graph: the statements pointing at a resource they need
    (:func:`ndlld.checks.scope.incoming_needs`), and those they judge one at a time
    (:func:`ndlld.checks.scope.judged_alone`)."""

    needs: Needs
    alone: Alone | None = None


def recheck(state: State, overlay: Overlay, documents: set[str], rules: Rules, seen: Seen, delta: Delta, context: Context) -> Report:
    """The report on the new graph: *documents* validated again (:func:`documents_to_check`),
    the others' findings as the state keeps them."""
    present = {document for document in documents if overlay.in_document(document)}
    base, inverses = state.text("base"), json.loads(state.text("inverses"))
    data = region(state, overlay, present, seen, delta.removed | delta.added, base, inverses) if present else None
    fresh = check(data, rules, present, context) if data is not None else Report([], [], {})
    return combined([kept_report(state, documents), fresh])


def documents_to_check(state: State, overlay: Overlay, delta: Delta, needs: Needs) -> set[str]:
    found = documents_reached_by(overlay, delta.removed | delta.added, needs)
    for change in delta.files:
        for part in (change.before, change.after):
            found.update(document_of(iri) for iri, *_ in part.nodes) if part is not None else None
    changed = set(delta.paths)
    found.update(document for document, paths in state.db.execute("SELECT document, paths FROM findings") if changed & set(paths.split()))
    return found | {document_of(subject_value(t)) for t in delta.removed | delta.added}


def region(
    state: State, overlay: Overlay, documents: set[str], seen: Seen, changed: set[Triple], base: str, inverses: dict[str, str]
) -> Graph:
    """The surroundings of *documents*, with where each statement and resource was stated;
    but the statements a document's check need not see again (:func:`_left_out`)."""
    triples = set()
    for document in documents:
        triples |= surroundings(overlay, document, seen.needs, _left_out(state, overlay, document, seen.alone, changed))
    ordered = sorted(triples, key=str)
    graph = Graph(base=base, triples=ordered)
    graph.origins = _origins(state, ordered, inverses)
    subjects = {subject_value(t) for t in ordered} | {t.object.value for t in ordered if isinstance(t.object, NamedNode)}
    for iri in subjects:
        row = state.db.execute("SELECT path, line FROM nodes WHERE iri = ?", (iri,)).fetchone()
        if row:
            graph.nodes[iri] = Origin(*row)
    return graph


def _left_out(state: State, overlay: Overlay, document: str, alone: Alone | None, changed: set[Triple]) -> Callable[[Triple], bool] | None:
    """Which of *document*'s statements its check need not see again: of a property the
    shapes judge one statement at a time for its subject (:func:`ndlld.checks.scope.alone_for`)
    and in its document (:func:`ndlld.checks.scope.queried_in`),
    of a subject whose other statements did not change, with no result on that subject
    and property in the state; unchanged, and of a literal or a resource of another
    document whose types did not change. Their results are still none: the publisher's
    thousands of memberships are not checked again when one comes or goes. None: every
    statement is seen."""
    if alone is None:
        return None
    by_subject: dict[str, list[Triple]] = {}
    for triple in overlay.in_document(document):
        if isinstance(triple.subject, NamedNode):  # a blank node's results could not be told from another's
            by_subject.setdefault(triple.subject.value, []).append(triple)
    touched: dict[str, set[str]] = {}
    for triple in changed:
        touched.setdefault(subject_value(triple), set()).add(triple.predicate.value)
    resulted = _results_about(state, document)
    together = queried_in(alone, overlay.in_document(document))
    judged = {subject: alone_for(alone, statements) - resulted.get(subject, set()) - together for subject, statements in by_subject.items()}
    judged = {subject: found for subject, found in judged.items() if found and touched.get(subject, set()) <= found}
    if not judged:
        return None
    retyped = {subject for subject, predicates in touched.items() if RDF_TYPE_IRI in predicates}

    def settled(value: object) -> bool:
        """A value whose part in a result cannot have changed."""
        return isinstance(value, Literal) or (
            isinstance(value, NamedNode) and document_of(value.value) != document and value.value not in retyped
        )

    return lambda t: t.predicate.value in judged.get(subject_value(t), ()) and t not in changed and settled(t.object)


def _results_about(state: State, document: str) -> dict[str, set[str]]:
    """By focus node, the properties of the results the state keeps of *document*."""
    row = state.db.execute("SELECT results FROM findings WHERE document = ?", (document,)).fetchone()
    if row is None:
        return {}
    triples = [q.triple for q in parse(row[0].encode("utf-8"), format=RdfFormat.N_TRIPLES)]
    focus = {t.subject: term_text(t.object) for t in triples if t.predicate.value == _FOCUS_NODE}
    found: dict[str, set[str]] = {}
    for t in triples:
        if t.predicate.value == _RESULT_PATH and t.subject in focus and isinstance(t.object, NamedNode):
            found.setdefault(focus[t.subject], set()).add(t.object.value)
    return found


_FOCUS_NODE, _RESULT_PATH = str(SH) + "focusNode", str(SH) + "resultPath"


def _origins(state: State, triples: list[Triple], inverses: dict[str, str]) -> dict[Triple, Origin]:
    """Where a build from scratch says each statement was made: the first record (in the
    records' order) that states it, else the first whose statement it is the inverse of."""
    paths = _stating(state, triples)
    direct, mirrored = _lines_of({path for found in paths.values() for path in found}, state, inverses)
    origins = {}
    for triple, found in paths.items():
        chosen = next((direct[(p, triple)] for p in found if (p, triple) in direct), None)
        chosen = chosen or next((mirrored[(p, triple)] for p in found if (p, triple) in mirrored), None)
        if chosen is not None:
            origins[triple] = chosen
    return origins


def _stating(state: State, triples: list[Triple]) -> dict[Triple, list[str]]:
    """The record files stating each of *triples*, in the records' order."""
    lines = serialized(triples, RdfFormat.N_TRIPLES).splitlines(keepends=True)
    order = _order_of(state)
    paths = {}
    for triple, line in zip(triples, lines):
        rows = state.db.execute("SELECT path FROM stated WHERE statement = ?", (statement_digest(line),))
        paths[triple] = sorted((path for (path,) in rows), key=order)
    return paths


def _lines_of(paths: set[str], state: State, inverses: dict[str, str]) -> tuple[dict, dict]:
    """Where each file of *paths* states each of its statements, and each of their inverses."""
    direct: dict[tuple[str, Triple], Origin] = {}
    mirrored: dict[tuple[str, Triple], Origin] = {}
    for path in paths:
        part = _part(state, path)
        for triple, origin in _stated(part, path) if part is not None else ():
            direct.setdefault((path, triple), origin)
            inverse = inverses.get(triple.predicate.value)
            if inverse and isinstance(triple.object, NamedNode):
                mirrored.setdefault((path, Triple(triple.object, NamedNode(inverse), triple.subject)), origin)
    return direct, mirrored


def _record_order(path: str) -> str:
    """The records' order (:func:`ndlld.sources.record_files`): by path component."""
    return path.replace("/", "\0")


def _order_of(state: State):
    """The records' order, dataset.yaml first as the graph stage reads it."""
    dataset = state.text("dataset_path")
    return lambda path: (path != dataset, _record_order(path))


def _part(state: State, path: str) -> Part | None:
    row = state.db.execute("SELECT part FROM files WHERE path = ?", (path,)).fetchone()
    return decode_part(path, row[0]) if row else None


def _stated(part: Part, path: str) -> Iterable[tuple[Triple, Origin]]:
    triples = [q.triple for q in parse(part.ntriples, format=RdfFormat.N_TRIPLES)]
    return zip(triples, (Origin(path, line) for line in part.origins[1::2]))


# -- what the state keeps of each document's findings -------------------------------
def kept_report(state: State, excluded: set[str]) -> Report:
    """The findings and results the state keeps, of the documents not in *excluded*."""
    by_document: dict[str, list[Triple]] = {}
    findings: list[Finding] = []
    for document, results, kept in state.db.execute("SELECT document, results, findings FROM findings"):
        if document in excluded:
            continue
        by_document[document] = [q.triple for q in parse(results.encode("utf-8"), format=RdfFormat.N_TRIPLES)]
        findings += [_finding(item) for item in json.loads(kept)]
    return Report(findings=findings, triples=[], by_document=by_document)


def keep_findings(state: State, report: Report, base: str, documents: Iterable[str] | None = None) -> None:
    """Note what *report* found about *documents* (every document, when None)."""
    documents = report.by_document.keys() if documents is None else documents
    by_document: dict[str, list[Finding]] = {}
    for finding in report.findings:  # a finding names its focus as the record's id, or by its IRI
        focus = finding.focus if "://" in finding.focus else f"{base}id/{finding.focus}"
        by_document.setdefault(document_of(focus), []).append(finding)
    for document in documents:
        state.db.execute("DELETE FROM findings WHERE document = ?", (document,))
        results = report.by_document.get(document)
        if not results:
            continue
        found = by_document.get(document, [])
        state.db.execute(
            "INSERT INTO findings VALUES (?, ?, ?, ?)",
            (document, serialized(results, RdfFormat.N_TRIPLES).decode("utf-8"), to_json([_row(f) for f in found]), _paths(found)),
        )


def _row(finding: Finding) -> list:
    origin = finding.origin
    return [*astuple(finding)[:6], origin.path if origin else None, origin.line if origin else None]


def _finding(row: list) -> Finding:
    severity, message, focus, path, value, shape, file, line = row
    return Finding(severity, message, focus, path, value, shape, Origin(file, line) if file is not None else None)


def _paths(findings: list[Finding]) -> str:
    return " ".join(sorted({f.origin.path for f in findings if f.origin}))
