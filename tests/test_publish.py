"""`ndlld publish` into a real Oxigraph server, and its behaviour when a store
fails: retries with backoff, clear errors, credentials never on the command line."""

from __future__ import annotations

import base64
import csv
import io
import re
import shutil
from pathlib import Path

import httpx
import pytest
import rdflib
from click.testing import CliRunner
from pyoxigraph import RdfFormat, parse
from rdflib.compare import isomorphic

from ndlld.build import build
from ndlld.cli import cli
from ndlld.errors import PublishError
from ndlld.publish import publish
from ndlld.queries import load_queries, run_query
from ndlld.resources import resource_dir
from ndlld.store import EmbeddedStore, RemoteEndpoint

from conftest import DATA, OXIGRAPH, OXIGRAPH_PROBE, as_bytes, free_port, kind_of, server_process


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def graph_in(oxigraph: str, iri: str) -> rdflib.Graph:
    response = httpx.get(f"{oxigraph}/store", params={"graph": iri}, headers={"Accept": "application/n-triples"})
    response.raise_for_status()
    return rdflib.Graph().parse(data=response.text, format="nt")


def test_publish_replaces_the_named_graph(oxigraph: str, real_dist: Path, good_data: Path, tmp_path: Path):
    graph = "https://example.org/graphs/publish-test"
    result = run("publish", "--store", f"{oxigraph}/store", "--graph", graph, "--out", real_dist, "--data", DATA)
    assert result.exit_code == 0, result.output
    lines = (real_dist / "dataset.nt").read_bytes().count(b"\n")
    assert result.stdout.strip().endswith(f"by the Graph Store Protocol; the store holds {lines}")
    assert isomorphic(graph_in(oxigraph, graph), rdflib.Graph().parse(real_dist / "dataset.nt", format="nt"))
    vocabulary = graph_in(oxigraph, "https://w3id.org/ndlld/vocab")
    assert isomorphic(vocabulary, rdflib.Graph().parse(real_dist / "ontology.ttl", format="turtle"))
    # Publishing another build replaces the graph: nothing of the first is left.
    build(good_data, tmp_path / "small")
    published = publish(tmp_path / "small", store=f"{oxigraph}/store", graph=graph)
    assert published.in_store == published.triples < lines
    assert isomorphic(graph_in(oxigraph, graph), rdflib.Graph().parse(tmp_path / "small" / "dataset.nt", format="nt"))


@pytest.fixture
def own_oxigraph():
    """A real Oxigraph server of the test's own: what it holds is only what the test put there."""
    port = free_port()
    with server_process([str(OXIGRAPH), "serve", "--bind", f"127.0.0.1:{port}"], OXIGRAPH_PROBE, port, clean_exit=False) as (url, _):
        yield url


def named_graphs(quads: bytes, rdf_format: RdfFormat) -> dict[str, set[str]]:
    """Each named graph of a dataset and its triples (as N-Triples)."""
    graphs: dict[str, set[str]] = {}
    for quad in parse(quads, format=rdf_format):
        graphs.setdefault(quad.graph_name.value, set()).add(str(quad.triple))
    return graphs


def store_graphs(oxigraph: str) -> dict[str, set[str]]:
    """Every graph the store holds, but the dataset's (the union) and the vocabulary's."""
    response = httpx.get(f"{oxigraph}/store", headers={"Accept": "application/n-quads"})
    response.raise_for_status()
    held = named_graphs(response.content, RdfFormat.N_QUADS)
    for graph in ("https://w3id.org/ndlld/id/dataset", "https://w3id.org/ndlld/vocab"):
        assert graph in held
        del held[graph]
    return held


@pytest.fixture(scope="module")
def fewer_passages(real_dist: Path, tmp_path_factory) -> Path:
    """The real data with the NDL page's passage on the NCC removed: its statements go
    to the page's own graph, and the passage's graph is no more."""
    data = Path(shutil.copytree(DATA, tmp_path_factory.mktemp("fewer") / "data"))
    page = data / "sources" / "ndl-links.yaml"
    text = page.read_text(encoding="utf-8")
    passage = re.search(r"\n  - id: source/ndl-links#ncc\n(    .*\n)+", text)
    assert passage
    page.write_text(text.replace(passage[0], "\n"), encoding="utf-8")
    out = data.parent / "dist"
    build(data, out)
    return out


QUERIES = load_queries(resource_dir("queries"))


def answer(result: bytes, kind: str) -> list | set:
    """A query's answer, but for what SPARQL leaves to the store: the order of the values a
    GROUP_CONCAT joins (an upload by SPARQL Update leaves Oxigraph another order, with the
    source graphs or without), and of a CONSTRUCT's triples."""
    if kind != "csv":
        return set(result.splitlines())
    return [[sorted(re.split(r"[;,] ", cell)) for cell in row] for row in csv.reader(io.StringIO(result.decode("utf-8")))]


@pytest.mark.parametrize("how", ["gsp", "staged-gsp", "staged-insert"])
def test_the_graphs_of_the_sources_go_into_the_store(own_oxigraph: str, real_dist: Path, fewer_passages: Path, how: str):
    targets = {
        "gsp": {"store": f"{own_oxigraph}/store"},
        "staged-gsp": {"store": f"{own_oxigraph}/store", "update": f"{own_oxigraph}/update"},
        "staged-insert": {"update": f"{own_oxigraph}/update"},
    }[how]
    published = publish(real_dist, **targets, query=f"{own_oxigraph}/query")
    trig = named_graphs((real_dist / "dataset.trig").read_bytes(), RdfFormat.TRIG)
    assert store_graphs(own_oxigraph) == trig
    assert published.source_graphs == len(trig) and f"into {len(trig)} graphs of their sources" in str(published)
    # Every named query answers as the dumps loaded: the dataset is still queried by its graph's name.
    embedded, remote = EmbeddedStore.open(real_dist), RemoteEndpoint(f"{own_oxigraph}/query", EmbeddedStore.open(real_dist).graph)
    for name, query in QUERIES.items():
        ours = run_query(query, {}, embedded, "https://w3id.org/ndlld/")
        kind = kind_of(ours)
        ours_bytes, theirs = as_bytes(ours, kind), as_bytes(run_query(query, {}, remote, "https://w3id.org/ndlld/"), kind)
        assert answer(theirs, kind) == answer(ours_bytes, kind), name
    # Another build of the same base: the passage it no longer has leaves the store.
    publish(fewer_passages, **targets)
    after = store_graphs(own_oxigraph)
    assert after == named_graphs((fewer_passages / "dataset.trig").read_bytes(), RdfFormat.TRIG)
    assert "https://w3id.org/ndlld/id/source/ndl-links#ncc" in trig and "https://w3id.org/ndlld/id/source/ndl-links#ncc" not in after


def test_sparql_update_when_there_is_no_graph_store_protocol(oxigraph: str, real_dist: Path, faulty_store):
    no_gsp = faulty_store((405, "Method Not Allowed"))
    graph = "https://example.org/graphs/update-test"
    published = publish(real_dist, store=no_gsp.url, update=f"{oxigraph}/update", query=f"{oxigraph}/query", graph=graph)
    assert published.method == "SPARQL Update" and published.in_store == published.triples
    assert isomorphic(graph_in(oxigraph, graph), rdflib.Graph().parse(real_dist / "dataset.nt", format="nt"))
    staging = httpx.get(f"{oxigraph}/store", params={"graph": graph + "-ndlld-staging"})
    assert staging.status_code == 404, "the staging graph is moved away"


def test_transient_failures_are_retried_with_backoff(faulty_store, real_dist: Path):
    store = faulty_store((503, "busy"), (502, "bad gateway"), (204, ""))
    with pytest.raises(PublishError):  # (this store holds nothing when counted)
        publish(real_dist, store=store.url, attempts=4, backoff=0.01)
    first = [(method, path) for method, path, _, _ in store.requests[:3]]
    assert first[0][0] == "PUT" and first == [first[0]] * 3, "the same PUT, until it was taken"
    assert (store.requests[3][0], store.requests[3][1]) != first[0], "then the next request"


def test_it_gives_up_with_a_clear_error(faulty_store, real_dist: Path):
    store = faulty_store((500, "Internal Server Error\ntrace ..."))
    with pytest.raises(PublishError) as caught:
        publish(real_dist, store=store.url, attempts=3, backoff=0.01)
    assert str(caught.value).startswith(f"PUT {store.url}")
    assert str(caught.value).endswith("failed after 3 attempts: HTTP 500 Internal Server Error")
    assert len(store.requests) == 3


def test_a_refusal_is_not_retried_and_names_the_credentials(faulty_store, real_dist: Path, monkeypatch):
    monkeypatch.delenv("NDLLD_STORE_USER", raising=False)
    store = faulty_store((401, "Unauthorized"))
    result = run("publish", "--store", store.url, "--out", real_dist)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"PUT {store.url}: HTTP 401 Unauthorized (check NDLLD_STORE_USER")
    assert len(store.requests) == 1


def test_unreachable_store_is_a_clear_error(real_dist: Path):
    result = run("publish", "--store", f"http://127.0.0.1:{free_port()}/store", "--retries", "2", "--out", real_dist)
    assert result.exit_code == 2
    assert "failed after 2 attempts: cannot reach the store" in result.stderr and "Traceback" not in result.output


def test_a_count_that_does_not_match_is_an_error(faulty_store, real_dist: Path):
    store = faulty_store((204, ""), (204, ""), (200, "<http://a> <http://b> <http://c> .\n"))
    with pytest.raises(PublishError) as caught:
        publish(real_dist, store=store.url)
    assert str(caught.value).startswith(f"{store.url}: the store holds 1 triples in <")


def test_credentials_from_the_environment(faulty_store, real_dist: Path, monkeypatch):
    monkeypatch.setenv("NDLLD_STORE_USER", "librarian")
    monkeypatch.setenv("NDLLD_STORE_PASSWORD", "s3cret")
    store = faulty_store((403, "Forbidden"))
    with pytest.raises(PublishError):
        publish(real_dist, store=store.url)
    expected = "Basic " + base64.b64encode(b"librarian:s3cret").decode()
    assert store.requests[0][2]["Authorization"] == expected


def test_credentials_from_netrc(faulty_store, real_dist: Path, monkeypatch, tmp_path: Path):
    monkeypatch.delenv("NDLLD_STORE_USER", raising=False)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login cataloguer password fromnetrc\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    store = faulty_store((403, "Forbidden"))
    with pytest.raises(PublishError):
        publish(real_dist, store=store.url)
    assert store.requests[0][2]["Authorization"] == "Basic " + base64.b64encode(b"cataloguer:fromnetrc").decode()


def test_publish_needs_a_target(real_dist: Path):
    result = run("publish", "--out", real_dist)
    assert result.exit_code == 2 and "give --store" in result.stderr


def test_digest_credentials_when_asked(faulty_store, real_dist: Path, monkeypatch):
    """With NDLLD_STORE_AUTH=digest nothing is sent in the clear: the client waits for the challenge."""
    monkeypatch.setenv("NDLLD_STORE_USER", "dba")
    monkeypatch.setenv("NDLLD_STORE_PASSWORD", "s3cret")
    monkeypatch.setenv("NDLLD_STORE_AUTH", "digest")
    store = faulty_store((403, "Forbidden"))
    with pytest.raises(PublishError):
        publish(real_dist, store=store.url)
    assert "Authorization" not in store.requests[0][2]
