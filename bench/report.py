"""Write bench/README.md's tables from bench/results/*.json (run after a benchmark)."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def query_engines() -> str:
    r = json.loads((HERE / "results" / "query-engines.json").read_text(encoding="utf-8"))
    rows = []
    for run in r["runs"]:
        t, load = run["total_query_s"], run["load_s"]
        rows.append(
            f"| {run['copies']} | {run['triples']:,} | {load['pyoxigraph']} s | {load['rdflib']} s "
            f"| {t['pyoxigraph']} s | {t['rdflib']} s | {t['rdflib'] / t['pyoxigraph']:.0f}× |"
        )
    last = r["runs"][-1]
    per_query = [
        f"| {name} | {q['pyoxigraph_s']} | {q['rdflib_s']} | {q['rdflib_s'] / max(q['pyoxigraph_s'], 1e-6):.0f}× |"
        for name, q in sorted(last["queries"].items())
    ]
    return f"""## The embedded SPARQL engine (`query_engines.py`)

`ndlld query` runs against an embedded store by default. Candidates: rdflib's own memory store
and SPARQL engine, and pyoxigraph. `bench/query_engines.py` copies the real dataset N times over
(distinct IRIs, same shape), loads it into both, and times every query of `queries/` on both (best
of three for pyoxigraph, one run for rdflib); both return the same number of rows for every query.

Run of {r["date"]} on {r["machine"]}; rdflib {r["versions"]["rdflib"]}, pyoxigraph {r["versions"]["pyoxigraph"]}.
Results: `results/query-engines.json`.

| copies | triples | load, pyoxigraph | load, rdflib | all queries, pyoxigraph | all queries, rdflib | rdflib / pyoxigraph |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Per query at {last["copies"]} copies ({last["triples"]:,} triples), seconds:

| query | pyoxigraph | rdflib | ratio |
|---|---|---|---|
{chr(10).join(per_query)}

**Choice: pyoxigraph.** It answers every query one to three orders of magnitude faster, and
rdflib's engine grows worse than linearly on the joins of `timeline` and `organization`. The
results are the same either way (the row counts above; the query tests compare pyoxigraph with a
real Oxigraph server byte for byte).

Reproduce: `.venv/bin/python bench/query_engines.py 1 10 100 && .venv/bin/python bench/report.py`.
"""


WHOLE = "ndlld build --no-cache (all of it)"  # the whole command, timed in a process of its own
SHACL = "SHACL (ndlld: rudof)"
PYSHACL = "pySHACL: one run, whole graph"
DUMPS = "dumps (Turtle + N-Triples and their gzip)"
OUR_DUMPS = ["dump: statements by subject (for all four)", "dump: Turtle + N-Triples and their gzip"]  # the first shared by all four
FILES = "files: create the pages' files (one process per core)"  # the floor of the pages
DUMP_PARTS = ("dump: ", "dumps: write_dumps, one name changed")  # not stages of a build of their own: timed apart
FLOOR_OF = {
    SHACL: [PYSHACL],
    DUMPS: ["pyoxigraph: write Turtle", "pyoxigraph: write N-Triples", "zlib: gzip Turtle + N-Triples"],
    "load into the store": ["pyoxigraph: bulk load N-Triples"],
    "pages": [FILES],
}


def _seconds(rows: list[dict], names: list[str]) -> float | None:
    found = [r["seconds"] for r in rows if r["stage"] in names]
    return round(sum(found), 3) if len(found) == len(names) else None


def _results(kind: str) -> list[dict]:
    """bench/results/KIND-N.json, smallest N first."""
    runs = (json.loads(p.read_text(encoding="utf-8")) for p in (HERE / "results").glob(f"{kind}-*.json"))
    return sorted(runs, key=lambda r: r["organizations"])


def scale() -> str:
    runs = _results("scale")
    if not runs:
        return ""
    sizes = [r["organizations"] for r in runs]
    stages = list(dict.fromkeys([row["stage"] for run in runs for row in run["stages"] if not row["stage"].startswith("query:")]))
    header = "| stage | " + " | ".join(f"{n:,} orgs" for n in sizes) + " |"
    lines = [header, "|---|" + "---|" * len(sizes), "| code (commit) | " + " | ".join(r.get("commit", "?") for r in runs) + " |"]
    for stage in stages:
        cells = []
        for run in runs:
            row = next((r for r in run["stages"] if r["stage"] == stage), None)
            cells.append(f"{row['seconds']} s, {row['peak_mb']:.0f} MB" if row else "not run")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    queries = [max((r["seconds"] for r in run["stages"] if r["stage"].startswith("query:")), default=0) for run in runs]
    lines.append("| slowest query of queries/ | " + " | ".join(f"{q} s" for q in queries) + " |")
    floors = ["| floor | " + " | ".join(f"{n:,} orgs" for n in sizes) + " |", "|---|" + "---|" * len(sizes)]
    for floor in dict.fromkeys(row["stage"] for run in runs for row in run["floors"]):
        cells = [next((f"{r['seconds']} s" for r in run["floors"] if r["stage"] == floor), "not run") for run in runs]
        floors.append(f"| {floor} | " + " | ".join(cells) + " |")
    ratios = ["| ndlld / floor | " + " | ".join(f"{n:,} orgs" for n in sizes) + " |", "|---|" + "---|" * len(sizes)]
    for label, floor_names in FLOOR_OF.items():
        cells = []
        for run in runs:
            ours = _seconds(run["stages"], OUR_DUMPS if label == DUMPS else [label])
            floor = _seconds(run["floors"], floor_names)
            cells.append(f"{ours / floor:.2f}×" if ours and floor else "n/a")
        ratios.append(f"| {label} | " + " | ".join(cells) + " |")
    build = []
    for run in runs:
        names = [
            r["stage"] for r in run["stages"] if not r["stage"].startswith(("query:", "synth", "pages", "load into", WHOLE, *DUMP_PARTS))
        ]
        build.append(_seconds(run["stages"], names))
    last = runs[-1]
    pages = {r["organizations"]: _seconds(r["stages"], ["pages"]) for r in runs}
    files = {r["organizations"]: _seconds(r["floors"], [FILES]) for r in runs}
    pages_text = "; ".join(f"{pages[n]} s at {n:,} orgs" for n in sizes if pages[n]) or "not run"
    files_text = (
        "; ".join(
            f"{files[n]} s at {n:,} orgs" + (f" (the pages {pages[n] / files[n]:.1f}× that)" if pages[n] else " (the build's pages)")
            for n in sizes
            if files[n]
        )
        or "not measured"
    )
    shacl_runs = [r for r in runs if _seconds(r["stages"], [SHACL]) and _seconds(r["floors"], [PYSHACL])]
    gains = {r["organizations"]: _seconds(r["floors"], [PYSHACL]) / _seconds(r["stages"], [SHACL]) for r in shacl_runs}
    shacl_gain = ", ".join(f"{gain:.1f}× faster at {n:,} orgs" for n, gain in gains.items()) or "n/a"
    shacl_met = "met" if gains and min(gains.values()) >= 3 else "not met"
    dumps = {
        r["organizations"]: ours / floor
        for r in runs
        if (ours := _seconds(r["stages"], OUR_DUMPS)) and (floor := _seconds(r["floors"], FLOOR_OF[DUMPS]))
    }
    dump_ratios = ", ".join(f"{ratio:.1f}× at {n:,} orgs" for n, ratio in dumps.items())
    dump_met = "met" if dumps and max(dumps.values()) <= 1.5 else "not met"
    whole = {r["organizations"]: next((x for x in r["stages"] if x["stage"] == WHOLE), None) for r in runs}
    whole_last = whole.get(sizes[-1])
    build_met = "met" if build[-1] and build[-1] <= 60 and _build_peak(last) <= 3000 and sizes[-1] >= 100_000 else "not met"
    pages_met = "met" if whole_last and whole_last["seconds"] <= 90 and sizes[-1] >= 100_000 else "not met"
    whole_text = "; ".join(f"{n:,} orgs: {w['seconds']} s, {w['peak_mb']:.0f} MB" for n, w in whole.items() if w) or "not measured"
    plot(runs)
    return f"""## ndlld at scale (`scale.py`)

Synthetic data from `ndlld synth` (about 20 triples per organization), each size in a process of
its own; wall time and the peak resident memory of the process (children included) after each
stage. Below 100,000 organizations, SHACL and the dumps, and their floors, are the fastest of three
runs (`BEST_OF` in scale.py); everything else is timed once. Run of {last["date"]} on {last["machine"]}; {", ".join(f"{k} {v}" for k, v in last["versions"].items())}.
Results: `results/scale-*.json`. Skipped in a run: {", ".join(sorted({s for r in runs for s in r.get("skipped", [])})) or "nothing"}.

{chr(10).join(lines)}

Records read, checked and written as dumps (read + graph + SHACL + dumps):
{", ".join(f"{n:,} orgs: {b} s" if b else f"{n:,} orgs: not complete" for n, b in zip(sizes, build))}.

Floors measured in the same runs:

{chr(10).join(floors)}

{chr(10).join(ratios)}

![time and memory against size](scale.svg)

### Against the targets of the Scale issue (2 cores, 24 GiB)

What was tried for each target, what it gained and what is left: [history.md](history.md).

| target | where ndlld stands | where the time goes, or its floor |
|---|---|---|
| build of 100,000 organizations (read, checked, dumps) ≤ 60 s, ≤ 3 GB | {build_met}: {build[-1] or "n/a"} s at {sizes[-1]:,} orgs (the stages above, in one process), peak {_build_peak(last):.0f} MB | CPU, on two cores: {_build_parts(last)} ([history](history.md#build-of-100000-organizations-records-read-checked-and-dumped-in--60-s-and--3-gb)) |
| with the pages ≤ 90 s | {pages_met}: `ndlld build --no-cache`, the whole command: {whole_text}; the pages stage alone: {pages_text} | floor: creating the pages' files alone, {files_text} ([history](history.md#with-the-pages--90-s)) |
| dump stage ≤ 1.5× the pyoxigraph floor | {dump_met}: {dump_ratios} | ([history](history.md#dumps--15-the-pyoxigraph-floor)) |
| SHACL ≥ 3× faster than one pySHACL run | {shacl_met}: {shacl_gain}, with the same findings (tested on every fixture, the real data and synthetic data with defects) | ([history](history.md#shacl--3-faster-than-one-pyshacl-run)) |
| incremental build ≤ 3 s, byte-identical | {_incremental_row()} | floor: writing the dumps anew and hashing them, {_incremental_floors()} ([history](history.md#a-one-record-edit--3-s-dumps-byte-identical-to-a-build-from-scratch)) |
| each query ≤ 1 s at 100,000 | {_queries_row(last)} | pyoxigraph sorts every row before a LIMIT, about 1 µs a comparison ([history](history.md#each-query-of-queries--1-s-at-100000-organizations)) |
| `ndlld --help` ≤ 0.3 s; `validate` of one small file ≤ 0.3 s | met at 82e933a: `--help` 0.11 s; `validate` of tests/records/good 0.19 s with the cache, medians of 0.27 s and 0.32 s without it (wall times on a quiet moment, after `make build`) | importing click, PyYAML and pyrudof ([history](history.md#start-up-ndlld---help-and-validate-of-one-small-file--03-s)) |
| progress on long stages | met: `ndlld build` prints its stages on a terminal, `--quiet` silences them | |
"""


def incremental() -> str:
    runs = _results("incremental")
    if not runs:
        return ""
    rows = [
        f"| {r['organizations']:,} | {r['cold']['seconds']} s | {r['edit']['seconds']} s | {_again(r)} | {r['scratch']['seconds']} s "
        f"| {r['scratch']['seconds'] / _last_edit(r):.1f}× | {_floor(r)} | {'yes' if r['dumps_identical'] else '**no**'} | {r['commit']} |"
        for r in runs
    ]
    return f"""## A one-record edit (`incremental.py`)

`ndlld build` (the whole command: records, checks, dumps, pages) of synthetic data, first with an
empty cache, then after editing one organization's name, then after editing another's (this
build starts from the spare, `.dist.spare`, which the one before kept: the way edits go after the
first), and the same data from scratch with `--no-cache`; the dumps of the last two compared by
SHA-256. The floor of an edit is what any build after it must do at least: write the four dumps
and their gzip files anew (one changed name moves every byte after it) and hash them for
`SHA256SUMS`; timed here as a copy of the last build's dumps by the kernel (`shutil.copyfile`)
and their SHA-256. Run of {runs[-1]["date"]} on {runs[-1]["machine"]}.

| organizations | first build | after one edit | after another edit | from scratch | scratch / last edit | floor of an edit (last edit / floor) | dumps identical | commit |
|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

"""


def _again(run: dict) -> str:
    return f"{run['again']['seconds']} s" if "again" in run else "not measured"


def _floor(run: dict) -> str:
    floor = run.get("floor")
    if not floor:
        return "not measured"
    return f"{floor['seconds']} s for {floor['megabytes']:,.0f} MB ({_last_edit(run) / floor['seconds']:.1f}×)"


def _last_edit(run: dict) -> float:
    return run["again"]["seconds"] if "again" in run else run["edit"]["seconds"]


def _incremental_row() -> str:
    runs = _results("incremental")
    if not runs:
        return "not measured"
    figures = "; ".join(
        f"{r['organizations']:,} orgs: {r['edit']['seconds']} s after one edit"
        + (f" and {r['again']['seconds']} s after another (from the spare)" if "again" in r else "")
        + f" against {r['scratch']['seconds']} s from scratch"
        f" ({'dumps identical' if r['dumps_identical'] else 'dumps DIFFER'})"
        for r in runs
    )
    met = all(_last_edit(r) <= 3 for r in runs) and runs[-1]["organizations"] >= 100_000
    return f"{'met' if met else 'not met at scale'}: {figures}"


def _incremental_floors() -> str:
    runs = [r for r in _results("incremental") if r.get("floor")]
    return (
        "; ".join(f"{r['floor']['seconds']} s for {r['floor']['megabytes']:,.0f} MB at {r['organizations']:,} orgs" for r in runs)
        or "not measured"
    )


def _queries_row(run: dict) -> str:
    """The queries of *run* (the largest size) against the target, and those of the run of
    queries_at_scale.py, which times each the way `ndlld query` runs it, several times."""
    timed = {r["stage"].removeprefix("query: "): r["seconds"] for r in run["stages"] if r["stage"].startswith("query: ")}
    over = ", ".join(f"{name} {seconds} s" for name, seconds in sorted(timed.items()) if seconds > 1)
    text = f"{sum(s <= 1 for s in timed.values())} of {len(timed)} within 1 s at {run['organizations']:,} orgs in the run above, once each"
    text += f" ({over} over)" if over else ""
    path = HERE / "results" / "queries-100000.json"
    if path.exists():
        after = json.loads(path.read_text(encoding="utf-8")).get("after-alone") or {}
        slow = ", ".join(f"{q['query']} {q['seconds']} s" for q in after.get("queries", []) if q["seconds"] > 1)
        text += f"; in queries-100000.md (medians of three, at ff0f1d3): {slow or 'none'} over"
    return text


def _build_parts(run: dict) -> str:
    """Where the records' time goes in *run*: reading (libyaml, then Python), SHACL (rudof), the dumps."""
    parts = {"reading": ["read records, graph, source checks"], "SHACL": [SHACL], "the dumps": ["dumps: write_dumps, from nothing"]}
    return ", ".join(f"{name} {_seconds(run['stages'], names)} s" for name, names in parts.items()) + f" at {run['organizations']:,} orgs"


def _build_peak(run: dict) -> float:
    """Peak memory up to the end of the dumps (the store and the queries come after a build)."""
    names = [r["stage"] for r in run["stages"]]
    end = names.index("load into the store") if "load into the store" in names else len(names)
    return max(r["peak_mb"] for r in run["stages"][:end])


def plot(runs: list[dict]) -> None:
    """scale.svg: total seconds and peak MB against organizations, log-log, drawn by hand."""
    import math

    width, height, pad = 640, 360, 60
    sizes = [r["organizations"] for r in runs]
    totals = [sum(x["seconds"] for x in r["stages"] if not x["stage"].startswith(("synth", WHOLE))) for r in runs]
    memory = [max(x["peak_mb"] for x in r["stages"]) for r in runs]

    def x(n):
        lo, hi = math.log10(min(sizes)), math.log10(max(sizes)) if max(sizes) > min(sizes) else math.log10(min(sizes)) + 1
        return pad + (math.log10(n) - lo) / (hi - lo) * (width - 2 * pad)

    def y(value, top):
        return height - pad - math.log10(max(value, 0.01) / 0.01) / math.log10(top / 0.01) * (height - 2 * pad)

    top = max(totals + memory) * 2
    lines = []
    for series, colour, label in ((totals, "#0b5cad", "seconds (all stages)"), (memory, "#b5480b", "peak MB")):
        points = " ".join(f"{x(n):.1f},{y(v, top):.1f}" for n, v in zip(sizes, series))
        lines.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        lines += [
            f'<circle cx="{x(n):.1f}" cy="{y(v, top):.1f}" r="3" fill="{colour}"><title>{n:,}: {v:.1f}</title></circle>'
            for n, v in zip(sizes, series)
        ]
        lines.append(f'<text x="{x(sizes[-1]) - 150:.0f}" y="{y(series[-1], top) - 8:.0f}" fill="{colour}" font-size="12">{label}</text>')
    ticks = "".join(f'<text x="{x(n):.1f}" y="{height - pad + 18}" font-size="11" text-anchor="middle">{n:,}</text>' for n in sizes)
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-label="time and memory against organizations">
<title>ndlld: time and memory against size (log-log; a straight line of slope 1 is linear growth)</title>
<rect width="{width}" height="{height}" fill="white"/>
<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#888"/>
<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#888"/>
<text x="{width / 2}" y="{height - 15}" font-size="12" text-anchor="middle">organizations (log scale)</text>
{ticks}
{chr(10).join(lines)}
</svg>
"""
    (HERE / "scale.svg").write_text(svg, encoding="utf-8")


def main() -> None:
    header = """# Benchmarks

Run on demand, never in CI; nothing here asserts a time. Figures are from single runs on the
machine named (each table gives the commit of each run), and are quoted as ratios measured in that
run: these machines are shared and noisy.

"""
    others = "".join(
        f"- [{title}]({name}): {what}\n"
        for name, title, what in (
            ("load.md", "ndlld serve under load", "64 clients on pages, dumps and SPARQL (`load.py`)"),
            ("queries-100000.md", "queries at 100,000 organizations", "each query of queries/ before and after (`queries_at_scale.py`)"),
        )
        if (HERE / name).exists()
    )
    others = f"Elsewhere in bench/:\n\n{others}\n" if others else ""
    (HERE / "README.md").write_text(header + others + scale() + "\n" + incremental() + query_engines(), encoding="utf-8")
    print("wrote bench/README.md")


if __name__ == "__main__":
    main()
