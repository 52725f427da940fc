"""The published graph as a store no build changes: what ``ndlld query`` opens.

A build with the cache keeps the graph in ``.dist.cache/graph/``, a pyoxigraph store it
changes in place, after the output is swapped in. Nothing may read that store while a
build writes it (pyoxigraph: undefined behaviour), so once the state has committed the
build makes a checkpoint of it in ``.dist.cache/published/`` (``Store.backup``: hard
links to the store's immutable files), then, in one rename, a note naming that checkpoint
and the output it holds the graph of: the identity (device, inode, size, modification
time) of each file loading the embedded store reads, and the digest of ``SHA256SUMS``,
which the build itself compares to know its output.

A query opens the checkpoint read-only only while the output is still that one. A build
without the cache, a build killed before its note, a dump edited by hand: each leaves the
note naming another output, and the query loads the dumps instead. A query holds a shared
lock on the checkpoint it opened; a build removes the checkpoints no note names only when
it gets their lock at once, so it never waits for a query nor pulls a store from under one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
from pathlib import Path

from pyoxigraph import NamedNode, Store

NOTE = "current.json"
_NAME = re.compile(r"\d+-[0-9a-f]{8}")  # a checkpoint's name: its generation, and a nonce


def keep(store: Store, cache_dir: Path, out_dir: Path, generation: int, graph: NamedNode) -> None:
    """A checkpoint of *store* (the state's graph, of generation *generation*, the dataset
    in *graph*), noted as that of the output now in *out_dir*; older checkpoints removed."""
    directory = cache_dir / "published"
    directory.mkdir(exist_ok=True)
    name = f"{generation}-{secrets.token_hex(4)}"
    store.flush()
    store.backup(str(directory / name))
    note = {"store": name, "generation": generation, "graph": graph.value, "output": output_identity(out_dir)}
    written = directory / f".{NOTE}.{name}"
    written.write_text(json.dumps(note), encoding="utf-8")
    os.replace(written, directory / NOTE)
    remove_unnoted(cache_dir, keeping=name)


def forget(cache_dir: Path) -> None:
    """No checkpoint noted any more, and each one no query holds removed."""
    (cache_dir / "published" / NOTE).unlink(missing_ok=True)
    remove_unnoted(cache_dir)


def remove_unnoted(cache_dir: Path, keeping: str | None = None) -> None:
    """Everything in ``published/`` but the note and the checkpoint *keeping*: a checkpoint
    only when its lock is free now (no query has it open); the next build tries again."""
    directory = cache_dir / "published"
    if not directory.is_dir():
        return
    for entry in os.scandir(directory):
        if entry.name not in (NOTE, keeping):
            _remove_if_free(entry)


def _remove_if_free(entry: os.DirEntry) -> None:
    try:
        if not entry.is_dir(follow_symlinks=False):
            os.unlink(entry.path)  # a note a killed build left unfinished
            return
        fd = os.open(entry.path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        shutil.rmtree(entry.path)
    except OSError:  # BlockingIOError: a query has it open
        pass
    finally:
        os.close(fd)


def open_published(cache_dir: Path, out_dir: Path) -> tuple[Store, NamedNode, int] | None:
    """The checkpoint noted as that of the output in *out_dir*, opened read-only: the store,
    its dataset graph and the descriptor holding its shared lock (to close once the store
    is no longer used). None when there is none, or the output is not the one noted."""
    directory = cache_dir / "published"
    for _ in range(3):  # a build may note a newer checkpoint, and remove this one, meanwhile
        note = _read_note(directory / NOTE)
        if note is None or note["output"] != output_identity(out_dir):
            return None
        path = directory / note["store"]
        lock = _hold(path)
        if lock is None:
            continue
        try:
            return Store.read_only(str(path)), NamedNode(note["graph"]), lock
        except (OSError, ValueError):
            os.close(lock)
            return None
    return None


def output_digest(out_dir: Path) -> str | None:
    """The SHA-256 (hex) of *out_dir*'s ``SHA256SUMS``, which names every file of a build: the
    output's identity as the state, the search index and the query workers note it; None
    when there is none to read."""
    try:
        return hashlib.sha256((out_dir / "SHA256SUMS").read_bytes()).hexdigest()
    except OSError:
        return None


def output_identity(out_dir: Path) -> dict | None:
    """What says the output in *out_dir* is the one a build published: each file loading the
    embedded store reads, as the file system knows it, and the digest of ``SHA256SUMS``."""
    from ndlld.store import LOADED_FILES

    files = {}
    try:
        for name in LOADED_FILES:
            stat = os.stat(out_dir / name)
            files[name] = [stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns]
    except OSError:
        return None
    sums = output_digest(out_dir)
    return {"files": files, "SHA256SUMS": sums} if sums is not None else None


def _read_note(path: Path) -> dict | None:
    try:
        note = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(note, dict) or not _NAME.fullmatch(str(note.get("store"))) or not isinstance(note.get("graph"), str):
        return None
    return note if note.get("output") is not None else None


def _hold(path: Path) -> int | None:
    """A shared lock on the checkpoint *path*, as an open descriptor; None when it is gone
    or being removed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        if os.stat(path).st_ino == os.fstat(fd).st_ino:  # not removed before the lock was had
            return fd
    except OSError:  # BlockingIOError: being removed; FileNotFoundError: removed
        pass
    os.close(fd)
    return None
