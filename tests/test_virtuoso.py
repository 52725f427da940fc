"""`ndlld publish` and `ndlld query --endpoint` against a real Virtuoso (Debian's
virtuoso-opensource-7) on loopback, as docs/stores.md tells a library to set it up:
the Graph Store endpoint behind digest authentication, the staged swap by SPARQL
Update, and every query of queries/ answered as the embedded store answers it."""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

import httpx
import pytest
import rdflib
from click.testing import CliRunner
from rdflib.compare import isomorphic

from ndlld.cli import cli
from ndlld.queries import load_queries, run_query
from ndlld.resources import resource_dir
from ndlld.store import EmbeddedStore, RemoteEndpoint

from conftest import DATA, TESTS, as_bytes, free_port, kind_of, server_process

VIRTUOSO = shutil.which("virtuoso-t") or "/usr/bin/virtuoso-t"
if not Path(VIRTUOSO).exists():
    if os.environ.get("CI"):
        raise RuntimeError("Virtuoso is not installed: .ci/run installs it (apt-get install virtuoso-opensource-7)")
    pytest.skip("Virtuoso is not installed here (CI installs it)", allow_module_level=True)

QUERIES = load_queries(resource_dir("queries"))
ADMINISTRATOR = {"NDLLD_STORE_AUTH": "digest", "NDLLD_STORE_USER": "dba", "NDLLD_STORE_PASSWORD": "dba"}  # a new database's
XSD_DURATION = rdflib.XSD.duration
GRAPH = "https://w3id.org/ndlld/id/dataset"  # where `ndlld publish` puts the real data, and `ndlld query` looks


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory):
    """A new Virtuoso database served on free loopback ports, stopped by its pid. Yields its HTTP base URL."""
    directory = tmp_path_factory.mktemp("virtuoso")
    http_port = free_port()
    settings = (TESTS / "virtuoso.ini").read_text(encoding="utf-8")
    ini = directory / "virtuoso.ini"
    ini.write_text(settings.format(directory=directory, sql_port=free_port(), http_port=http_port), encoding="utf-8")
    command = [VIRTUOSO, "+foreground", "+configfile", str(ini)]
    with server_process(command, "/sparql?query=ASK%7B%7D", http_port, clean_exit=False) as (url, _process):
        yield url


@pytest.fixture
def administrator(monkeypatch):
    """The credentials of a new database's administrator, for digest authentication."""
    for name, value in ADMINISTRATOR.items():
        monkeypatch.setenv(name, value)


def graph_in(virtuoso: str, iri: str) -> rdflib.Graph:
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"
    response = httpx.post(f"{virtuoso}/sparql", data={"query": query}, headers={"Accept": "application/n-triples"})
    response.raise_for_status()
    return rdflib.Graph().parse(data=response.text, format="nt")


def test_publish_by_the_graph_store_protocol_with_digest_authentication(virtuoso: str, real_dist: Path, administrator):
    """The whole dump goes up in one PUT, sent again with the answer to the store's challenge."""
    result = run(
        "publish", "--store", f"{virtuoso}/sparql-graph-crud-auth", "--query", f"{virtuoso}/sparql", "--out", real_dist, "--data", DATA
    )
    assert result.exit_code == 0, result.output
    lines = (real_dist / "dataset.nt").read_bytes().count(b"\n")
    assert result.stdout.strip().endswith(f"by the Graph Store Protocol; the store holds {lines}")
    assert isomorphic(graph_in(virtuoso, GRAPH), rdflib.Graph().parse(real_dist / "dataset.nt", format="nt"))
    vocabulary = graph_in(virtuoso, "https://w3id.org/ndlld/vocab")
    published = rdflib.Graph().parse(real_dist / "ontology.ttl", format="turtle")
    assert len(vocabulary) == len(published)
    # Virtuoso 7.2 keeps an xsd:duration as a count of months: "P1Y" reads back as "12" (docs/stores.md).
    assert isomorphic(without_durations(vocabulary), without_durations(published))
    assert {o for o in vocabulary.objects() if is_duration(o)} == {rdflib.Literal(m, datatype=XSD_DURATION) for m in ("12", "24", "36")}


def is_duration(term) -> bool:
    return isinstance(term, rdflib.Literal) and term.datatype == XSD_DURATION


def without_durations(graph: rdflib.Graph) -> rdflib.Graph:
    kept = rdflib.Graph()
    for triple in graph:
        if not is_duration(triple[2]):
            kept.add(triple)
    return kept


def test_publish_staged_and_swapped_by_sparql_update(virtuoso: str, real_dist: Path, administrator):
    graph = "https://example.org/graphs/virtuoso-swap"
    result = run(
        "publish", "--store", f"{virtuoso}/sparql-graph-crud-auth", "--update", f"{virtuoso}/sparql-auth",
        "--query", f"{virtuoso}/sparql", "--graph", graph, "--out", real_dist, "--data", DATA,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "by the Graph Store Protocol and one SPARQL Update" in result.stdout
    assert isomorphic(graph_in(virtuoso, graph), rdflib.Graph().parse(real_dist / "dataset.nt", format="nt"))
    assert len(graph_in(virtuoso, graph + "-ndlld-staging")) == 0, "the staging graph is dropped"


def test_a_wrong_password_is_one_line_naming_the_credentials(virtuoso: str, real_dist: Path, administrator, monkeypatch):
    monkeypatch.setenv("NDLLD_STORE_PASSWORD", "not the password")
    result = run("publish", "--store", f"{virtuoso}/sparql-graph-crud-auth", "--out", real_dist, "--data", DATA)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert "HTTP 401" in result.stderr and "NDLLD_STORE_USER" in result.stderr


@pytest.fixture(scope="module")
def published(virtuoso: str, real_dist: Path) -> RemoteEndpoint:
    """The real build published into Virtuoso, for the queries."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ADMINISTRATOR.items():
            patch.setenv(name, value)
        result = run("publish", "--store", f"{virtuoso}/sparql-graph-crud-auth", "--out", real_dist, "--data", DATA)
    assert result.exit_code == 0, result.output
    return RemoteEndpoint(f"{virtuoso}/sparql", EmbeddedStore.open(real_dist).graph)


def sources_sorted(text: bytes) -> list[list[str]]:
    """The rows of japanese-names, each one's sources in alphabetical order."""
    return [[*row[:2], "; ".join(sorted(row[2].split("; ")))] for row in csv.reader(io.StringIO(text.decode("utf-8")))]


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_every_query_answers_as_in_the_embedded_store(name: str, real_dist: Path, published: RemoteEndpoint):
    base = "https://w3id.org/ndlld/"
    here = run_query(QUERIES[name], {}, EmbeddedStore.open(real_dist), base)
    there = run_query(QUERIES[name], {}, published, base)
    kind = kind_of(here)
    here, there = as_bytes(here, kind), as_bytes(there, kind)
    if name == "japanese-names":  # GROUP_CONCAT joins the sources in an order SPARQL leaves to the store
        here, there = sources_sorted(here), sources_sorted(there)
    assert here == there
    assert here, "an empty answer checks nothing"
