"""Build again whenever a record changes, for ``ndlld serve --watch``.

The server already follows each build as it lands: pages are files read at each
request, and the query workers reload when the output changes. So watching only has
to run ``ndlld build`` again, incrementally, when a record file is written, added or
removed. Each build is a process of its own: the watching process also supervises the
server processes, and a build forks workers of its own, which a process with a
watching thread should not do.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from watchfiles import DefaultFilter, watch

from ndlld.sources import RECORD_SUFFIXES

# Edits arriving within this long of each other make one build: an editor's save, or a
# `git checkout` of many records, is several file events.
DEBOUNCE_MS = 1_600
STEP_MS = 200


class RecordFilter(DefaultFilter):
    """Record files below the data directory; not the output or its kept state should
    they be inside it, nor the files :class:`~watchfiles.DefaultFilter` leaves out
    (version control, caches, editors' swap and backup files)."""

    def __init__(self, outputs: list[Path]):
        super().__init__()
        self.outputs = [str(path.resolve()) for path in outputs]

    def __call__(self, change, path: str) -> bool:
        if any(path == out or path.startswith(out + "/") for out in self.outputs):
            return False
        return super().__call__(change, path) and path.endswith(RECORD_SUFFIXES)


def build_command(data_dir: Path, out_dir: Path) -> list[str]:
    """The build `serve --watch` runs: the one a user would, with its kept state."""
    return [sys.executable, "-m", "ndlld", "build", "--data", str(data_dir), "--out", str(out_dir), "--quiet"]


def rebuild_on_change(
    data_dir: Path, out_dir: Path, outputs: list[Path], stop: threading.Event, changed: Callable[[list[str]], None]
) -> None:
    """Until *stop* is set: each time record files below *data_dir* change, call *changed*
    with their paths (relative to *data_dir*), then build *out_dir* again. A build's
    summary or errors go to this process's output; a build that fails publishes nothing,
    so the server goes on with the last good one until the next edit."""
    data_dir = data_dir.resolve()
    for changes in watch(data_dir, watch_filter=RecordFilter(outputs), stop_event=stop, debounce=DEBOUNCE_MS, step=STEP_MS):
        changed(sorted({str(Path(path).relative_to(data_dir)) for _, path in changes}))
        subprocess.run(build_command(data_dir, out_dir), check=False)
        if stop.is_set():
            return


def watching(data_dir: Path, out_dir: Path, outputs: list[Path], changed: Callable[[list[str]], None]) -> Callable[[], None]:
    """Start :func:`rebuild_on_change` in a thread; returns the function that stops it
    (waiting for a build under way to finish, so that nothing is left half-written)."""
    stop = threading.Event()
    thread = threading.Thread(target=rebuild_on_change, args=(data_dir, out_dir, outputs, stop, changed), name="ndlld-watch", daemon=True)
    thread.start()

    def stopped() -> None:
        stop.set()
        thread.join()

    return stopped
