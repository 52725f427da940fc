"""`ndlld serve`: content negotiation on every resource IRI, files as files, and a
read-only SPARQL 1.1 Protocol endpoint. In-process through Starlette's test
client, plus one real server process on a loopback port."""

from __future__ import annotations

import csv
import io
import json
import urllib.parse
import urllib.request
from pathlib import Path
from xml.etree import ElementTree

import pytest
import rdflib
from starlette.testclient import TestClient

from ndlld.server import create_app


COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
ORGS = "PREFIX schema: <http://schema.org/> SELECT ?o WHERE { ?o a schema:Organization } ORDER BY ?o LIMIT 3"


@pytest.fixture(scope="module")
def client(real_dist: Path):
    """In-process, with the default limits; entering the client starts the query workers."""
    with TestClient(create_app(real_dist)) as client:
        yield client


@pytest.mark.parametrize(
    "accept, content_type",
    [
        (None, "text/html; charset=utf-8"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html; charset=utf-8"),
        ("text/turtle", "text/turtle; charset=utf-8"),
        ("application/ld+json", "application/ld+json; charset=utf-8"),
        ("application/n-triples", "application/n-triples; charset=utf-8"),
        ("text/turtle;q=0.5, application/ld+json", "application/ld+json; charset=utf-8"),
        ("application/json", "application/ld+json; charset=utf-8"),
        ("*/*", "text/html; charset=utf-8"),
    ],
)
def test_resource_iri_is_negotiated(client: TestClient, real_dist: Path, accept, content_type):
    headers = {"Accept": accept} if accept else {}
    response = client.get("/id/ifla", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert "Accept" in response.headers["vary"]
    extension = {"text/html": "html", "text/turtle": "ttl", "application/ld+json": "jsonld", "application/n-triples": "nt"}[content_type.split(";")[0]]
    assert response.content == (real_dist / "id" / f"ifla.{extension}").read_bytes()
    assert response.headers["content-location"] == f"ifla.{extension}"


def test_nothing_acceptable_is_406(client: TestClient):
    response = client.get("/id/ifla", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "text/turtle" in response.text


@pytest.mark.parametrize("path, content_type", [
    ("/id/ifla.ttl", "text/turtle; charset=utf-8"),
    ("/id/country/jp.jsonld", "application/ld+json; charset=utf-8"),
    ("/dataset.nt", "application/n-triples; charset=utf-8"),
    ("/static/style.css", "text/css; charset=utf-8"),
    ("/sitemap.xml", "application/xml; charset=utf-8"),
    ("/.well-known/void", "text/turtle; charset=utf-8"),
    ("/SHA256SUMS", "text/plain; charset=utf-8"),
    ("/dataset.ndjson", "application/x-ndjson; charset=utf-8"),
    ("/dataset.nt.gz", "application/gzip"),
    ("/", "text/html; charset=utf-8"),
])
def test_explicit_files_are_served_with_their_type(client: TestClient, path: str, content_type: str):
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.headers["content-type"] == content_type


def test_vocabulary_iri_is_negotiated(client: TestClient):
    turtle = client.get("/vocab", headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=turtle.text, format="turtle")
    assert (rdflib.URIRef("https://w3id.org/ndlld/vocab#memberCount"), rdflib.RDF.type, rdflib.OWL.ObjectProperty) in graph


@pytest.mark.parametrize("path", ["/id/nothing", "/../pyproject.toml", "/%2e%2e/pyproject.toml", "/id/%2e%2e/%2e%2e/README.md", "/server/nginx.conf"])
def test_missing_and_outside_paths_are_404(client: TestClient, path: str):
    assert client.get(path).status_code == 404


def test_sparql_select_as_json_by_get(client: TestClient, real_dist: Path):
    response = client.get("/sparql", params={"query": COUNT}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    [row] = response.json()["results"]["bindings"]
    ontology = len(rdflib.Graph().parse(real_dist / "ontology.ttl", format="turtle"))
    assert int(row["n"]["value"]) == (real_dist / "dataset.nt").read_bytes().count(b"\n")
    assert ontology > 0  # the vocabulary is in its own graph, not counted in the default graph


@pytest.mark.parametrize("accept, check", [
    ("application/sparql-results+xml", lambda text: ElementTree.fromstring(text).tag.endswith("sparql")),
    ("text/csv", lambda text: next(csv.reader(io.StringIO(text))) == ["o"]),
    ("text/tab-separated-values", lambda text: text.splitlines()[0] == "?o"),
])
def test_sparql_select_formats_by_post(client: TestClient, accept: str, check):
    response = client.post("/sparql", data={"query": ORGS}, headers={"Accept": accept})
    assert response.status_code == 200 and response.headers["content-type"].startswith(accept)
    assert check(response.text)


def test_sparql_query_as_post_body_and_ask(client: TestClient):
    response = client.post("/sparql", content="ASK { ?s ?p ?o }", headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 200 and response.json()["boolean"] is True


@pytest.mark.parametrize("accept, rdf_format", [("text/turtle", "turtle"), ("application/ld+json", "json-ld"), ("application/n-triples", "nt")])
def test_sparql_construct_formats(client: TestClient, accept: str, rdf_format: str):
    query = "PREFIX schema: <http://schema.org/> CONSTRUCT { ?o schema:name ?n } WHERE { ?o a schema:Organization ; schema:name ?n }"
    response = client.get("/sparql", params={"query": query}, headers={"Accept": accept})
    assert response.status_code == 200 and response.headers["content-type"].startswith(accept)
    graph = rdflib.Graph().parse(data=response.text, format=rdf_format)
    assert len(graph) > 15


def test_sparql_updates_are_refused(client: TestClient):
    update = "INSERT DATA { <http://example.org/a> <http://example.org/b> 1 }"
    assert client.post("/sparql", data={"update": update}).status_code == 403
    assert client.post("/sparql", content=update, headers={"Content-Type": "application/sparql-update"}).status_code == 403
    assert client.get("/sparql", params={"update": update}).status_code == 403
    # an update sent as a query is a malformed query
    assert client.get("/sparql", params={"query": update}).status_code == 400


def test_sparql_errors_are_clear(client: TestClient):
    response = client.get("/sparql", params={"query": "SELECT ?x WHERE { ?x"})
    assert response.status_code == 400 and response.text.startswith("malformed query at line 1, column ")
    assert client.get("/sparql").status_code == 400
    assert client.post("/sparql", content="x", headers={"Content-Type": "text/plain"}).status_code == 415


def test_cors_is_allowed(client: TestClient):
    response = client.get("/sparql", params={"query": COUNT}, headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = client.options("/sparql", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200


def test_real_server_negotiates_over_http(served: str):
    request = urllib.request.Request(served + "/id/ndl", headers={"Accept": "text/turtle"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"
        graph = rdflib.Graph().parse(data=response.read().decode(), format="turtle")
    assert (rdflib.URIRef("https://w3id.org/ndlld/id/ndl"), rdflib.RDF.type, rdflib.URIRef("http://schema.org/Library")) in graph
    query = urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
    with urllib.request.urlopen(f"{served}/sparql?{query}", timeout=5) as response:
        assert json.load(response) == {"head": {}, "boolean": True}


def test_sparql_describe_and_format_parameter(client: TestClient):
    response = client.get("/sparql", params={"query": "DESCRIBE <https://w3id.org/ndlld/id/ifla>", "format": "ntriples"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/n-triples")
    graph = rdflib.Graph().parse(data=response.text, format="nt")
    assert (rdflib.URIRef("https://w3id.org/ndlld/id/ifla"), rdflib.URIRef("http://schema.org/alternateName"), rdflib.Literal("IFLA")) in graph
    csv_response = client.get("/sparql", params={"query": ORGS, "format": "csv"}, headers={"Accept": "application/json"})
    assert csv_response.headers["content-type"].startswith("text/csv")


def test_head_of_a_resource(client: TestClient):
    response = client.head("/id/ifla", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle") and response.content == b""
