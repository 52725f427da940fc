"""Every fact of the source page is in the graph with its exact value, and what the page
does not say is not (tests/coverage.yaml lists both)."""

from __future__ import annotations

import pytest
import yaml
from pyoxigraph import DefaultGraph, Quad, Store

from ndlld.graph import resource_base
from ndlld.namespaces import NDL, SCHEMA

from conftest import TESTS

ENTRIES = yaml.safe_load((TESTS / "coverage.yaml").read_text(encoding="utf-8"))
FACTS = [entry for entry in ENTRIES if "fact" in entry]
ABSENT = [entry for entry in ENTRIES if "absent" in entry]


@pytest.fixture(scope="module")
def store(real_graph) -> Store:
    return _store(real_graph.triples)


def _store(triples) -> Store:
    store = Store()
    store.bulk_extend(Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in triples)
    return store


def _prefixes(base: str) -> str:
    return (
        f"PREFIX schema: <{SCHEMA}>\nPREFIX ndl: <{NDL}>\nPREFIX dcterms: <http://purl.org/dc/terms/>\n"
        f"PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\nPREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        f"PREFIX id: <{resource_base(base)}>\n"
    )


@pytest.mark.parametrize("fact", FACTS, ids=[f["fact"][:60] for f in FACTS])
def test_fact_is_in_the_graph(store: Store, real_graph, fact: dict):
    answer = store.query(_prefixes(real_graph.base) + fact["ask"])
    assert bool(answer), f"not in the graph: {fact['fact']}"


@pytest.mark.parametrize("entry", ABSENT, ids=[a["absent"][:60] for a in ABSENT])
def test_what_the_page_does_not_say_is_not_in_the_graph(store: Store, real_graph, entry: dict):
    answer = store.query(_prefixes(real_graph.base) + entry["ask"])
    assert not bool(answer), f"in the graph, though the page does not say it: {entry['absent']}"


def test_every_entry_is_a_fact_or_an_absence():
    assert len(FACTS) + len(ABSENT) == len(ENTRIES) and len(ABSENT) >= 10


def test_an_added_statement_is_noticed(real_graph):
    """The absences can fail: a place given to the CDNLAO's 16th meeting is found."""
    from pyoxigraph import NamedNode, Triple

    base = resource_base(real_graph.base)
    added = Triple(NamedNode(base + "cdnlao-meetings#16"), NamedNode(str(SCHEMA) + "location"), NamedNode(base + "city/tokyo"))
    store = _store([*real_graph.triples, added])
    entry = next(a for a in ABSENT if "CDNLAO meetings the NDL hosted" in a["absent"])
    assert bool(store.query(_prefixes(real_graph.base) + entry["ask"]))


def test_a_missing_fact_is_noticed(real_graph):
    """The checks can fail: without the NDL's IFLA memberships, their facts are not found."""
    store = _store(t for t in real_graph.triples if "ifla#ndl-" not in t.subject.value)
    fact = next(f for f in FACTS if "associate member" in f["fact"])
    assert not bool(store.query(_prefixes(real_graph.base) + fact["ask"]))


def test_counts_on_the_page_stay_qualified(store: Store, real_graph):
    """'More than 1,700' and 'about 150' are never published as exact numbers."""
    query = _prefixes(real_graph.base) + "SELECT ?v ?q WHERE { ?c schema:value|schema:minValue ?v ; ndl:countQualifier ?q }"
    qualifiers = {int(row["v"].value): row["q"].value.rsplit("#", 1)[1] for row in store.query(query)}
    assert qualifiers[1700] == "MoreThan" and qualifiers[150] == "About"
    assert qualifiers[30] == "About" and qualifiers[50] == "About" and qualifiers[10] == "Exactly"
