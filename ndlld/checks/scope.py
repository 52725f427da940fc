"""What the shapes look at around a resource: the data a document's results depend on.

A document's results depend only on its *surroundings*: its own statements, those
pointing at its subjects as far as the shapes can see them (:func:`incoming_needs`),
the types of what it points at (for sh:class), the parent links above it (for
the cycle check) and the dataset's date of last change (:func:`dataset_modified`).
So a document can be validated with its surroundings as the data,
and validated again only when they change (:func:`touched_documents`). Of its own
statements, those the shapes judge one at a time need not be seen again while nothing
they depend on changed (:func:`judged_alone`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, TypedDict

from pyoxigraph import NamedNode, Triple

from ndlld.lookup import Lookup, document_of
from ndlld.namespaces import SH
from ndlld.rdf import subject_value, term_text

if TYPE_CHECKING:
    import rdflib

RDF_TYPE_IRI = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PARENT_IRI = "http://schema.org/parentOrganization"
DATASET_CLASS_IRI, MODIFIED_IRI = "http://schema.org/Dataset", "http://schema.org/dateModified"

# The cycle check's property path (parentOrganization+) is followed by rdflib
# recursively: about a thousand organizations above one would exhaust Python's
# stack. No real organization has more than a few.
MAX_PARENTS = 100
TOO_MANY_PARENTS = (
    f"has more than {MAX_PARENTS} parent organizations above it, directly or through others (a chain or a cycle too long to check)"
)

# What the shapes see of the statements pointing at a resource, by property: how many
# (None: all of them); a property absent, none. None altogether: every statement.
Needs = dict[str, int | None] | None


def surroundings(lookup: Lookup, document: str, needs: Needs, left_out: Callable[[Triple], bool] | None = None) -> set[Triple]:
    """What the shapes look at to validate the resources of *document*: its statements,
    those pointing at its subjects that *needs* keeps (:func:`pointing_seen`: of a bounded
    property, as many as the shapes see, which ones the lookup chooses), the types of what
    it points at, and every parent link above it. Its statements for which *left_out*
    holds, and the types of what only they point at, are left out (see :func:`judged_alone`)."""
    every = lookup.in_document(document)
    own = every if left_out is None else [t for t in every if not left_out(t)]
    found = set(own)
    for subject in dict.fromkeys(subject_value(t) for t in every):
        found.update(pointing_seen(lookup, subject, needs))
    for target in {t.object.value for t in own if isinstance(t.object, NamedNode)}:
        found.update(t for t in lookup.about(target) if t.predicate.value == RDF_TYPE_IRI)
    found.update(parent_links_above(lookup, document))
    found.update(dataset_modified(lookup))
    return found


def dataset_modified(lookup: Lookup) -> list[Triple]:
    """The dataset's type and date of last change: every document's surroundings hold them,
    as a shape compares the years each record states with that date. A change of it is
    a change of dataset.yaml, after which everything is checked again."""
    found = [t for t in lookup.pointing_at(DATASET_CLASS_IRI) if t.predicate.value == RDF_TYPE_IRI]
    return found + [t for dataset in found for t in lookup.stated(subject_value(dataset), MODIFIED_IRI)]


def pointing_seen(lookup: Lookup, obj: str, needs: Needs) -> list[Triple]:
    """Of the statements pointing at *obj*, those the shapes see: every one when *needs* is
    None; else those of each property they follow backwards, so many of a bounded one."""
    if needs is None:
        return list(lookup.pointing_at(obj))
    return [t for predicate, bound in needs.items() for t in lookup.pointing_by(obj, predicate, bound)]


def parent_links_above(lookup: Lookup, organization: str) -> set[Triple]:
    """Every parent link above *organization*, directly or through others: what the cycle check follows."""

    def up(node: str) -> Iterator[tuple[Triple, str]]:
        return ((t, term_text(t.object)) for t in lookup.about(node) if t.predicate.value == PARENT_IRI)

    return _walk(organization, up)[0]


def _walk(start: str, step: Callable[[str], Iterable[tuple[Triple, str]]]) -> tuple[set[Triple], set[str]]:
    """The parent links reached from *start*, *step* by step (each link and where it leads),
    and the organizations reached, *start* among them."""
    links: set[Triple] = set()
    seen = {start}
    todo = [start]
    while todo:
        for link, reached in step(todo.pop()):
            links.add(link)
            if reached not in seen:
                seen.add(reached)
                todo.append(reached)
    return links, seen


def touched_documents(lookup: Lookup, iris: Iterable[str], needs: Needs) -> set[str]:
    """The documents whose :func:`surroundings` may hold a statement about one of *iris*,
    or pointing at one: theirs, those pointing at one (its types), those one points at
    (as far as *needs* sees it), and those below one through parent links."""
    found: set[str] = set()
    for iri in iris:
        found.add(document_of(iri))
        found.update(document_of(t.subject.value) for t in lookup.pointing_at(iri) if isinstance(t.subject, NamedNode))
        found.update(
            document_of(t.object.value)
            for t in lookup.about(iri)
            if isinstance(t.object, NamedNode) and (needs is None or t.predicate.value in needs)
        )
        found.update(_below(lookup, iri))
    return {document for document in found if lookup.in_document(document)}


def documents_reached_by(lookup: Lookup, statements: Iterable[Triple], needs: Needs) -> set[str]:
    """The documents whose :func:`surroundings` hold one of *statements* (in the graph of
    *lookup*, or in the graph before it, where the statements differ): its subject's; its
    object's, when the shapes see that property from the object's side; of a type, those
    pointing at the typed resource; of a parent link, those below it. Finer than
    :func:`touched_documents` of their IRIs: a record citing the source every record cites
    does not reach the documents of all the others."""
    found: set[str] = set()
    for triple in statements:
        subject, predicate = subject_value(triple), triple.predicate.value
        found.add(document_of(subject))
        if isinstance(triple.object, NamedNode) and (needs is None or predicate in needs):
            found.add(document_of(triple.object.value))
        if predicate == RDF_TYPE_IRI:
            found.update(document_of(t.subject.value) for t in lookup.pointing_at(subject) if isinstance(t.subject, NamedNode))
        if predicate == PARENT_IRI:
            found.update(_below(lookup, subject))
    return {document for document in found if lookup.in_document(document)}


def _below(lookup: Lookup, iri: str) -> set[str]:
    """The organizations that are documents with *iri* above them through parent links."""

    def down(node: str) -> Iterator[tuple[Triple, str]]:
        return (
            (t, t.subject.value) for t in lookup.pointing_at(node) if t.predicate.value == PARENT_IRI and isinstance(t.subject, NamedNode)
        )

    return {organization for organization in _walk(iri, down)[1] if organization != iri and document_of(organization) == organization}


def too_many_parents(parents: Mapping[str, Sequence[Triple]]) -> Triple | None:
    """The first parent link of an organization with more than :data:`MAX_PARENTS`
    organizations above it, directly or through others; or None. *parents*: each
    organization's links to parents named by IRI, in the order to report them."""
    above_of = {organization: [t.object.value for t in links if isinstance(t.object, NamedNode)] for organization, links in parents.items()}
    for organization, links in parents.items():
        above: set[str] = set()
        todo = [organization]
        while todo and len(above) <= MAX_PARENTS:
            for parent in above_of.get(todo.pop(), ()):
                if parent not in above:
                    above.add(parent)
                    todo.append(parent)
        if len(above) > MAX_PARENTS:
            return links[0]
    return None


# What a shape may say of a property shape without looking at its values' own
# statements: the non-validating parameters, and sh:minCount.
_NOT_CONSTRAINTS = {
    RDF_TYPE_IRI,
    "http://www.w3.org/2000/01/rdf-schema#comment",
    "http://www.w3.org/2000/01/rdf-schema#label",
    *(str(SH) + name for name in ("path", "message", "severity", "name", "description", "order", "group", "deactivated")),
}


def incoming_needs(shapes: rdflib.Graph) -> Needs:
    """How many of the statements pointing at a resource the *shapes* can see, by property.

    A resource's surroundings need not carry every statement that points at it: the
    source every record cites is pointed at by most statements of the graph. Read from
    the shapes graph: a property followed backwards (``sh:inversePath``) by property
    shapes asking only ``sh:minCount n`` needs n such statements (n values say as much
    as more); followed backwards in any other way, by ``sh:targetObjectsOf`` or named in
    a SPARQL constraint, all of them (None); a property the shapes never follow
    backwards, none (absent). None altogether, every statement, for a path or target
    this function does not handle.
    """
    from rdflib.namespace import SH as S

    if (None, S.target, None) in shapes:  # SPARQL-based or custom targets: anything
        return None
    needs: dict[str, int | None] = {}
    for predicate in shapes.objects(None, S.targetObjectsOf):
        _need(needs, predicate, None)
    for shape, path in shapes.subject_objects(S.path):
        inverse = _inverse_path(shapes, path)
        if inverse is False:
            return None
        if inverse is not None:
            _need(needs, inverse, _min_count_only(shapes, shape))
    for constraint in shapes.objects(None, S.sparql):
        predicates = _sparql_predicates(shapes.value(constraint, S.select))
        if predicates is None:
            return None
        for predicate in predicates:
            _need(needs, predicate, None)
    return needs


# Parameters by which a property shape judges each value alone: its result on one
# statement depends on that statement and the value's types, not on the other values.
_BY_VALUE = {
    str(SH) + name
    for name in (
        "class", "datatype", "nodeKind", "in", "languageIn", "pattern", "flags", "minLength", "maxLength",
        "minInclusive", "maxInclusive", "minExclusive", "maxExclusive",
    )
}  # fmt: skip
_LOGICAL = {str(SH) + name for name in ("or", "and", "xone", "not")}
_TARGETS = {str(SH) + name for name in ("targetClass", "targetSubjectsOf", "targetObjectsOf")}
# Parameters that compare a property's values with another property's, named by its IRI.
_COMPARING = {str(SH) + name for name in ("equals", "disjoint", "lessThan", "lessThanOrEquals")}
# The SHACL terms :func:`judged_alone` reads; shapes using any other (sh:rule, a custom
# constraint component ...) may look at anything.
_KNOWN = {
    str(SH) + name
    for name in (
        "property", "path", "targetClass", "targetSubjectsOf", "targetObjectsOf", "targetNode", "target", "message",
        "severity", "name", "description", "order", "group", "deactivated", "sparql", "select", "prefixes",
        "declare", "prefix", "namespace", "minCount", "maxCount", "uniqueLang", "hasValue", "node",
        "qualifiedValueShape", "qualifiedMinCount", "qualifiedMaxCount", "qualifiedValueShapesDisjoint", "closed",
        "ignoredProperties", "inversePath", "alternativePath", "zeroOrMorePath", "oneOrMorePath", "zeroOrOnePath",
    )
} | _BY_VALUE | _LOGICAL | _COMPARING  # fmt: skip


class Alone(TypedDict):
    """Which statements the shapes judge one at a time (:func:`judged_alone`), as the state keeps it."""

    never: list[str]  # the properties always judged with the others
    # By property: the classes, and the properties, of the resources whose statements of it
    # a counting shape targets (and so judges together).
    counted: dict[str, dict[str, list[str]]]
    # By property: the classes, and the properties, of the resources targeted by a SPARQL
    # constraint naming it; its query may read the statements of any resource beside them,
    # so it is judged together for every resource of a document that holds one.
    queried: dict[str, dict[str, list[str]]]


def judged_alone(shapes: rdflib.Graph, superclasses: Mapping[str, set[str]]) -> Alone | None:
    """Of the statements of a resource, which the *shapes* judge one at a time (see
    :func:`alone_for`): those of a property that only property shapes follow forwards
    whose parameters judge each value alone (sh:class, sh:datatype, sh:in, sh:or of such
    ...), and only as shapes targeted by class or subjects of a property, not nested in
    others. A statement of such a property that has no result, and whose value's types
    did not change, still has none: the check of its resource's document need not see it
    again. A property is judged together for the resources targeted by the shapes that
    count it (sh:minCount, sh:qualifiedMinCount ...), for every resource of a document
    holding one that a SPARQL constraint naming it targets (:func:`queried_in`), and for
    every resource when named by a target, a comparison, a path other than itself or its
    inverse, or a SPARQL constraint or shape nested in another. None (every
    statement judged with the others) for closed shapes, SPARQL-based, custom or node
    targets, and SHACL this does not read. *superclasses*: each class of the vocabulary
    with those above it."""
    never = _never_alone(shapes)
    if never is None:
        return None
    counted: dict[str, dict[str, set[str]]] = {}
    queried: dict[str, dict[str, set[str]]] = {}
    _paths_judged(shapes, superclasses, never, counted)
    if not _sparql_together(shapes, superclasses, never, queried):
        return None

    def kept(judged: dict[str, dict[str, set[str]]]) -> dict[str, dict[str, list[str]]]:
        return {p: {k: sorted(v) for k, v in kinds.items()} for p, kinds in sorted(judged.items()) if p not in never}

    return {"never": sorted(never), "counted": kept(counted), "queried": kept(queried)}


def alone_for(alone: Alone | None, statements: Sequence[Triple]) -> set[str]:
    """The properties whose statements the shapes judge one at a time for the resource
    whose *statements* these are (all of them; :func:`judged_alone`): every property of
    its statements but those never judged alone, and those counted for one of its classes
    or properties. Empty for None."""
    if alone is None:
        return set()
    types = {term_text(t.object) for t in statements if t.predicate.value == RDF_TYPE_IRI}
    properties = {t.predicate.value for t in statements}
    counted = alone["counted"]
    return {
        p
        for p in properties.difference(alone["never"])
        if p not in counted or not (types.intersection(counted[p]["classes"]) or properties.intersection(counted[p]["properties"]))
    }


def queried_in(alone: Alone | None, statements: Iterable[Triple]) -> set[str]:
    """The properties judged together for every resource of a document whose *statements*
    these are (all of them): those named by a SPARQL constraint that targets one of its
    resources, whose query may read its neighbours' statements."""
    queried = alone.get("queried", {}) if alone is not None else {}
    types: set[str] = set()
    properties: set[str] = set()
    for t in statements:
        properties.add(t.predicate.value)
        if t.predicate.value == RDF_TYPE_IRI:
            types.add(term_text(t.object))
    return {p for p, kinds in queried.items() if types.intersection(kinds["classes"]) or properties.intersection(kinds["properties"])}


def _never_alone(shapes: rdflib.Graph) -> set[str] | None:
    """The properties a target or a comparison names, and rdf:type; None when the shapes
    may look at any statement together."""
    import rdflib

    if any(str(p).startswith(str(SH)) and str(p) not in _KNOWN for p in set(shapes.predicates())):
        return None
    if any((None, rdflib.URIRef(str(SH) + name), None) in shapes for name in ("closed", "targetNode", "target")):
        return None
    never: set[str] = {RDF_TYPE_IRI}
    named = _COMPARING | {str(SH) + "targetSubjectsOf", str(SH) + "targetObjectsOf"}
    never.update(str(o) for p in named for o in shapes.objects(None, rdflib.URIRef(p)))
    return never


def _applied_to_values(shapes: rdflib.Graph) -> set:
    """What a property shape's parameters lead to: shapes applied to its values, not to
    the resources its shape targets."""
    import rdflib

    path = rdflib.URIRef(str(SH) + "path")
    return _reachable(shapes, [o for shape in set(shapes.subjects(path, None)) for p, o in shapes.predicate_objects(shape) if p != path])


def _reachable(shapes: rdflib.Graph, start: list) -> set:
    """The nodes of *shapes* reached from *start* by following statements forwards."""
    found: set = set()
    todo = list(start)
    while todo:
        node = todo.pop()
        if node not in found:
            found.add(node)
            todo += [o for _, o in shapes.predicate_objects(node)]
    return found


def _count(
    shapes: rdflib.Graph,
    shape,
    followed: str,
    superclasses: Mapping[str, set[str]],
    never: set[str],
    counted: dict[str, dict[str, set[str]]],
) -> None:
    """Note how the property shape *shape* judges the statements of *followed*: one at a
    time (nothing to note), together for the resources it targets, or always together."""
    targets = _direct_targets(shapes, shape)
    if targets is None or targets[2]:  # inside another shape's constraint, or of resources known by what points at them
        never.add(followed)
    elif not _by_value(shapes, shape, 0):
        _together(targets, followed, superclasses, counted)


def _paths_judged(
    shapes: rdflib.Graph, superclasses: Mapping[str, set[str]], never: set[str], counted: dict[str, dict[str, set[str]]]
) -> None:
    """Note how each property shape judges the property its path follows."""
    import rdflib

    nested = _applied_to_values(shapes)
    for shape, path in shapes.subject_objects(rdflib.URIRef(str(SH) + "path")):
        inverse = _inverse_path(shapes, path)
        if inverse is False or (inverse is None and not isinstance(path, rdflib.URIRef)):  # not a property or its inverse
            never.update(str(node) for node in _reachable(shapes, [path]) if isinstance(node, rdflib.URIRef) and node != rdflib.RDF.nil)
            continue
        followed = str(inverse if inverse is not None else path)
        if shape in nested:
            never.add(followed)
        elif inverse is None:  # an inverse is seen from the value's side, in its document's check
            _count(shapes, shape, followed, superclasses, never, counted)


def _sparql_together(
    shapes: rdflib.Graph, superclasses: Mapping[str, set[str]], never: set[str], queried: dict[str, dict[str, set[str]]]
) -> bool:
    """Note the properties each SPARQL constraint names: judged together in the documents
    of the resources its shape targets (by class or subjects of a property), for every
    resource otherwise. False for a query that may name any property."""
    import rdflib

    for holder, constraint in shapes.subject_objects(rdflib.URIRef(str(SH) + "sparql")):
        named = _sparql_predicates(shapes.value(constraint, rdflib.URIRef(str(SH) + "select")))
        if named is None:
            return False
        targets = _direct_targets(shapes, holder)
        for followed in map(str, named):
            if targets is None or targets[2]:
                never.add(followed)
            else:
                _together(targets, followed, superclasses, queried)
    return True


def _together(targets: tuple[set[str], set[str], bool], followed: str, superclasses: Mapping[str, set[str]], judged: dict) -> None:
    """*followed* judged together for the resources of *targets* (classes and below, subjects of properties)."""
    kinds = judged.setdefault(followed, {"classes": set(), "properties": set()})
    kinds["classes"].update(_and_below(superclasses, targets[0]))
    kinds["properties"].update(targets[1])


def _direct_targets(shapes: rdflib.Graph, shape) -> tuple[set[str], set[str], bool] | None:
    """The targets a property shape is applied by (classes, subjects of properties, and
    whether objects of a property): its own, or those of the targeted shape whose
    sh:property it is; None when it is part of another shape's constraint, or shared."""
    import rdflib

    holders = list(shapes.subject_predicates(shape))
    if not holders:
        owner = shape
    elif len(holders) == 1 and holders[0][1] == rdflib.URIRef(str(SH) + "property") and not list(shapes.subject_predicates(holders[0][0])):
        owner = holders[0][0]
    else:
        return None
    found = {kind: {str(o) for o in shapes.objects(owner, rdflib.URIRef(kind))} for kind in _TARGETS}
    if not any(found.values()):
        return None
    return found[str(SH) + "targetClass"], found[str(SH) + "targetSubjectsOf"], bool(found[str(SH) + "targetObjectsOf"])


def _by_value(shapes: rdflib.Graph, shape, depth: int) -> bool:
    """Whether *shape* judges each value alone: only parameters of :data:`_BY_VALUE`, and
    sh:or, sh:and, sh:xone, sh:not of shapes that do, without paths of their own."""
    import rdflib
    from rdflib.collection import Collection

    if depth > 8:
        return False
    for predicate, value in shapes.predicate_objects(shape):
        name = str(predicate)
        if name in _NOT_CONSTRAINTS or name in _BY_VALUE:
            continue
        if name not in _LOGICAL:
            return False
        members = [value] if name == str(SH) + "not" else list(Collection(shapes, value))
        for member in members:
            if (member, rdflib.URIRef(str(SH) + "path"), None) in shapes or not _by_value(shapes, member, depth + 1):
                return False
    return True


def _and_below(superclasses: Mapping[str, set[str]], classes: set[str]) -> set[str]:
    """*classes* and every class of the vocabulary below one of them."""
    return set(classes) | {cls for cls, above in superclasses.items() if above & classes}


def _need(needs: dict[str, int | None], predicate, bound: int | None) -> None:
    key = str(predicate)
    if key in needs and (needs[key] is None or bound is None):
        needs[key] = None
    else:
        needs[key] = max(needs.get(key) or 0, bound) if bound is not None else None


def _inverse_path(shapes: rdflib.Graph, path):
    """The property a path follows backwards; None for a path that follows none
    backwards (a property, alternatives of properties); False for one not handled
    (sequences, inverses of paths, closures)."""
    import rdflib
    from rdflib.collection import Collection
    from rdflib.namespace import SH as S

    if isinstance(path, rdflib.URIRef):
        return None
    statements = list(shapes.predicate_objects(path))
    kinds = [p for p, _ in statements]
    if kinds == [S.alternativePath]:
        members = list(Collection(shapes, statements[0][1]))
        return None if members and all(isinstance(m, rdflib.URIRef) for m in members) else False
    if kinds != [S.inversePath] or not isinstance(statements[0][1], rdflib.URIRef):
        return False
    return statements[0][1]


def _min_count_only(shapes: rdflib.Graph, shape) -> int | None:
    """n, when the property *shape* asks only sh:minCount n of its path; else None (all)."""
    import rdflib
    from rdflib.namespace import SH as S

    parameters = {p for p in shapes.predicates(shape) if str(p) not in _NOT_CONSTRAINTS}
    counts = list(shapes.objects(shape, S.minCount))
    # Only a literal can be a number: an IRI's or a blank node's toPython is its text.
    count = counts[0].toPython() if len(counts) == 1 and isinstance(counts[0], rdflib.Literal) else None
    if parameters == {S.minCount} and isinstance(count, int):
        return count
    return None


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
