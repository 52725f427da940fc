"""Every statement is in the named graphs of the sources, or passages of them, that state it:
the quads dumps (TriG, N-Quads) on the real data and on synthetic data."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path

import pytest
from pyoxigraph import NamedNode, Quad, RdfFormat, Store, parse

from ndlld.build import build
from ndlld.synth import synthesize

BASE = "https://w3id.org/ndlld/id/"
OA = "http://www.w3.org/ns/oa#"
# The captured text of the NDL page is kept beside the project (../shared/source/), not in it; what
# the tests need of it (its length, where lines start, where each name occurs) is in PAGE_FACTS, which
# is checked against the text wherever the text is at hand.
PAGE_TEXT = Path(__file__).resolve().parents[2] / "shared" / "source" / "international-cooperation-links.txt"
PAGE_FACTS = Path(__file__).parent / "source" / "ndl-links-page.json"
# How the page spells what each passage is about, where that is not the passage's id in capitals.
PAGE_NAMES = {"JAPAN-FOUNDATION": "Japan Foundation", "IHJ": "International House of Japan"}


def _quads(path: Path) -> set[Quad]:
    return set(parse(path=str(path), format=RdfFormat.TRIG if path.suffix == ".trig" else RdfFormat.N_QUADS))


def _triples(path: Path) -> set:
    return {quad.triple for quad in parse(path=str(path), format=RdfFormat.N_TRIPLES)}


def _graphs_of(quads: set[Quad], subject: str, predicate: str, obj=None) -> set[str]:
    return {
        q.graph_name.value
        for q in quads
        if q.subject == NamedNode(subject) and q.predicate == NamedNode(predicate) and (obj is None or q.object == obj)
    }


@pytest.fixture(scope="module")
def real_quads(real_dist: Path) -> set[Quad]:
    return _quads(real_dist / "dataset.nq")


@pytest.fixture(scope="module")
def synthetic_dist(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("synth") / "data"
    synthesize(data, orgs=30, seed=3)
    out = data.parent / "dist"
    build(data, out)
    return out


@pytest.mark.parametrize("which", ["real", "synthetic"])
def test_the_union_of_the_graphs_is_the_triples_dump(which: str, real_dist: Path, synthetic_dist: Path):
    dist = real_dist if which == "real" else synthetic_dist
    nquads, trig = _quads(dist / "dataset.nq"), _quads(dist / "dataset.trig")
    assert nquads == trig
    assert all(isinstance(q.graph_name, NamedNode) for q in nquads), "no statement in the default graph"
    assert {q.triple for q in nquads} == _triples(dist / "dataset.nt")


@pytest.mark.parametrize("which", ["real", "synthetic"])
def test_the_quads_dumps_are_gzipped_and_checksummed(which: str, real_dist: Path, synthetic_dist: Path):
    dist = real_dist if which == "real" else synthetic_dist
    sums = dict(reversed(line.split("  ")) for line in (dist / "SHA256SUMS").read_text().splitlines())
    for name in ("dataset.trig", "dataset.nq"):
        content = (dist / name).read_bytes()
        assert gzip.decompress((dist / f"{name}.gz").read_bytes()) == content
        assert sums[name] == hashlib.sha256(content).hexdigest()
        assert sums[f"{name}.gz"] == hashlib.sha256((dist / f"{name}.gz").read_bytes()).hexdigest()


def test_every_graph_is_a_source_a_passage_of_one_or_the_projects(real_quads: set[Quad]):
    sources = {t.subject.value for t in _triples_of(real_quads) if t.predicate.value == "http://purl.org/dc/terms/source"}
    cited = {t.object.value for t in _triples_of(real_quads) if t.predicate.value == "http://purl.org/dc/terms/source"}
    passages = {t.subject.value: t.object.value for t in _triples_of(real_quads) if t.predicate.value == OA + "hasSource"}
    assert sources
    for graph in {q.graph_name.value for q in real_quads}:
        assert graph in cited or passages.get(graph) in cited or graph == BASE + "dataset#project", graph


def _triples_of(quads: set[Quad]) -> set:
    return {q.triple for q in quads}


def test_a_country_code_comes_from_iso_3166_and_its_name_from_the_page(real_quads: set[Quad]):
    jp = BASE + "country/jp"
    assert _graphs_of(real_quads, jp, "https://w3id.org/ndlld/vocab#countryCode") == {BASE + "source/iso-3166-1"}
    names = _graphs_of(real_quads, jp, "http://schema.org/name")
    assert names == {BASE + "source/ndl-links#ifla", BASE + "source/ndl-links#japan-foundation", BASE + "source/ndl-links#ihj"}
    brunei = _graphs_of(real_quads, BASE + "country/bn", "http://schema.org/name")
    assert brunei == {BASE + "source/ndl-links#consal"}


def test_a_japanese_name_comes_from_the_act_that_gives_it(real_quads: set[Quad]):
    for resource, act in (("ndl", "source/ndl-law"), ("japan-foundation", "source/japan-foundation-act")):
        by_language = {
            q.object.language: q.graph_name.value
            for q in real_quads
            if q.subject == NamedNode(BASE + resource) and q.predicate.value == "http://schema.org/name"
        }
        assert by_language["ja"] == BASE + act
        assert by_language["en"].startswith(BASE + "source/ndl-links#")
        ja = [q for q in real_quads if q.subject == NamedNode(BASE + resource) and getattr(q.object, "language", None) == "ja"]
        assert len(ja) == 1, "in the Act's graph only"


def test_a_statement_stated_in_two_passages_is_in_both(real_quads: set[Quad]):
    """The NDL Monthly Bulletin is named in the IFLA's part of the page and the CDNL's."""
    graphs = _graphs_of(real_quads, BASE + "ndl-monthly-bulletin", "http://schema.org/name")
    assert graphs == {BASE + "source/ndl-links#ifla", BASE + "source/ndl-links#cdnl"}


def test_the_ndls_membership_is_stated_where_the_organization_is(real_quads: set[Quad]):
    memberships = {q for q in real_quads if q.subject == NamedNode(BASE + "ndl") and q.predicate.value == "http://schema.org/memberOf"}
    assert memberships
    for quad in memberships:
        organization = quad.object.value.partition("#")[0].removeprefix(BASE)
        assert quad.graph_name.value == f"{BASE}source/ndl-links#{organization}", quad


@pytest.mark.parametrize("which", ["real", "synthetic"])
def test_a_reified_link_is_in_the_graphs_of_the_sources_its_statement_names(which: str, real_dist: Path, synthetic_dist: Path):
    """The two ways of saying where a link comes from agree: the rdf:Statement that describes a
    link names its sources, and the quads put the link, and that rdf:Statement, in their graphs
    (neither source has a passage about the resources linked here) and in no other."""
    store = Store()
    store.load(path=str((real_dist if which == "real" else synthetic_dist) / "dataset.nq"), format=RdfFormat.N_QUADS)
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    prefixes = f"PREFIX rdf: <{rdf}> PREFIX dcterms: <http://purl.org/dc/terms/>"
    links = f"""{prefixes} SELECT DISTINCT ?st ?s ?p ?o WHERE {{ GRAPH ?any {{
        ?st a rdf:Statement ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o }} }}"""
    found = list(store.query(links))
    assert len(found) >= (3 if which == "real" else 30), "links to check"
    for row in found:
        st, s, p, o = row["st"], row["s"], row["p"], row["o"]
        named = {q.object.value for q in store.quads_for_pattern(st, NamedNode("http://purl.org/dc/terms/source"), None)}
        link_graphs = {q.graph_name.value for q in store.quads_for_pattern(s, p, o)}
        statement_graphs = {q.graph_name.value for q in store.quads_for_pattern(st, NamedNode(rdf + "type"), None)}
        assert link_graphs == statement_graphs == named, (st.value, link_graphs, statement_graphs, named)


def test_the_projects_own_statements_are_in_its_graph(real_quads: set[Quad]):
    licence = _graphs_of(real_quads, BASE + "dataset", "http://schema.org/license")
    assert licence == {BASE + "dataset#project"}
    assert _graphs_of(real_quads, BASE + "source/ndl-links", "http://schema.org/name") == {BASE + "dataset#project"}


def test_sparql_finds_the_source_of_a_statement(real_dist: Path):
    store = Store()
    store.load(path=str(real_dist / "dataset.trig"), format=RdfFormat.TRIG)
    query = f"""PREFIX oa: <{OA}>
        SELECT ?source ?start ?end WHERE {{
          GRAPH ?g {{ <{BASE}ifla#member-count> <http://schema.org/minValue> ?value }}
          ?g oa:hasSource ?source ; oa:hasSelector [ oa:start ?start ; oa:end ?end ] .
        }}"""
    rows = [(r["source"].value, int(r["start"].value), int(r["end"].value)) for r in store.query(query, use_default_graph_as_union=True)]
    assert rows == [(BASE + "source/ndl-links", 256, 1036)]


def _page_facts(text: str, names: list[str]) -> dict:
    return {
        "length": len(text),
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "line_starts": [0] + [i + 1 for i, c in enumerate(text) if c == "\n"],
        "occurrences": {name: [m.start() for m in re.finditer(re.escape(name), text)] for name in names},
    }


def test_the_page_facts_are_those_of_the_captured_text():
    facts = json.loads(PAGE_FACTS.read_text(encoding="utf-8"))
    if PAGE_TEXT.is_file():  # beside the project: the facts must be the text's own
        assert _page_facts(PAGE_TEXT.read_text(encoding="utf-8"), sorted(facts["occurrences"])) == facts
    assert facts["line_starts"][0] == 0 and facts["line_starts"] == sorted(facts["line_starts"])
    assert all(facts["occurrences"].values()), "each name occurs in the page"


def test_each_passage_is_a_part_of_the_page_that_names_what_it_is_about(real_quads: set[Quad]):
    facts = json.loads(PAGE_FACTS.read_text(encoding="utf-8"))
    line_starts, line_ends = set(facts["line_starts"]), {i - 1 for i in facts["line_starts"][1:]} | {facts["length"]}
    triples = _triples_of(real_quads)
    selectors = {t.subject.value: t.object.value for t in triples if t.predicate.value == OA + "hasSelector"}
    assert len(selectors) == 12
    for passage, selector in selectors.items():
        start, end = (
            int(next(t.object.value for t in triples if t.subject.value == selector and t.predicate.value == OA + key))
            for key in ("start", "end")
        )
        assert 0 <= start < end <= facts["length"]
        assert start in line_starts, f"{passage} starts a line"
        assert end in line_ends, f"{passage} ends a line"
        if "#introduction" not in passage:  # each names its organization as the page abbreviates it
            abbreviation = passage.rpartition("#")[2].upper()
            name = PAGE_NAMES.get(abbreviation, abbreviation)
            inside = [at for at in facts["occurrences"][name] if start <= at and at + len(name) <= end]
            assert inside, f"{passage} names {name}"


@pytest.mark.parametrize("name", ["dataset.trig", "dataset.nq.gz"])
def test_harvest_and_diff_read_the_quads_dumps_as_their_union(real_dist: Path, tmp_path: Path, name: str):
    from click.testing import CliRunner

    from ndlld.cli import cli

    same = CliRunner().invoke(cli, ["diff", str(real_dist / "dataset.nt"), str(real_dist / name)])
    assert same.exit_code == 0, same.output
    assert same.output.startswith("0 triple(s) added, 0 removed")
    harvested = CliRunner().invoke(cli, ["harvest", str(real_dist / name), "--into", str(tmp_path / "store")])
    assert harvested.exit_code == 0, harvested.output
    assert f"harvested {len(_triples(real_dist / 'dataset.nt'))} triples" in harvested.output
