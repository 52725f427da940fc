"""A one-record edit at scale: `ndlld build` from scratch, then again after editing one record.

For each size, synthetic records (``ndlld synth``) are built three times by
the real command, each in a fresh process timed with ``time.perf_counter``
(peak memory from ``getrusage`` of the finished child):

1. ``cold``: the first build, which fills the cache;
2. ``edit``: the build after one organization's English name was changed;
3. ``again``: the build after another organization's name was changed, the way a
   user works: it starts from the spare (the output before the last), which
   the first edit's build was the first to keep;
4. ``scratch``: the same data built with ``--no-cache`` into another directory.

The dumps of ``again`` and ``scratch`` must be byte-identical (checked here with
their SHA-256 sums). Beside them, the floor of an edit: the dumps of ``again``
copied and hashed (:func:`dumps_floor`). Run on demand:

    .venv/bin/python bench/incremental.py 1000 10000

Writes bench/results/incremental-N.json; bench/report.py puts them in bench/README.md.
"""

from __future__ import annotations

import hashlib
import json
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
NDLLD = [sys.executable, "-m", "ndlld"]
sys.path.insert(0, str(ROOT))
from ndlld.dumps import DATASET_FILES  # noqa: E402  the dumps a build writes, each with its .gz

DUMPS = (*DATASET_FILES.values(), "SHA256SUMS")
DUMPS_WRITTEN = [name + gz for name in DATASET_FILES.values() for gz in ("", ".gz")]


def timed_build(*args: str) -> dict:
    started = time.perf_counter()
    subprocess.run([*NDLLD, "build", "--quiet", *args], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child so far
    print(f"  build {' '.join(args[-2:]):<40} {seconds:8.2f} s", flush=True)
    return {"seconds": round(seconds, 3), "peak_mb_so_far": round(peak, 1)}


def digests(out: Path) -> dict[str, str]:
    return {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in DUMPS}


def dumps_floor(out: Path, into: Path) -> dict:
    """What any build after an edit must do at least: write the dumps' bytes anew (here a
    copy of the last build's by the kernel, the fastest way there is) and hash them for
    SHA256SUMS. Every byte of a dump may move when one record changes."""
    into.mkdir()
    started = time.perf_counter()
    size = 0
    for name in DUMPS_WRITTEN:
        shutil.copyfile(out / name, into / name)
        with open(into / name, "rb") as file:
            hashlib.file_digest(file, "sha256")
        size += (into / name).stat().st_size
    seconds = time.perf_counter() - started
    print(f"  floor: the dumps copied and hashed {seconds:8.2f} s ({size / 1e6:.0f} MB)", flush=True)
    return {"seconds": round(seconds, 3), "megabytes": round(size / 1e6, 1)}


def measure(orgs: int) -> dict:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()  # the code measured
    work = Path(tempfile.mkdtemp(prefix=f"ndlld-incremental-{orgs}-"))
    data = work / "data"
    subprocess.run(
        [*NDLLD, "synth", "--orgs", str(orgs), "--seed", "1", "--out", str(data)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    print(f"{orgs} organizations in {work}", flush=True)
    cold = timed_build("--data", str(data), "--out", str(work / "dist"))
    records = sorted((data / "organizations").rglob("org-*.yaml"))
    builds = []
    for record in (records[orgs // 2], records[orgs // 3]):
        text = record.read_text(encoding="utf-8")
        record.write_text(text.replace("en: ", "en: Edited ", 1), encoding="utf-8")
        builds.append(timed_build("--data", str(data), "--out", str(work / "dist")))
    edit, again = builds
    floor = dumps_floor(work / "dist", work / "floor")
    scratch = timed_build("--no-cache", "--data", str(data), "--out", str(work / "scratch"))
    identical = digests(work / "dist") == digests(work / "scratch")
    subprocess.run(["rm", "-rf", str(work)])
    return {
        "organizations": orgs,
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
        "cold": cold,
        "edit": edit,
        "again": again,
        "scratch": scratch,
        "floor": floor,
        "dumps_identical": identical,
        "commit": commit,
    }


def main(argv: list[str]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    for size in [int(a) for a in argv] or [1000, 10000]:
        result = measure(size)
        (RESULTS / f"incremental-{size}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote bench/results/incremental-{size}.json (dumps identical: {result['dumps_identical']})")
        if not result["dumps_identical"]:
            sys.exit("the build after an edit differs from a build from scratch")


if __name__ == "__main__":
    main(sys.argv[1:])
