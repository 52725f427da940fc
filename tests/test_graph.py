"""Records -> graph: the triples are those a JSON-LD processor makes of the
records, and each remembers where it was written."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
import rdflib
import yaml
from pyld import jsonld
from pyoxigraph import Literal, NamedNode, Triple

from ndlld.build import load_graph
from ndlld.dumps import ntriples
from ndlld.graph import build_graph, resource_base
from ndlld.sources import load_sources

from conftest import DATA, GOOD

SCHEMA = "http://schema.org/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
ID = "https://example.org/ndlld/id/"


def _as_json(value):
    """YAML's own dates as the text they were written as (as ndlld reads them)."""
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _pyld_graph(data_dir: Path, context: dict) -> rdflib.Graph:
    """Every record through pyld, an independent JSON-LD processor."""
    sources = load_sources(data_dir)
    graph = rdflib.Graph()
    for record in [sources.dataset, *sources.records]:
        document = _as_json(yaml.safe_load(record.path.read_text(encoding="utf-8")))
        if record is sources.dataset:
            document = document["dataset"]
        document["@context"] = [context["@context"], {"@base": resource_base(sources.base)}]
        graph.parse(data=jsonld.to_rdf(document, {"format": "application/n-quads"}), format="nt")
    return graph


@pytest.mark.parametrize("data_dir", [GOOD, DATA], ids=["fixture", "real"])
def test_same_triples_as_an_independent_json_ld_processor(data_dir: Path, context):
    graph = build_graph(load_sources(data_dir), context)  # as written: no inverses added
    ours = rdflib.Graph().parse(data=ntriples(graph.triples), format="nt")
    theirs = _pyld_graph(data_dir, context.document)
    assert set(_as_json_ld_reads_links(ours)) == set(theirs)


def _as_json_ld_reads_links(graph: rdflib.Graph) -> rdflib.Graph:
    """*graph* with each link's statement as JSON-LD reads ``{id: T, source: S}``: a
    statement about T (the one way ndlld reads records otherwise, graph.py's docstring)."""
    statements = set(graph.subjects(rdflib.RDF.type, rdflib.RDF.Statement))
    read = rdflib.Graph()
    for triple in graph:
        if triple[0] not in statements:
            read.add(triple)
    for statement in statements:
        for source in graph.objects(statement, rdflib.DCTERMS.source):
            read.add((graph.value(statement, rdflib.RDF.object), rdflib.DCTERMS.source, source))
    assert statements or not list(graph.triples((None, rdflib.URIRef(SCHEMA + "sameAs"), None)))
    return read


def test_role_pattern_links_member_role_and_organization(context):
    graph = set(load_graph(GOOD, context).triples)
    role = NamedNode(ID + "ifla#ndl-associate-member")
    assert Triple(NamedNode(ID + "ndl"), NamedNode(SCHEMA + "memberOf"), role) in graph
    assert Triple(role, NamedNode(SCHEMA + "memberOf"), NamedNode(ID + "ifla")) in graph
    year = Literal("1966", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#gYear"))
    assert Triple(role, NamedNode(SCHEMA + "startDate"), year) in graph


def test_every_triple_knows_its_file_and_line(context):
    graph = load_graph(GOOD, context)
    assert set(graph.origins) == set(graph.triples)
    start = Triple(
        NamedNode(ID + "ifla#ndl-associate-member"),
        NamedNode(SCHEMA + "startDate"),
        Literal("1966", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#gYear")),
    )
    origin = graph.origins[start]
    assert Path(origin.path) == GOOD / "organizations" / "ifla.yaml" and origin.line == 22
    assert graph.nodes[ID + "ifla"].line == 1


def test_no_blank_nodes(real_graph):
    for triple in real_graph.triples:
        assert isinstance(triple.subject, NamedNode)
        assert not type(triple.object).__name__ == "BlankNode"


def test_ids_resolve_against_the_configured_base(good_data: Path, context):
    dataset = good_data / "dataset.yaml"
    dataset.write_text(dataset.read_text().replace("https://example.org/ndlld/", "https://data.example.jp/"))
    graph = load_graph(good_data, context)
    assert "https://data.example.jp/id/ifla" in graph.nodes
    assert not any(iri.startswith("https://example.org/") for iri in graph.nodes)


def test_external_iris_are_kept_with_their_source(good_data: Path, context):
    record = good_data / "organizations" / "ifla.yaml"
    record.write_text(record.read_text() + "sameAs:\n  - id: http://www.wikidata.org/entity/Q46207\n    source: source/page\n")
    graph = set(load_graph(good_data, context).triples)
    target = NamedNode("http://www.wikidata.org/entity/Q46207")
    assert Triple(NamedNode(ID + "ifla"), NamedNode(SCHEMA + "sameAs"), target) in graph
    statement = NamedNode(ID + "ifla#sameas-wikidata-q46207")  # RDF reification: the link and its source
    assert Triple(statement, NamedNode(RDF + "object"), target) in graph
    assert Triple(statement, NamedNode("http://purl.org/dc/terms/source"), NamedNode(ID + "source/page")) in graph


def test_unicode_survives_unchanged(good_data: Path, context):
    names = ["مكتبة", "Bibliothe\u0300que", "図書館 📚"]
    record = good_data / "organizations" / "unicode.yaml"
    record.write_text(
        json.dumps({"id": "unicode", "type": "Organization", "name": {"en": names[1], "ar": names[0], "ja": names[2]}}, ensure_ascii=False),
        encoding="utf-8",
    )
    graph = load_graph(good_data, context)
    written = {t.object.value for t in graph.triples if t.subject.value == ID + "unicode" and isinstance(t.object, Literal)}
    assert written == set(names)


def test_links_are_stated_both_ways(context):
    """A record states a series' subEvent; the graph also has the event's superEvent."""
    graph = load_graph(GOOD, context)
    sub = Triple(NamedNode(ID + "meetings"), NamedNode(SCHEMA + "subEvent"), NamedNode(ID + "meetings#1"))
    sup = Triple(NamedNode(ID + "meetings#1"), NamedNode(SCHEMA + "superEvent"), NamedNode(ID + "meetings"))
    assert sub in graph.origins and sup in graph.origins
    assert graph.origins[sup] == graph.origins[sub]


def test_branches_are_listed_under_their_parent(real_graph):
    triples = set(real_graph.triples)
    assert (
        Triple(NamedNode(real_graph.base + "id/ifla"), NamedNode(SCHEMA + "subOrganization"), NamedNode(real_graph.base + "id/ifla-pac"))
        in triples
    )


def _as_compared(graph):
    return (
        list(graph.triples),
        {t: (Path(o.path).name, o.line) for t, o in graph.origins.items()},
        {iri: (Path(o.path).name, o.line) for iri, o in graph.nodes.items()},
    )


def test_reading_in_parallel_makes_the_same_graph(tmp_path: Path, context):
    """Many records are read by several processes; the graph and its origins must not change."""
    from ndlld.synth import synthesize

    synthesize(tmp_path / "synth", 120, seed=2)
    serial = load_graph(tmp_path / "synth", context, parallel_from=10**9)
    parallel = load_graph(tmp_path / "synth", context, parallel_from=1)
    assert _as_compared(parallel) == _as_compared(serial)
    assert len(serial) > 2000


def test_reading_in_parallel_reports_the_same_errors(good_data: Path, context):
    from ndlld.errors import SourceErrors

    from conftest import TESTS, add_fixture

    for name in ("same-id-as-ifla.yaml", "missing-reference.yaml", "unknown-key.yaml", "yaml-syntax.yaml"):
        add_fixture(good_data, TESTS / "records" / "bad" / name)
    reports = []
    for parallel_from in (10**9, 1):
        with pytest.raises(SourceErrors) as caught:
            load_graph(good_data, context, parallel_from=parallel_from)
        reports.append(str(caught.value))
    assert reports[0] == reports[1] and "YAML syntax" in reports[0]
    (good_data / "organizations" / "yaml-syntax.yaml").unlink()  # past the read errors: the graph errors
    reports = []
    for parallel_from in (10**9, 1):
        with pytest.raises(SourceErrors) as caught:
            load_graph(good_data, context, parallel_from=parallel_from)
        reports.append(str(caught.value))
    assert reports[0] == reports[1]
    assert "duplicate id 'ifla'" in reports[0] and "'iflaa' is not described" in reports[0] and "unknown key" in reports[0]
