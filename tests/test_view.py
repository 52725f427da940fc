"""What a page shows is decided by the graph's statements alone, and a page's reads
name every lookup it was made from: the same page from any order of the statements,
and the same page after any change to statements it did not read.

The pages are made through the public rendering API (:func:`ndlld.site.render_page`),
over the real data and over small random graphs that have what the order of the
records could decide: several names, abbreviations, start dates, memberships,
holders and sources for one resource.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from pyoxigraph import Literal, NamedNode, RdfFormat, Triple

from ndlld.dumps import read_triples
from ndlld.lookup import document_of
from ndlld.resources import ontology_path
from ndlld.site import Page, environment, render_index, render_page, render_void, site_header
from ndlld.site.involvements import involvements_on
from ndlld.site.listing import EntriesListing
from ndlld.site.view import SiteView
from ndlld.site.void import DISTRIBUTIONS, FileFacts

from conftest import ROOT

VOCABULARY = read_triples(ontology_path(), RdfFormat.TURTLE)
ENV = environment()
FACTS = {d.file: FileFacts(1, "0" * 64) for d in DISTRIBUTIONS}  # what the dumps' files would say
SDO = "http://schema.org/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
DCTERMS_SOURCE = "http://purl.org/dc/terms/source"
RDF_STATEMENT = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#Statement")
BASE = "https://example.org/"
ID = BASE + "id/"
DATASET = ID + "dataset"
PUBLISHER = ID + "ndl"
EXAMPLES = settings(
    max_examples=300,
    deadline=None,  # no timing asserts: the machine may be busy
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=DirectoryBasedExampleDatabase(ROOT / ".pytest_cache" / "hypothesis"),  # as test_properties keeps its failures
)


def _view(triples: list[Triple], context, base: str = BASE) -> SiteView:
    return SiteView.of(triples, VOCABULARY, base, context)


def _pages(view: SiteView, site: dict | None = None) -> dict[str, Page]:
    """Every page, the publisher's last: it lists the involvements the others give."""
    site = site or site_header(view)
    pages = {document: render_page(view, ENV, site, document) for document in view.documents() if document != view.publisher}
    if view.publisher in view.documents():
        pages[view.publisher] = render_page(view, ENV, site, view.publisher, {document: page.entry for document, page in pages.items()})
    return pages


def _site(view: SiteView, triples: int) -> tuple:
    """Every page's files, the index made of the pages' entries, and the VoID description."""
    pages = _pages(view)
    index = render_index(view, ENV, site_header(view), FACTS, EntriesListing({document: page.entry for document, page in pages.items()}))
    return {document: page.files for document, page in pages.items()}, index, render_void(view, triples, FACTS)


# -- the same pages from any order ----------------------------------------------


def test_the_real_data_makes_the_same_site_in_any_order(real_graph, context):
    """Every page, the index and the VoID description, from the records' order, the reverse
    and a shuffle of the statements, some of them given twice."""
    triples = list(real_graph.triples)
    shuffled = triples[:]
    random.Random(20).shuffle(shuffled)
    sites = []
    for order in (triples, triples[::-1], shuffled + triples[:40]):
        view = _view(order, context, real_graph.base)
        sites.append(_site(view, len(triples)))
    assert sites[0] == sites[1] == sites[2]
    assert len(sites[0][0]) == len({document_of(t.subject.value) for t in triples}) > 50


# Small graphs with what the records' order could decide: resources of two documents and
# their hash resources, the publisher, an outside resource; several values of one property.
IRIS = [ID + name for name in ("ndl", "ifla", "ifla#member", "ifla#count", "series", "series#m1", "series#m2", "jp", "source/a")]
IRIS.append("https://elsewhere.example/thing")
_names = st.builds(Literal, st.sampled_from(["A", "B", "AB", "ab", "Zz"]), language=st.sampled_from(["en", "ja"]))
_texts = st.sampled_from(["A", "B", "AB", "ab", "Zz"]).map(Literal)
_dates = st.sampled_from(["1966", "1976", "2001-05-01", "1976-02-03"]).map(Literal)
_types = st.sampled_from(["Organization", "Event", "EventSeries", "Role", "OrganizationRole", "QuantitativeValue", "Country"])
_links = ["memberOf", "organizer", "attendee", "funder", "subEvent", "parentOrganization", "about", "member"]
_subjects = st.sampled_from(IRIS[:-1]).map(NamedNode)
_objects = st.sampled_from(IRIS).map(NamedNode)
STATEMENTS = st.one_of(
    st.builds(Triple, _subjects, st.sampled_from(["name", "roleName", "description"]).map(lambda p: NamedNode(SDO + p)), _names),
    st.builds(Triple, _subjects, st.just(NamedNode(SDO + "alternateName")), _texts),
    st.builds(Triple, _subjects, st.just(NamedNode(SDO + "startDate")), _dates),
    st.builds(Triple, _subjects, st.just(NamedNode(SDO + "value")), st.sampled_from(["3", "1700"]).map(Literal)),
    st.builds(Triple, _subjects, st.just(NamedNode(RDF_TYPE)), _types.map(lambda t: NamedNode(SDO + t))),
    st.builds(Triple, _subjects, st.sampled_from(_links).map(lambda p: NamedNode(SDO + p)), _objects),
    st.builds(Triple, _subjects, st.just(NamedNode(DCTERMS_SOURCE)), _objects),
)
_ALWAYS = [  # the dataset and its publisher: every page's header, and whose involvements are shown
    Triple(NamedNode(DATASET), NamedNode(SDO + "name"), Literal("A dataset", language="en")),
    Triple(NamedNode(DATASET), NamedNode(SDO + "publisher"), NamedNode(PUBLISHER)),
    Triple(NamedNode(DATASET), NamedNode(DCTERMS_SOURCE), NamedNode(ID + "source/a")),
]


def _statement(subject: str, predicate: str, obj: str) -> Triple:
    return Triple(NamedNode(ID + subject), NamedNode(SDO + predicate), Literal(obj) if obj[0].isdigit() else NamedNode(ID + obj))


# The publisher's parts as the records make them, some held in another document than their own.
ROLES = [
    _statement(*statement)
    for statement in [
        ("ndl", "memberOf", "ifla#member"),
        ("ifla#member", "memberOf", "ifla"),
        ("ifla#member", "startDate", "1976"),
        ("series", "subEvent", "series#m1"),
        ("series#m1", "attendee", "ndl"),
        ("series#m1", "startDate", "2001-05-01"),
        ("series#m2", "memberOf", "ifla"),
        ("series#m2", "organizer", "ndl"),
        ("series#m2", "startDate", "1966"),
        ("series", "organizer", "ifla"),
        ("ndl", "funder", "series#fee"),
        ("series#fee", "memberOf", "ifla#member"),
        ("series#fee", "startDate", "1990"),
    ]
]
CHANGES = st.one_of(STATEMENTS, st.sampled_from(ROLES))
_SOME_ROLES = st.lists(st.booleans(), min_size=len(ROLES), max_size=len(ROLES)).map(
    lambda kept: [role for role, keep in zip(ROLES, kept) if keep]  # each there or not, as likely
)
GRAPHS = st.tuples(_SOME_ROLES, st.lists(STATEMENTS, max_size=20)).map(lambda parts: _ALWAYS + parts[0] + parts[1])


@EXAMPLES
@given(graph=GRAPHS, order=st.randoms(use_true_random=False))
def test_a_site_is_the_same_whatever_the_order_of_its_statements(graph: list[Triple], order, context):
    shuffled = graph[:]
    order.shuffle(shuffled)
    assert _site(_view(graph, context), len(graph)) == _site(_view(shuffled + graph[:3], context), len(graph))


# -- a page's reads ----------------------------------------------------------------


def test_a_pages_reads_name_every_resource_it_shows(real_graph, context):
    """Its own statements, what each of them links to (by name), what links to its
    resources, and the publisher's involvements it lists; the same whether the names
    were made for this page or kept from another one."""
    warm = _view(real_graph.triples, context, real_graph.base)
    site = site_header(warm)
    pages = _pages(warm)
    lookup = warm.graph.lookup  # asked directly, this notes nothing
    assert len(pages) > 50
    for document, page in pages.items():
        asked = {("in_document", document)}
        named = set()  # resources of which the page reads all it says, or what it shows (a name)
        statements = {t.subject.value for t in lookup.in_document(document) if t.object == RDF_STATEMENT}
        for triple in lookup.in_document(document):
            asked.add(("pointing_at", triple.subject.value))
            named.add(triple.subject.value)
            if triple.subject.value in statements:  # a link's statement: shown as the link, with its sources
                continue
            if isinstance(triple.object, NamedNode):
                named.add(triple.object.value)
        for involvement in involvements_on(warm, document):
            named.add(involvement.iri)
        assert asked <= page.reads, document
        read_of = {key if kind == "about" else key.split(" ")[0] for kind, key in page.reads if kind in ("about", "stated")}
        assert named <= read_of, document
        fresh = _view(real_graph.triples, context, real_graph.base)
        given = {other: kept.entry for other, kept in pages.items() if other != document}
        assert render_page(fresh, ENV, site, document, given).reads == page.reads, document


def test_the_view_has_no_room_for_a_memo_that_would_hide_its_reads(real_graph, context):
    view = _view(real_graph.triples, context, real_graph.base)
    with pytest.raises(AttributeError):
        view.names = {}  # a memo of its own: it would answer without noting what it read


def _lookups_changed_by(statement: Triple, before: SiteView, after: SiteView) -> set[tuple[str, str]]:
    """What a lookup answers differently once *statement* is added or taken away."""
    subject = statement.subject.value
    found = {("about", subject), ("stated", f"{subject} {statement.predicate.value}"), ("in_document", document_of(subject))}
    if isinstance(statement.object, NamedNode):
        found.add(("pointing_at", statement.object.value))
    if list(before.graph.lookup.documents()) != list(after.graph.lookup.documents()):
        found.add(("documents", ""))
    return found


# A part held in another document than its own, whose only link to the publisher is the
# publisher's: its page reads that link from the part's side.
HELD_ELSEWHERE = [*_ALWAYS, *ROLES[-3:], _statement("ifla#member", "memberOf", "ifla")]


@EXAMPLES
@given(graph=GRAPHS, added=CHANGES)
@example(graph=HELD_ELSEWHERE, added=ROLES[0])
def test_a_change_to_what_a_page_did_not_read_leaves_it_as_it_was(graph: list[Triple], added: Triple, context):
    """Each statement of the graph taken away, and one added: every page that read none of
    the lookups it changes is the same, byte for byte (the header every page shares is
    compared apart, as a whole)."""
    before = _view(graph, context)
    site = site_header(before)
    # In order, with one view: the later pages use names kept from the earlier ones.
    pages = _pages(before)
    for change in dict.fromkeys([added, *graph]):
        after = _view([t for t in graph if t != change] if change in graph else [*graph, change], context)
        touched = _lookups_changed_by(change, before, after)
        made = _pages(after, site)
        for document, page in pages.items():
            if touched & page.reads or document not in made:
                continue
            if document == before.publisher and _involvements_given(pages, document) != _involvements_given(made, document):
                event("the publisher's page, given other involvements")
                assert made[document].files != page.files, (document, change)
                continue
            event("a page that did not read the change")
            assert made[document].files == page.files, (document, change)


def _involvements_given(pages: dict[str, Page], publisher: str) -> set:
    """What the other pages give the publisher's page."""
    return {involvement for document, page in pages.items() if document != publisher for involvement in page.entry.involvements}


@EXAMPLES
@given(graph=GRAPHS)
@example(
    graph=[
        *_ALWAYS,
        *ROLES[4:6],
        _statement("ndl", "parentOrganization", "ndl"),
        Triple(NamedNode(PUBLISHER), NamedNode(RDF_TYPE), NamedNode(SDO + "Organization")),
    ]
)
def test_the_publishers_page_lists_every_dated_part_it_takes_linked_with_it(graph: list[Triple], context):
    """Whichever page describes a dated role or meeting, the publisher's page and the index
    list it when the publisher links to it or it to the publisher: from what each page gives."""
    view = _view(graph, context)
    pages = _pages(view)
    dated = {t.subject.value for t in graph if t.predicate.value == SDO + "startDate"}
    linked = {t.object.value for t in graph if t.subject.value == PUBLISHER} | {
        t.subject.value for t in graph if t.object.value == PUBLISHER
    }
    expected = sorted(dated & linked)
    given = [involvement.iri for page in pages.values() for involvement in page.entry.involvements]
    assert sorted(given) == expected
    if expected:
        event("the publisher has dated parts")
        index = render_index(
            view, ENV, site_header(view), FACTS, EntriesListing({document: page.entry for document, page in pages.items()})
        )
        for suffix in ("", ".ja"):  # the pages link to the page of their language
            html = pages[PUBLISHER].files[f"id/ndl{suffix}.html"].decode("utf-8") if PUBLISHER in pages else None  # no page: nothing said
            for iri in expected:
                path, hash_, fragment = iri.removeprefix(ID).partition("#")
                href = f"{path}{suffix}.html{hash_}{fragment}"
                assert html is None or f'href="{href}"' in html, iri
                assert f'href="id/{href}"' in index[f"index{suffix}.html"].decode("utf-8"), iri
