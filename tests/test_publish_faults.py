"""`ndlld publish` when the store fails half-way: the connection drops during the
upload, the store answers 500 or answers late, or it is killed (a real Oxigraph
server, by its pid). Publish retries, ends with one clear line when it must, and
the named graph is never left half-replaced: whoever reads it sees the old
dataset or the new one.

The store is always a real ``oxigraph serve``; the faults come from
tests/faults.py, a small proxy in front of it (nothing real drops connections on
demand). Old and new are compared by SPARQL: the number of triples in the graph
and a SHA-256 of its sorted triples."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import threading
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from pyoxigraph import NamedNode, RdfFormat, parse

from ndlld.cli import cli
from ndlld.errors import PublishError
from ndlld.publish import publish, swap_update

from conftest import OXIGRAPH, OXIGRAPH_PROBE, free_port, ndlld_measured, server_process
from faults import Cut, FaultProxy, Slow, Status, Stranger, endless

NEW_COPIES = 20  # the new dataset: the real one and 19 renamed copies, about 10,000 triples


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def digest(ntriples: bytes) -> tuple[int, str]:
    """How many triples, and a SHA-256 of them sorted, however they were written."""
    lines = sorted(str(t) for t in parse(ntriples, format=RdfFormat.N_TRIPLES))
    return len(lines), hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def in_graph(base: str, graph: str) -> tuple[int, str]:
    """What the store at *base* holds in *graph*, read by SPARQL: (count, digest)."""
    select = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    answer = httpx.post(f"{base}/query", data={"query": select}, headers={"Accept": "application/sparql-results+json"})
    answer.raise_for_status()
    count = int(answer.json()["results"]["bindings"][0]["n"]["value"])
    construct = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    answer = httpx.post(f"{base}/query", data={"query": construct}, headers={"Accept": "application/n-triples"}, timeout=60)
    answer.raise_for_status()
    held = digest(answer.content)
    assert held[0] == count
    return held


def of(dist: Path) -> tuple[int, str]:
    return digest((dist / "dataset.nt").read_bytes())


def graphs_in(base: str) -> set[str]:
    answer = httpx.post(
        f"{base}/query",
        data={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"},
        headers={"Accept": "application/sparql-results+json"},
    )
    return {row["g"]["value"] for row in answer.json()["results"]["bindings"]}


@pytest.fixture(scope="module")
def old_dist(real_dist: Path) -> Path:
    return real_dist


@pytest.fixture(scope="module")
def new_dist(real_dist: Path, tmp_path_factory) -> Path:
    """A larger build: the real dataset and renamed copies of it (publish reads
    only dataset.nt, ontology.ttl and void.ttl)."""
    out = tmp_path_factory.mktemp("grown") / "dist"
    out.mkdir()
    for name in ("ontology.ttl", "void.ttl"):
        shutil.copyfile(real_dist / name, out / name)
    lines = (real_dist / "dataset.nt").read_bytes().splitlines(keepends=True)
    copies = [line.replace(b"/ndlld/id/", b"/ndlld/id/copy%d-" % k) for k in range(1, NEW_COPIES) for line in lines]
    (out / "dataset.nt").write_bytes(b"".join(sorted(lines + copies)))
    return out


@pytest.fixture
def proxy():
    made = []

    def make(upstream: str, **faults) -> FaultProxy:
        made.append(FaultProxy(upstream, {key.replace("_", " /", 1): fault for key, fault in faults.items()}))
        return made[-1]

    yield make
    for each in made:
        each.close()


# The three ways publish can go: one PUT per graph; staged by PUT, swapped by one
# update; staged by INSERT DATA, swapped by one update.
PATHS = ["gsp", "staged-gsp", "staged-insert"]


def targets(path: str, base: str) -> dict[str, str]:
    return {
        "gsp": {"store": f"{base}/store"},
        "staged-gsp": {"store": f"{base}/store", "update": f"{base}/update"},
        "staged-insert": {"update": f"{base}/update"},
    }[path]


def options(path: str, base: str) -> list[str]:
    return [part for name, url in targets(path, base).items() for part in (f"--{name}", url)]


def graph_for(request) -> str:
    return "https://example.org/graphs/" + request.node.name.replace("[", "-").rstrip("]")


def one_line(result) -> str:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# 1. The connection drops in the middle of the upload.


@pytest.mark.parametrize("path", ["gsp", "staged-gsp"])
def test_a_dropped_upload_is_retried(oxigraph, proxy, old_dist, new_dist, request, path):
    graph = graph_for(request)
    publish(old_dist, store=f"{oxigraph}/store", graph=graph)
    half = (new_dist / "dataset.nt").stat().st_size // 2
    cutting = proxy(oxigraph, PUT_store=Cut(after=half, times=2))
    published = publish(new_dist, **targets(path, cutting.url), query=f"{oxigraph}/query", graph=graph, backoff=0.01)
    assert published.in_store == published.triples
    assert cutting.log[:3] == ["PUT /store: Cut", "PUT /store: Cut", "PUT /store: forwarded"]
    assert in_graph(oxigraph, graph) == of(new_dist)


@pytest.mark.parametrize("path", PATHS)
def test_an_upload_cut_every_time_is_one_clear_error_and_changes_nothing(oxigraph, proxy, old_dist, new_dist, request, path):
    graph = graph_for(request)
    publish(old_dist, store=f"{oxigraph}/store", graph=graph)
    half = (new_dist / "dataset.nt").stat().st_size // 2
    cutting = proxy(oxigraph, PUT_store=Cut(after=half, times=None), POST_update=Cut(after=half, times=None))
    result = run("publish", *options(path, cutting.url), "--graph", graph, "--retries", 2, "--out", new_dist)
    line = one_line(result)
    method, endpoint = ("PUT", "store") if path != "staged-insert" else ("POST", "update")
    assert line.startswith(f"{method} {cutting.url}/{endpoint} failed after 2 attempts: the connection was lost (")
    assert in_graph(oxigraph, graph) == of(old_dist)
    assert not any(g.startswith(graph + "-") for g in graphs_in(oxigraph)), "no staging graph is left behind"


def test_a_swap_whose_answer_is_lost_is_retried_without_undoing_it(oxigraph, proxy, old_dist, new_dist, request):
    """The connection drops once the swap is sent, before the store answers: the store
    may have done it. The retry must then change nothing (MOVE SILENT would empty the graph)."""
    graph = graph_for(request)
    publish(old_dist, store=f"{oxigraph}/store", graph=graph)
    cutting = proxy(oxigraph, POST_update=Cut(after=None, times=1))
    published = publish(new_dist, store=f"{cutting.url}/store", update=f"{cutting.url}/update", graph=graph, backoff=0.01)
    assert published.in_store == published.triples
    assert "POST /update: Cut" in cutting.log
    assert in_graph(oxigraph, graph) == of(new_dist)


def test_a_staging_graph_that_is_not_whole_is_never_swapped_in(oxigraph, old_dist, new_dist, request):
    """Say a late copy of an earlier request emptied the staging graph half-way through
    the upload: the swap leaves the dataset's graph as it was."""
    graph = graph_for(request)
    publish(old_dist, store=f"{oxigraph}/store", graph=graph)
    lines = (new_dist / "dataset.nt").read_bytes().splitlines(keepends=True)
    staging = NamedNode(graph + "-ndlld-staging")
    httpx.put(
        f"{oxigraph}/store",
        params={"graph": staging.value},
        content=b"".join(lines[: len(lines) // 2]),
        headers={"Content-Type": "application/n-triples"},
    ).raise_for_status()
    swap = swap_update(NamedNode(graph), staging, len(lines))
    httpx.post(f"{oxigraph}/update", content=swap.encode(), headers={"Content-Type": "application/sparql-update"}).raise_for_status()
    assert in_graph(oxigraph, graph) == of(old_dist)
    assert staging.value not in graphs_in(oxigraph)


# 2. The store answers 500.


@pytest.mark.parametrize("path", PATHS)
def test_transient_500s_are_retried_and_publish(oxigraph, proxy, old_dist, new_dist, request, path):
    graph = graph_for(request)
    publish(old_dist, store=f"{oxigraph}/store", graph=graph)
    failing = proxy(oxigraph, PUT_store=Status(500, times=2), POST_update=Status(500, times=2))
    published = publish(new_dist, **targets(path, failing.url), query=f"{oxigraph}/query", graph=graph, backoff=0.01)
    assert published.in_store == published.triples
    assert [entry for entry in failing.log if entry.endswith("Status")], "the store failed"
    assert in_graph(oxigraph, graph) == of(new_dist)


@pytest.mark.parametrize("path", PATHS)
def test_permanent_500s_end_in_one_clear_line_and_change_nothing(oxigraph, proxy, old_dist, new_dist, request, path):
    graph = graph_for(request)
    publish(old_dist, store=f"{oxigraph}/store", graph=graph)
    failing = proxy(oxigraph, PUT_store=Status(500, times=None), POST_update=Status(500, times=None))
    result = run("publish", *options(path, failing.url), "--graph", graph, "--retries", 3, "--out", new_dist)
    method, endpoint = ("PUT", "store") if path != "staged-insert" else ("POST", "update")
    assert one_line(result) == f"{method} {failing.url}/{endpoint} failed after 3 attempts: HTTP 500 injected"
    assert in_graph(oxigraph, graph) == of(old_dist)


# 3. The store answers late.


def test_publish_has_a_timeout_option():
    result = run("publish", "--help")
    assert "--timeout SECONDS" in result.output


@pytest.mark.parametrize("path", PATHS)
def test_a_late_answer_is_retried(oxigraph, proxy, old_dist, new_dist, request, path):
    graph = graph_for(request)
    publish(old_dist, store=f"{oxigraph}/store", graph=graph)
    late = proxy(oxigraph, PUT_store=Slow(8, times=1), POST_update=Slow(8, times=1))
    # The timeout leaves the requests that are not held back time to finish on a busy machine.
    published = publish(new_dist, **targets(path, late.url), query=f"{oxigraph}/query", graph=graph, backoff=0.01, timeout=2.5)
    assert published.in_store == published.triples
    assert in_graph(oxigraph, graph) == of(new_dist)


@pytest.mark.parametrize("path", PATHS)
def test_answers_always_late_end_in_one_clear_line(oxigraph, proxy, old_dist, new_dist, request, path):
    """The store does the work but never answers in time: publish gives up, and the
    graph holds one dataset whole (the old, or the new if a PUT of it got through)."""
    graph = graph_for(request)
    publish(old_dist, store=f"{oxigraph}/store", graph=graph)
    late = proxy(oxigraph, PUT_store=Slow(3, times=None), POST_update=Slow(3, times=None))
    result = run("publish", *options(path, late.url), "--graph", graph, "--retries", 2, "--timeout", 0.5, "--out", new_dist)
    method, endpoint = ("PUT", "store") if path != "staged-insert" else ("POST", "update")
    assert one_line(result) == f"{method} {late.url}/{endpoint} failed after 2 attempts: no answer within 0.5 s"
    assert in_graph(oxigraph, graph) in (of(old_dist), of(new_dist))


# 4. The store is killed (SIGKILL, by its pid) during the upload.


def oxigraph_on(location: Path):
    """A real `oxigraph serve --location` on a free loopback port; yields (url, process)."""
    port = free_port()
    command = [str(OXIGRAPH), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"]
    return server_process(command, OXIGRAPH_PROBE, port, clean_exit=False)


@pytest.mark.parametrize("where", ["mid-upload", "at-the-swap"])
def test_a_store_killed_during_publish_keeps_one_dataset_whole(old_dist, new_dist, tmp_path, where):
    graph = "https://example.org/graphs/killed"
    location = tmp_path / "oxigraph"
    with oxigraph_on(location) as (url, process):
        publish(old_dist, store=f"{url}/store", graph=graph)
        assert in_graph(url, graph) == of(old_dist)

        def kill():
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)

        if where == "mid-upload":  # half of the dataset sent, in one PUT
            faults = {"PUT /store": Cut(after=(new_dist / "dataset.nt").stat().st_size // 2, then=kill)}
            target = {"store": "store"}
        else:  # staged whole, then killed once the swap is sent, before its answer
            faults = {"POST /update": Cut(after=None, then=kill)}
            target = {"store": "store", "update": "update"}
        killing = FaultProxy(url, faults)
        try:
            with pytest.raises(PublishError) as caught:
                publish(new_dist, **{k: f"{killing.url}/{v}" for k, v in target.items()}, graph=graph, attempts=2, backoff=0.01)
        finally:
            killing.close()
        assert process.returncode == -signal.SIGKILL
        assert "\n" not in str(caught.value) and killing.url in str(caught.value)

    with oxigraph_on(location) as (url, process):
        held = in_graph(url, graph)
        if where == "mid-upload":
            assert held == of(old_dist)
        else:
            assert held in (of(old_dist), of(new_dist))
        published = publish(new_dist, store=f"{url}/store", update=f"{url}/update", graph=graph)
        assert published.in_store == published.triples
        assert in_graph(url, graph) == of(new_dist)


# 5. A reader while publish replaces the graph.


@pytest.mark.parametrize("path", PATHS)
def test_a_reader_sees_the_old_dataset_or_the_new_one(oxigraph, old_dist, new_dist, request, path):
    graph = graph_for(request)
    publish(old_dist, store=f"{oxigraph}/store", graph=graph)
    old, new = of(old_dist)[0], of(new_dist)[0]
    counts, done = [], threading.Event()
    select = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"

    def read():
        with httpx.Client(timeout=30) as client:
            while not done.is_set():
                answer = client.post(f"{oxigraph}/query", data={"query": select}, headers={"Accept": "application/sparql-results+json"})
                counts.append(int(answer.json()["results"]["bindings"][0]["n"]["value"]))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for dist in (new_dist, old_dist, new_dist):
            publish(dist, **targets(path, oxigraph), graph=graph)
    finally:
        done.set()
        reader.join()
    assert counts, "the reader read"
    assert set(counts) <= {old, new}, sorted(set(counts) - {old, new})
    assert in_graph(oxigraph, graph) == of(new_dist)


# 6. A store, or what stands in front of it, that answers with an error whose body has
# no end (or announces gigabytes): publish reads a few kB of it for the message.

DIGEST = {"NDLLD_STORE_USER": "ndlld", "NDLLD_STORE_PASSWORD": "secret", "NDLLD_STORE_AUTH": "digest"}
HUGE_ERRORS = {
    "500": ({"": endless(500, piece=b"x" * 65536)}, ["HTTP 500 xxx"], None),  # retried, then given up
    "400": ({"": endless(400, piece=b"no\n" * 20000)}, ["HTTP 400 no"], None),
    "401": ({"": endless(401, Content_Length=str(2 * 1024**3))}, ["HTTP 401 \\x00", "(check NDLLD_STORE_USER"], None),
    "401-digest": ({"": endless(401, WWW_Authenticate='Digest realm="store", nonce="abc", qop="auth"')}, ["HTTP 401"], DIGEST),
    "302-then-503": ({"": endless(302, Location="/elsewhere"), "/elsewhere": endless(503, chunked=True)}, ["HTTP 503"], None),
}


@pytest.mark.parametrize("path", ["gsp", "staged-insert"])
@pytest.mark.parametrize("errors", list(HUGE_ERRORS))
def test_an_error_with_a_body_without_end_is_one_line_in_bounded_memory(errors: str, path: str, old_dist: Path):
    answers, says, env = HUGE_ERRORS[errors]
    first = "/store" if path == "gsp" else "/update"
    store = Stranger({(first if where == "" else where): answer for where, answer in answers.items()})
    try:
        ran = ndlld_measured("publish", "--out", old_dist, *options(path, store.url), "--retries", "2", "--timeout", "30", env=env)
    finally:
        store.close()
    assert "Traceback" not in ran.stderr and ran.exit_code == 2, ran.stderr
    [line] = ran.stderr.splitlines()
    assert all(part in line for part in says) and line.isprintable() and len(line) < 400, line
    assert ran.max_rss < 400 * 1024**2
