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

Run of {r['date']} on {r['machine']}; rdflib {r['versions']['rdflib']}, pyoxigraph {r['versions']['pyoxigraph']}.
Results: `results/query-engines.json`.

| copies | triples | load, pyoxigraph | load, rdflib | all queries, pyoxigraph | all queries, rdflib | rdflib / pyoxigraph |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Per query at {last['copies']} copies ({last['triples']:,} triples), seconds:

| query | pyoxigraph | rdflib | ratio |
|---|---|---|---|
{chr(10).join(per_query)}

**Choice: pyoxigraph.** It answers every query one to three orders of magnitude faster, and
rdflib's engine grows worse than linearly on the joins of `timeline` and `organization`. The
results are the same either way (the row counts above; the query tests compare pyoxigraph with a
real Oxigraph server byte for byte).

Reproduce: `.venv/bin/python bench/query_engines.py 1 10 100 && .venv/bin/python bench/report.py`.
"""


def main() -> None:
    header = """# Benchmarks

Run on demand, never in CI; nothing here asserts a time. Figures are from one run on the
machine named, and are quoted as ratios measured in that run: these machines are shared and noisy.

"""
    (HERE / "README.md").write_text(header + query_engines(), encoding="utf-8")
    print("wrote bench/README.md")


if __name__ == "__main__":
    main()
