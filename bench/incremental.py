"""Builds after an edit at scale: each `ndlld build` a whole command, beside its floor.

For each size, synthetic records (``ndlld synth``) are built by the real command, each
build in a process of its own: its wall time and the peak PSS of its whole process tree
(``bench/pss.py``). The steps, in order, on one output and its state (``.dist.cache``):

1. ``from scratch``: the first build, which keeps its state;
2. ``first edit``: one organization's English name changed, the first build after one
   from scratch: it has no spare output (``.dist.spare``) to start from yet;
3. ``nothing changed``, then again with ``--trust-output`` (no file of the output stat'ed);
4. ``another name``, ``a member's name`` (of an organization the publisher holds a role in,
   whose link on the publisher's page names it), ``a record added``, ``a record deleted`` (one
   no other record names): edits as they go after the first, from the spare; then each again
   (another name, a member's, record) with ``--trust-output``, which places the pages kept
   without a stat.

Then the same records are built into a new output with a new state (``from scratch, anew``)
and built again with nothing changed: the first build after one from scratch. Its output
must be that of the edits, file for file (checked by SHA-256).

The floor of an edit is what any build after it must do at least: find the record files
that changed (``os.stat`` of each, as git's index does), and publish the dumps: every byte
of each dump and gzip file in the new output, copied by the kernel (``os.copy_file_range``,
as the build copies its unchanged chunks) and hashed for ``SHA256SUMS`` (a thread per
core, as the build hashes them): one changed name moves every byte after it, and no
SHA-256 is updated in place. The floor of a build with nothing changed is the ``os.stat``
of each record file. Each floor is timed right after its build, on the files it published.

Last, each query of ``queries/`` as a user runs it, ``ndlld query NAME --out dist``, each
in a process of its own, on the output and state of the edits. Run on demand:

    .venv/bin/python bench/incremental.py 1000 10000

Writes bench/results/incremental-N.json; bench/report.py puts them in bench/README.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pss
from scale import NDLLD, RESULTS, ROOT, commit

SCRATCH, ANEW = "from scratch", "from scratch, anew"
FIRST_EDIT, ANOTHER_NAME = "first edit: a name changed", "another name changed"
MEMBER_NAME = "a name changed, of an organization the publisher is a member of"
UNCHANGED, UNCHANGED_AFTER_SCRATCH = "nothing changed", "nothing changed, after a build from scratch"
UNCHANGED_TRUSTED = "nothing changed, the output trusted (--trust-output)"
RACY_SECONDS = 2.5  # a record file changed within 2 s of a build is hashed again by the next: the synthetic files are left older
ADDED = """# Bench Added Association
id: {id}
type: Organization
name:
  en: Bench Added Association
  ja: ベンチ追加協会
description:
  en: >-
    An organization added between two builds by bench/incremental.py.
source: source/synthetic
"""


class Bench:
    """One size's records, output and steps."""

    def __init__(self, orgs: int):
        self.orgs = orgs
        self.work = Path(tempfile.mkdtemp(prefix=f"ndlld-incremental-{orgs}-"))
        self.data, self.out = self.work / "data", self.work / "dist"
        from ndlld.synth import synthesize  # here: bench/report.py reads this module's names without ndlld

        self.summary = synthesize(self.data, orgs, seed=1)
        self.records = sorted((self.data / "organizations").rglob("org-*.yaml"))
        self.steps: list[dict] = []

    def build(self, step: str, out: Path, kind: str, *options: str) -> None:
        """`ndlld build` into *out* as a step of *kind* (scratch, unchanged or edit), then
        its floor on what it published."""
        measured = pss.run(
            [*NDLLD, "build", "--quiet", "--data", str(self.data), "--out", str(out), *options], cwd=self.work, stdout=subprocess.DEVNULL
        )
        row = {"step": step, "kind": kind, **measured.as_json()}
        if kind != "scratch":
            row["floor"] = self.floor(out, kind == "edit")
        self.steps.append(row)
        floor = f"  floor {row['floor']['seconds']:6.3f} s" if "floor" in row else ""
        print(f"  {step:<42} {measured.seconds:8.3f} s  peak PSS {measured.peak_pss_mb:7.0f} MB{floor}", flush=True)

    def floor(self, out: Path, edit: bool) -> dict:
        stat = stat_all(self.data)
        if not edit:
            return {"seconds": round(stat, 3), "megabytes": 0}
        seconds, size = dumps_floor(out, self.work / "floor")
        return {"seconds": round(stat + seconds, 3), "megabytes": round(size / 1e6, 1), "stat_seconds": round(stat, 3)}

    def rename(self, record: Path) -> None:
        text = record.read_text(encoding="utf-8")
        record.write_text(text.replace("en: ", "en: Edited ", 1), encoding="utf-8")

    def member(self, number: int) -> Path:
        """The record of an organization the publisher is a member of: the *number*-th after
        the one half of the way through them."""
        members = [r for r in self.records if r.is_file() and "member: ndl\n" in r.read_text(encoding="utf-8")]  # one deleted: gone
        return members[len(members) // 2 + number]

    def add(self, number: int) -> None:
        digits = len(self.records[0].stem.removeprefix("org-"))
        new_id = f"org-{self.orgs + number:0{digits}d}"
        path = self.summary.file_of(new_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(ADDED.format(id=new_id), encoding="utf-8")

    def delete(self) -> None:
        """Remove an organization's record that no other file names (else the build refuses
        the broken link): the one nearest a quarter of the way through."""
        named: dict[str, int] = {}
        for path in self.data.rglob("*.yaml"):
            for found in set(re.findall(r"\borg-\d+\b", path.read_text(encoding="utf-8"))):
                named[found] = named.get(found, 0) + (found != path.stem)
        alone = [(abs(number - self.orgs // 4), record) for number, record in enumerate(self.records) if named.get(record.stem) == 0]
        min(alone)[1].unlink()

    def queries(self) -> list[dict]:
        """Each query of queries/ as the command a user runs, on the edited output and its state;
        a parameter naming an organization names the first synthetic one."""
        from ndlld.queries import load_queries

        rows = []
        for name, query in load_queries(ROOT / "queries").items():
            params = [f"--param={p.name}={self.records[0].stem}" for p in query.parameters.values() if p.type == "iri"]
            command = [*NDLLD, "query", name, *params, "--data", str(self.data), "--out", str(self.out)]
            measured = pss.run(command, cwd=self.work, stdout=subprocess.DEVNULL)
            rows.append({"query": name, **measured.as_json()})
            print(f"  ndlld query {name:<30} {measured.seconds:8.3f} s  peak PSS {measured.peak_pss_mb:7.0f} MB", flush=True)
        return rows


def stat_all(data: Path) -> float:
    """Seconds to list the records' directories and stat each file: what a build must do at least to know none changed."""
    started = time.perf_counter()
    folders = [str(data)]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                else:
                    entry.stat(follow_symlinks=False)
    return time.perf_counter() - started


def dumps_floor(out: Path, into: Path) -> tuple[float, int]:
    """Seconds to copy the dumps of *out* into *into* by the kernel and hash them; their size."""
    from ndlld.dumps import DATASET_FILES

    dumps = [name + gz for name in DATASET_FILES.values() for gz in ("", ".gz")]
    into.mkdir()
    started = time.perf_counter()
    for name in dumps:
        copy(out / name, into / name)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # hashlib lets go of the GIL
        list(pool.map(sha256_of, [into / name for name in dumps]))
    seconds = time.perf_counter() - started
    size = sum((into / name).stat().st_size for name in dumps)
    shutil.rmtree(into)
    return seconds, size


def copy(source: Path, target: Path) -> None:
    with open(source, "rb") as old, open(target, "wb") as new:
        left = os.fstat(old.fileno()).st_size
        while left > 0:
            copied = os.copy_file_range(old.fileno(), new.fileno(), left)
            if copied == 0:
                break
            left -= copied


def sha256_of(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def digests(out: Path) -> dict[str, str]:
    """Every file of an output by its path, with its SHA-256."""
    return {str(path.relative_to(out)): sha256_of(path) for path in sorted(out.rglob("*")) if path.is_file()}


def measure(orgs: int) -> dict:
    bench = Bench(orgs)
    print(f"{orgs} organizations in {bench.work}", flush=True)
    time.sleep(RACY_SECONDS)
    bench.build(SCRATCH, bench.out, "scratch")
    bench.rename(bench.records[orgs // 2])
    bench.build(FIRST_EDIT, bench.out, "edit")
    bench.build(UNCHANGED, bench.out, "unchanged")
    bench.build(UNCHANGED_TRUSTED, bench.out, "unchanged", "--trust-output")
    for trusting in ((), ("--trust-output",)):  # each edit as it goes, then another trusting the output
        said = ", the output trusted" if trusting else ""
        bench.rename(bench.records[orgs // 3 + len(trusting)])
        bench.build(ANOTHER_NAME + said, bench.out, "edit", *trusting)
        bench.rename(bench.member(len(trusting)))
        bench.build(MEMBER_NAME + said, bench.out, "edit", *trusting)
        bench.add(1 + len(trusting))
        bench.build("a record added" + said, bench.out, "edit", *trusting)
        bench.delete()
        bench.build("a record deleted" + said, bench.out, "edit", *trusting)
    anew = bench.work / "anew"
    bench.build(ANEW, anew, "scratch")
    bench.build(UNCHANGED_AFTER_SCRATCH, anew, "unchanged")
    identical = digests(bench.out) == digests(anew)
    queries = bench.queries()
    subprocess.run(["rm", "-rf", str(bench.work)])
    return {
        "organizations": orgs,
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores",
        "steps": bench.steps,
        "output_identical": identical,
        "queries": queries,
        "commit": commit(),
    }


def main(argv: list[str]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    for size in [int(a) for a in argv] or [1000, 10000]:
        result = measure(size)
        (RESULTS / f"incremental-{size}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote bench/results/incremental-{size}.json (output identical to a build from scratch: {result['output_identical']})")
        if not result["output_identical"]:
            sys.exit("the output after the edits differs from a build from scratch")


if __name__ == "__main__":
    main(sys.argv[1:])
