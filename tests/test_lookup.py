"""Looking statements up: the same answers in the same order whatever order the graph
was given in, and every question a page asks noted, those behind kept answers too."""

from __future__ import annotations

import random

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from ndlld.lookup import GROUPED_FROM, Reads, Recording, TriplesLookup, in_order, remembered, statement_order

ID = "https://example.org/id/"
SDO = "http://schema.org/"


def _triples() -> list[Triple]:
    ifla, ndl, role = NamedNode(ID + "ifla"), NamedNode(ID + "ndl"), NamedNode(ID + "ifla#member")
    return [
        Triple(ifla, NamedNode(SDO + "name"), Literal("IFLA", language="en")),
        Triple(ifla, NamedNode(SDO + "name"), Literal("国際図書館連盟", language="ja")),
        Triple(ifla, NamedNode(SDO + "alternateName"), Literal("IFLA")),
        Triple(role, NamedNode(SDO + "roleName"), Literal("member", language="en")),
        Triple(ndl, NamedNode(SDO + "memberOf"), role),
        Triple(ndl, NamedNode(SDO + "memberOf"), ifla),
        Triple(ndl, NamedNode(SDO + "name"), Literal("NDL", language="en")),
    ]


def test_answers_are_the_same_whatever_the_order_of_the_graph():
    triples = _triples()
    shuffled = triples[:]
    random.Random(3).shuffle(shuffled)
    one, other = TriplesLookup(triples), TriplesLookup(shuffled + triples[:2])  # and two statements made twice
    for ask in ("about", "pointing_at", "in_document"):
        for iri in (ID + "ifla", ID + "ndl", ID + "ifla#member"):
            answer = list(getattr(one, ask)(iri))
            assert answer == list(getattr(other, ask)(iri)) == sorted(answer, key=statement_order)
    assert [t.object.value for t in one.about(ID + "ifla")] == ["IFLA", "IFLA", "国際図書館連盟"]
    assert {t.subject.value for t in one.in_document(ID + "ifla")} == {ID + "ifla", ID + "ifla#member"}
    assert list(one.documents()) == [ID + "ifla", ID + "ndl"]
    assert one.about(ID + "nobody") == ()


def test_answers_sharing_a_term_are_sorted_as_every_answer_is():
    """Sorted by the rest of the key, an answer sharing its subject or its object is in
    statement order, a blank node among its subjects or not."""
    ifla = NamedNode(ID + "ifla")
    pointing = [Triple(NamedNode(ID + name), NamedNode(SDO + p), ifla) for name in ("b", "a", "c") for p in ("x", "memberOf")]
    blank = Triple(BlankNode("z"), NamedNode(SDO + "memberOf"), ifla)
    about = [t for t in _triples() if t.subject == ifla]
    for answer, shared in [(pointing, "object"), ([blank, *pointing], "object"), (about[::-1], "subject"), (_triples()[::-1], None)]:
        assert in_order(answer, shared) == sorted(answer, key=statement_order)
    assert in_order([blank, *pointing], "object")[-1] == blank  # IRIs first


def test_what_is_stated_of_a_resource_is_what_is_said_about_it_by_that_predicate():
    """A resource with a few statements, and one with more than are looked through (the
    publisher's memberships), answer alike: in the order of ``about``."""
    publisher = NamedNode(ID + "ndl")
    many = [Triple(publisher, NamedNode(SDO + "memberOf"), NamedNode(f"{ID}org-{n:03}")) for n in range(GROUPED_FROM + 5)]
    lookup = TriplesLookup(_triples() + many[::-1])
    assert len(lookup.about(ID + "ifla")) < GROUPED_FROM <= len(lookup.about(ID + "ndl"))
    for subject in (ID + "ifla", ID + "ndl"):
        for predicate in (SDO + "name", SDO + "memberOf", SDO + "alternateName", SDO + "nothing"):
            assert list(lookup.stated(subject, predicate)) == [t for t in lookup.about(subject) if t.predicate.value == predicate]
    assert len(lookup.stated(ID + "ndl", SDO + "memberOf")) == GROUPED_FROM + 7  # and the two of _triples
    assert [t.object.value for t in lookup.stated(ID + "ifla", SDO + "name")] == ["IFLA", "国際図書館連盟"]


def test_statements_pointing_by_a_predicate_are_the_first_so_many_in_memory_and_noted_whole():
    """In memory, some statements by a predicate pointing at a resource are the first in
    statement order; a page asking for them depends on all that point at it."""
    publisher = NamedNode(ID + "ndl")
    members = [Triple(NamedNode(f"{ID}org-{n:03}"), NamedNode(SDO + "member"), publisher) for n in range(5)]
    lookup = TriplesLookup(_triples() + members[::-1])
    assert list(lookup.pointing_by(ID + "ndl", SDO + "member")) == members
    assert list(lookup.pointing_by(ID + "ndl", SDO + "member", 2)) == members[:2]
    assert list(lookup.pointing_by(ID + "ifla", SDO + "memberOf", 5)) == [t for t in _triples() if t.object.value == ID + "ifla"]
    assert list(lookup.pointing_by(ID + "ndl", SDO + "memberOf")) == []
    graph = Recording(lookup)
    with graph.reads() as found:
        assert len(graph.pointing_by(ID + "ndl", SDO + "member", 1)) == 1
    assert found == {("pointing_at", ID + "ndl")}


def test_statements_between_two_resources_are_found_from_either_side_and_noted_whole():
    """What one resource says of another, found among its statements or among those pointing
    at the other, whichever are fewer: in the order of either answer; a page asking
    depends on all that point at the other, as it would reading them."""
    ndl, ifla = NamedNode(ID + "ndl"), NamedNode(ID + "ifla")
    citing = [Triple(NamedNode(f"{ID}org-{n:03}"), NamedNode(SDO + "member"), ifla) for n in range(5)]
    said = [Triple(ndl, NamedNode(SDO + p), ifla) for p in ("sponsor", "funder")]
    for more in ([], citing, [Triple(ndl, NamedNode(SDO + "knows"), NamedNode(f"{ID}org-{n:03}")) for n in range(9)]):
        lookup = TriplesLookup(_triples() + said + more[::-1])
        expected = [t for t in lookup.about(ID + "ndl") if t.object == ifla]
        assert [t.predicate.value for t in expected] == [SDO + "funder", SDO + "memberOf", SDO + "sponsor"]
        assert list(lookup.between(ID + "ndl", ID + "ifla")) == expected
        assert list(lookup.between(ID + "ndl", ID + "ifla")) == [t for t in lookup.pointing_at(ID + "ifla") if t.subject == ndl]
    assert list(lookup.between(ID + "ifla", ID + "ndl")) == list(lookup.between(ID + "nobody", ID + "ifla")) == []
    graph = Recording(lookup)
    with graph.reads() as found:
        assert len(graph.between(ID + "ndl", ID + "ifla")) == 3
    assert found == {("pointing_at", ID + "ifla")}


def test_who_points_at_a_resource_is_what_points_at_it_and_noted_as_that():
    """The subject and predicate of each statement pointing at a resource, in the order of
    those statements: the lighter answer a page's "Linked from" asks, noted as the same question."""
    ifla = NamedNode(ID + "ifla")
    citing = [Triple(NamedNode(f"{ID}org-{n:03}"), NamedNode(SDO + p), ifla) for n in (3, 1, 2) for p in ("member", "funder")]
    lookup = TriplesLookup(_triples() + citing)
    expected = [(t.subject.value, t.predicate.value) for t in lookup.pointing_at(ID + "ifla")]
    assert list(lookup.pointers(ID + "ifla")) == expected
    assert expected[:3] == [(ID + "ndl", SDO + "memberOf"), (ID + "org-001", SDO + "funder"), (ID + "org-001", SDO + "member")]
    assert list(lookup.pointers(ID + "nobody")) == []
    graph = Recording(lookup)
    with graph.reads() as found:
        assert len(graph.pointers(ID + "ifla")) == 7
    assert found == {("pointing_at", ID + "ifla")}


class _Page:
    def __init__(self, graph: Recording):
        self.graph = graph

    @remembered
    def name(self, iri: str) -> str:
        return next(t.object.value for t in self.graph.about(iri) if t.predicate.value == SDO + "name")


def test_every_question_is_noted_and_kept_answers_note_theirs_again():
    graph = Recording(TriplesLookup(_triples()))
    page = _Page(graph)
    with graph.reads() as first:
        assert page.name(ID + "ifla") == "IFLA"
        graph.pointing_at(ID + "ifla")
    assert first == {("about", ID + "ifla"), ("pointing_at", ID + "ifla")}
    with graph.reads() as second:  # the name is kept: not looked up again, but noted
        assert page.name(ID + "ifla") == "IFLA"
    assert second == {("about", ID + "ifla")}
    with graph.reads() as outer:
        with graph.reads() as inner:
            graph.in_document(ID + "ndl")
        graph.documents()
    assert inner == {("in_document", ID + "ndl")}
    assert outer == inner | {("documents", "")}
    graph.about(ID + "ndl")  # outside any block: nothing to note, nothing fails


class _CountedPage(_Page):
    made = 0

    @remembered
    def name(self, iri: str) -> str:
        self.made += 1
        return next(t.object.value for t in self.graph.about(iri) if t.predicate.value == SDO + "name")


def test_answers_made_while_unkept_are_noted_but_made_again_when_asked_again():
    """A page that sorts a long list by names asks each once: it does not keep them all."""
    graph = Recording(TriplesLookup(_triples()))
    page = _CountedPage(graph)
    with graph.reads() as first, graph.unkept():
        assert page.name(ID + "ifla") == "IFLA"
    with graph.reads() as second:
        assert page.name(ID + "ifla") == "IFLA"
        assert page.name(ID + "ifla") == "IFLA"
    assert first == second == {("about", ID + "ifla")}
    assert page.made == 2  # once while unkept, once kept


def test_a_pages_reads_kept_packed_are_given_back_as_they_were():
    """Keys may hold spaces and line breaks (a ``ranked`` read's holds its row)."""
    reads = {("stated", "https://example.org/id/ifla https://schema.org/name"), ("ranked", "about x\nlinked_from en y"), ("documents", "")}
    packed = Reads(reads)
    assert list(packed) == sorted(reads) and set(packed) == reads
    assert packed == Reads(sorted(reads, reverse=True)) and packed != Reads(reads - {("documents", "")})
