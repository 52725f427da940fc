"""A whole command's wall time and peak memory, counted over its whole process tree.

The memory is the proportional set size (PSS, ``/proc/<pid>/smaps_rollup``) of the
command's process and all its descendants, summed and sampled while it runs: a page
shared by a forked child and its parent counts once, split between them, where the
resident set size (RSS) of each would count it in every process that maps it. The
kernel walks a process's page tables to sum its PSS (tens of milliseconds for a few
GB), so the samples are spaced to take at most :data:`SHARE` of one core: a peak
shorter than the time between two samples can be missed. A sample during which a
process of the tree started or ended is dropped: its processes, read one after another,
split their shared pages among different numbers of processes (a child forked after its
parent was read counts a share the parent counted too). The largest single
process's RSS is kept beside it as a check: the largest high-water mark (``VmHWM`` of
``/proc/<pid>/status``) among the samples, not ``getrusage``, whose mark a command
started from a large process (``bench/scale.py``) carries over from it across exec.
Linux only; psutil is not among the test requirements, so /proc is read directly.
Run alone (``python bench/pss.py COMMAND...``), it prints each sample, which shows the
process where the memory is, and then what it measured.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

EVERY = 0.05  # seconds between samples at least: short enough for commands of a second
SHARE = 0.1  # of one core, at most, for the samples: the command measured has the machine's cores


@dataclass
class Measured:
    """What :func:`run` measured of one command."""

    seconds: float
    peak_pss_mb: float  # the largest sum of PSS over the process tree, among the samples
    max_rss_mb: float  # the largest RSS of any one process of the tree (VmHWM, among the samples)
    samples: int

    def as_json(self) -> dict:
        return {"seconds": round(self.seconds, 3), "peak_pss_mb": round(self.peak_pss_mb, 1), "max_rss_mb": round(self.max_rss_mb, 1)}


def descendants(root: int) -> list[int]:
    """*root* and every live process below it (not an ended one its parent has not reaped,
    which maps nothing), from each process's state and parent in /proc/<pid>/stat (the
    kernel here has no /proc/<pid>/task/<tid>/children)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_bytes()
            except OSError:  # gone since the listing
                continue
            state, parent = stat[stat.rindex(b")") + 2 :].split()[:2]  # after the command's name, which may hold spaces
            if state != b"Z":
                children.setdefault(int(parent), []).append(int(entry.name))
    tree, waiting = [], [root]
    while waiting:
        pid = waiting.pop()
        tree.append(pid)
        waiting += children.get(pid, [])
    return tree


def pss_kb(pid: int) -> int:
    """The PSS of one process in kB; 0 when it is gone (or a zombie, which maps nothing)."""
    return _kb(f"/proc/{pid}/smaps_rollup", b"Pss:")


def high_water_kb(pid: int) -> int:
    """The largest RSS one process has had, in kB (VmHWM); 0 when it is gone."""
    return _kb(f"/proc/{pid}/status", b"VmHWM:")


def _kb(path: str, field: bytes) -> int:
    try:
        with open(path, "rb") as file:
            for line in file:
                if line.startswith(field):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run(command: list[str], timeline: TextIO | None = None, **popen: object) -> Measured:
    """Run *command* to its end (a non-zero exit raises CalledProcessError) and measure it.
    With *timeline*, each sample is written to it as a line: the seconds since the start,
    the tree's PSS and each process's, in MB. *popen* goes to :class:`subprocess.Popen`
    (cwd, stdout, ...)."""
    peak, largest, samples, done = [0], [0], [0], threading.Event()
    started = time.perf_counter()
    process = subprocess.Popen(command, **popen)  # type: ignore[call-overload]

    def sample() -> None:
        while not done.is_set():
            began = time.perf_counter()
            tree = descendants(process.pid)
            each = [pss_kb(pid) for pid in tree]
            if set(descendants(process.pid)) != set(tree):  # a process started or ended while they were read
                done.wait(EVERY)
                continue
            peak[0] = max(peak[0], sum(each))
            largest[0] = max(largest[0], *(high_water_kb(pid) for pid in tree))
            samples[0] += 1
            if timeline is not None:
                print(f"{began - started:7.1f} s {sum(each) // 1024:6d} MB:", *(kb // 1024 for kb in each), file=timeline, flush=True)
            done.wait(max(EVERY, (time.perf_counter() - began) * (1 / SHARE - 1)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, _ = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    return Measured(seconds, peak[0] / 1024, largest[0] / 1024, samples[0])


if __name__ == "__main__":  # python bench/pss.py COMMAND...: its samples on stderr, then what was measured
    import sys

    print(json.dumps(run(sys.argv[1:], timeline=sys.stderr).as_json()))
