"""What the quads dumps add to a one-record edit: builds after a changed name, and the part of
them that attributes statements to their graphs.

Synthetic records (``ndlld synth``, seed 1) are built from scratch, then one organization's
English name is changed and built again, several times (a different organization each time,
as bench/incremental.py's "another name changed"). Each build is the real command in a
process of its own (wall time and CPU time, user and system). One more edit is then built in this process,
its parts timed: the quads (``Statements._quads``: attributing the statements of the chunks
made again and writing them; ``quads_reach``), each dump written (``write_dump``: the kept
chunks copied, the others written, the gzip file), all of them (``remake``: the chunks made
again; ``splice``: the files written, in a thread beside the pages), and how
many statements were attributed (calls of ``Provenance.graphs``). Run on demand:

    .venv/bin/python bench/quads_edit.py 2000

Prints the figures; bench/history.md keeps those worth keeping.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scale import NDLLD

EDITS = int(os.environ.get("EDITS", 4))


def timed_build(data: Path, out: Path) -> tuple[float, float]:
    """Wall and CPU (user and system) seconds of ``ndlld build`` as a command, children counted."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([*NDLLD, "build", "--quiet", "--data", str(data), "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - started, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def rename(record: Path, number: int) -> None:
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace("en: ", f"en: Edited {number} ", 1), encoding="utf-8")


def timed(owner, name: str, seconds: dict[str, float], key=lambda args: "") -> None:
    """Wrap *owner*.*name* so that its calls add their seconds to *seconds*[key(args)], and count
    them; nothing when the code measured has no such function (an older commit)."""
    inner = getattr(owner, name, None)
    if inner is None:
        return

    def wrapper(*args, **kwargs):
        started = time.process_time()  # CPU: the machine is shared, and its load varies
        try:
            return inner(*args, **kwargs)
        finally:
            label = f"{name}{key(args)}"
            seconds[label] = seconds.get(label, 0.0) + time.process_time() - started
            seconds[label + " calls"] = seconds.get(label + " calls", 0) + 1

    setattr(owner, name, wrapper)


def measured_build(data: Path, out: Path) -> tuple[float, dict[str, float], int]:
    """One build in this process, the parts of it that make the quads timed: its CPU seconds,
    theirs, and the statements of the graph."""
    from ndlld.build import build
    from ndlld.dumps import Statements
    from ndlld.incremental import dumps

    seconds: dict[str, float] = {}
    timed(Statements, "_quads", seconds)  # attributing the statements of the chunks made again, and writing them
    try:
        from ndlld.provenance import Provenance

        timed(Provenance, "graphs", seconds)  # one call a statement attributed
    except ImportError:  # a commit without the quads dumps
        pass
    timed(dumps, "quads_reach", seconds)
    timed(dumps, "rewrite_dumps", seconds)  # before the dumps were written in a thread
    timed(dumps, "remake", seconds)
    timed(dumps, "splice", seconds)
    timed(
        dumps, "write_dump", seconds, key=lambda args: f" {getattr(args[0], 'name', args[0])}"
    )  # each dump's kept chunks copied, the new written
    started = time.process_time()
    summary = build(data, out, cache_dir=out.parent / f".{out.name}.cache")
    return time.process_time() - started, seconds, summary.triples


def main(orgs: int) -> None:
    from ndlld.synth import synthesize

    work = Path(tempfile.mkdtemp(prefix=f"ndlld-quads-{orgs}-"))
    data, out = work / "data", work / "dist"
    synthesize(data, orgs, seed=1)
    records = sorted((data / "organizations").rglob("org-*.yaml"))
    time.sleep(2.5)  # older than the racy window: the next build need not hash them again
    wall, cpu = timed_build(data, out)
    print(f"{orgs} organizations: from scratch {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
    for number in range(EDITS):
        rename(records[(number + 1) * len(records) // (EDITS + 2)], number)
        wall, cpu = timed_build(data, out)
        print(f"  a name changed: {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
    rename(records[-1], EDITS)
    total, seconds, triples = measured_build(data, out)
    print(f"  measured edit, in this process: {total:.2f} s CPU; of {triples} statements, {seconds.get('graphs calls', 0):.0f} attributed")
    for name, value in sorted(seconds.items()):
        if not name.endswith("calls"):
            print(f"    {name:<24} {value:.3f} s CPU", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
