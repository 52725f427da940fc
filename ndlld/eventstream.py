"""The change feed as a Linked Data Event Stream (https://w3id.org/ldes/specification),
the form European harvesters and LDES clients read.

The stream's members are the activities of the IIIF change feed (:mod:`ndlld.changes`),
by the same IRIs, and each carries the triples of its resource in the named graph of
the member's IRI (the payload of an upsert, as the LDES spec allows): a client replays
the dataset from the stream alone. Versions are ActivityStreams activities
(``ldes:versionOfPath as:object``), ordered by ``as:endTime``.

``releases/feed.trig`` is the root node: the stream's description, its retention
policy (every member since the first release), and a relation to each release's
node, ``releases/VERSION/feed.trig``, bounded by the release times. A release's
node is written once and marked ``ldes:immutable``; the root is rewritten with
each release.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Triple

from ndlld.changes import ACTIVITY, Changes, activity_id
from ndlld.graph import document_of
from ndlld.rdf import serialized_dataset, subject_value

LDES = "https://w3id.org/ldes#"
TREE = "https://w3id.org/tree#"
AS = "https://www.w3.org/ns/activitystreams#"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD_DATETIME = NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
XSD_BOOLEAN = NamedNode("http://www.w3.org/2001/XMLSchema#boolean")
PREFIXES = {"ldes": LDES, "tree": TREE, "as": AS, "xsd": "http://www.w3.org/2001/XMLSchema#"}
ROOT = "releases/feed.trig"


def root_iri(base: str) -> str:
    return base + ROOT


def stream_iri(base: str) -> str:
    return f"{root_iri(base)}#stream"


def node_iri(base: str, version: str) -> str:
    return f"{base}releases/{version}/feed.trig"


def _n(iri: str) -> NamedNode:
    return NamedNode(iri)


def _time(value: str) -> Literal:
    return Literal(value, datatype=XSD_DATETIME)


def release_node(changes: Changes, version: str, time: str, base: str, triples: Iterable[Triple]) -> bytes:
    """Release *version*'s node: one member per changed resource, with the resource's
    *triples* as they are in the release (none for a deleted one)."""
    node, stream = _n(node_iri(base, version)), _n(stream_iri(base))
    quads = [
        Quad(node, RDF_TYPE, _n(TREE + "Node")),
        Quad(node, _n(LDES + "immutable"), Literal("true", datatype=XSD_BOOLEAN)),
    ]
    described = _by_document(triples, {c.iri for c in changes.resources if c.status != "deleted"})
    for position, change in enumerate(changes.resources, 1):
        member = _n(activity_id(base, version, position))
        quads += [
            Quad(stream, _n(TREE + "member"), member),
            Quad(member, RDF_TYPE, _n(AS + ACTIVITY[change.status])),
            Quad(member, _n(AS + "object"), _n(change.iri)),
            Quad(member, _n(AS + "endTime"), _time(time)),
        ]
        quads += [Quad(t.subject, t.predicate, t.object, member) for t in described.get(change.iri, [])]
    return _trig(quads)


def _by_document(triples: Iterable[Triple], documents: set[str]) -> dict[str, list[Triple]]:
    """The triples of each of *documents*, in N-Triples order so that a node is written the same way twice."""
    found: dict[str, list[Triple]] = {}
    for triple in triples:
        document = document_of(subject_value(triple))
        if document in documents:
            found.setdefault(document, []).append(triple)
    return {document: sorted(found[document], key=str) for document in found}


def root_node(releases: list[tuple[str, str]], base: str) -> bytes:
    """The root node over *releases* (version, time; oldest first): the stream's description
    and, for each release's node, the relations that bound its members' times."""
    root, stream = _n(root_iri(base)), _n(stream_iri(base))
    end_time, version_of = _n(AS + "endTime"), _n(AS + "object")
    quads = [Quad(stream, RDF_TYPE, _n(LDES + "EventStream")), Quad(stream, _n(TREE + "view"), root)]
    quads += [Quad(stream, _n(LDES + "timestampPath"), end_time), Quad(stream, _n(LDES + "versionOfPath"), version_of)]
    for kind in ("Create", "Update", "Delete"):
        quads.append(Quad(stream, _n(f"{LDES}version{kind}Object"), _n(AS + kind)))
    quads.append(Quad(root, RDF_TYPE, _n(TREE + "Node")))
    if releases:
        # Every member is kept: none is older than the first release.
        policy = _n(f"{root_iri(base)}#retention")
        quads += [Quad(root, _n(LDES + "retentionPolicy"), policy), Quad(policy, RDF_TYPE, _n(LDES + "RetentionPolicy"))]
        quads.append(Quad(policy, _n(LDES + "startingFrom"), _time(releases[0][1])))
    bounds = [(version, time, later[1] if later else None) for (version, time), later in zip(releases, [*releases[1:], None])]
    for index, (version, since, until) in enumerate(bounds):
        limits = [("GreaterThanOrEqualToRelation", since)] + ([("LessThanRelation", until)] if until else [])
        for kind, value in limits:
            relation = BlankNode(f"r{index}{kind[0]}")
            quads += [
                Quad(root, _n(TREE + "relation"), relation),
                Quad(relation, RDF_TYPE, _n(TREE + kind)),
                Quad(relation, _n(TREE + "node"), _n(node_iri(base, version))),
                Quad(relation, _n(TREE + "path"), end_time),
                Quad(relation, _n(TREE + "value"), _time(value)),
            ]
    return _trig(quads)


def _trig(quads: list[Quad]) -> bytes:
    return serialized_dataset(quads, RdfFormat.TRIG, PREFIXES)
