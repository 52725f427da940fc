"""Each query of queries/ on the embedded store at scale: wall time, rows, and a digest of the answer.

The target of issue 7 is every query in at most 1 s on the embedded store at
100,000 synthetic organizations. This times each query the way ``ndlld query``
runs it (``run_query`` on an ``EmbeddedStore``, defaults bound, every result
read), with ``time.perf_counter`` only, and records a digest of each answer so
that a rewritten query can be checked to give the same answer at scale, not
only on the real data of the golden tests. The machines these run on are
shared: beside the wall time (the median of --repeat runs) the CPU time of
this process is recorded, which other processes disturb less.

Building the graph of 100,000 organizations takes minutes, so the dumps the
store is loaded from are made once and kept in a work directory
(``/tmp/ndlld-queries-N`` by default) for the next run:

    .venv/bin/python bench/queries_at_scale.py 100000 [--label after] [--repeat 3]
        [--only timeline,organization] [--work DIR] [--param limit=10000000]
        [--queries-at COMMIT | --compare COMMIT]

``--compare d973b48`` times the queries as they were at that commit ("before")
and as they are in the checkout ("after") on the same store, each query's runs
alternating between the two, so that the load of this shared machine falls on
both alike.

``--kept DIST`` opens the store a build with the cache kept for its output DIST
(read-only, as ``ndlld query --out DIST`` does) instead of loading dumps into
memory. ``--without-order`` times each query as it is ("ordered") and with its
ORDER BY clause left out ("unordered"), runs alternating: what the sort costs.

Writes (merges into) bench/results/queries-N.json, one entry per label.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

# A parameter value that names a resource the synthetic data has, besides the defaults
# (record ids of the real data, which the synthetic data does not have).
EXTRA = {"organization": [{"organization": "org-001234"}], "member-countries": [{"organization": "org-000007"}]}


def prepare(orgs: int, work: Path) -> Path:
    """The dumps the embedded store loads (dataset.nt, ontology.ttl, void.ttl), made once."""
    dist = work / "dist"
    if (dist / "void.ttl").is_file():
        return dist
    from pyoxigraph import RdfFormat

    from ndlld.context import Context
    from ndlld.dumps import ntriples, read_triples, turtle
    from ndlld.graph import build_graph
    from ndlld.resources import context_path, inverse_properties, ontology_path, schemaorg_path
    from ndlld.sources import load_sources
    from ndlld.synth import synthesize

    data = work / "data"
    if not (data / "dataset.yaml").is_file():
        print(f"synthesizing {orgs} organizations into {data}", flush=True)
        synthesize(data, orgs, seed=1)
    print("reading the records and making the graph (minutes at 100,000)", flush=True)
    graph = build_graph(load_sources(data), Context.load(context_path()), inverse_properties(schemaorg_path()))
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "dataset.nt").write_bytes(ntriples(graph.triples))
    (dist / "ontology.ttl").write_bytes(turtle(read_triples(ontology_path(), RdfFormat.TURTLE)))
    # the store reads the base IRI from void.ttl; written last, it marks the dumps complete
    (dist / "void.ttl").write_text(f"<{graph.base}id/dataset> <http://xmlns.com/foaf/0.1/homepage> <{graph.base}> .\n")
    return dist


def digest(rows: list) -> tuple[int, str, str]:
    """Rows, and SHA-256 of the answer in its order and as a set (CONSTRUCT has no order)."""
    lines = [" ".join("" if t is None else str(t) for t in row) if not hasattr(row, "subject") else str(row) for row in rows]
    ordered = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
    unordered = hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:16]
    return len(rows), ordered, unordered


def open_store(orgs: int, work: Path, kept: Path | None):
    """The store the queries run on: the one kept for the output *kept*, opened, or else
    the dumps of *work* loaded into memory."""
    from ndlld.output import cache_dir_of
    from ndlld.published import open_published
    from ndlld.store import EmbeddedStore

    if kept is None:
        return EmbeddedStore.open(prepare(orgs, work))
    # Not EmbeddedStore.published: it loads the dumps when the kept store is not that output's,
    # and these figures would be of the store in memory.
    opened = open_published(cache_dir_of(kept), kept)
    if opened is None:
        raise SystemExit(f"no store kept for the output in {kept}: build it with the cache first")
    store, graph, _lock = opened  # the lock held until this process ends
    return EmbeddedStore(store, graph)


def measure(
    orgs: int, work: Path, repeat: int, only: set[str], sides: list[tuple[str, Path, str]], given: dict[str, str], kept: Path | None = None
) -> dict:
    """Each query of each side (label, queries directory, commit) timed on one store.

    With two sides (``--compare``), each query's runs alternate between them, so
    that a burst of load on this shared machine falls on both alike.
    """
    from pyoxigraph import QuerySolutions

    from ndlld.queries import load_queries, run_query

    started = time.perf_counter()
    store = open_store(orgs, work, kept)
    load = time.perf_counter() - started
    base = store.graph.value.removesuffix("id/dataset")
    triples = len(store.store)
    print(f"{triples} quads {'opened' if kept else 'loaded'} in {load:.1f} s", flush=True)
    libraries = {label: load_queries(directory) for label, directory, _ in sides}
    names = sorted(set().union(*libraries.values()))
    rows: dict[str, list[dict]] = {label: [] for label, _, _ in sides}
    for name in names:
        if only and name not in only:
            continue
        present = [(label, libraries[label][name]) for label, _, _ in sides if name in libraries[label]]
        for extra in [{}, *EXTRA.get(name, [])]:
            runs = {label: {"times": [], "cpu": []} for label, _ in present}
            for _ in range(repeat):
                for label, query in present:
                    params = {**{k: v for k, v in given.items() if k in query.parameters}, **extra}
                    run = runs[label]
                    gc.collect()  # no garbage of an earlier run collected during this one
                    started, started_cpu = time.perf_counter(), time.process_time()
                    result = run_query(query, params, store, base)
                    variables = result.variables if isinstance(result, QuerySolutions) else None
                    answer = list(result)
                    run["times"].append(time.perf_counter() - started)
                    run["cpu"].append(time.process_time() - started_cpu)
                    run["label"] = name + "".join(f" [{k}={v}]" for k, v in params.items())
                    if variables is not None:
                        answer = [tuple(s[v] for v in variables) for s in answer]
                    run["digest"] = digest(answer)
                    del answer, result
            for label, run in runs.items():
                count, ordered, unordered = run["digest"]
                row = {
                    "query": run["label"],
                    "seconds": round(statistics.median(run["times"]), 3),
                    "min_seconds": round(min(run["times"]), 3),
                    "cpu_seconds": round(statistics.median(run["cpu"]), 3),
                    "runs": [round(t, 3) for t in run["times"]],
                    "rows": count,
                    "sha256_ordered": ordered,
                    "sha256_set": unordered,
                }
                rows[label].append(row)
                print(
                    f"  {label:<7} {row['query']:<46} {row['seconds']:8.3f} s (min {row['min_seconds']:.3f}) {row['cpu_seconds']:8.3f} s cpu"
                    f" {count:>8} rows  {ordered} {unordered}",
                    flush=True,
                )
    common = {
        "organizations": orgs,
        "quads": triples,
        "load_seconds": round(load, 3),
        "store": f"kept for {kept}, opened" if kept else "the dumps loaded into memory",
        "repeat": repeat,
        "interleaved": len(sides) > 1,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}, {_cpus()} cores",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "versions": {p: metadata.version(p) for p in ("pyoxigraph",)},
        "parameters": given,
    }
    return {label: {**common, "commit": commit, "queries": rows[label]} for label, _, commit in sides}


def _commit() -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "queries", "ndlld"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return commit + ("+changes" if dirty else "")


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("orgs", type=int)
    parser.add_argument("--label", default="latest", help="the entry of the results file to write (before, after …)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each query; the median is reported")
    parser.add_argument("--only", default="", help="comma-separated query names")
    parser.add_argument("--work", type=Path, help="where the synthetic data and dumps are kept (default /tmp/ndlld-queries-N)")
    parser.add_argument("--no-write", action="store_true", help="print only, do not write the results file")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a parameter value for every query that declares it (limit=10000000)",
    )
    parser.add_argument("--queries-at", metavar="COMMIT", help="time the queries/ of this commit (with this checkout's code)")
    parser.add_argument(
        "--compare", metavar="COMMIT", help="time the queries/ of this commit ('before') and of the checkout ('after'), runs alternating"
    )
    parser.add_argument("--kept", type=Path, metavar="DIST", help="open the store a build with the cache kept for DIST")
    parser.add_argument("--without-order", action="store_true", help="time each query also without its ORDER BY, runs alternating")
    args = parser.parse_args(argv)
    work = args.work or Path(f"/tmp/ndlld-queries-{args.orgs}")
    only = {n for n in args.only.split(",") if n}
    given = dict(p.split("=", 1) for p in args.param)
    if args.compare:
        sides = [("before", _queries_at(args.compare, work), args.compare), ("after", ROOT / "queries", _commit())]
    elif args.queries_at:
        sides = [(args.label, _queries_at(args.queries_at, work), args.queries_at)]
    elif args.without_order:
        sides = [("ordered", ROOT / "queries", _commit()), ("unordered", _unordered(ROOT / "queries", work), _commit())]
    else:
        sides = [(args.label, ROOT / "queries", _commit())]
    results = measure(args.orgs, work, args.repeat, only, sides, given, args.kept)
    if args.kept:  # apart from the runs on the store in memory
        results = {f"kept-{label}": result for label, result in results.items()}
    if args.no_write:
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"queries-{args.orgs}.json"
    recorded = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    for label, result in results.items():
        if only and label in recorded:  # a partial run replaces only its own rows
            rows = {row["query"]: row for row in recorded[label]["queries"]}
            rows.update({row["query"]: row for row in result["queries"]})
            result["queries"] = sorted(rows.values(), key=lambda row: row["query"])
        recorded[label] = result
        print(f"wrote {path.relative_to(ROOT)} [{label}]")
    path.write_text(json.dumps(recorded, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _unordered(queries: Path, work: Path) -> Path:
    """The queries of *queries* without their ORDER BY clause (each on a line of its own),
    written out to a directory of the work directory."""
    directory = work / "queries-unordered"
    directory.mkdir(parents=True, exist_ok=True)
    for path in queries.glob("*.rq"):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        (directory / path.name).write_text("".join(line for line in lines if not line.startswith("ORDER BY")), encoding="utf-8")
    return directory


def _queries_at(commit: str, work: Path) -> Path:
    """The queries/ of *commit*, written out to a directory of the work directory."""
    directory = work / f"queries-{commit}"
    directory.mkdir(parents=True, exist_ok=True)
    names = subprocess.run(
        ["git", "ls-tree", "--name-only", commit, "queries/"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in names:
        text = subprocess.run(["git", "show", f"{commit}:{name}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        (directory / Path(name).name).write_text(text, encoding="utf-8")
    return directory


if __name__ == "__main__":
    main(sys.argv[1:])
