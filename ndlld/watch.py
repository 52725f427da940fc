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

from ndlld.errors import ConfigError, short_line
from ndlld.sources import RECORD_SUFFIXES

# Edits arriving within this long of each other make one build: an editor's save, or a
# `git checkout` of many records, is several file events.
DEBOUNCE_MS = 1_600
STEP_MS = 200
# The watcher says it is idle this often: its first word tells that it is watching (an
# edit saved before that could be missed), and the thread sees a stop within this long.
IDLE_MS = 200


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


def build_command(data_dir: Path, out_dir: Path, cache_dir: Path | None = None) -> list[str]:
    """The build `serve --watch` runs: the one a user would, with its kept state (in
    *cache_dir*, when not the one beside *out_dir*), which holds the search index served."""
    cache = ["--cache-dir", str(cache_dir)] if cache_dir is not None else []
    return [sys.executable, "-m", "ndlld", "build", "--data", str(data_dir), "--out", str(out_dir), *cache, "--quiet"]


def rebuild_on_change(
    data_dir: Path,
    out_dir: Path,
    outputs: list[Path],
    stop: threading.Event,
    changed: Callable[[list[str]], None],
    cache_dir: Path | None = None,
    ready: threading.Event | None = None,
) -> None:
    """Until *stop* is set: each time record files below *data_dir* change, call *changed*
    with their paths (relative to *data_dir*), then build *out_dir* again (its state in
    *cache_dir*, by default the one beside it). A build's summary or errors go to this
    process's output; a build that fails publishes nothing, so the server goes on with the
    last good one until the next edit. *ready* is set once the system reports every change
    below *data_dir*."""
    data_dir = data_dir.resolve()
    for changes in watch(
        data_dir,
        watch_filter=RecordFilter(outputs),
        stop_event=stop,
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        rust_timeout=IDLE_MS,
        yield_on_timeout=True,
    ):
        if not changes:  # idle: the watcher is in place
            if ready is not None:
                ready.set()
            continue
        changed(sorted({str(Path(path).relative_to(data_dir)) for _, path in changes}))
        subprocess.run(build_command(data_dir, out_dir, cache_dir), check=False)


def watching(
    data_dir: Path, out_dir: Path, outputs: list[Path], changed: Callable[[list[str]], None], cache_dir: Path | None = None
) -> Callable[[], None]:
    """Start :func:`rebuild_on_change` in a thread, and return once it watches (so that
    an edit saved after is seen); returns the function that stops it (waiting for a build
    under way to finish, so that nothing is left half-written). A ConfigError when the
    system will not watch *data_dir* (gone, or out of inotify watches)."""
    stop, ready = threading.Event(), threading.Event()
    failed: list[Exception] = []

    def run() -> None:
        try:
            rebuild_on_change(data_dir, out_dir, outputs, stop, changed, cache_dir, ready)
        except Exception as err:  # noqa: BLE001 - the system refused to watch: said by the caller
            failed.append(err)
            ready.set()

    thread = threading.Thread(target=run, name="ndlld-watch", daemon=True)
    thread.start()
    ready.wait(timeout=60)  # a data directory of very many directories takes a while to watch
    if failed:
        raise ConfigError(f"this directory cannot be watched for changes: {short_line(str(failed[0]))}", path=data_dir)

    def stopped() -> None:
        stop.set()
        thread.join()

    return stopped
