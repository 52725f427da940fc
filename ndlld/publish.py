"""``ndlld publish``: the built dataset into a SPARQL 1.1 store.

A reader of the store sees the old dataset or the new one, never half of it,
nor a graph emptied by a failed upload:

- With ``--update`` (the store's SPARQL 1.1 Update endpoint), every graph is
  first uploaded into a staging graph of its own (by one Graph Store Protocol
  ``PUT`` when ``--store`` is given too, else by ``INSERT DATA`` in batches),
  then one update request puts the staging graphs in place of the dataset's
  and the vocabulary's graphs. SPARQL 1.1 Update asks a store to treat each
  request atomically (https://www.w3.org/TR/sparql11-update/#updateServices);
  Oxigraph runs each update request in one transaction, so both graphs change
  together. An upload that fails touches only the staging graphs, and a
  staging graph is swapped in only if it holds as many triples as the file.
  The swap is written so that running it twice is harmless (see ``swap_update``):
  when its answer is lost, or comes too late, the store may have done it, and
  the retry must not undo it. ``MOVE SILENT`` would: Oxigraph rewrites it as
  "drop the target, copy the source, drop the source", so a retry that found
  the staging graph gone would empty the dataset's graph.
- With ``--store`` alone, each graph is replaced by one Graph Store Protocol
  ``PUT <store>?graph=<iri>``
  (https://www.w3.org/TR/sparql11-http-rdf-update/): atomic only if the store
  runs a ``PUT`` in one transaction. Oxigraph 0.5.13 does (its server clears
  and loads the graph in one transaction); Oxigraph 0.5.9 and earlier cleared
  the graph in one transaction and loaded it in another.

Transient failures (the connection drops, no answer within the timeout, 429,
500, 502, 503, 504) are retried with exponential backoff; then the error is
one line naming the request and the endpoint. Credentials come from the
environment (``NDLLD_STORE_USER``, ``NDLLD_STORE_PASSWORD``; HTTP basic
authentication, or digest with ``NDLLD_STORE_AUTH=digest``) or ``~/.netrc``,
never from the command line. Afterwards the store is asked how many triples
the graph holds, and the answer is checked against the dump.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import httpx
from pyoxigraph import NamedNode, RdfFormat

from ndlld.dumps import DATASET_FILES, read_triples
from ndlld.errors import ConfigError, PublishError, printable
from ndlld.store import VOCABULARY_GRAPH, dataset_graph, read_base

RETRY_STATUS = {429, 500, 502, 503, 504}
ERROR_BYTES = 4096  # of an error's (or a redirect's) body: read for its first line, the rest never
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


class _FileBody:
    """A file's bytes as a request body that can be sent more than once: with digest
    authentication the first request is refused with a challenge and sent again with
    the answer, and an open file would be spent by then (httpx then sends nothing and
    the store waits for the bytes announced)."""

    def __init__(self, path: Path):
        self.path = path

    def __iter__(self) -> Iterator[bytes]:
        with open(self.path, "rb") as file:
            while chunk := file.read(1 << 16):
                yield chunk


class _Client:
    """HTTP with retries and one-line errors."""

    def __init__(self, attempts: int, backoff: float, timeout: float):
        self.attempts, self.backoff, self.timeout = attempts, backoff, timeout
        self.http = httpx.Client(timeout=timeout, auth=_credentials(), follow_redirects=True, event_hooks={"response": [_bound_error_body]})

    def request(self, method: str, url: str, attempts: int | None = None, **kwargs) -> httpx.Response:
        body = kwargs.pop("body_path", None)
        if body is not None:  # its length given, so that it goes as it is rather than in chunks
            kwargs["content"] = _FileBody(body)
            kwargs["headers"] = {**kwargs.get("headers", {}), "Content-Length": str(os.path.getsize(body))}
        attempts = attempts or self.attempts
        for attempt in range(1, attempts + 1):
            try:
                response = self.http.request(method, url, **kwargs)
            except httpx.TimeoutException:
                problem = f"no answer within {self.timeout:g} s"
            except httpx.ConnectError as err:
                problem = f"cannot reach the store ({_reason(err)})"
            except httpx.TransportError as err:
                problem = f"the connection was lost ({_reason(err)})"
            else:
                if response.status_code not in RETRY_STATUS:
                    return response
                problem = f"HTTP {response.status_code} {_first_line(response.text)}".strip()
            if attempt == attempts:
                raise PublishError(f"{method} {_show(url)} failed after {attempt} attempt{'s' if attempt > 1 else ''}: {problem}")
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
    """Put the build in *dist_dir* into a store: staged and swapped in by SPARQL Update
    at *update* (uploaded by Graph Store Protocol at *store* when given), else by one
    Graph Store Protocol PUT per graph at *store*; check the count through *store* or
    *query*. *timeout* is in seconds, for connecting and for each wait for the store."""
    dist_dir = Path(dist_dir)
    dataset, ontology = dist_dir / DATASET_FILES["ntriples"], dist_dir / "ontology.ttl"
    if not dataset.is_file():
        raise ConfigError(f"no {dataset.name} in {dist_dir}: run 'ndlld build' first", path=dist_dir)
    if not store and not update:
        raise ConfigError("give --store (Graph Store Protocol) or --update (SPARQL Update), or both")
    target = NamedNode(graph) if graph else dataset_graph(read_base(dist_dir))
    triples = sum(1 for _ in open(dataset, "rb"))
    if not triples:
        raise ConfigError(f"{dataset} is empty: nothing to publish", path=dataset)
    vocabulary = len(set(read_triples(ontology, RdfFormat.TURTLE)))
    client = _Client(attempts, backoff, timeout)
    try:
        if update:
            graphs = {target: (dataset, RdfFormat.N_TRIPLES, triples), VOCABULARY_GRAPH: (ontology, RdfFormat.TURTLE, vocabulary)}
            method = _staged(client, store, update, graphs)
        elif store:  # (one of the two, checked above)
            if not _put(client, store, target, dataset, RdfFormat.N_TRIPLES):
                raise PublishError(f"{_show(store)} has no Graph Store Protocol; give its SPARQL Update endpoint with --update")
            _put(client, store, VOCABULARY_GRAPH, ontology, RdfFormat.TURTLE)
            method = "the Graph Store Protocol"
        in_store = _count(client, store, query, target)
    finally:
        client.close()
    if in_store is not None and in_store != triples:
        raise PublishError(f"{_show(query or store)}: the store holds {in_store} triples in <{target.value}>, the dump {triples}")
    return Published(target.value, triples, vocabulary, in_store, method)


def _staged(client: _Client, store: str | None, update: str, graphs: dict[NamedNode, tuple[Path, RdfFormat, int]]) -> str:
    """Upload each of *graphs* (file, format, number of distinct triples) into a staging
    graph, then swap them all in place in one update request; on failure drop the staging graphs, once, if the store answers.
    Returns how the triples went."""
    staging = {graph: NamedNode(graph.value.partition("#")[0] + "-ndlld-staging") for graph in graphs}
    by_gsp = bool(store)
    try:
        for graph, (path, rdf_format, _) in graphs.items():
            if by_gsp and store:
                by_gsp = _put(client, store, staging[graph], path, rdf_format)
            if not by_gsp:
                _insert(client, update, staging[graph], path, rdf_format)
        _sparql_update(client, update, " ;\n".join(swap_update(graph, staging[graph], graphs[graph][2]) for graph in graphs))
    except PublishError:
        drop = " ;\n".join(f"DROP SILENT GRAPH {s}" for s in staging.values())
        try:
            _sparql_update(client, update, drop, attempts=1)
        except PublishError:
            pass  # the next publish replaces them
        raise
    return "the Graph Store Protocol and one SPARQL Update" if by_gsp else "SPARQL Update"


def swap_update(graph: NamedNode, staging: NamedNode, triples: int) -> str:
    """Update operations that put *staging* in place of *graph* if it holds *triples*
    triples, and drop it. Run again once *staging* is gone, they change nothing; nor
    do they swap in a staging graph that is not whole (say a late copy of an earlier
    request emptied it half-way through the upload)."""
    whole = f"{{ SELECT (COUNT(*) AS ?staged) WHERE {{ GRAPH {staging} {{ ?x ?y ?z }} }} }} FILTER(?staged = {triples})"
    return (
        f"DELETE {{ GRAPH {graph} {{ ?s ?p ?o }} }} WHERE {{ {whole} GRAPH {graph} {{ ?s ?p ?o }} }} ;\n"
        f"INSERT {{ GRAPH {graph} {{ ?s ?p ?o }} }} WHERE {{ {whole} GRAPH {staging} {{ ?s ?p ?o }} }} ;\n"
        f"DROP SILENT GRAPH {staging}"
    )


def _put(client: _Client, store: str, graph: NamedNode, path: Path, rdf_format: RdfFormat) -> bool:
    """PUT one graph; False when the store has no Graph Store Protocol there."""
    response = client.request("PUT", store, params={"graph": graph.value}, headers={"Content-Type": rdf_format.media_type}, body_path=path)
    if response.status_code in (404, 405, 501) and graph != VOCABULARY_GRAPH:
        return False
    _raise_for(response, "PUT", store)
    return True


def _insert(client: _Client, endpoint: str, graph: NamedNode, path: Path, rdf_format: RdfFormat) -> None:
    """Empty *graph*, then insert the triples of *path* into it in batches."""
    _sparql_update(client, endpoint, f"DROP SILENT GRAPH {graph}")
    triples = iter(read_triples(path, rdf_format))
    while batch := list(islice(triples, BATCH)):
        body = " .\n".join(str(t) for t in batch)
        _sparql_update(client, endpoint, f"INSERT DATA {{ GRAPH {graph} {{\n{body} .\n}} }}")


def _sparql_update(client: _Client, endpoint: str, text: str, attempts: int | None = None) -> None:
    response = client.request(
        "POST", endpoint, attempts=attempts, content=text.encode("utf-8"), headers={"Content-Type": "application/sparql-update"}
    )
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
        said = " ".join(part for part in (f"HTTP {response.status_code}", _first_line(response.text)) if part)
        raise PublishError(f"{method} {_show(url)}: {said}{hint}")


def _bound_error_body(response: httpx.Response) -> None:
    """Let only the first ERROR_BYTES of a body be read when the answer is not a success:
    such a body is read for a message at most (or read whole by httpx, under a redirect or
    a challenge), and a failing store, or what stands in front of it, may send gigabytes."""
    if response.status_code >= 300:
        response.stream = _Head(response.stream, ERROR_BYTES)


class _Head(httpx.SyncByteStream):
    """The first *size* bytes of a response body; closing it drops the connection with the rest unread."""

    def __init__(self, stream, size: int):
        self.stream, self.size = stream, size

    def __iter__(self) -> Iterator[bytes]:
        left = self.size
        for chunk in self.stream:
            yield chunk[:left]
            left -= len(chunk)
            if left <= 0:
                return

    def close(self) -> None:
        self.stream.close()


def _credentials():
    user, password = os.environ.get("NDLLD_STORE_USER"), os.environ.get("NDLLD_STORE_PASSWORD")
    if user:
        scheme = httpx.DigestAuth if os.environ.get("NDLLD_STORE_AUTH", "").lower() == "digest" else httpx.BasicAuth
        return scheme(user, password or "")
    netrc = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    return httpx.NetRCAuth(str(netrc)) if netrc.is_file() else None


def _first_line(text: str) -> str:
    """The first line of what a store said, printable (its control characters escaped), cut at 200 characters."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return printable(lines[0])[:200] if lines else ""


def _reason(err: Exception) -> str:
    return _first_line(str(err)) or type(err).__name__


def _show(url: str | None) -> str:
    """A URL without any user:password in it, for messages."""
    if not url:
        return ""
    parts = httpx.URL(url)
    return str(parts.copy_with(username=None, password=None)) if parts.userinfo else url
