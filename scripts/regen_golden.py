"""Rebuild tests/golden/ after an intended change: the dumps of tests/records/good, and
the result of every query of queries/ on the real data (tests/golden/queries/).

Run: .venv/bin/python scripts/regen_golden.py   -- then review `git diff tests/golden`.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from pyoxigraph import QueryBoolean, QuerySolutions

from ndlld.build import build
from ndlld.context import Context
from ndlld.dumps import DATASET_FILES
from ndlld.queries import load_queries, run_query
from ndlld.resources import context_path, resource_dir
from ndlld.results import render
from ndlld.store import EmbeddedStore

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dist"
        build(ROOT / "tests" / "records" / "good", out)
        for name in [*DATASET_FILES.values(), "context.jsonld"]:
            shutil.copyfile(out / name, ROOT / "tests" / "golden" / name)
            print(f"wrote tests/golden/{name}")
        real = Path(tmp) / "real"
        build(ROOT / "data", real)
        store = EmbeddedStore.open(real)
        context = Context.load(context_path())
        base = store.graph.value.removesuffix("id/dataset")
        (ROOT / "tests" / "golden" / "queries").mkdir(exist_ok=True)
        for name, query in load_queries(resource_dir("queries")).items():
            result = run_query(query, {}, store, base)
            extension = "csv" if isinstance(result, (QuerySolutions, QueryBoolean)) else "nt"
            (ROOT / "tests" / "golden" / "queries" / f"{name}.{extension}").write_bytes(render(result, extension, context))
            print(f"wrote tests/golden/queries/{name}.{extension}")


if __name__ == "__main__":
    main()
