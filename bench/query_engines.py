"""Which embedded SPARQL engine: rdflib's own, or pyoxigraph? Measured, not assumed.

Copies the real dataset N times over (every IRI under the base gets a suffix,
so the copies are distinct resources with the same shape), loads it into each
engine, and times every query of queries/ on both. Run on demand:

    .venv/bin/python bench/query_engines.py [COPIES ...]

Writes bench/results/query-engines.json; bench/README.md quotes it.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from datetime import date
from importlib import metadata
from pathlib import Path

import pyoxigraph
import rdflib
from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat, Store

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ndlld.build import build  # noqa: E402
from ndlld.queries import load_queries  # noqa: E402

BASE = "https://w3id.org/ndlld/id/"


def copies(triples: list, n: int) -> list:
    """The triples n times, IRIs under the base suffixed per copy (copy 0 unchanged)."""

    def rename(term, k):
        if isinstance(term, NamedNode) and term.value.startswith(BASE) and k:
            iri, hash_, fragment = term.value.partition("#")
            return NamedNode(f"{iri}-{k}{hash_}{fragment}")
        return term

    return [pyoxigraph.Triple(rename(t.subject, k), t.predicate, rename(t.object, k)) for k in range(n) for t in triples]


def consume(result) -> int:
    """Read a whole result (solutions or triples); an ASK answer counts as one row."""
    return 1 if isinstance(result, pyoxigraph.QueryBoolean) else sum(1 for _ in result)


def timed(function, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def main(sizes: list[int]) -> None:
    dist = ROOT / "bench" / "results" / "dist"
    build(ROOT / "data", dist)
    base_triples = list(pyoxigraph.parse(path=str(dist / "dataset.nt"), format=RdfFormat.N_TRIPLES))
    vocabulary = list(pyoxigraph.parse(path=str(dist / "ontology.ttl"), format=RdfFormat.TURTLE))
    vocab_graph = NamedNode("https://w3id.org/ndlld/vocab")
    queries = {name: q.text for name, q in load_queries(ROOT / "queries").items()}
    runs = []
    for n in sizes:
        triples = copies(base_triples, n)
        # pyoxigraph
        started = time.perf_counter()
        store = Store()
        store.bulk_extend(Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in triples)
        store.bulk_extend(Quad(t.subject, t.predicate, t.object, vocab_graph) for t in vocabulary)
        oxigraph_load = time.perf_counter() - started
        # rdflib (its own memory store and SPARQL engine)
        started = time.perf_counter()
        dataset = rdflib.Dataset()
        default = dataset.default_context if hasattr(dataset, "default_context") else dataset.graph(rdflib.Dataset.DEFAULT)
        nt = pyoxigraph.serialize(triples, format=RdfFormat.N_TRIPLES)
        default.parse(data=nt.decode(), format="nt")
        dataset.graph(rdflib.URIRef(vocab_graph.value)).parse(
            data=pyoxigraph.serialize(vocabulary, format=RdfFormat.N_TRIPLES).decode(), format="nt"
        )
        rdflib_load = time.perf_counter() - started
        per_query = {}
        for name, text in queries.items():
            ox = timed(lambda store=store, text=text: consume(store.query(text)))
            ox_rows = consume(store.query(text))
            rd = timed(lambda dataset=dataset, text=text: list(dataset.query(text)), repeat=1)
            rd_rows = len(list(dataset.query(text)))
            per_query[name] = {"pyoxigraph_s": round(ox, 5), "rdflib_s": round(rd, 5), "rows": [ox_rows, rd_rows]}
            print(f"{n:>5} copies  {name:<26} pyoxigraph {ox:8.4f} s   rdflib {rd:8.4f} s   rows {ox_rows}/{rd_rows}")
        runs.append(
            {
                "copies": n,
                "triples": len(triples),
                "load_s": {"pyoxigraph": round(oxigraph_load, 3), "rdflib": round(rdflib_load, 3)},
                "queries": per_query,
                "total_query_s": {
                    "pyoxigraph": round(sum(q["pyoxigraph_s"] for q in per_query.values()), 4),
                    "rdflib": round(sum(q["rdflib_s"] for q in per_query.values()), 4),
                },
            }
        )
    result = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}",
        "versions": {"pyoxigraph": metadata.version("pyoxigraph"), "rdflib": rdflib.__version__},
        "runs": runs,
    }
    out = ROOT / "bench" / "results" / "query-engines.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1, 10, 100])
