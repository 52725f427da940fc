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

Besides the dataset's graph (the union: ``dataset.nt``) and the vocabulary's,
each graph of ``dataset.nq`` goes into the store under its own name: the graph
of each source, or passage of one, that states its statements, and the project's
own (:mod:`ndlld.provenance`). They are as few as the sources and passages, not
the resources. A graph the last publish of the same base put there and this
build no longer has (a passage removed) is dropped: the old project graph
describes every source and passage, so it names them.

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
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO

import httpx
from pyoxigraph import NamedNode, RdfFormat, parse

from ndlld.dumps import DATASET_FILES, read_triples
from ndlld.errors import ConfigError, PublishError, printable
from ndlld.namespaces import RDF_TYPE, SCHEMA
from ndlld.provenance import project_graph
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
    source_graphs: int = 0  # the graphs of the sources and passages (and the project's)
    source_quads: int = 0

    def __str__(self) -> str:
        checked = f"; the store holds {self.in_store}" if self.in_store is not None else ""
        sources = f", {self.source_quads} into {self.source_graphs} graphs of their sources," if self.source_graphs else ""
        return (
            f"published {self.triples} triples into <{self.graph}>{sources} and {self.vocabulary_triples} "
            f"vocabulary triples into <{VOCABULARY_GRAPH.value}> by {self.method}{checked}"
        )


Upload = tuple[Path, RdfFormat, int]  # a graph's file, its format, and how many distinct triples it holds


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
    base = read_base(dist_dir)
    target = NamedNode(graph) if graph else dataset_graph(base)
    triples = sum(1 for _ in open(dataset, "rb"))
    if not triples:
        raise ConfigError(f"{dataset} is empty: nothing to publish", path=dataset)
    graphs: dict[NamedNode, Upload] = {
        target: (dataset, RdfFormat.N_TRIPLES, triples),
        VOCABULARY_GRAPH: (ontology, RdfFormat.TURTLE, len(set(read_triples(ontology, RdfFormat.TURTLE)))),
    }
    client = _Client(attempts, backoff, timeout)
    with tempfile.TemporaryDirectory(prefix="ndlld-publish-") as split_dir:
        sources = split_graphs(dist_dir / DATASET_FILES["nquads"], Path(split_dir), set(graphs))
        project = _Project(NamedNode(project_graph(base)), target, set(graphs) | set(sources))
        try:
            method = _upload(client, store, update, {**sources, **graphs}, project)
            in_store = _count(client, store, query, target)
            _check_graphs(client, query, sources)
        finally:
            client.close()
    if in_store is not None and in_store != triples:
        raise PublishError(f"{_show(query or store)}: the store holds {in_store} triples in <{target.value}>, the dump {triples}")
    return Published(
        target.value, triples, graphs[VOCABULARY_GRAPH][2], in_store, method, len(sources), sum(u[2] for u in sources.values())
    )


@dataclass
class _Project:
    """Which graphs a publish keeps: the project's graph (whose old version names the old
    sources and passages), the dataset's graph, and every graph it puts."""

    graph: NamedNode
    target: NamedNode
    keep: set[NamedNode]

    def stale(self, described: set[NamedNode], datasets: set[NamedNode]) -> list[NamedNode]:
        """Of the resources the old project graph describes, the graphs to drop."""
        return sorted(described - datasets - self.keep, key=lambda g: g.value)


def _upload(client: _Client, store: str | None, update: str | None, graphs: dict[NamedNode, Upload], project: _Project) -> str:
    """Put *graphs* in the store, staged and swapped with *update*, else by one PUT each; returns how."""
    if update:
        return _staged(client, store, update, graphs, project)
    assert store  # (one of the two, checked by publish)
    # The dataset's graph first: a store without the Graph Store Protocol is found before anything is put.
    if not _put(client, store, project.target, *graphs[project.target][:2]):
        raise PublishError(f"{_show(store)} has no Graph Store Protocol; give its SPARQL Update endpoint with --update")
    stale = _stale_by_gsp(client, store, project) if project.graph in graphs else []  # before the project graph is put
    for name, (path, rdf_format, _) in graphs.items():
        if name != project.target:
            _put(client, store, name, path, rdf_format)
    for name in stale:
        response = client.request("DELETE", store, params={"graph": name.value})
        if response.status_code != 404:  # already gone
            _raise_for(response, "DELETE", store)
    return "the Graph Store Protocol"


def split_graphs(quads: Path, into: Path, reserved: set[NamedNode]) -> dict[NamedNode, Upload]:
    """The named graphs of the N-Quads dump *quads*, each written to an N-Triples file in
    *into*: one pass over the dump, one file open per graph (they are the sources and
    passages, a few). None when the build has no quads dump. The dump holds each quad
    once, so a graph's lines are its distinct triples."""
    if not quads.is_file():
        return {}
    files: dict[NamedNode, IO[str]] = {}
    counts: Counter[NamedNode] = Counter()
    try:
        for quad in parse(path=str(quads), format=RdfFormat.N_QUADS):
            name = quad.graph_name
            if not isinstance(name, NamedNode) or name in reserved:
                raise ConfigError(f"{quads} has a statement outside the graphs of its sources: {quad}", path=quads)
            out = files.get(name)
            if out is None:
                out = files[name] = open(into / f"{len(files)}.nt", "w", encoding="utf-8")
            out.write(f"{quad.triple} .\n")
            counts[name] += 1
    except SyntaxError as err:
        raise ConfigError(f"{quads} is not N-Quads: {_first_line(str(err))}", path=quads) from None
    finally:
        for out in files.values():
            out.close()
    return {name: (Path(out.name), RdfFormat.N_TRIPLES, counts[name]) for name, out in sorted(files.items(), key=lambda kv: kv[0].value)}


def _staged(client: _Client, store: str | None, update: str, graphs: dict[NamedNode, Upload], project: _Project) -> str:
    """Upload each of *graphs* (file, format, number of distinct triples) into a staging
    graph, then swap them all in place in one update request, which first drops the stale
    graphs; on failure drop the staging graphs, once, if the store answers.
    Returns how the triples went."""
    staging = {graph: staging_graph(graph) for graph in graphs}
    by_gsp = bool(store)
    try:
        for graph, (path, rdf_format, _) in graphs.items():
            if by_gsp and store:
                by_gsp = _put(client, store, staging[graph], path, rdf_format)
            if not by_gsp:
                _insert(client, update, staging[graph], path, rdf_format)
        swaps = [swap_update(graph, staging[graph], graphs[graph][2]) for graph in graphs]
        if project.graph in graphs:
            swaps.insert(0, _stale_update(project, staging[project.target], graphs[project.target][2]))
        _sparql_update(client, update, " ;\n".join(swaps))
    except PublishError:
        drop = " ;\n".join(f"DROP SILENT GRAPH {s}" for s in staging.values())
        try:
            _sparql_update(client, update, drop, attempts=1)
        except PublishError:
            pass  # the next publish replaces them
        raise
    return "the Graph Store Protocol and one SPARQL Update" if by_gsp else "SPARQL Update"


def staging_graph(graph: NamedNode) -> NamedNode:
    """Where *graph* is uploaded before the swap: ``<graph>-ndlld-staging``, the fragment
    kept (the passages of one source differ only by theirs)."""
    return NamedNode(graph.value + "-ndlld-staging")


def _whole(staging: NamedNode, triples: int) -> str:
    """A pattern that matches once if *staging* holds *triples* triples, else never."""
    return f"{{ SELECT (COUNT(*) AS ?staged) WHERE {{ GRAPH {staging} {{ ?x ?y ?z }} }} }} FILTER(?staged = {triples})"


def _stale_update(project: _Project, staging: NamedNode, triples: int) -> str:
    """An update operation that empties the graphs of the sources and passages the old
    project graph describes and this publish does not put, if the dataset's *staging*
    graph is whole (so only when the dataset is swapped too). It reads the old project
    graph: it goes before the swaps. Run again it changes nothing."""
    keep = ", ".join(str(g) for g in sorted(project.keep, key=lambda g: g.value))
    return (
        f"DELETE {{ GRAPH ?g {{ ?s ?p ?o }} }} WHERE {{ {_whole(staging, triples)} "
        f"{{ SELECT DISTINCT ?g WHERE {{ GRAPH {project.graph} {{ ?g ?q ?v }} FILTER(isIRI(?g) && ?g NOT IN ({keep})) "
        f"FILTER NOT EXISTS {{ GRAPH {project.graph} {{ ?g {RDF_TYPE} {SCHEMA.Dataset} }} }} }} }} "
        f"GRAPH ?g {{ ?s ?p ?o }} }}"
    )


def _stale_by_gsp(client: _Client, store: str, project: _Project) -> list[NamedNode]:
    """The graphs to drop, read from the old project graph through the Graph Store Protocol."""
    response = client.request("GET", store, params={"graph": project.graph.value}, headers={"Accept": "application/n-triples"})
    if response.status_code in (404, 405, 501):  # no such graph yet (or no protocol: the first PUT says so)
        return []
    _raise_for(response, "GET", store)
    described, datasets = set(), set()
    for triple in parse(response.content, format=RdfFormat.N_TRIPLES):
        if isinstance(triple.subject, NamedNode):
            described.add(triple.subject)
            if triple.predicate == RDF_TYPE and triple.object == SCHEMA.Dataset:
                datasets.add(triple.subject)
    return project.stale(described, datasets)


def swap_update(graph: NamedNode, staging: NamedNode, triples: int) -> str:
    """Update operations that put *staging* in place of *graph* if it holds *triples*
    triples, and drop it. Run again once *staging* is gone, they change nothing; nor
    do they swap in a staging graph that is not whole (say a late copy of an earlier
    request emptied it half-way through the upload)."""
    whole = _whole(staging, triples)
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


def _check_graphs(client: _Client, query: str | None, graphs: dict[NamedNode, Upload]) -> None:
    """With a query endpoint, that the store holds each of *graphs* whole (one query for all)."""
    if not query or not graphs:
        return
    values = " ".join(str(g) for g in graphs)
    text = f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"
    response = client.request("POST", query, data={"query": text}, headers={"Accept": "application/sparql-results+json"})
    _raise_for(response, "POST", query)
    held = {row["g"]["value"]: int(row["n"]["value"]) for row in response.json()["results"]["bindings"]}
    for graph, (_, _, triples) in graphs.items():
        if held.get(graph.value, 0) != triples:
            raise PublishError(f"{_show(query)}: the store holds {held.get(graph.value, 0)} triples in <{graph.value}>, the dump {triples}")


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
