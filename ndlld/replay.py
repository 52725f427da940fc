"""``ndlld harvest --follow``: a release's dump, brought up to date from the event stream.

Each release's ``position.json`` names the last activity its dumps include and the
root of the Linked Data Event Stream (:mod:`ndlld.eventstream`). Replaying is what
an LDES client in ordered mode does: read the root, follow only the relations to
nodes that may hold later members (their upper bound is after the position), and
apply each later member in the order of its time, oldest first: a ``Create`` or
``Update`` replaces its resource's triples with the member's, a ``Delete`` removes
them. Every page is read within the same limits as the dump.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad, RdfFormat, Triple, parse

from ndlld.errors import HarvestError
from ndlld.eventstream import AS, RDF_TYPE, TREE
from ndlld.fetch import Limits, fetch, is_url
from ndlld.graph import document_of
from ndlld.rdf import subject_value

POSITION = "position.json"
KINDS = {AS + "Create", AS + "Update", AS + "Delete"}
# The times are compared as text: only the one form ndlld writes (UTC, whole seconds or more) compares right.
UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"


@dataclass(frozen=True)
class Member:
    """One activity of the stream: its time, kind, resource and the resource's triples."""

    time: str
    kind: str  # Create, Update, Delete
    resource: str
    triples: tuple[Triple, ...]


def follow(source: str, triples: list[Triple], limits: Limits) -> tuple[list[Triple], int]:
    """*triples* (the dump at *source*) with every member of the stream after the dump's
    position applied; and how many members were."""
    position = _position(source, limits)
    since, view, stream = position["since"], position["view"], position["stream"]
    # A URL the stream names is read only where the dump is (where its position.json says, for a file):
    # never a file on this machine, nor another host the stranger's documents point to.
    origin = _origin(source if is_url(source) else view)
    members = sorted((m for m in _members(view, stream, since, Reader(origin, limits)) if m.time > since), key=lambda m: m.time)
    documents: dict[str, list[Triple]] = {}
    for triple in triples:
        documents.setdefault(document_of(subject_value(triple)), []).append(triple)
    for member in members:
        documents.pop(member.resource, None)
        if member.kind != "Delete":
            documents[member.resource] = list(member.triples)
    return [t for described in documents.values() for t in described], len(members)


def _position(source: str, limits: Limits) -> dict[str, str]:
    """The stream and the time the dump at *source* stands at, from the position.json beside it."""
    where = urljoin(source, POSITION) if is_url(source) else str(Path(source).parent / POSITION)
    try:
        document = json.loads(fetch(where, limits).content)
        found = {"since": document["lastActivity"]["endTime"], "view": document["view"], "stream": document["eventStream"]}
        if not all(isinstance(value, str) for value in found.values()) or not UTC.fullmatch(found["since"]):
            raise ValueError(found)
        NamedNode(found["stream"]), NamedNode(found["view"])  # IRIs, or ValueError
        return found
    except HarvestError as err:
        raise HarvestError(f"{source}: no position in the feed beside it ({err}); --follow needs a release's dump") from None
    except (ValueError, KeyError, TypeError):
        raise HarvestError(f"{where}: not a release's position (lastActivity.endTime, view, eventStream)") from None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


@dataclass(frozen=True)
class Reader:
    """Reads the stream's pages: http(s) URLs of one origin only, each within *limits*."""

    origin: tuple[str, str]
    limits: Limits

    def __call__(self, url: str) -> list[Quad]:
        if not is_url(url) or _origin(url) != self.origin:
            raise HarvestError(f"{url}: the event stream names a page outside {'://'.join(self.origin)}; none is read")
        try:
            return list(parse(fetch(url, self.limits).content, format=RdfFormat.TRIG, base_iri=url))
        except (SyntaxError, ValueError) as err:
            raise HarvestError(f"{url}: not valid TriG: {str(err).splitlines()[0]}") from None


def _members(view: str, stream: str, since: str, read: Reader) -> list[Member]:
    """The members of the nodes the root *view* links to that may hold members after *since*."""
    root = read(view)
    if not any(q.predicate == NamedNode(TREE + "view") and q.subject == NamedNode(stream) for q in root):
        raise HarvestError(f"{view}: not the root of the event stream <{stream}>")
    members = []
    for node in _nodes_after(root, NamedNode(view), since):
        members += _members_of(read(node), NamedNode(stream), node)
    return members


def _nodes_after(root: list[Quad], view: NamedNode, since: str) -> list[str]:
    """The nodes the root relates to, but those every member of which is at or before *since*
    (a LessThanRelation on the time at or before it): relations to one node hold together."""
    relations = {q.object for q in root if q.subject == view and q.predicate == NamedNode(TREE + "relation")}
    about: dict[object, dict[str, object]] = {r: {} for r in relations}
    for quad in root:
        if quad.subject in about:
            about[quad.subject][quad.predicate.value] = quad.object
    nodes: dict[str, bool] = {}
    for relation in about.values():
        node = relation.get(TREE + "node")
        if not isinstance(node, NamedNode):
            raise HarvestError(f"{view.value}: a relation without a tree:node")
        bound = relation.get(TREE + "value")  # one not of the form compared is no reason to skip the node
        earlier = (
            relation.get(RDF_TYPE.value) == NamedNode(TREE + "LessThanRelation")
            and isinstance(bound, Literal)
            and _utc(bound)
            and bound.value <= since
        )
        nodes[node.value] = nodes.get(node.value, True) and not earlier
    return [node for node, needed in nodes.items() if needed]


def _members_of(quads: list[Quad], stream: NamedNode, node: str) -> list[Member]:
    """The members in one node: each with its kind, resource and time, and its named graph."""
    members = (q.object for q in quads if q.subject == stream and q.predicate == NamedNode(TREE + "member"))
    return [_member(quads, member, node) for member in members]


def _member(quads: list[Quad], member: object, node: str) -> Member:
    star = {q.predicate.value: q.object for q in quads if q.subject == member and isinstance(q.graph_name, DefaultGraph)}
    kind, resource, time = star.get(RDF_TYPE.value), star.get(AS + "object"), star.get(AS + "endTime")
    name = getattr(member, "value", member)
    if not (isinstance(kind, NamedNode) and isinstance(resource, NamedNode) and _utc(time)) or kind.value not in KINDS:
        raise HarvestError(f"{node}: member <{name}> is not a Create, Update or Delete of a resource at a time")
    payload = tuple(q.triple for q in quads if q.graph_name == member)
    if any(document_of(subject_value(t)) != resource.value for t in payload):
        raise HarvestError(f"{node}: member <{name}> carries statements about other resources than <{resource.value}>")
    return Member(getattr(time, "value", ""), kind.value.removeprefix(AS), resource.value, payload)


def _utc(time: object) -> bool:
    """Whether *time* is an xsd:dateTime in UTC, as ndlld writes them."""
    return isinstance(time, Literal) and time.datatype.value == XSD_DATETIME and UTC.fullmatch(time.value) is not None
