"""ndlld at scale: each stage's wall time and peak memory on synthetic data, beside its floor.

For each size, a fresh process (so peak memory is that size's own) writes the
synthetic records (``ndlld synth``) and runs every stage of the pipeline on
them, timed with ``time.perf_counter`` and measured with ``getrusage``; then
the floors in the same process: pyoxigraph bulk load and serialization of the
same triples, rdflib parse and serialize, one pySHACL run over the whole
graph with the same shapes, and the pages' files created again, as files of
the same names and sizes (right after the pages stage, or else from the
build's pages).
Below 100,000 organizations, SHACL and the dumps, and their floors, are timed
at their fastest of :data:`BEST_OF` runs. After the checks, the stages run as
``ndlld build`` runs them: the statements' origins dropped, the graph frozen
and Python's collector paused (for the floors too). Run on demand:

    .venv/bin/python bench/scale.py 1000 10000 [100000] [--skip=shacl-floor,rdflib,pages,build]

Last, ``ndlld build --no-cache`` of the same records is timed as a user runs it,
in a process of its own (``build`` in --skip leaves it out).

Writes bench/results/scale-N.json; bench/report.py turns them into bench/README.md.
"""

from __future__ import annotations

import gc
import gzip
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def peak_mb() -> float:
    """Peak resident memory of this process and of its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


class Stages:
    def __init__(self):
        self.rows: list[dict] = []

    def run(self, name: str, function, *args, best_of: int = 1, **kwargs):
        """Time *function*: its fastest of *best_of* runs (the least disturbed by the machine's
        other work, as timeit counts); returns what the last run returned."""
        times = []
        for _ in range(best_of):
            started = time.perf_counter()
            value = function(*args, **kwargs)
            times.append(time.perf_counter() - started)
        seconds = min(times)
        self.rows.append({"stage": name, "seconds": round(seconds, 3), "peak_mb": peak_mb()})
        print(f"  {name:<28} {seconds:9.3f} s   peak {peak_mb():8.1f} MB", flush=True)
        return value


def measure(orgs: int, skip: set[str]) -> dict:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()  # the code measured
    sys.path.insert(0, str(ROOT))
    import pyshacl  # noqa: F401  imported before the clock starts, as in a warm process
    import rdflib
    from pyoxigraph import RdfFormat, Store, serialize

    from ndlld.build import load_graph
    from ndlld.checks import check_with_project_shapes, load_shapes, load_turtle, to_rdflib
    from ndlld.checks.engines import pyshacl_report as _validate
    from ndlld.context import Context
    from ndlld.dumps import Statements, assemble, read_triples, write_dumps
    from ndlld.output import Writer
    from ndlld.queries import load_queries, run_query
    from ndlld.resources import context_path, ontology_path, schemaorg_path, shapes_dir
    from ndlld.site import SiteView, render_site
    from ndlld.store import EmbeddedStore
    from ndlld.synth import synthesize

    best_of = BEST_OF if orgs < 100_000 else 1  # at 100,000 each takes tens of seconds: one run
    work = Path(tempfile.mkdtemp(prefix=f"ndlld-bench-{orgs}-"))
    data, out = work / "data", work / "dist"
    out.mkdir()
    s = Stages()
    print(f"{orgs} organizations in {work}", flush=True)
    s.run("synth (not ndlld's cost)", synthesize, data, orgs, seed=1)
    context = Context.load(context_path())
    graph = s.run("read records, graph, source checks", load_graph, data, context)
    triples = graph.triples
    shapes, ontology = load_shapes(shapes_dir()), load_turtle(ontology_path(), schemaorg_path())
    if "shacl" not in skip:
        s.run("SHACL (ndlld: rudof)", check_with_project_shapes, graph, context, best_of=best_of)  # as ndlld build --no-cache runs it
    graph.origins = {}  # as ndlld build drops them once the checks passed
    gc.freeze()  # and as it writes the dumps and pages, so for the floors too: the collector paused, the graph frozen
    gc.disable()
    vocabulary = read_triples(ontology_path(), RdfFormat.TURTLE)
    # The dumps as write_dumps makes them, in chunks: the statements by subject (shared by
    # all four), each dump's pieces assembled with its gzip file, then write_dumps whole.
    statements = s.run(DUMP_STATEMENTS, Statements, triples, context, best_of=best_of)
    pieces = s.run(DUMP_PIECES, statements.pieces, best_of=1)
    s.run(DUMP_ASSEMBLED, lambda made=pieces: [assemble(p) for p in made.values()], best_of=best_of)
    del statements, pieces  # before write_dumps, so that the peak after it is write_dumps' own
    s.run("dumps: write_dumps, from nothing", write_dumps, triples, vocabulary, context, out)
    floors = Stages()
    if "pages" not in skip:
        view = SiteView.of(triples, vocabulary, graph.base, context)
        s.run("pages", render_site, view, vocabulary, Writer(out), len(triples))
        # Their floor at once: the file system's speed here changes within minutes.
        floors.run(FILES_FLOOR, create_like, out, work / "files")
    else:  # the store reads the base IRI from void.ttl
        (out / "void.ttl").write_text(f"<{graph.base}id/dataset> <http://xmlns.com/foaf/0.1/homepage> <{graph.base}> .\n")
    store = s.run("load into the store", EmbeddedStore.open, out)
    for name, query in load_queries(ROOT / "queries").items():
        s.run(f"query: {name}", lambda q=query: list(run_query(q, {}, store, graph.base)))

    print("floors", flush=True)
    oxstore = Store()
    floors.run("pyoxigraph: bulk load N-Triples", oxstore.bulk_load, path=str(out / "dataset.nt"), format=RdfFormat.N_TRIPLES)
    floors.run("pyoxigraph: write Turtle", lambda: serialize((q.triple for q in oxstore), format=RdfFormat.TURTLE), best_of=best_of)
    floors.run("pyoxigraph: write N-Triples", lambda: serialize((q.triple for q in oxstore), format=RdfFormat.N_TRIPLES), best_of=best_of)
    texts = [(out / name).read_bytes() for name in ("dataset.ttl", "dataset.nt")]
    floors.run(GZIP_FLOOR, lambda: [gzip.compress(text, compresslevel=6, mtime=0) for text in texts], best_of=best_of)
    if "rdflib" not in skip:
        g = floors.run("rdflib: parse N-Triples", rdflib.Graph().parse, str(out / "dataset.nt"), format="nt")
        floors.run("rdflib: write N-Triples", g.serialize, format="nt")
    if "shacl-floor" not in skip:
        floors.run("pySHACL: one run, whole graph", _validate, to_rdflib(triples), shapes, ontology, best_of=best_of)
    if "build" not in skip:  # the whole command, as a user runs it: what the targets are about
        s.rows.append(whole_build(data, work / "whole"))
        if "pages" in skip:  # the pages' floor from the build's pages
            floors.run(FILES_FLOOR, create_like, work / "whole", work / "files")
    subprocess.run(["rm", "-rf", str(work)])
    gc.unfreeze()
    gc.enable()
    return {
        "organizations": orgs,
        "triples": len(triples),
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}, {_cpus()} cores",
        "versions": {p: metadata.version(p) for p in ("pyoxigraph", "pyrudof", "rdflib", "pyshacl", "PyYAML", "Jinja2")},
        "stages": s.rows,
        "floors": floors.rows,
        "skipped": sorted(skip),
        "commit": commit,
    }


# The stages the targets compare with a floor (SHACL, the dumps), and those floors, are timed
# at their fastest of this many runs below 100,000 organizations: one run of a second or less
# on this shared machine varied by a third (SHACL at 10,000 orgs: 5.7 s, then 8.4 s).
BEST_OF = 3
DUMP_STATEMENTS = "dump: statements by subject (for all four)"
DUMP_PIECES = "dump: the four dumps' chunks"
DUMP_ASSEMBLED = "dump: the chunks assembled, with their gzip files"
GZIP_FLOOR = "zlib: gzip Turtle + N-Triples"  # the floor of the .gz files, beside pyoxigraph's of the text
FILES_FLOOR = "files: create the pages' files (one process per core)"  # the floor of the pages


def create_like(site: Path, into: Path) -> int:
    """Create the files of the pages of *site* again under *into*: the same names, each of
    the same size, split between one process per core as the site's pages are. No page
    can be written faster than its files can be created; returns how many there are."""
    from concurrent.futures import ProcessPoolExecutor

    from ndlld.build import PAGE_DIRECTORIES

    files = []
    for folder in PAGE_DIRECTORIES:
        for directory, _, names in os.walk(site / folder):
            relative = Path(directory).relative_to(site)
            (into / relative).mkdir(parents=True, exist_ok=True)
            files += [(str(into / relative / name), os.path.getsize(Path(directory, name))) for name in names]
    workers = _cpus()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(_create, [files[i::workers] for i in range(workers)]))


def _create(files: list[tuple[str, int]]) -> int:
    for path, size in files:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            os.write(descriptor, bytes(size))
        finally:
            os.close(descriptor)
    return len(files)


def whole_build(data: Path, out: Path) -> dict:
    """`ndlld build --no-cache` in a process of its own: wall time and its peak memory."""
    name = "ndlld build --no-cache (all of it)"
    wrapper = "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    command = [sys.executable, "-m", "ndlld", "build", "--quiet", "--no-cache", "--data", str(data), "--out", str(out)]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", wrapper, *command], check=True, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    peak = round(int(done.stdout.split()[-1]) / 1024, 1)
    print(f"  {name:<28} {seconds:9.3f} s   peak {peak:8.1f} MB", flush=True)
    return {"stage": name, "seconds": round(seconds, 3), "peak_mb": peak}


def _cpus() -> int:
    return os.cpu_count() or 1


def main(argv: list[str]) -> None:
    skip = set()
    sizes = []
    for arg in argv:
        if arg.startswith("--skip="):
            skip |= set(arg.removeprefix("--skip=").split(","))
        else:
            sizes.append(int(arg))
    RESULTS.mkdir(parents=True, exist_ok=True)
    if len(sizes) == 1:
        result = measure(sizes[0], skip)
        (RESULTS / f"scale-{sizes[0]}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote bench/results/scale-{sizes[0]}.json")
        return
    for size in sizes or [1000, 10000, 100000]:  # one process per size: its own peak memory
        subprocess.run([sys.executable, __file__, str(size), *(f"--skip={','.join(sorted(skip))}" for _ in [0] if skip)], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
