"""`ndlld query` opens the store a build with the cache kept of the published graph, and
only that: whenever the output is not the one the store was kept for (a build without
the cache, a build killed anywhere, a file edited by hand, a cache that is not whole),
it loads the dumps. Either way the answer is what the dumps hold. A running query holds
no build back and sees no build half-done, and it writes nothing.

Which store answered is seen in two ways: a query holds a lock on the store it opened
(the documented protocol, read from /proc/locks), and a marker statement put into the
kept store by the test, which the dumps do not hold.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyoxigraph import CanonicalizationAlgorithm, Dataset, Literal, NamedNode, Quad, Store

from ndlld.build import build
from ndlld.cli import cli
from ndlld.published import output_identity
from ndlld.queries import load_queries, read_query, run_query
from ndlld.resources import resource_dir
from ndlld.store import LOADED_FILES, EmbeddedStore
from ndlld.synth import synthesize

from conftest import DATA, ROOT, as_bytes, kind_of

QUERIES = load_queries(resource_dir("queries"))
MARKER = NamedNode("urn:ndlld:test:marker")
# Every statement of each graph a query sees: each edit of the tests below changes it.
GRAPHS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g\n"
MARKED = f"ASK {{ {MARKER} ?p ?o }}\n"
TIMEOUT = 300  # seconds: only so that a build held back by a query fails rather than hangs


@pytest.fixture
def published(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The real data built with the cache at its default place: (data, out, cache)."""
    data, out, cache = tmp_path / "data", tmp_path / "dist", tmp_path / ".dist.cache"
    shutil.copytree(DATA, data)
    build(data, out, cache_dir=cache)
    return data, out, cache


@pytest.fixture(scope="module")
def larger_data(tmp_path_factory) -> Path:
    """Enough synthetic records that a build takes a few seconds."""
    data = tmp_path_factory.mktemp("synth") / "data"
    synthesize(data, orgs=300, seed=7)
    return data


def query(out: Path, data: Path, *args, cache: Path | None = None) -> bytes:
    """What `ndlld query ARGS` prints, run in this process."""
    extra = ["--cache-dir", str(cache)] if cache is not None else []
    result = CliRunner().invoke(cli, ["query", *map(str, args), "--out", str(out), "--data", str(data), *extra])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def loaded(out: Path, text_or_name: str, tmp: Path) -> bytes:
    """The answer of the dumps in *out*, loaded into memory, as `ndlld query` writes it."""
    if text_or_name in QUERIES:
        chosen = QUERIES[text_or_name]
    else:
        (tmp / "loaded.rq").write_text(text_or_name, encoding="utf-8")
        chosen = read_query(tmp / "loaded.rq")
    store = EmbeddedStore.open(out)
    result = run_query(chosen, {}, store, store.graph.value.removesuffix("id/dataset"))
    return as_bytes(result, kind_of(result))


def ask(out: Path, data: Path, text: str, tmp: Path, cache: Path | None = None) -> bytes:
    file = tmp / "asked.rq"
    file.write_text(text, encoding="utf-8")
    return query(out, data, file, "--format", "csv", cache=cache)


def kept_store(cache: Path) -> tuple[Path, NamedNode]:
    """The store the note of the cache names, and its dataset graph."""
    note = json.loads((cache / "published" / "current.json").read_text(encoding="utf-8"))
    return cache / "published" / note["store"], NamedNode(note["graph"])


def mark_kept_store(cache: Path) -> None:
    """A statement the dumps do not hold, put into the kept store: a query that sees it
    answered from that store."""
    path, graph = kept_store(cache)
    store = Store(str(path))
    store.add(Quad(MARKER, MARKER, Literal("kept"), graph))
    store.flush()
    del store


def locked(path: Path) -> bool:
    """Whether some process holds a flock on *path* (read from /proc/locks, without taking it)."""
    inode = os.stat(path).st_ino
    lines = Path("/proc/locks").read_text().splitlines()
    return any(line.split()[1] == "FLOCK" and line.split()[5].endswith(f":{inode}") for line in lines)


def answers_from_the_kept_store(out: Path, data: Path, tmp: Path, cache: Path | None = None) -> bool:
    mark_kept_store(cache or out.parent / f".{out.name}.cache")
    answer = ask(out, data, MARKED, tmp, cache)
    assert answer in (b"true", b"false"), answer
    return answer == b"true"


def rename(data: Path, record: str, new: str) -> None:
    path = next((data / "organizations").rglob(f"{record}.yaml"))
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\n  en: ", f"\n  en: {new} ", 1), encoding="utf-8")


def add_organization(data: Path, number: int) -> None:
    (data / "organizations" / f"added-{number}.yaml").write_text(
        f"id: added-{number}\ntype: Organization\nname:\n  en: Added organization {number}\n"
        f"description:\n  en: An organization added by the test.\nsource: {_a_source(data)}\n",
        encoding="utf-8",
    )


def _a_source(data: Path) -> str:
    return "source/" + sorted((data / "sources").glob("*.yaml"))[0].stem


def start(*args) -> subprocess.Popen:
    command = [sys.executable, "-m", "ndlld", *map(str, args)]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def built(*args) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ndlld", "build", "--quiet", *map(str, args)], cwd=ROOT, capture_output=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, done.stderr


# -- the same answers ---------------------------------------------------------------


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> dict:
    """Each named query's answer from `ndlld query` and from the dumps loaded, on the real
    data and after an incremental build; and whether the query had the kept store open."""
    tmp = tmp_path_factory.mktemp("answers")
    data, out, cache = tmp / "data", tmp / "dist", tmp / ".dist.cache"
    shutil.copytree(DATA, data)
    add_organization(data, 0)
    found: dict = {}
    for stage in ("published", "edited"):
        if stage == "edited":
            rename(data, "ifla", "Renamed")
            (data / "organizations" / "added-0.yaml").unlink()
            add_organization(data, 1)
        said: list[str] = []
        build(data, out, cache_dir=cache, progress=said.append)
        found[stage, "incremental"] = any("changed record file" in line for line in said)
        opened = EmbeddedStore.published(out, cache)
        found[stage, "opened"] = locked(kept_store(cache)[0])
        del opened
        for name in QUERIES:
            found[stage, name] = query(out, data, name, "--format", "nt" if name in ("organization", "schema-org-view") else "csv")
            found[stage, name, "loaded"] = loaded(out, name, tmp)
        found[stage, "the query opened it"] = answers_from_the_kept_store(out, data, tmp)  # last: the mark stays
    return found


@pytest.mark.parametrize("stage", ["published", "edited"])
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_every_named_query_answers_as_the_dumps_do(answers: dict, name: str, stage: str):
    assert answers[stage, "opened"] and answers[stage, "the query opened it"], "the kept store was not opened"
    assert answers[stage, "incremental"] == (stage == "edited")
    assert answers[stage, name] == answers[stage, name, "loaded"]


def test_an_edit_changes_the_answers(answers: dict):
    assert answers["published", "organization"] != answers["edited", "organization"]


def test_the_kept_store_holds_what_the_dumps_hold(larger_data: Path, tmp_path: Path):
    """Every statement of every graph a query can see, blank nodes and all, after a build
    from scratch and after each of a few incremental ones."""
    data, out, cache = tmp_path / "data", tmp_path / "dist", tmp_path / "cache"
    shutil.copytree(larger_data, data)
    everything = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    edits = [
        lambda: None,
        lambda: add_organization(data, 2),
        lambda: rename(data, "org-000007", "Renamed"),
        lambda: add_organization(data, 3),
    ]
    for edit in edits:
        edit()
        build(data, out, cache_dir=cache)
        stores = [EmbeddedStore.published(out, cache), EmbeddedStore.open(out)]
        assert locked(kept_store(cache)[0])
        graphs = []
        for store in stores:
            dataset = Dataset(Quad(r["s"], r["p"], r["o"], r["g"]) for r in store.query(everything))
            dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
            graphs.append(dataset)
        assert graphs[0] == graphs[1]
        del stores


# -- which store answers --------------------------------------------------------------


def test_the_query_opens_the_store_the_build_kept(published, tmp_path: Path):
    data, out, cache = published
    assert answers_from_the_kept_store(out, data, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    build(data, out, cache_dir=elsewhere)
    assert answers_from_the_kept_store(out, data, tmp_path, cache=elsewhere)
    assert not answers_from_the_kept_store(out, data, tmp_path)  # the cache beside: of an older output


def test_a_query_with_no_build_builds_with_the_cache_and_opens_its_store(tmp_path: Path):
    data, out = tmp_path / "data", tmp_path / "dist"
    shutil.copytree(DATA, data)
    first = query(out, data, "counts-per-type", "--format", "csv")
    assert (tmp_path / ".dist.cache" / "published" / "current.json").is_file()
    assert answers_from_the_kept_store(out, data, tmp_path)
    assert first == loaded(out, "counts-per-type", tmp_path)


def test_without_a_cache_the_dumps_are_loaded_and_no_cache_made(tmp_path: Path):
    data, out = tmp_path / "data", tmp_path / "dist"
    shutil.copytree(DATA, data)
    build(data, out)
    assert query(out, data, "memberships", "--format", "csv") == loaded(out, "memberships", tmp_path)
    assert not (tmp_path / ".dist.cache").exists()


def test_a_build_without_the_cache_in_between(published, tmp_path: Path):
    data, out, cache = published
    mark_kept_store(cache)
    add_organization(data, 4)
    built("--no-cache", "--data", data, "--out", out)
    answer = ask(out, data, GRAPHS, tmp_path)
    assert answer == loaded(out, GRAPHS, tmp_path)
    assert ask(out, data, MARKED, tmp_path) == b"false"
    build(data, out, cache_dir=cache)  # from scratch: the state is not that of the output
    assert ask(out, data, GRAPHS, tmp_path) == answer
    assert answers_from_the_kept_store(out, data, tmp_path)


@pytest.mark.parametrize("name", LOADED_FILES)
@pytest.mark.parametrize("how", ["in place", "replaced"])
def test_an_output_file_edited_by_hand(published, tmp_path: Path, name: str, how: str):
    """Each file loading reads, changed in place (its time, and maybe its size, change) or
    replaced by another file: the query answers what the files now say."""
    data, out, cache = published
    before = ask(out, data, GRAPHS, tmp_path)
    path = out / name
    text = path.read_text(encoding="utf-8")
    if name == "void.ttl":  # the base, in as many bytes
        text = text.replace("https://w3id.org/ndlld/", "https://w3id.org/ndlle/")
    else:
        text += "<urn:ndlld:test:by-hand> <urn:ndlld:test:by-hand> <urn:ndlld:test:by-hand> .\n"
    if how == "in place":
        with open(path, "r+", encoding="utf-8") as file:
            file.write(text)
    else:
        path.with_name("by-hand").write_text(text, encoding="utf-8")
        os.replace(path.with_name("by-hand"), path)
    answer = ask(out, data, GRAPHS, tmp_path)
    assert answer != before
    assert answer == loaded(out, GRAPHS, tmp_path)


@pytest.mark.parametrize("damage", ["no note", "not json", "names no store", "its store gone", "no published/"])
def test_a_cache_that_is_not_whole_loads_the_dumps(published, tmp_path: Path, damage: str):
    """Even with a note that claims the output published since (by a build without the cache)."""
    data, out, cache = published
    add_organization(data, 5)
    built("--no-cache", "--data", data, "--out", out)
    note_path = cache / "published" / "current.json"
    note = {**json.loads(note_path.read_text(encoding="utf-8")), "output": output_identity(out)}
    note_path.write_text(json.dumps(note), encoding="utf-8")
    if damage == "no note":
        note_path.unlink()
    elif damage == "not json":
        note_path.write_text(json.dumps(note)[:-1], encoding="utf-8")
    elif damage == "names no store":
        note_path.write_text(json.dumps({**note, "store": "../graph"}), encoding="utf-8")
    elif damage == "its store gone":
        shutil.rmtree(kept_store(cache)[0])
    else:
        shutil.rmtree(cache / "published")
    assert ask(out, data, GRAPHS, tmp_path) == loaded(out, GRAPHS, tmp_path)


# -- builds killed, builds running ----------------------------------------------------


@pytest.mark.parametrize("delay", [0.0, 0.3, 1.0, 3.0])
def test_a_build_killed_anywhere(larger_data: Path, tmp_path: Path, delay: float):
    data, out, cache = tmp_path / "data", tmp_path / "dist", tmp_path / ".dist.cache"
    shutil.copytree(larger_data, data)
    build(data, out, cache_dir=cache)
    before = ask(out, data, GRAPHS, tmp_path)
    add_organization(data, 6)
    running = start("build", "--quiet", "--data", data, "--out", out)
    time.sleep(delay)
    running.send_signal(signal.SIGKILL)
    running.wait()
    answer = ask(out, data, GRAPHS, tmp_path)
    assert answer == loaded(out, GRAPHS, tmp_path)
    build(data, out, cache_dir=cache)
    assert answers_from_the_kept_store(out, data, tmp_path)
    assert ask(out, data, GRAPHS, tmp_path) != before


def test_a_build_killed_between_the_swap_and_the_state(published, tmp_path: Path):
    """What such a kill leaves, made exactly: the new output, and the cache as it was."""
    data, out, cache = published
    shutil.copytree(cache, tmp_path / "saved", symlinks=True)
    mark_kept_store(cache)
    before = ask(out, data, GRAPHS, tmp_path)
    add_organization(data, 7)
    build(data, out, cache_dir=cache)
    shutil.rmtree(cache)
    os.rename(tmp_path / "saved", cache)
    answer = ask(out, data, GRAPHS, tmp_path)
    assert answer != before and answer == loaded(out, GRAPHS, tmp_path)
    build(data, out, cache_dir=cache)
    assert answers_from_the_kept_store(out, data, tmp_path)


def test_a_running_query_holds_no_build_back_and_sees_none(published, tmp_path: Path):
    """A query that has the kept store open (its answer waits in a pipe nobody reads yet)
    while a build publishes an edit: the build ends, the query answers what was published
    when it began, and the store it held is removed by a build after it is done."""
    data, out, cache = published
    everything = tmp_path / "everything.rq"
    everything.write_text("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } VALUES ?copy { 1 2 3 4 5 6 7 8 } }\n", encoding="utf-8")
    old = query(out, data, everything, "--format", "json")
    assert len(old) > 1 << 20  # more than a pipe holds: the query waits with the store open
    held, _ = kept_store(cache)
    running = start("query", everything, "--format", "json", "--out", out, "--data", data)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not locked(held):
            assert running.poll() is None, running.communicate()
            assert time.monotonic() < deadline, "the query never opened the kept store"
            time.sleep(0.01)
        rename(data, "ifla", "Renamed")
        built("--data", data, "--out", out)
        assert held.is_dir() and kept_store(cache)[0] != held
        new = rows(query(out, data, everything, "--format", "json"))
        assert new != rows(old) and new == rows(loaded_json(out, everything))
        answer, _ = running.communicate(timeout=TIMEOUT)
    finally:
        if running.poll() is None:
            running.kill()
            running.wait()
    assert running.returncode == 0
    assert rows(answer) == rows(old)
    built("--data", data, "--out", out)
    assert sorted(p.name for p in (cache / "published").iterdir()) == sorted(["current.json", kept_store(cache)[0].name])


def rows(answer: bytes) -> list[str]:
    """The rows of a JSON answer, in an order of their own (the query names none)."""
    return sorted(json.dumps(row, sort_keys=True) for row in json.loads(answer)["results"]["bindings"])


def loaded_json(out: Path, path: Path) -> bytes:
    store = EmbeddedStore.open(out)
    return as_bytes(run_query(read_query(path), {}, store, ""), "json")


def test_queries_while_a_build_runs_see_the_old_graph_or_the_new(larger_data: Path, tmp_path: Path):
    data, out, cache = tmp_path / "data", tmp_path / "dist", tmp_path / ".dist.cache"
    shutil.copytree(larger_data, data)
    build(data, out, cache_dir=cache)
    old = ask(out, data, GRAPHS, tmp_path)
    for number in range(8, 20):
        add_organization(data, number)
    running = start("build", "--quiet", "--data", data, "--out", out)
    seen = []
    while running.poll() is None:
        seen.append(ask(out, data, GRAPHS, tmp_path))
    assert running.wait() == 0, running.communicate()
    new = ask(out, data, GRAPHS, tmp_path)
    assert new != old and new == loaded(out, GRAPHS, tmp_path)
    assert set(seen) <= {old, new}


# -- read-only ---------------------------------------------------------------------------


def _files(directory: Path) -> dict[str, tuple]:
    """Every file under *directory*: its size, time and bytes' digest."""
    found = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            stat = path.stat()
            found[str(path.relative_to(directory))] = (stat.st_size, stat.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
    return found


def test_a_query_writes_nothing(published, tmp_path: Path):
    data, out, cache = published
    before, published_before = _files(cache), _files(out)
    query(out, data, "memberships")  # the kept store
    assert _files(cache) == before and _files(out) == published_before
    (out / "ontology.ttl").write_text((out / "ontology.ttl").read_text(encoding="utf-8"), encoding="utf-8")
    published_before = _files(out)
    query(out, data, "memberships")  # the dumps
    assert _files(cache) == before and _files(out) == published_before
