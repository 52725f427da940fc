"""The SPARQL endpoint of `ndlld serve` as a user meets it: it follows the output a
build publishes, without a restart and without ever answering from two outputs at
once; it describes itself (SPARQL 1.1 Service Description) and offers browsers a form."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import isomorphic

from ndlld.queries import load_queries, run_query
from ndlld.store import EmbeddedStore

from conftest import DATA, ROOT, as_bytes, free_port, server_process

IFLA = "https://w3id.org/ndlld/id/ifla"
# The dataset's size and one name in one query: an answer from two outputs would pair them wrongly.
VERSION = (
    "PREFIX schema: <http://schema.org/> SELECT ?n ?name WHERE { { SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } } "
    f"OPTIONAL {{ <{IFLA}> schema:name ?name FILTER (lang(?name) = 'en') }} }}"
)
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
RENAMED = "International Federation of Library Associations (renamed)"


def sparql_json(url: str, query: str) -> dict:
    request = urllib.request.Request(
        url + "/sparql?" + urllib.parse.urlencode({"query": query}), headers={"Accept": "application/sparql-results+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def version(url: str) -> tuple[int, str]:
    [row] = sparql_json(url, VERSION)["results"]["bindings"]
    return int(row["n"]["value"]), row["name"]["value"]


def ndlld(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ndlld", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture
def data_and_dist(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    dist = tmp_path / "dist"
    built = ndlld("build", "--data", str(data), "--out", str(dist), "--quiet")
    assert built.returncode == 0, built.stderr
    return data, dist


def rename_ifla(data: Path) -> None:
    """A changed record: another English name, and one statement more."""
    record = data / "organizations" / "ifla.yaml"
    text = record.read_text(encoding="utf-8")
    text = text.replace("  en: International Federation of Library Associations and Institutions", f"  en: {RENAMED}", 1)
    text = text.replace("alternateName: IFLA\n", "alternateName:\n  - IFLA\n  - IFLA-renamed\n", 1)
    record.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("cache", [True, False], ids=["cached-build", "build-from-scratch"])
def test_the_endpoint_follows_a_rebuild_without_restart_and_never_mixes(data_and_dist, cache: bool):
    data, dist = data_and_dist
    port = free_port()
    command = [sys.executable, "-m", "ndlld", "serve", "--out", str(dist), "--data", str(data), "--port", str(port)]
    with server_process(command, "/", port) as (url, _process):
        before = version(url)
        seen: list[tuple[int, str]] = []
        stop = threading.Event()

        def ask_in_a_loop() -> None:
            while not stop.is_set():
                seen.append(version(url))

        asking = threading.Thread(target=ask_in_a_loop)
        asking.start()
        try:
            rename_ifla(data)
            rebuilt = ndlld("build", "--data", str(data), "--out", str(dist), "--quiet", *(() if cache else ("--no-cache",)))
            assert rebuilt.returncode == 0, rebuilt.stderr
            page = urllib.request.urlopen(url + "/id/ifla.ttl", timeout=10).read().decode("utf-8")
            assert RENAMED in page  # the files are the new output's at once
            deadline = time.monotonic() + 120  # only against a hang: the workers load the new output meanwhile
            while (not seen or seen[-1] == before) and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            stop.set()
            asking.join(timeout=120)
        after = version(url)
    assert after[1] == RENAMED and after[0] > before[0], (before, after)
    assert set(seen) <= {before, after}, f"an answer from neither output, or from both: {set(seen) - {before, after}}"
    first_new = seen.index(after)
    assert before not in seen[first_new:], "once answered from the new output, the endpoint went back to the old one"


# -- the Service Description -------------------------------------------------------
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = "http://www.w3.org/ns/formats/"
# The vocabulary of SPARQL 1.1 Service Description (https://www.w3.org/TR/sparql11-service-description/
# §3.2 and §3.4): each property's domain and range, where the spec gives a class of its own.
SD_PROPERTIES = {
    "endpoint": ("Service", None),
    "feature": ("Service", "Feature"),
    "defaultEntailmentRegime": ("Service", "EntailmentRegime"),
    "defaultSupportedEntailmentProfile": ("Service", "EntailmentProfile"),
    "extensionFunction": ("Service", "Function"),
    "extensionAggregate": ("Service", "Aggregate"),
    "languageExtension": ("Service", "Feature"),
    "supportedLanguage": ("Service", "Language"),
    "propertyFeature": ("Service", None),
    "defaultDataset": ("Service", "Dataset"),
    "availableGraphs": ("Service", "GraphCollection"),
    "resultFormat": ("Service", None),
    "inputFormat": ("Service", None),
    "defaultGraph": ("Dataset", "Graph"),
    "namedGraph": ("GraphCollection", "NamedGraph"),
    "name": ("NamedGraph", None),
    "graph": ("NamedGraph", "Graph"),
    "entailmentRegime": ("NamedGraph", "EntailmentRegime"),
    "supportedEntailmentProfile": ("NamedGraph", "EntailmentProfile"),
}
SD_CLASSES = {
    "Service", "Feature", "Language", "Function", "Aggregate", "EntailmentRegime", "EntailmentProfile",
    "GraphCollection", "Dataset", "Graph", "NamedGraph",
}  # fmt: skip
SD_INSTANCES = {"SPARQL10Query": "Language", "SPARQL11Query": "Language", "SPARQL11Update": "Language"}
SD_INSTANCES |= {f: "Feature" for f in ("DereferencesURIs", "UnionDefaultGraph", "RequiresDataset", "EmptyGraphs", "BasicFederatedQuery")}
SUBCLASSES = {"Dataset": {"GraphCollection"}, "Aggregate": {"Function"}}  # sd:Dataset is a sd:GraphCollection
# What each format of the W3C's formats namespace is asked for by.
FORMAT_MEDIA_TYPES = {
    "SPARQL_Results_JSON": "application/sparql-results+json",
    "SPARQL_Results_XML": "application/sparql-results+xml",
    "SPARQL_Results_CSV": "text/csv",
    "SPARQL_Results_TSV": "text/tab-separated-values",
    "Turtle": "text/turtle",
    "JSON-LD": "application/ld+json",
    "N-Triples": "application/n-triples",
    "RDF_XML": "application/rdf+xml",
}
DESCRIPTION_SYNTAXES = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
    "application/n-triples": "nt",
}


def get(url: str, accept: str | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


def description(served: str, accept: str) -> rdflib.Graph:
    status, content_type, body = get(served + "/sparql", accept)
    assert status == 200 and content_type.startswith(accept), (status, content_type)
    return rdflib.Graph().parse(data=body, format=DESCRIPTION_SYNTAXES[accept])


def classes_of(graph: rdflib.Graph, node) -> set[str]:
    """The sd: classes of *node*: those it is stated to have, and those the vocabulary gives its instances."""
    found = {str(t).removeprefix(str(SD)) for t in graph.objects(node, rdflib.RDF.type) if str(t).startswith(str(SD))}
    if str(node).startswith(str(SD)):
        found.add(SD_INSTANCES.get(str(node).removeprefix(str(SD)), ""))
    return found | {parent for child in list(found) for parent in SUBCLASSES.get(child, ())}


@pytest.mark.parametrize("accept", DESCRIPTION_SYNTAXES)
def test_service_description_in_each_syntax_is_the_same_graph(served: str, accept: str):
    turtle = description(served, "text/turtle")
    assert isomorphic(description(served, accept), turtle)


@pytest.mark.parametrize("accept", [None, "*/*", "text/turtle", "application/rdf+xml;q=0.9, application/ld+json;q=0.1"])
def test_clients_that_are_no_browser_get_rdf(served: str, accept):
    status, content_type, body = get(served + "/sparql", accept)
    assert status == 200 and not content_type.startswith("text/html")
    syntax = DESCRIPTION_SYNTAXES[content_type.split(";")[0]]
    assert len(rdflib.Graph().parse(data=body, format=syntax)) > 10


def test_service_description_uses_the_vocabulary_as_defined(served: str):
    graph = description(served, "text/turtle")
    for s, p, o in graph:
        for term in (s, p, o):
            if isinstance(term, rdflib.URIRef) and str(term).startswith(str(SD)):
                local = str(term).removeprefix(str(SD))
                assert local in SD_PROPERTIES or local in SD_CLASSES or local in SD_INSTANCES, f"sd:{local} is not in the vocabulary"
        if not str(p).startswith(str(SD)):
            continue
        domain, range_ = SD_PROPERTIES[str(p).removeprefix(str(SD))]
        assert domain in classes_of(graph, s), f"{s} has sd:{p.removeprefix(str(SD))} but is no sd:{domain}"
        if range_ is not None:
            assert range_ in classes_of(graph, o), f"{o}, the sd:{p.removeprefix(str(SD))} of {s}, is no sd:{range_}"


def test_service_description_says_what_the_endpoint_does(served: str):
    graph = description(served, "text/turtle")
    [service] = graph.subjects(rdflib.RDF.type, SD.Service)
    assert set(graph.objects(service, SD.endpoint)) == {rdflib.URIRef(served + "/sparql")}
    assert set(graph.objects(service, SD.supportedLanguage)) == {SD.SPARQL11Query}  # no update
    features = set(graph.objects(service, SD.feature))
    assert features and SD.BasicFederatedQuery not in features and SD.DereferencesURIs not in features
    assert SD.UnionDefaultGraph not in features  # the default graph is the dataset's graph alone
    [dataset] = graph.objects(service, SD.defaultDataset)
    assert len(list(graph.objects(dataset, SD.defaultGraph))) == 1
    names = {str(graph.value(named, SD.name)) for named in graph.objects(dataset, SD.namedGraph)}
    assert names == {"https://w3id.org/ndlld/id/dataset", "https://w3id.org/ndlld/vocab"}


def test_every_result_format_described_is_served(served: str):
    graph = description(served, "text/turtle")
    [service] = graph.subjects(rdflib.RDF.type, SD.Service)
    formats = {str(f).removeprefix(FORMATS) for f in graph.objects(service, SD.resultFormat)}
    assert {"SPARQL_Results_JSON", "SPARQL_Results_XML", "Turtle"} <= formats
    for name in formats:
        media_type = FORMAT_MEDIA_TYPES[name]
        query = "CONSTRUCT WHERE { ?s a ?o } LIMIT 3" if name in ("Turtle", "JSON-LD", "N-Triples", "RDF_XML") else COUNT
        status, content_type, _ = get(served + "/sparql?" + urllib.parse.urlencode({"query": query}), media_type)
        assert status == 200 and content_type.startswith(media_type), (name, status, content_type)


def test_every_named_graph_described_is_queryable(served: str):
    graph = description(served, "text/turtle")
    for name in graph.objects(None, SD.name):
        rows = sparql_json(served, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }}")["results"]["bindings"]
        assert int(rows[0]["n"]["value"]) > 0, name


@pytest.mark.parametrize("host", [b"a b>c", b"example.org", b'x"y}', b"<z>", b"[::1]:80"])
def test_whatever_the_host_header_the_description_is_valid_rdf(served: str, host: bytes):
    """The endpoint's IRI comes from the request; a Host header cannot break the description or add to it."""
    address, port = urllib.parse.urlsplit(served).netloc.split(":")
    with socket.create_connection((address, int(port)), timeout=10) as connection:
        connection.sendall(b"GET /sparql HTTP/1.1\r\nHost: " + host + b"\r\nAccept: text/turtle\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1]
    assert status in (b"200", b"400"), head
    if status == b"200":
        graph = rdflib.Graph().parse(data=body.decode("utf-8"), format="turtle")
        assert isomorphic(graph, description(served, "text/turtle")) or len(graph) == len(description(served, "text/turtle"))
        [endpoint] = graph.objects(None, SD.endpoint)
        assert urllib.parse.urlsplit(str(endpoint)).scheme in ("http", "https")


# -- the named queries, for any client -----------------------------------------------
@pytest.mark.parametrize("name", sorted(load_queries(ROOT / "queries")))
def test_each_named_query_runs_by_name_as_ndlld_query_runs_it(served: str, real_dist: Path, name: str):
    query = load_queries(ROOT / "queries")[name]
    kind = "text/csv"
    status, content_type, body = get(served + "/sparql?" + urllib.parse.urlencode({"named": name}), kind + ", application/n-triples")
    assert status == 200, body
    store = EmbeddedStore.open(real_dist)
    expected = as_bytes(run_query(query, {}, store, "https://w3id.org/ndlld/"), "csv" if content_type.startswith("text/csv") else "nt")
    if content_type.startswith("text/csv"):
        assert body.decode("utf-8").splitlines()[0].split(",") == expected.decode("utf-8").splitlines()[0].split(",")
    assert len(body.splitlines()) == len(expected.splitlines())


@pytest.mark.parametrize(
    "params, status",
    [
        ({"named": "no-such-query"}, 404),
        ({"named": "organization", "organization": "not an id"}, 400),
        ({"named": "organization", "organization": "ifla> } ; DROP ALL"}, 400),
        ({"named": "founded-before", "year": "1990 }"}, 400),
        ({"named": "memberships", "limit": "-1"}, 400),
        ({"named": "memberships", "nonsense": "1"}, 400),
    ],
)
def test_a_named_query_with_a_bad_parameter_is_one_line(served: str, params: dict, status: int):
    got, content_type, body = get(served + "/sparql?" + urllib.parse.urlencode(params), "text/csv")
    assert got == status and content_type.startswith("text/plain")
    assert body.decode("utf-8").count("\n") == 1


def test_a_named_query_takes_its_parameters(served: str):
    before = get(served + "/sparql?" + urllib.parse.urlencode({"named": "founded-before", "year": "1960"}), "text/csv")[2]
    after = get(served + "/sparql?" + urllib.parse.urlencode({"named": "founded-before", "year": "2000"}), "text/csv")[2]
    assert 1 < len(before.splitlines()) < len(after.splitlines())


def test_an_output_the_workers_cannot_load_leaves_the_last_one_answered(data_and_dist, tmp_path: Path):
    """A dump edited by hand into something unreadable: said on stderr in one line, the last
    good output still answered; a build after it is followed again."""
    data, dist = data_and_dist
    port = free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "ndlld", "serve", "--out", str(dist), "--data", str(data), "--port", str(port)]
    with server_process(command, "/", port, log=log) as (url, _process):
        before = version(url)
        broken = dist / "dataset.nt.new"
        broken.write_text("this is not N-Triples\n", encoding="utf-8")
        broken.replace(dist / "dataset.nt")  # another file at the name: another identity
        deadline = time.monotonic() + 120  # only against a hang
        while "still answers the previous build" not in log.read_text(errors="replace") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert version(url) == before
        rename_ifla(data)
        # --no-cache: an incremental build refuses a dump edited by hand (another matter)
        rebuilt = ndlld("build", "--data", str(data), "--out", str(dist), "--quiet", "--no-cache")
        assert rebuilt.returncode == 0, rebuilt.stderr
        while version(url) == before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert version(url)[1] == RENAMED
    said = [line for line in log.read_text(errors="replace").splitlines() if "still answers the previous build" in line]
    assert said and all("Traceback" not in line for line in said)
    assert "Traceback" not in log.read_text(errors="replace")
