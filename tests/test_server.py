"""`ndlld serve`: content negotiation on every resource IRI, files as files, and a
read-only SPARQL 1.1 Protocol endpoint; its limits, status codes and security
headers, paths that try to leave the site, an expensive query beside page
requests, and a graceful SIGTERM. In-process through Starlette's test client,
and real server processes on loopback ports."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from xml.etree import ElementTree

import pytest
import rdflib
from starlette.testclient import TestClient

from ndlld.errors import QueryError
from ndlld.queries import SERVICE_REFUSED, check_syntax
from ndlld.querypool import QueryPool
from ndlld.server import SECURITY_HEADERS, Limits, create_app

from conftest import ROOT, PrivateStore, connect, free_port, read_until_closed, sending_nothing, server_process, trickle

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
    """303 See Other to the document chosen (tests/test_http.py has the whole table)."""
    headers = {"Accept": accept} if accept else {}
    response = client.get("/id/ifla", headers=headers, follow_redirects=False)
    assert response.status_code == 303
    assert "Accept" in response.headers["vary"]
    extension = {"text/html": "html", "text/turtle": "ttl", "application/ld+json": "jsonld", "application/n-triples": "nt"}[
        content_type.split(";")[0]
    ]
    assert response.headers["location"] == f"ifla.{extension}"
    document = client.get(urllib.parse.urljoin("/id/ifla", response.headers["location"]))
    assert document.headers["content-type"] == content_type
    assert document.content == (real_dist / "id" / f"ifla.{extension}").read_bytes()


def test_nothing_acceptable_is_406(client: TestClient):
    response = client.get("/id/ifla", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "text/turtle" in response.text


@pytest.mark.parametrize(
    "path, content_type",
    [
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
    ],
)
def test_explicit_files_are_served_with_their_type(client: TestClient, path: str, content_type: str):
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.headers["content-type"] == content_type


def test_vocabulary_iri_is_negotiated(client: TestClient):
    turtle = client.get("/vocab", headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=turtle.text, format="turtle")
    assert (rdflib.URIRef("https://w3id.org/ndlld/vocab#memberCount"), rdflib.RDF.type, rdflib.OWL.ObjectProperty) in graph


@pytest.mark.parametrize(
    "path", ["/id/nothing", "/../pyproject.toml", "/%2e%2e/pyproject.toml", "/id/%2e%2e/%2e%2e/README.md", "/server/nginx.conf"]
)
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


@pytest.mark.parametrize(
    "accept, check",
    [
        ("application/sparql-results+xml", lambda text: ElementTree.fromstring(text).tag.endswith("sparql")),
        ("text/csv", lambda text: next(csv.reader(io.StringIO(text))) == ["o"]),
        ("text/tab-separated-values", lambda text: text.splitlines()[0] == "?o"),
    ],
)
def test_sparql_select_formats_by_post(client: TestClient, accept: str, check):
    response = client.post("/sparql", data={"query": ORGS}, headers={"Accept": accept})
    assert response.status_code == 200 and response.headers["content-type"].startswith(accept)
    assert check(response.text)


def test_sparql_query_as_post_body_and_ask(client: TestClient):
    response = client.post("/sparql", content="ASK { ?s ?p ?o }", headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 200 and response.json()["boolean"] is True


@pytest.mark.parametrize(
    "accept, rdf_format", [("text/turtle", "turtle"), ("application/ld+json", "json-ld"), ("application/n-triples", "nt")]
)
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
    assert client.get("/sparql", params={"query": ""}).status_code == 400  # without 'query' at all: the service description
    assert client.post("/sparql", data={"format": "json"}).status_code == 400
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
    assert (
        rdflib.URIRef("https://w3id.org/ndlld/id/ifla"),
        rdflib.URIRef("http://schema.org/alternateName"),
        rdflib.Literal("IFLA"),
    ) in graph
    csv_response = client.get("/sparql", params={"query": ORGS, "format": "csv"}, headers={"Accept": "application/json"})
    assert csv_response.headers["content-type"].startswith("text/csv")


def test_head_of_a_resource(client: TestClient):
    response = client.head("/id/ifla", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle") and response.content == b""


# -- under attack and load: limits, status codes, headers, shutdown ----------------
CROSS_PRODUCT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # 529³ rows: about half a minute
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g a <http://schema.org/Organization> }"  # a second or two
ALL_TRIPLES = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
STRICT = Limits(query_timeout=1.5, max_results=5, max_request_bytes=2_000, max_url_bytes=1_024, query_workers=1)


@pytest.fixture(scope="module")
def strict(real_dist: Path):
    """In-process, with small limits, to go past each of them."""
    with TestClient(create_app(real_dist, STRICT)) as client:
        yield client


def test_updates_are_refused_with_one_line_by_get_and_both_posts(client: TestClient):
    update = "DELETE WHERE { ?s ?p ?o }"
    for response in (
        client.get("/sparql", params={"update": update}),
        client.post("/sparql", data={"update": update}),
        client.post("/sparql", content=update, headers={"Content-Type": "application/sparql-update"}),
    ):
        assert response.status_code == 403
        assert response.text == "this SPARQL endpoint is read-only: updates are refused\n"
    assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True  # nothing was deleted


def test_a_query_past_its_time_is_stopped_with_its_worker(strict: TestClient):
    pool = strict.app.state.pool
    [before] = pool.pids()
    started = time.monotonic()
    response = strict.get("/sparql", params={"query": CROSS_PRODUCT})
    assert response.status_code == 503
    assert response.text == "query timeout: the query ran past the limit of 1.5 s and was stopped\n"
    assert time.monotonic() - started < 10  # not the half minute the query needs
    with pytest.raises(ProcessLookupError):
        os.kill(before, 0)  # the process that ran it is gone, not left computing
    # a fresh worker takes its place
    assert strict.get("/sparql", params={"query": COUNT}).status_code == 200
    assert pool.pids() and before not in pool.pids()


def test_too_many_results_is_an_error_not_a_truncation(strict: TestClient):
    response = strict.get("/sparql", params={"query": ALL_TRIPLES})
    assert response.status_code == 400
    assert response.text == "too many results: the query gives more than 5; add LIMIT (and OFFSET to page through them)\n"
    construct = strict.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": "text/turtle"})
    assert construct.status_code == 400 and construct.text.startswith("too many results")
    page = strict.get("/sparql", params={"query": ALL_TRIPLES + " ORDER BY ?s ?p ?o LIMIT 5"})
    assert page.status_code == 200 and len(page.json()["results"]["bindings"]) == 5


def test_results_within_the_limit_keep_their_terms(client: TestClient):
    """Counted rows are written out again: every kind of term must come back the same."""
    query = (
        "SELECT ?iri ?lang ?typed ?blank ?unbound WHERE { BIND(<https://w3id.org/ndlld/id/ifla> AS ?iri) "
        'BIND("図書館\\t\\"x\\"\\n"@ja AS ?lang) BIND(3 AS ?typed) BIND(BNODE() AS ?blank) }'
    )
    [row] = client.get("/sparql", params={"query": query}).json()["results"]["bindings"]
    assert row["iri"] == {"type": "uri", "value": "https://w3id.org/ndlld/id/ifla"}
    assert row["lang"] == {"type": "literal", "value": '図書館\t"x"\n', "xml:lang": "ja"}
    assert row["typed"] == {"type": "literal", "value": "3", "datatype": "http://www.w3.org/2001/XMLSchema#integer"}
    assert row["blank"]["type"] == "bnode" and "unbound" not in row


def test_request_body_and_url_limits(strict: TestClient):
    big = "ASK { ?s ?p ?o }" + " " * 3_000
    response = strict.post("/sparql", content=big, headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 413 and response.text == "request too large: the body may have at most 2000 bytes\n"
    chunked = strict.post(
        "/sparql", content=iter([big.encode()[:1_500], big.encode()[1_500:]]), headers={"Content-Type": "application/sparql-query"}
    )
    assert "content-length" not in chunked.request.headers  # sent chunked: no size up front
    assert chunked.status_code == 413
    long_url = strict.get("/sparql", params={"query": "ASK { ?s ?p ?o }" + " " * 1_100})
    assert long_url.status_code == 414 and long_url.text.startswith("URI too long: ")
    assert strict.get("/id/" + "x" * 1_100).status_code == 414
    within = strict.post("/sparql", content="ASK { ?s ?p ?o }" + " " * 1_100, headers={"Content-Type": "application/sparql-query"})
    assert within.status_code == 200  # the same query, POSTed, is fine


@pytest.mark.parametrize(
    "method, path, headers, status",
    [
        ("GET", "/id/nothing", {}, 404),
        ("GET", "/id/ifla", {"Accept": "image/png"}, 406),
        ("GET", "/sparql?query=ASK%7B%7D", {"Accept": "image/png"}, 406),
        ("PUT", "/id/ifla", {}, 405),
        ("DELETE", "/sparql", {}, 405),
        ("POST", "/id/ifla", {}, 405),
        ("PATCH", "/", {}, 405),
        ("POST", "/sparql", {"Content-Type": "text/plain"}, 415),
    ],
)
def test_status_codes(client: TestClient, method: str, path: str, headers: dict, status: int):
    response = client.request(method, path, headers=headers)
    assert response.status_code == status
    if status == 404:  # the site's page, with a way back
        assert response.headers["content-type"] == "text/html; charset=utf-8" and '<a href="/index.html">' in response.text
    else:
        assert response.text.endswith("\n") and response.text.count("\n") == 1  # one line, no traceback
    if status == 405:
        assert response.text.startswith("method not allowed: ") and "GET" in response.headers["allow"]


@pytest.mark.parametrize(
    "method, path, headers",
    [
        ("GET", "/", {}),
        ("GET", "/id/ifla", {"Accept": "text/turtle"}),
        ("GET", "/static/style.css", {}),
        ("GET", "/dataset.nt.gz", {}),
        ("HEAD", "/id/ifla", {}),
        ("GET", "/id/nothing", {}),
        ("GET", "/id/ifla", {"Accept": "image/png"}),
        ("PUT", "/id/ifla", {}),
        ("GET", "/sparql?query=ASK%7B%7D", {}),
        ("GET", "/sparql?query=" + "x" * 9_000, {}),
        ("OPTIONS", "/sparql", {"Origin": "https://example.org", "Access-Control-Request-Method": "POST"}),
    ],
)
def test_security_headers_on_every_response(client: TestClient, method: str, path: str, headers: dict):
    response = client.request(method, path, headers=headers)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, (name, response.status_code)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_timeout_and_413_in_the_security_headers_too(strict: TestClient):
    for response in (
        strict.get("/sparql", params={"query": CROSS_PRODUCT}),
        strict.post("/sparql", content="x" * 3_000, headers={"Content-Type": "application/sparql-query"}),
    ):
        assert response.status_code in (503, 413)
        assert response.headers["x-content-type-options"] == "nosniff"


# -- a real server: traversal over raw sockets, pages during an expensive query, SIGTERM
def serving(dist: Path, *options: str, **process):
    """`ndlld serve` on *dist* as a real process on a free loopback port; on leaving,
    SIGTERM, and it must exit with 0. *process*: server_process's log and preexec_fn."""
    port = free_port()
    command = [sys.executable, "-m", "ndlld", "serve", "--out", str(dist), "--port", str(port), *options]
    return server_process(command, "/", port, **process)


def raw_get(url: str, target: str) -> tuple[int, bytes]:
    """GET *target* exactly as written, which no HTTP client library does (they
    normalise ``..`` and escape backslashes): the status and the body."""
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode("latin-1"))
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


SECRET = b"ndlld-secret-outside-dist"


@pytest.fixture(scope="module")
def planted(real_dist: Path, tmp_path_factory) -> Path:
    """A copy of the build with a secret file beside it, and symlinks inside it
    that point at the secret and at its directory."""
    top = tmp_path_factory.mktemp("planted")
    dist = Path(shutil.copytree(real_dist, top / "www" / "dist", symlinks=True))
    (top / "www" / "secret.css").write_bytes(SECRET)
    (top / "www" / "secret.ttl").write_bytes(SECRET)
    (dist / "static" / "leak.css").symlink_to(top / "www" / "secret.css")
    (dist / "id" / "leak.ttl").symlink_to("../../secret.ttl")
    (dist / "outside").symlink_to(top / "www", target_is_directory=True)
    return dist


@pytest.fixture(scope="module")
def planted_server(planted: Path):
    with serving(planted, "--query-timeout", "3") as (url, _):
        yield url


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.css",
        "/static/../../secret.css",
        "/%2e%2e/secret.css",
        "/static/%2e%2e/%2e%2e/secret.css",
        "/static/%2E%2E%2F%2E%2E%2Fsecret.css",
        "/%252e%252e/secret.css",
        "/static/%252e%252e%252f%252e%252e%252fsecret.css",
        "/..\\secret.css",
        "/static\\..\\..\\secret.css",
        "/static/%5c..%5c..%5csecret.css",
        "/static/..%5c..%5csecret.css",
        "/static/leak.css",
        "/id/leak",
        "/id/leak.ttl",
        "/outside/secret.css",
        "/outside/secret.ttl",
        "/static/%00/../../secret.css",
        "//secret.css",
    ],
)
def test_no_path_leaves_the_site(planted_server: str, target: str):
    status, body = raw_get(planted_server, target)
    assert status in (400, 404)
    assert SECRET not in body


def test_workers_that_cannot_load_the_dataset_stop_serve_with_one_line(real_dist: Path):
    run = subprocess.run(
        [sys.executable, "-m", "ndlld", "serve", "--out", str(real_dist), "--port", str(free_port()), "--query-memory", "50"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0 and "--query-memory 50 MB" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_long_url_is_414_on_the_real_server(planted_server: str):
    status, body = raw_get(planted_server, "/sparql?query=" + "x" * 20_000)
    assert status == 414 and body.startswith(b"URI too long: ")


def test_the_planted_copy_is_still_served(planted_server: str, planted: Path):
    status, body = raw_get(planted_server, "/static/style.css")
    assert status == 200 and body == (planted / "static" / "style.css").read_bytes()


def test_pages_answer_while_an_expensive_query_runs(planted_server: str):
    expensive: dict = {}

    def run() -> None:
        started = time.monotonic()
        try:
            urllib.request.urlopen(f"{planted_server}/sparql?" + urllib.parse.urlencode({"query": CROSS_PRODUCT}), timeout=30)
        except urllib.error.HTTPError as err:
            expensive["status"] = err.code
        expensive["seconds"] = time.monotonic() - started

    query = threading.Thread(target=run)
    query.start()
    time.sleep(0.3)  # the query is in its worker now
    statuses = []
    for path in ["/", "/id/ifla", "/id/ndl", "/vocab", "/static/style.css", "/dataset.nt", "/id/cdnlao", "/"]:
        with urllib.request.urlopen(planted_server + path, timeout=30) as response:
            statuses.append(response.status)
            response.read()
    answered_while_running = query.is_alive()
    query.join(timeout=30)
    assert statuses == [200] * 8
    assert answered_while_running  # every page came back before the query's timeout answer
    assert expensive["status"] == 503


def test_sigterm_lets_the_request_in_flight_finish_then_exits_0(real_dist: Path):
    with serving(real_dist) as (url, process):
        answer: dict = {}

        def run() -> None:
            with urllib.request.urlopen(f"{url}/sparql?" + urllib.parse.urlencode({"query": SLOW}), timeout=30) as response:
                answer["status"], answer["body"] = response.status, json.load(response)

        request = threading.Thread(target=run)
        request.start()
        time.sleep(0.5)  # in flight: the query takes a second or two
        os.kill(process.pid, signal.SIGTERM)
        request.join(timeout=30)
        assert process.wait(timeout=30) == 0
    assert answer["status"] == 200
    [row] = answer["body"]["results"]["bindings"]
    assert int(row["n"]["value"]) > 1_000_000


# -- no request elsewhere, whatever a query says (issue 19) -----------------------------
def ask(url: str, query: str, how: str = "body", **params) -> tuple[int, str]:
    """Status and text of *query* sent to the real server at *url*: as a POST body, a
    POSTed form, or a GET, with further protocol *params*."""
    if how == "get":
        request = urllib.request.Request(f"{url}/sparql?" + urllib.parse.urlencode({"query": query, **params}))
    elif how == "form":
        request = urllib.request.Request(f"{url}/sparql", data=urllib.parse.urlencode({"query": query, **params}).encode())
    else:
        request = urllib.request.Request(
            f"{url}/sparql?" + urllib.parse.urlencode(params), data=query.encode(), headers={"Content-Type": "application/sparql-query"}
        )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


# Every way a query can have the endpoint call another: the keyword in any case, with
# SILENT, its IRI written out, prefixed, relative to a BASE or in a variable bound
# anyhow, nested in every kind of group, and odd spacing and comments between tokens.
OUTBOUND = {
    "plain": "ASK { SERVICE <STORE_IRI> { ?s ?p ?o } }",
    "silent": "SELECT * WHERE { SERVICE SILENT <STORE_IRI> { ?s ?p ?o } }",
    "lower case": "select * where { service <STORE_IRI> { ?s ?p ?o } }",
    "mixed case": "SELECT * WHERE { sErViCe SiLeNt <STORE_IRI> { } }",
    "prefixed name": "PREFIX private: <BASE_IRI> SELECT * WHERE { SERVICE private:sparql { } }",
    "empty prefix": "PREFIX : <BASE_IRI> SELECT * WHERE { SERVICE :sparql { } }",
    "relative IRI and BASE": "BASE <BASE_IRI> SELECT * WHERE { SERVICE <sparql> { } }",
    "variable from VALUES": "SELECT * WHERE { VALUES ?x { <STORE_IRI> } SERVICE ?x { } }",
    "variable from BIND": "SELECT * WHERE { BIND(IRI(CONCAT(STR(<BASE_IRI>), 'sparql')) AS ?x) SERVICE ?x { } }",
    "variable from the data": "SELECT * WHERE { ?s ?p ?x FILTER(isIRI(?x)) SERVICE ?x { } } LIMIT 1",
    "unbound variable": "SELECT * WHERE { SERVICE SILENT ?x { } }",
    "in OPTIONAL": "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE <STORE_IRI> { } } } LIMIT 1",
    "in MINUS": "SELECT * WHERE { ?s ?p ?o MINUS { SERVICE <STORE_IRI> { } } } LIMIT 1",
    "in UNION": "SELECT * WHERE { { ?s ?p ?o } UNION { SERVICE <STORE_IRI> { } } } LIMIT 1",
    "in a subquery": "SELECT * WHERE { { SELECT * WHERE { SERVICE <STORE_IRI> { } } } }",
    "in FILTER EXISTS": "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE <STORE_IRI> { } } } LIMIT 1",
    "in FILTER NOT EXISTS": "SELECT * WHERE { FILTER NOT EXISTS { SERVICE <STORE_IRI> { } } }",
    "in a projected EXISTS": "SELECT (EXISTS { SERVICE <STORE_IRI> { } } AS ?e) WHERE { }",
    "in GRAPH": "SELECT * WHERE { GRAPH ?g { SERVICE <STORE_IRI> { } } }",
    "in a CONSTRUCT": "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <STORE_IRI> { ?s ?p ?o } }",
    "in a DESCRIBE": "DESCRIBE ?s WHERE { SERVICE <STORE_IRI> { ?s ?p ?o } }",
    "nested services": "SELECT * WHERE { SERVICE <STORE_IRI> { SERVICE <STORE_IRI> { } } }",
    "comments between tokens": "SELECT * WHERE {#{\nSERVICE#SERVICE\n<STORE_IRI>#}\n{ }}",
    "tabs and line breaks": "SELECT*WHERE{\tSERVICE\r\n<STORE_IRI>\n{}\r}",
    "no spaces": "SELECT*WHERE{SERVICE<STORE_IRI>{}}",
    "after a less-than": "SELECT * WHERE { BIND(1 AS ?a) BIND(2 AS ?b) FILTER(?a<?b)SERVICE#>\n<STORE_IRI>{} }",
    "a prefix named SERVICE": "PREFIX SERVICE: <http://example.org/> PREFIX : <BASE_IRI> ASK { SERVICE:sparql { } }",
    "the word harmless elsewhere": '# service\nASK { ?s ?p "service" . SERVICE <STORE_IRI> { } }',
}


@pytest.mark.parametrize("form", list(OUTBOUND))
def test_no_query_reaches_another_store(served: str, private_store: PrivateStore, form: str):
    status, text = ask(served, private_store.spell(OUTBOUND[form]))
    assert (status, text) == (400, SERVICE_REFUSED + "\n")
    assert not private_store.reached()


@pytest.mark.parametrize("how", ["get", "form", "body"])
def test_service_is_refused_however_the_query_comes(served: str, private_store: PrivateStore, how: str):
    assert ask(served, private_store.spell(OUTBOUND["plain"]), how) == (400, SERVICE_REFUSED + "\n")
    assert not private_store.reached()


def test_a_codepoint_escape_spells_no_service(served: str, private_store: PrivateStore):
    """SPARQL 1.1 §19.2 has \\u escapes processed before parsing; pyoxigraph 0.5 does not,
    so this is no keyword there, but malformed. Should it ever be the keyword, it is refused."""
    for spelling in ("\\u0053ERVICE", "\\u0073\\u0065rvice", "\\U00000053ERVICE"):
        status, text = ask(served, private_store.spell(f"SELECT * WHERE {{ {spelling} <STORE_IRI> {{ }} }}"))
        assert status == 400 and text.count("\n") == 1
        assert text == SERVICE_REFUSED + "\n" or text.startswith("malformed query at line 1")
    assert not private_store.reached()


@pytest.mark.parametrize(
    "query",
    [
        'SELECT ?o WHERE { ?o <http://schema.org/name> "Service" }',
        "PREFIX service: <http://example.org/service#> SELECT ?service WHERE { ?service service:service 'a SERVICE'@service }",
        'SELECT * WHERE { ?s ?p """\nSERVICE <STORE_IRI> { }\n""" }',
        "SELECT * WHERE { ?s <STORE_IRI/SERVICE> ?o }",
        "SELECT * WHERE { ?s ?p ?o } LIMIT 1 # SERVICE <STORE_IRI> { }",
        "PREFIX e: <http://example.org/> SELECT * WHERE { ?s e:a\\#SERVICE ?o }",
        "SELECT * WHERE { _:service ?p ?o }",
        'SELECT * WHERE { ?s ?p "\\u0053ERVICE" }',
        "SELECT ?servicE WHERE { BIND(1 AS ?servicE) }",
    ],
)
def test_the_word_service_elsewhere_is_no_refusal(served: str, private_store: PrivateStore, query: str):
    status, text = ask(served, private_store.spell(query))
    assert status == 200, text
    assert not private_store.reached()


@pytest.mark.parametrize(
    "query, params",
    [
        ("SELECT * FROM <STORE_IRI> WHERE { ?s ?p ?o }", {}),
        ("SELECT * FROM NAMED <STORE_IRI> WHERE { GRAPH ?g { ?s ?p ?o } }", {}),
        ("SELECT * WHERE { GRAPH <STORE_IRI> { ?s ?p ?o } }", {}),
        ("DESCRIBE <STORE_IRI>", {}),
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", {"default-graph-uri": "STORE_IRI"}),
        ("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", {"named-graph-uri": "STORE_IRI"}),
        ('SELECT (IRI("STORE_IRI") AS ?i) (DATATYPE("1"^^<STORE_IRI>) AS ?t) WHERE { }', {}),
    ],
)
def test_nothing_else_in_a_query_fetches_anything(served: str, private_store: PrivateStore, query: str, params: dict):
    params = {name: private_store.spell(value) for name, value in params.items()}
    status, text = ask(served, private_store.spell(query), **params)
    assert status == 200, text
    assert not private_store.reached()


def test_load_is_an_update_and_refused(served: str, private_store: PrivateStore):
    load = private_store.spell("LOAD <STORE_IRI>")
    request = urllib.request.Request(f"{served}/sparql", data=urllib.parse.urlencode({"update": load}).encode())
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403
    status, text = ask(served, load)
    assert status == 400 and text.startswith("malformed query")
    assert not private_store.reached()


def test_a_syntax_check_runs_nothing(private_store: PrivateStore):
    check_syntax(private_store.spell(OUTBOUND["plain"]))  # well-formed: no error, and not run
    with pytest.raises(QueryError, match="malformed query"):
        check_syntax(private_store.spell("ASK { SERVICE <STORE_IRI> {"))
    assert not private_store.reached()


def test_query_workers_run_under_a_seccomp_filter(client: TestClient):
    pids = client.app.state.pool.pids()
    assert pids
    for pid in pids:
        assert re.search(r"^Seccomp:\s+2$", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE), pid


FORBIDDEN = """
import json, socket, sys
from pyoxigraph import Store
from ndlld.sandbox import forbid_network
found = {"forbidden": forbid_network()}
for family in (socket.AF_INET, socket.AF_INET6):
    try:
        socket.socket(family, socket.SOCK_STREAM).close()
        found[family.name] = "opened"
    except PermissionError:
        found[family.name] = "refused"
socket.socketpair()[0].close()  # the worker's pipe to the server is a Unix socket: still allowed
try:
    Store().query("ASK { SERVICE <%s> { } }" % sys.argv[1])
    found["service"] = "ran"
except OSError as err:
    found["service"] = type(err).__name__
print(json.dumps(found))
"""


def test_a_process_that_forbade_itself_the_network_cannot_call_a_service(private_store: PrivateStore):
    """The second wall: were a SERVICE ever let through, the worker could still not connect."""
    run = subprocess.run(
        [sys.executable, "-c", FORBIDDEN, private_store.base + "sparql"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"forbidden": True, "AF_INET": "refused", "AF_INET6": "refused", "service": "PermissionError"}
    assert not private_store.reached()


# -- smaller holes: nesting, worker deaths, echoed input, HEAD, two lengths -------------
@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE " + "{" * 5_000 + "}" * 5_000,
        "SELECT * WHERE { FILTER(" + "(" * 5_000 + "true" + ")" * 5_000 + ") }",
        "SELECT * WHERE { ?s ?p " + "[ ?p " * 5_000 + "1" + " ]" * 5_000 + " }",
        "SELECT * WHERE { ?s ?p " + "( " * 5_000 + "1" + " )" * 5_000 + " }",
        "SELECT * WHERE { " + "OPTIONAL { " * 3_000 + "?s ?p ?o" + " }" * 3_000 + " }",
        "SELECT * WHERE { FILTER(" + "!" * 100_000 + "true) }",
        "SELECT * WHERE { FILTER(" + "! " * 100_000 + "true) }",
        "SELECT * WHERE " + "{ [ ( " * 1_000,  # malformed, and deep before it ends
    ],
)
def test_deep_nesting_is_refused_before_parsing(client: TestClient, query: str):
    pids = client.app.state.pool.pids()
    response = client.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 400
    assert response.text == "query nested too deeply: more than 100 levels of brackets at line 1\n"
    assert client.app.state.pool.pids() == pids  # no worker died of it


@pytest.mark.parametrize(
    "query",
    [
        'SELECT * WHERE { ?s ?p "' + "(" * 5_000 + '" }',
        "SELECT * WHERE { ?s ?p '''" + "{[(" * 5_000 + "''' }",
        "SELECT * WHERE { ?s ?p <http://example.org/" + "(" * 5_000 + "> }",
        "SELECT * WHERE { ?s ?p ?o # " + "{" * 5_000 + "\n}",
        "SELECT * WHERE { FILTER(" + "(" * 98 + "1 != 2" + ")" * 98 + ") }",  # 100 deep: the limit
    ],
)
def test_brackets_in_strings_iris_and_comments_do_not_count(client: TestClient, query: str):
    response = client.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 200, response.text


@pytest.mark.skipif(
    resource.getrlimit(resource.RLIMIT_STACK)[0] == resource.RLIM_INFINITY,
    reason="an unlimited stack takes a long chain without overflowing",
)
def test_a_worker_that_crashes_is_reported_as_a_crash(client: TestClient):
    """A long chain of || nests no brackets but overflows the stack as pyoxigraph evaluates it."""
    pids = client.app.state.pool.pids()
    chain = "SELECT * WHERE { BIND(" + " || ".join(["true"] * 50_000) + " AS ?x) }"
    response = client.post("/sparql", content=chain, headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 503
    assert response.text.startswith("query failed: its worker crashed (SIGSEGV), most likely out of stack")
    assert "memory" not in response.text
    assert client.app.state.pool.pids() != pids
    assert client.get("/sparql", params={"query": COUNT}).status_code == 200  # and a fresh worker took its place


def test_a_worker_out_of_memory_is_reported_as_such(real_dist: Path):
    with TestClient(create_app(real_dist, Limits(query_memory_mb=400, query_workers=1))) as client:
        values = " ".join(str(n) for n in range(2_000))
        query = (
            f"SELECT ?a ?b ?c WHERE {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} VALUES ?c {{ 1 2 3 }} }} ORDER BY DESC(?a) ?b ?c"
        )
        response = client.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 503
    assert response.text == "query failed: it needed more memory than a query may use (400 MB)\n"


CONTROLS = "\x1b[31mred\x1b[0m\nHTTP/1.1 200 OK\r\n\x00\x7f\x85\u202edesrever"


def _one_clean_line(text: str) -> bool:
    body = text.removesuffix("\n")
    return text.endswith("\n") and len(text) <= 400 and not re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]", body)


@pytest.mark.parametrize(
    "method, path, params, data",
    [
        ("GET", "/sparql", {"query": "SELECT " + CONTROLS}, None),
        ("GET", "/sparql", {"query": "ASK {}", "default-graph-uri": CONTROLS}, None),
        ("GET", "/sparql", {"query": "ASK {}", "named-graph-uri": CONTROLS}, None),
        ("POST", "/sparql", {}, {"query": "ASK { " + CONTROLS + " }"}),
        ("POST", "/sparql", {}, {"query": "ASK { ?s ?p '" + "x" * 100_000 + CONTROLS}),
        ("GET", "/sparql", {"query": "ASK { ?s ?p <http://example.org/" + "x" * 5_000 + CONTROLS + "> }"}, None),
        ("PUT", "/id/" + urllib.parse.quote(CONTROLS), {}, None),
        ("DELETE", "/" + urllib.parse.quote(CONTROLS * 20), {}, None),
    ],
)
def test_error_messages_quote_no_raw_control_characters(client: TestClient, method, path, params, data):
    response = client.request(method, path, params=params, data=data)
    assert 400 <= response.status_code < 500
    assert _one_clean_line(response.text), repr(response.text)


@pytest.mark.parametrize(
    "path",
    [
        "/sparql?query=ASK%7B%7D",
        "/sparql?query=SELECT%20%3Fs%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%20LIMIT%202&format=csv",
        "/sparql?query=CONSTRUCT%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%20LIMIT%202",
        "/sparql?query=SELECT",
        "/sparql",
        "/sparql?update=CLEAR%20ALL",
        "/id/ifla",
        "/id/nothing",
    ],
)
def test_head_answers_as_get_without_a_body(client: TestClient, path: str):
    identity = {"Accept-Encoding": "identity"}  # the length of the body as sent is the length of its bytes
    got, head = client.get(path, headers=identity), client.head(path, headers=identity)
    assert head.status_code == got.status_code
    assert {k: v for k, v in head.headers.items() if k != "date"} == {k: v for k, v in got.headers.items() if k != "date"}
    assert head.content == b"" and int(head.headers["content-length"]) == len(got.content)


def exchange(url: str, raw: bytes) -> bytes:
    """Send *raw* bytes to the server at *url*, then read until it closes the connection
    (a socket timeout fails the test: the server kept it open)."""
    with socket.create_connection(("127.0.0.1", urllib.parse.urlsplit(url).port), timeout=30) as connection:
        connection.sendall(raw)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_both_content_length_and_transfer_encoding_is_refused_and_closed(served: str):
    smuggled = (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"10\r\nASK { ?s ?p ?o }\r\n0\r\n\r\n"
        b"GET /id/ifla HTTP/1.1\r\nHost: x\r\n\r\n"
    )  # must not be answered: the connection ends first
    answer = exchange(served, smuggled)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert answer.count(b"HTTP/1.1 ") == 1
    assert answer.endswith(b"\r\n\r\nbad request: both Content-Length and Transfer-Encoding; send one\n")


# -- connections: deadlines, a cap, a quiet log (issue 19) -------------------------------
NAMES = ["図書館", "a b%#?;x", "tab\tand\x7fdel"]  # ids that must come back percent-encoded
BIG = 40_000_000  # bytes: more than the kernel and the server buffer for one connection


@pytest.fixture(scope="module")
def wide(real_dist: Path, tmp_path_factory) -> Path:
    """A copy of the build with a big file, resources whose names are not ASCII and
    not URL-safe, and a directory named in Japanese."""
    dist = Path(shutil.copytree(real_dist, tmp_path_factory.mktemp("wide") / "dist"))
    (dist / "big.txt").write_bytes(b"0123456789abcde\n" * (BIG // 16))
    for name in NAMES:
        for extension in ("ttl", "html"):
            shutil.copyfile(dist / "id" / f"ifla.{extension}", dist / "id" / f"{name}.{extension}")
    (dist / "静的").mkdir()
    (dist / "静的" / "index.html").write_text("<!doctype html><title>x</title>", encoding="utf-8")
    return dist


def low_file_limit() -> None:
    """In the server's process, before it starts: 256 open files at most."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


@pytest.fixture(scope="module")
def tight(wide: Path, tmp_path_factory):
    """`ndlld serve` with 256 open files and deadlines of a second or two; yields its URL
    and the file its output goes to."""
    log = tmp_path_factory.mktemp("tight") / "serve.log"
    with serving(
        wide,
        "--processes",  # one: the log's repeats and the cap are counted per process
        "1",
        "--idle-timeout",
        "1",
        "--header-timeout",
        "2",
        "--body-timeout",
        "2",
        "--send-timeout",
        "2",
        "--query-workers",
        "1",
        log=log,
        preexec_fn=low_file_limit,
    ) as (url, _):
        yield url, log


def test_a_connection_that_sends_nothing_is_closed(tight):
    assert sending_nothing(tight[0]) == b""


def test_a_connection_idle_after_an_answer_is_closed(tight):
    url, _ = tight
    with connect(url) as connection:
        connection.sendall(b"GET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = read_until_closed(connection)  # the answer, then nothing: keep-alive ends
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.count(b"HTTP/1.1 ") == 1


def test_headers_that_trickle_in_get_408_and_the_connection_closed(tight):
    url, _ = tight
    with connect(url) as connection:
        answer = trickle(connection, b"GET / HTTP/1.1\r\nHost: x\r\n", b"X-Slow: 1\r\n")
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert answer.endswith(b"\r\n\r\nrequest timeout: the request's headers must arrive within 2 s\n")


def test_a_body_that_trickles_in_gets_408_and_the_connection_closed(tight):
    url, _ = tight
    with connect(url) as connection:
        start = b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nContent-Length: 1000\r\n\r\nASK"
        answer = trickle(connection, start, b" ")
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert answer.endswith(b"\r\n\r\nrequest timeout: the request's body must arrive within 2 s\n")


def test_a_client_that_stops_reading_is_dropped(tight):
    url, _ = tight
    with connect(url, receive_buffer=4096) as connection:
        connection.sendall(b"GET /big.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        received, deadline = 0, time.monotonic() + 60
        while time.monotonic() < deadline:  # a few bytes now and then: too slow to drain anything
            try:
                chunk = connection.recv(1024)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += len(chunk)
            time.sleep(0.2)
        else:
            pytest.fail("the server kept sending to a client that did not read")
    assert received < BIG


def test_a_flood_of_idle_connections_leaves_the_server_answering(tight):
    """More idle connections than the server may open files: it answers a normal request
    all the same, closes every idle one, and writes next to nothing to its log."""
    url, log = tight
    logged = log.stat().st_size
    flood = []
    try:
        for _ in range(400):
            flood.append(connect(url))
        with urllib.request.urlopen(url + "/id/ifla", timeout=30) as response:
            assert response.status == 200
        with urllib.request.urlopen(url + "/sparql?query=ASK%7B%7D", timeout=30) as response:
            assert json.load(response)["boolean"] is True
        for connection in flood:  # each made room for a later one, or was idle too long
            assert read_until_closed(connection) == b""
    finally:
        for connection in flood:
            connection.close()
    assert log.stat().st_size - logged < 1_000, log.read_text(errors="replace")[-2_000:]


def test_the_log_says_the_same_thing_three_times_at_most(tight):
    """Each malformed request has uvicorn log a warning: a client sending them by the
    hundred must not grow the log by as many lines."""
    url, log = tight
    logged = log.stat().st_size
    for _ in range(300):
        assert exchange(url, b"NOT HTTP AT ALL\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    added = log.read_text(errors="replace")[logged:]
    assert added.count("Invalid HTTP request received.") == 3, added[-2_000:]
    assert "not again for 60 s" in added and len(added) < 1_000


@pytest.mark.parametrize("name", NAMES)
def test_a_resource_named_outside_ascii_answers_with_an_encoded_location(tight, wide: Path, name: str):
    url, _ = tight
    with connect(url) as connection:
        connection.sendall(
            f"GET /id/{urllib.parse.quote(name)} HTTP/1.1\r\nHost: x\r\nAccept: text/turtle\r\nConnection: close\r\n\r\n".encode("ascii")
        )
        answer = read_until_closed(connection)
    head = answer.partition(b"\r\n\r\n")[0]
    assert head.startswith(b"HTTP/1.1 303 ")
    location = re.search(rb"\r\nlocation: ([^\r]*)", head, re.IGNORECASE)[1].decode("ascii")
    assert re.fullmatch(r"[A-Za-z0-9%._~!$&'()*+,;=:@/-]+", location)
    assert urllib.parse.unquote(location) == f"{name}.ttl"
    link = re.search(rb"\r\nlink: ([^\r]*)", head, re.IGNORECASE)[1].decode("ascii")
    assert f'<{location}>; rel="describedby"; type="text/turtle"' in link
    with connect(url) as connection:
        connection.sendall(f"GET /id/{location} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("ascii"))
        head, _, body = read_until_closed(connection).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and body == (wide / "id" / f"{name}.ttl").read_bytes()


def test_a_redirect_to_a_directory_named_outside_ascii_is_encoded(tight):
    url, _ = tight
    with connect(url) as connection:
        connection.sendall(f"GET /{urllib.parse.quote('静的')}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("ascii"))
        head = read_until_closed(connection).partition(b"\r\n\r\n")[0]
    assert head.startswith(b"HTTP/1.1 301 ")
    assert re.search(rb"\r\nlocation: ([^\r]*)", head, re.IGNORECASE)[1] == b"/%E9%9D%99%E7%9A%84"


def test_past_the_cap_a_new_connection_gets_503_when_none_waits(wide: Path):
    """Two connections at most, both busy sending a big file to a client that does not
    read: a third is answered 503 at once, and served once they are gone."""
    with serving(wide, "--max-connections", "2", "--send-timeout", "60", "--processes", "1") as (url, _):
        stalled = [connect(url, receive_buffer=4096) for _ in range(2)]
        try:
            for connection in stalled:
                connection.sendall(b"GET /big.txt HTTP/1.1\r\nHost: x\r\n\r\n")
                connection.recv(1)  # its answer has begun
            with connect(url) as third:
                answer = read_until_closed(third)
            assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
            assert answer.endswith(b"\r\n\r\nbusy: too many connections; try again later\n")
        finally:
            for connection in stalled:
                connection.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/id/ifla", timeout=30) as response:
                    assert response.status == 200
                    break
            except urllib.error.HTTPError:  # the stalled ones take a moment to go
                assert time.monotonic() < deadline, "the server never made room again"
                time.sleep(0.2)


def test_a_query_pool_stopped_while_it_loads_a_new_build_stops_quietly(real_dist: Path, capfd):
    """serve stopped (Ctrl-C) while its workers load a new build: those still starting end without a word."""

    async def stop_while_reloading() -> None:
        pool = QueryPool(real_dist, Limits())
        await pool.open()
        reloading = asyncio.get_running_loop().create_task(pool.reload())
        await asyncio.sleep(0.05)  # the new workers are starting
        await pool.stop()
        reloading.cancel()

    asyncio.run(stop_while_reloading())
    time.sleep(1.5)  # time for what the last workers started would print
    assert "Traceback" not in capfd.readouterr().err
