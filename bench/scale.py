"""ndlld at scale: each stage's wall time and peak memory on synthetic data, beside its floor.

For each size, a fresh process (so that its peak memory is that size's own) writes the
synthetic records (``ndlld synth``) and runs every stage of the pipeline on them through
ndlld's public functions, timed with ``time.perf_counter``, its memory the peak RSS of this
process (``getrusage``); then the floors in the same process: pyoxigraph loading and writing
the same triples, the C JSON encoder writing the same node objects, zlib compressing the
dumps, rdflib parsing and writing them, one pySHACL run over the whole graph with the same
shapes, and the pages' files created again, as files of the same names and sizes, right
after the pages. Below 100,000 organizations, SHACL and the dumps, and their floors, are
timed at their fastest of :data:`BEST_OF` runs. After the checks, the stages run as
``ndlld build`` runs them: the statements' origins dropped, the graph frozen and Python's
collector paused (for the floors too).

Last, the whole commands a user runs, each in a process of its own, with the peak PSS of
its whole process tree (``bench/pss.py``): ``ndlld validate --no-cache`` (reading and
checking the records) and ``ndlld build --no-cache`` (``build`` in --skip leaves both out).
Run on demand:

    .venv/bin/python bench/scale.py 1000 10000 [100000] [--skip=shacl-floor,rdflib,pages,build]

Writes bench/results/scale-N.json; bench/report.py turns them into bench/README.md.
"""

from __future__ import annotations

import gc
import gzip
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from importlib import metadata
from pathlib import Path

import pss

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
NDLLD = [sys.executable, "-m", "ndlld"]
sys.path.insert(0, str(ROOT))

# The stages the targets compare with a floor (SHACL, the dumps), and those floors, are timed
# at their fastest of this many runs below 100,000 organizations: one run of a second or less
# on this shared machine varied by a third (SHACL at 10,000 orgs: 5.7 s, then 8.4 s).
BEST_OF = 3
READ = "read records, graph, source checks"
SHACL = "SHACL (ndlld: rudof)"
DUMP_STATEMENTS = "dump: statements by subject (for all four)"
DUMP_RDF = "dump: Turtle + N-Triples and their gzip"
DUMP_JSON = "dump: JSON-LD + NDJSON and their gzip"
DUMP_QUADS = "dump: TriG + N-Quads and their gzip (each statement attributed)"
WRITE_DUMPS = "dumps: write_dumps, from nothing"
PAGES = "pages"
LOAD = "load into the store"
VALIDATE = "ndlld validate --no-cache (reading and checking)"
BUILD = "ndlld build --no-cache (all of it)"
LOAD_FLOOR = "pyoxigraph: bulk load N-Triples"
TURTLE_FLOOR, NTRIPLES_FLOOR = "pyoxigraph: write Turtle", "pyoxigraph: write N-Triples"
GZIP_FLOOR = "zlib: gzip Turtle + N-Triples"  # the floor of the .gz files, beside pyoxigraph's of the text
JSON_FLOOR = "json: JSON-LD + NDJSON by the C encoder, the same node objects"
JSON_GZIP_FLOOR = "zlib: gzip JSON-LD + NDJSON"
FILES_FLOOR = "files: create the pages' files (one process per core)"  # the floor of the pages
PYSHACL = "pySHACL: one run, whole graph"  # not a floor: the engine rudof replaced, on the same graph and shapes
RDF_KINDS, JSON_KINDS, QUADS_KINDS = ("turtle", "ntriples"), ("jsonld", "ndjson"), ("trig", "nquads")


def peak_mb() -> float:
    """Peak resident memory of this process and of its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


class Stages:
    def __init__(self):
        self.rows: list[dict] = []

    def run(self, name: str, function, *args, best_of: int = 1, setup=None, **kwargs):
        """Time *function*: its fastest of *best_of* runs (the least disturbed by the machine's
        other work, as timeit counts); returns what the last run returned. With *setup*, each
        run is given what setup() made, untimed."""
        times = []
        for _ in range(best_of):
            given = (setup(),) if setup else ()
            started = time.perf_counter()
            value = function(*given, *args, **kwargs)
            times.append(time.perf_counter() - started)
            del given
        seconds = min(times)
        self.rows.append({"stage": name, "seconds": round(seconds, 3), "peak_mb": peak_mb()})
        print(f"  {name:<28} {seconds:9.3f} s   peak {peak_mb():8.1f} MB", flush=True)
        return value

    def add(self, name: str, measured: pss.Measured) -> None:
        """A whole command measured by pss.run."""
        self.rows.append({"stage": name, **measured.as_json()})
        print(f"  {name:<28} {measured.seconds:9.3f} s   peak PSS {measured.peak_pss_mb:8.1f} MB (tree)", flush=True)


def measure(orgs: int, skip: set[str]) -> dict:
    from ndlld.build import load_graph
    from ndlld.checks import check_with_project_shapes
    from ndlld.context import Context
    from ndlld.resources import context_path
    from ndlld.synth import synthesize

    best_of = BEST_OF if orgs < 100_000 else 1  # at 100,000 each takes tens of seconds: one run
    work = Path(tempfile.mkdtemp(prefix=f"ndlld-bench-{orgs}-"))
    data, out = work / "data", work / "dist"
    out.mkdir()
    s, floors = Stages(), Stages()
    print(f"{orgs} organizations in {work}", flush=True)
    s.run("synth (not ndlld's cost)", synthesize, data, orgs, 1)
    context = Context.load(context_path())
    graph = s.run(READ, load_graph, data, context)
    if "shacl" not in skip:
        s.run(SHACL, check_with_project_shapes, graph, context, best_of=best_of)  # as ndlld build --no-cache runs it
    graph.origins = {}  # as ndlld build drops them once the checks passed
    gc.freeze()  # and as it writes the dumps and pages, so for the floors too: the collector paused, the graph frozen
    gc.disable()
    split_identical = dumps(s, graph.triples, context, out, best_of)
    pages(s, floors, graph, context, out, work, skip)
    queries(s, out, graph.base)
    print("floors", flush=True)
    rdf_floors(floors, out, best_of, skip)
    json_floors(floors, graph.triples, context, out, best_of)
    if "shacl-floor" not in skip:
        pyshacl_floor(floors, graph.triples, best_of)
    if "build" not in skip:  # the whole commands, as a user runs them: what the targets are about
        whole_commands(s, data, work)
        if "pages" in skip:  # the pages' floor from the build's pages
            floors.run(FILES_FLOOR, create_like, work / "whole", work / "files")
    triples = len(graph.triples)
    subprocess.run(["rm", "-rf", str(work)])
    gc.unfreeze()
    gc.enable()
    return {
        "organizations": orgs,
        "triples": triples,
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}, {_cpus()} cores",
        "versions": {p: metadata.version(p) for p in ("pyoxigraph", "pyrudof", "rdflib", "pyshacl", "PyYAML", "Jinja2")},
        "stages": s.rows,
        "floors": floors.rows,
        "dumps_split_identical": split_identical,
        "skipped": sorted(skip),
        "commit": commit(),
    }


def commit() -> str:
    """The code measured: its commit, marked when the work tree differs from it."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no", "--", "ndlld"], cwd=ROOT, capture_output=True, text=True
    )
    return head + ("+changes" if dirty.stdout.strip() else "")


def only(kinds: tuple[str, ...], triples: list, context):
    """The statements by subject, whose pieces() makes only the dumps of *kinds*: the other
    families' subjects emptied, so that their loops run over nothing. Each family is so timed
    on the code write_dumps runs (the quads' with the index their attribution reads, made
    here, untimed); :func:`dumps` checks the bytes are those of write_dumps."""
    from ndlld.dumps import Statements
    from ndlld.lookup import TriplesLookup
    from ndlld.namespaces import W3ID
    from ndlld.provenance import Provenance

    provenance = Provenance(TriplesLookup(triples), W3ID) if kinds == QUADS_KINDS else None  # write_dumps' default base
    statements = Statements(triples, context, provenance=provenance)
    if kinds == JSON_KINDS:
        statements.subjects = []
    else:
        statements.by_iri, statements.documents = [], {}
    return statements


def family_written(statements, kinds: tuple[str, ...], directory: Path) -> dict[str, str]:
    """Each dump of *kinds* and its gzip file, written into *directory* by the code
    write_dumps runs: the SHA-256 of each file, by name."""
    from ndlld.dumps import write_pieces

    return {path.name: digest for dump in write_pieces(statements, directory, kinds).values() for path, digest in dump.digests.items()}


def dumps(s: Stages, triples: list, context, out: Path, best_of: int) -> bool:
    """The dumps as write_dumps makes them, in chunks: the statements by subject (shared by
    all four), then each family written with its gzip files, then write_dumps
    whole. Returns whether the families' bytes are those write_dumps wrote."""
    from pyoxigraph import RdfFormat

    from ndlld.dumps import Statements, read_triples, write_dumps
    from ndlld.resources import ontology_path

    s.run(DUMP_STATEMENTS, Statements, triples, context, best_of=best_of)
    made = {}
    families = out.parent / "families"
    families.mkdir(exist_ok=True)
    for name, kinds in ((DUMP_RDF, RDF_KINDS), (DUMP_JSON, JSON_KINDS), (DUMP_QUADS, QUADS_KINDS)):
        made.update(s.run(name, family_written, kinds, families, best_of=best_of, setup=lambda k=kinds: only(k, triples, context)))
    vocabulary = read_triples(ontology_path(), RdfFormat.TURTLE)
    s.run(WRITE_DUMPS, write_dumps, triples, vocabulary, context, out)
    identical = all(_sha256((out / name).read_bytes()) == digest for name, digest in made.items())
    if not identical:
        print("  the dumps made by family differ from write_dumps': their times are not those of the build", flush=True)
    return identical


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def pages(s: Stages, floors: Stages, graph, context, out: Path, work: Path, skip: set[str]) -> None:
    """The pages as the build makes them (its view included), and at once their floor: the
    file system's speed here changes within minutes."""
    from pyoxigraph import RdfFormat

    from ndlld.dumps import read_triples
    from ndlld.output import Writer
    from ndlld.resources import ontology_path
    from ndlld.site import SiteView, render_site

    if "pages" in skip:  # the store reads the base IRI from void.ttl
        (out / "void.ttl").write_text(f"<{graph.base}id/dataset> <http://xmlns.com/foaf/0.1/homepage> <{graph.base}> .\n")
        return
    vocabulary = read_triples(ontology_path(), RdfFormat.TURTLE)

    def render() -> None:
        view = SiteView.of(graph.triples, vocabulary, graph.base, context)
        render_site(view, vocabulary, Writer(out), len(graph.triples))

    s.run(PAGES, render)
    floors.run(FILES_FLOOR, create_like, out, work / "files")


def queries(s: Stages, out: Path, base: str) -> None:
    """The store loaded from the dumps, and each query of queries/ run in this process
    (bench/incremental.py times them as the command a user runs)."""
    from ndlld.queries import load_queries, run_query
    from ndlld.store import EmbeddedStore

    store = s.run(LOAD, EmbeddedStore.open, out)
    for name, query in load_queries(ROOT / "queries").items():
        s.run(f"query: {name}", lambda q=query: list(run_query(q, {}, store, base)))


def rdf_floors(floors: Stages, out: Path, best_of: int, skip: set[str]) -> None:
    """pyoxigraph loading and writing the same triples, zlib the Turtle and N-Triples; rdflib."""
    from pyoxigraph import RdfFormat, Store, serialize

    store = Store()
    floors.run(LOAD_FLOOR, store.bulk_load, path=str(out / "dataset.nt"), format=RdfFormat.N_TRIPLES)
    for name, rdf_format in ((TURTLE_FLOOR, RdfFormat.TURTLE), (NTRIPLES_FLOOR, RdfFormat.N_TRIPLES)):
        floors.run(name, lambda f=rdf_format: serialize((q.triple for q in store), format=f), best_of=best_of)
    texts = [(out / name).read_bytes() for name in ("dataset.ttl", "dataset.nt")]
    floors.run(GZIP_FLOOR, lambda: [gzip.compress(text, compresslevel=6, mtime=0) for text in texts], best_of=best_of)
    if "rdflib" not in skip:
        import rdflib

        g = floors.run("rdflib: parse N-Triples", rdflib.Graph().parse, str(out / "dataset.nt"), format="nt")
        floors.run("rdflib: write N-Triples", g.serialize, format="nt")


def json_floors(floors: Stages, triples: list, context, out: Path, best_of: int) -> None:
    """The C JSON encoder writing the node objects of both JSON-LD dumps, made beforehand and
    untimed (ndlld's compaction is its own cost), and zlib compressing the two files."""
    from ndlld.dumps import node_objects
    from ndlld.lookup import document_of

    nodes = node_objects(triples, context)
    id_key = context.alias_of.get("@id", "@id")
    by_document = defaultdict(list)
    for node in nodes:
        by_document[document_of(node[id_key])].append(node)
    documents = [by_document[name] for name in sorted(by_document)]
    floors.run(JSON_FLOOR, encode_json, nodes, documents, best_of=best_of)
    del nodes, by_document, documents
    texts = [(out / name).read_bytes() for name in ("dataset.jsonld", "dataset.ndjson")]
    floors.run(JSON_GZIP_FLOOR, lambda: [gzip.compress(text, compresslevel=6, mtime=0) for text in texts], best_of=best_of)


def encode_json(nodes: list[dict], documents: list[list[dict]]) -> tuple[bytes, bytes]:
    """The JSON-LD dump's node lines and the NDJSON dump's lines, by json.dumps alone."""
    jsonld = ",\n".join(json.dumps(node, ensure_ascii=False) for node in nodes).encode("utf-8")
    ndjson = b"".join(
        json.dumps({"@context": "context.jsonld", "@graph": group}, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        for group in documents
    )
    return jsonld, ndjson


def pyshacl_floor(floors: Stages, triples: list, best_of: int) -> None:
    """One pySHACL run over the whole graph, with the same shapes and vocabulary."""
    from ndlld.checks import load_shapes, load_turtle, to_rdflib
    from ndlld.checks.engines import pyshacl_report
    from ndlld.resources import ontology_path, schemaorg_path, shapes_dir

    shapes, ontology = load_shapes(shapes_dir()), load_turtle(ontology_path(), schemaorg_path())
    floors.run(PYSHACL, pyshacl_report, to_rdflib(triples), shapes, ontology, best_of=best_of)


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
        return sum(pool.map(create, [files[i::workers] for i in range(workers)]))


def create(files: list[tuple[str, int]]) -> int:
    for path, size in files:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            os.write(descriptor, bytes(size))
        finally:
            os.close(descriptor)
    return len(files)


def whole_commands(s: Stages, data: Path, work: Path) -> None:
    """`ndlld validate --no-cache` and `ndlld build --no-cache`, each in a process of its own."""
    quiet = {"cwd": work, "stdout": subprocess.DEVNULL}
    s.add(VALIDATE, pss.run([*NDLLD, "validate", "--no-cache", "--data", str(data)], **quiet))
    s.add(BUILD, pss.run([*NDLLD, "build", "--quiet", "--no-cache", "--data", str(data), "--out", str(work / "whole")], **quiet))


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
