"""``ndlld publish``: the built dataset into a SPARQL 1.1 store.

The dataset replaces its named graph in one request of the SPARQL 1.1 Graph
Store HTTP Protocol (``PUT <store>?graph=<iri>``, https://www.w3.org/TR/sparql11-http-rdf-update/):
the store swaps the graph in one transaction, so a reader sees the old
dataset or the new one, never half of it. The vocabulary goes into its own
graph the same way. A store without the Graph Store Protocol gets SPARQL 1.1
Update instead: the triples are inserted into a staging graph in batches, and
one ``MOVE`` puts the staging graph in place of the dataset's.

Transient failures (the connection drops, 429, 502, 503, 504, 500) are
retried with exponential backoff. Credentials come from the environment
(``NDLLD_STORE_USER``, ``NDLLD_STORE_PASSWORD``; HTTP basic authentication,
or digest with ``NDLLD_STORE_AUTH=digest``) or ``~/.netrc``, never from the
command line. Afterwards the store is asked how many triples the graph
holds, and the answer is checked against the dump.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import httpx
from pyoxigraph import NamedNode, RdfFormat

from ndlld.dumps import DATASET_FILES, read_triples
from ndlld.errors import ConfigError, PublishError
from ndlld.store import VOCABULARY_GRAPH, dataset_graph, read_base

RETRY_STATUS = {429, 500, 502, 503, 504}
BATCH = 20_000  # triples per INSERT DATA when the store only speaks SPARQL Update


@dataclass
class Published:
    """What ``publish`` put where, and what the store says it holds."""

    graph: str
    triples: int
    vocabulary_triples: int
    in_store: int | None
    method: str

    def __str__(self) -> str:
        checked = f"; the store holds {self.in_store}" if self.in_store is not None else ""
        return (
            f"published {self.triples} triples into <{self.graph}> and {self.vocabulary_triples} "
            f"vocabulary triples into <{VOCABULARY_GRAPH.value}> by {self.method}{checked}"
        )


class _Client:
    """HTTP with retries and one-line errors."""

    def __init__(self, attempts: int, backoff: float, timeout: float):
        self.attempts, self.backoff = attempts, backoff
        self.http = httpx.Client(timeout=timeout, auth=_credentials(), follow_redirects=True)

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        body = kwargs.pop("body_path", None)
        for attempt in range(1, self.attempts + 1):
            try:
                if body is not None:
                    with open(body, "rb") as stream:
                        response = self.http.request(method, url, content=stream, **kwargs)
                else:
                    response = self.http.request(method, url, **kwargs)
            except httpx.TransportError as err:
                problem = f"cannot reach the store ({_reason(err)})"
            else:
                if response.status_code not in RETRY_STATUS:
                    return response
                problem = f"HTTP {response.status_code} {_first_line(response.text)}".strip()
            if attempt == self.attempts:
                raise PublishError(f"{method} {_show(url)} failed after {attempt} attempts: {problem}")
            time.sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.http.close()


def publish(
    dist_dir: str | Path,
    store: str | None = None,
    update: str | None = None,
    query: str | None = None,
    graph: str | None = None,
    attempts: int = 4,
    backoff: float = 0.5,
    timeout: float = 300.0,
) -> Published:
    """Put the build in *dist_dir* into a store: by Graph Store Protocol at *store*,
    else by SPARQL Update at *update*; check the count through *store* or *query*."""
    dist_dir = Path(dist_dir)
    dataset, ontology = dist_dir / DATASET_FILES["ntriples"], dist_dir / "ontology.ttl"
    if not dataset.is_file():
        raise ConfigError(f"no {dataset.name} in {dist_dir}: run 'ndlld build' first", path=dist_dir)
    if not store and not update:
        raise ConfigError("give --store (Graph Store Protocol) or --update (SPARQL Update), or both")
    target = NamedNode(graph) if graph else dataset_graph(read_base(dist_dir))
    triples = sum(1 for _ in open(dataset, "rb"))
    vocabulary = len(read_triples(ontology, RdfFormat.TURTLE))
    client = _Client(attempts, backoff, timeout)
    try:
        method = None
        if store:
            ok = _put(client, store, target, dataset, "application/n-triples")
            if ok:
                _put(client, store, VOCABULARY_GRAPH, ontology, "text/turtle")
                method = "the Graph Store Protocol"
        if method is None:
            if not update:
                raise PublishError(f"{_show(store)} has no Graph Store Protocol; give its SPARQL Update endpoint with --update")
            _update(client, update, target, dataset, RdfFormat.N_TRIPLES)
            _update(client, update, VOCABULARY_GRAPH, ontology, RdfFormat.TURTLE)
            method = "SPARQL Update"
        in_store = _count(client, store, query, target)
    finally:
        client.close()
    if in_store is not None and in_store != triples:
        raise PublishError(f"the store holds {in_store} triples in <{target.value}>, the dump {triples}")
    return Published(target.value, triples, vocabulary, in_store, method)


def _put(client: _Client, store: str, graph: NamedNode, path: Path, media_type: str) -> bool:
    """PUT one graph; False when the store has no Graph Store Protocol there."""
    response = client.request(
        "PUT", store, params={"graph": graph.value}, headers={"Content-Type": media_type}, body_path=path
    )
    if response.status_code in (404, 405, 501) and graph != VOCABULARY_GRAPH:
        return False
    _raise_for(response, "PUT", store)
    return True


def _update(client: _Client, endpoint: str, graph: NamedNode, path: Path, rdf_format: RdfFormat) -> None:
    """Insert into a staging graph in batches, then MOVE it over *graph* in one request."""
    staging = NamedNode(graph.value.partition("#")[0] + "-ndlld-staging")
    _sparql_update(client, endpoint, f"DROP SILENT GRAPH {staging}")
    triples = iter(read_triples(path, rdf_format))
    while batch := list(islice(triples, BATCH)):
        body = " .\n".join(str(t) for t in batch)
        _sparql_update(client, endpoint, f"INSERT DATA {{ GRAPH {staging} {{\n{body} .\n}} }}")
    _sparql_update(client, endpoint, f"MOVE SILENT GRAPH {staging} TO GRAPH {graph}")


def _sparql_update(client: _Client, endpoint: str, text: str) -> None:
    response = client.request("POST", endpoint, content=text.encode("utf-8"), headers={"Content-Type": "application/sparql-update"})
    _raise_for(response, "POST", endpoint)


def _count(client: _Client, store: str | None, query: str | None, graph: NamedNode) -> int | None:
    """How many triples the store holds in *graph*: by SPARQL if there is a query URL, else by GET."""
    if query:
        text = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}"
        response = client.request("POST", query, data={"query": text}, headers={"Accept": "application/sparql-results+json"})
        _raise_for(response, "POST", query)
        return int(response.json()["results"]["bindings"][0]["n"]["value"])
    if store:
        response = client.request("GET", store, params={"graph": graph.value}, headers={"Accept": "application/n-triples"})
        _raise_for(response, "GET", store)
        return sum(1 for line in response.content.splitlines() if line.strip() and not line.startswith(b"#"))
    return None


def _raise_for(response: httpx.Response, method: str, url: str) -> None:
    if response.status_code >= 400:
        hint = " (check NDLLD_STORE_USER and NDLLD_STORE_PASSWORD, or ~/.netrc)" if response.status_code in (401, 403) else ""
        raise PublishError(
            f"{method} {_show(url)}: HTTP {response.status_code} {_first_line(response.text)}{hint}".rstrip()
        )


def _credentials():
    user, password = os.environ.get("NDLLD_STORE_USER"), os.environ.get("NDLLD_STORE_PASSWORD")
    if user:
        scheme = httpx.DigestAuth if os.environ.get("NDLLD_STORE_AUTH", "").lower() == "digest" else httpx.BasicAuth
        return scheme(user, password or "")
    netrc = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    return httpx.NetRCAuth(str(netrc)) if netrc.is_file() else None


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0][:200] if lines else ""


def _reason(err: Exception) -> str:
    return _first_line(str(err)) or type(err).__name__


def _show(url: str | None) -> str:
    """A URL without any user:password in it, for messages."""
    if not url:
        return ""
    parts = httpx.URL(url)
    return str(parts.copy_with(username=None, password=None)) if parts.userinfo else url
