"""A one-record edit, by versions of ndlld side by side: what the search index costs it.

The same synthetic records (``ndlld synth``, seed 1) are built, for each source tree
given (a checkout of ndlld: ``git archive`` of a commit unpacked, or this one), from
scratch with the cache, then with nothing changed (the first build after one from scratch
makes the spare output the next ones start from); then one organization's English name is
changed, a different one each round, and each tree builds it: ``python -m ndlld build`` of
that tree in a process of its own, its wall time and its CPU time (user and system, of it
and the processes it waited for). The trees take their turns within each round, so that
the machine's other work falls on all of them alike.

Last, one more edit by this checkout, in this process under cProfile: the time in the
search index's functions (:func:`ndlld.site.search.search_entry` as the pages are made, and
:meth:`ndlld.incremental.search.KeptIndex.change` and ``publish``) against the whole build.
Run on demand, e.g. at 10,000 organizations against main and the branch before this change:

    git archive 0ca9362 | tar -x -C /tmp/ndlld-main
    .venv/bin/python bench/search_edit.py 10000 3 main=/tmp/ndlld-main now=.

Writes bench/results/search-edit-N.json.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scale import RESULTS, ROOT, commit

# The index's own functions, as cProfile names them (file, function): their cumulative time.
SEARCH_FUNCTIONS = {
    ("ndlld/site/search.py", "search_entry"),
    ("ndlld/incremental/__init__.py", "_index_for_search"),
    ("ndlld/incremental/search.py", "publish"),
}


def build(tree: Path, data: Path, out: Path) -> dict:
    """``ndlld build`` of *tree*: wall and CPU seconds."""
    environment = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    command = [sys.executable, "-m", "ndlld", "build", "--quiet", "--data", str(data), "--out", str(out)]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=environment, cwd=out.parent, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)  # the child's usage, with the processes it waited for
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{tree}: the build failed")
    return {"seconds": round(seconds, 3), "cpu": round(usage.ru_utime + usage.ru_stime, 3)}


def rename(data: Path, number: int) -> None:
    record = sorted((data / "organizations").rglob("org-*.yaml"))[number * 97]
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace("en: ", f"en: Edited {number} ", 1), encoding="utf-8")


def profiled_edit(data: Path, out: Path, number: int) -> dict:
    """One more edit built by this checkout in this process: the search index's share."""
    from ndlld.build import build as run_build

    rename(data, number)
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.runcall(run_build, data, out, cache_dir=out.parent / f".{out.name}.cache")
    whole = time.perf_counter() - started
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    found = {
        name: round(cumulative, 4)
        for (file, _, name), (_, _, _, cumulative, _) in stats.items()
        if any(file.endswith(f) and name == n for f, n in SEARCH_FUNCTIONS)
    }
    return {"whole": round(whole, 3), "search": found}


def main(orgs: int, rounds: int, trees: dict[str, Path]) -> None:
    from ndlld.synth import synthesize

    work = Path(tempfile.mkdtemp(prefix=f"ndlld-search-edit-{orgs}-"))
    synthesize(work / "records", orgs, seed=1)
    runs: dict[str, list[dict]] = {}
    for name in trees:
        shutil.copytree(work / "records", work / name / "data")
    for step in ["from scratch", "nothing changed", *(f"edit {n + 1}" for n in range(rounds))]:
        for name, tree in trees.items():
            data = work / name / "data"
            if step.startswith("edit"):
                rename(data, int(step.split()[1]))
            row = {"step": step, **build(tree, data, work / name / "dist")}
            runs.setdefault(name, []).append(row)
            print(f"{name:<8} {step:<16} {row['seconds']:7.2f} s  {row['cpu']:7.2f} s CPU", flush=True)
    mine = next((name for name, tree in trees.items() if tree.resolve() == ROOT), None)
    share = profiled_edit(work / mine / "data", work / mine / "dist", rounds + 1) if mine else None
    if share:
        print(f"{mine:<8} profiled edit    {share['whole']:7.2f} s, of which search {share['search']}", flush=True)
    result = {"commit": commit(), "orgs": orgs, "trees": {n: str(t) for n, t in trees.items()}, "runs": runs, "profiled": share}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"search-edit-{orgs}.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    size, count, *given = sys.argv[1:]
    main(int(size), int(count), {name: Path(path) for name, path in (g.split("=", 1) for g in given)})
