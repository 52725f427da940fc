"""The one way ndlld runs work in forked processes, and its one policy for the collector.

Forked children inherit the parent's memory: the graph, its indexes, the rules,
built once. What a child needs besides its job is handed to it explicitly, as
*shared*: a forked process inherits it, nothing is pickled but the jobs and the
answers, which cross a pipe. Nothing is left in a module for children to read.
Each job has a child of its own, which ends with it: what the job made, and the
parent's pages it copied as it touched them, go with it.

The collector: a build makes millions of small objects that live until it ends
(triples, origins, indexes), none in a cycle. Python's cyclic collector walks
them all each time the objects grow by a quarter and finds nothing to free. So
the parent pauses it while making them (:func:`spared`, :func:`collector_paused`),
freezes what lives until the end out of its reach (:func:`keep`), and tells each
child whether to collect (*collect*), since a child's work (pySHACL's rdflib
graphs, which hold cycles) may need it where the parent's did not. What the parent
freed before it forks goes back to the system then (:func:`give_back`), so that no
child copies pages that hold nothing.

Work that spends its time in the kernel, zlib or hashlib, which let go of the GIL,
runs in a thread beside the body instead (:func:`in_thread`): the dumps' files are
written so while the pages are made.
"""

from __future__ import annotations

import gc
import os
import pickle
import selectors
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar, overload

from ndlld.errors import NdlldError

S = TypeVar("S")
J = TypeVar("J")
R = TypeVar("R")


class ChildDied(NdlldError):
    """A forked process ended without answering (killed, or out of memory)."""

    def __init__(self, how: str):
        super().__init__(f"a forked process ended without an answer ({how})")
        self.how = how


# Typed twice: *function* takes *shared*, or None when none is given (so does beside's).
@overload
def fork_map(
    function: Callable[[S, J], R], jobs: list[J], shared: S, processes: int | None = None, collect: bool | None = None
) -> list[R]: ...


@overload
def fork_map(
    function: Callable[[None, J], R], jobs: list[J], shared: None = None, processes: int | None = None, collect: bool | None = None
) -> list[R]: ...


def fork_map(
    function: Callable[[Any, J], R], jobs: list[J], shared: Any = None, processes: int | None = None, collect: bool | None = None
) -> list[R]:
    """``function(shared, job)`` for each job, in order: :func:`fork_each`'s answers, all together."""
    return list(fork_each(function, jobs, shared, processes, collect))


def fork_each(
    function: Callable[[Any, J], R], jobs: list[J], shared: Any = None, processes: int | None = None, collect: bool | None = None
) -> Iterator[R]:
    """``function(shared, job)`` for each job, each in a child forked for it alone, at
    most *processes* at once (all cores by default); the answers yielded in the order of
    the jobs, as they come.

    A child ends with its job, so what it made or copied from the parent goes with it:
    many small jobs hold less memory than a few large ones, and the parent holds only the
    answers it has not yet handed on. *collect*: whether the children run the collector
    (None: as the parent does now). An error a job raises is raised here, in its turn;
    a child that dies raises :class:`ChildDied`.
    """
    most = max(1, min(len(jobs), processes or os.cpu_count() or 1))
    running: dict[int, _Child] = {}  # by the pipe each answers through
    outcomes: dict[int, tuple[bool, Any]] = {}
    started = 0
    with selectors.DefaultSelector() as selector:
        try:
            for turn in range(len(jobs)):
                while turn not in outcomes:
                    # No more than *most* running, nor answers waiting behind a slow job.
                    while started < len(jobs) and len(running) < most and started < turn + 2 * most:
                        child = _Child.fork(function, shared, jobs[started], collect, started)
                        running[child.pipe] = child
                        selector.register(child.pipe, selectors.EVENT_READ, child)
                        started += 1
                    for key, _ in selector.select():
                        child = key.data
                        if child.read():
                            selector.unregister(child.pipe)
                            del running[child.pipe]
                            child.end()
                            outcomes[child.number] = child.outcome()
                done, value = outcomes.pop(turn)
                if not done:
                    raise value
                yield value
        finally:
            for child in running.values():
                child.stop()


@dataclass
class _Child:
    """A process forked for one job, and what it has sent back so far."""

    pid: int
    pipe: int
    number: int
    sent: list[bytes]
    status: int = 0  # as waitpid gives it, once the child has ended

    @classmethod
    def fork(cls, function: Callable[[Any, J], Any], shared: Any, job: J, collect: bool | None, number: int) -> _Child:
        reading, writing = os.pipe()
        parent, end_with_parent = os.getpid(), _ending_with_parent()
        pid = os.fork()
        if pid == 0:  # the child: run the job, send back its outcome, and end at once
            try:
                end_with_parent()
                if os.getppid() != parent:  # it ended before that: no one waits for the job
                    os._exit(1)
                os.close(reading)
                _collect(collect)
                outcome: tuple[bool, Any]
                try:
                    outcome = (True, function(shared, job))
                except BaseException as err:  # noqa: BLE001 - the parent raises it
                    outcome = (False, err)
                with os.fdopen(writing, "wb") as pipe:
                    pickle.dump(outcome, pipe, protocol=pickle.HIGHEST_PROTOCOL)
            finally:
                os._exit(0)
        os.close(writing)
        return cls(pid, reading, number, [])

    def read(self) -> bool:
        """Read what the child has sent; whether it has sent all (its end of the pipe closed)."""
        chunk = os.read(self.pipe, _PIPE_READ)
        self.sent.append(chunk)
        return not chunk

    def end(self) -> None:
        """Once it has sent all: wait for the child to end."""
        os.close(self.pipe)
        _pid, self.status = os.waitpid(self.pid, 0)

    def read_all(self) -> None:
        """Read what the child sends until it has sent all, and wait for it to end."""
        while not self.read():
            pass
        self.end()

    def outcome(self) -> tuple[bool, Any]:
        """(True, its answer) or (False, the error it raised), once it has ended."""
        sent = b"".join(self.sent)
        if not sent:
            status = self.status
            how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit code {os.waitstatus_to_exitcode(status)}"
            return False, ChildDied(how)
        return pickle.loads(sent)

    def stop(self) -> None:
        """End a child whose answer is no longer wanted (another job failed)."""
        os.kill(self.pid, signal.SIGKILL)
        os.close(self.pipe)
        os.waitpid(self.pid, 0)


_PIPE_READ = 1 << 20  # bytes read from a child's pipe at a time
_PR_SET_PDEATHSIG = 1  # prctl's option (linux/prctl.h): the signal a process gets when its parent ends


@cache
def _ending_with_parent() -> Callable[[], None]:
    """What a child calls to be killed when its parent ends, however it ends (Linux; elsewhere
    nothing): a build killed leaves no child writing on, holding its output's lock. The kernel
    signals when the thread that forked ends: each fork here waits for its child in that thread."""
    if not sys.platform.startswith("linux"):
        return lambda: None
    import ctypes  # here: only a process that forks loads it

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    return lambda: prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@overload
def beside(function: Callable[[S], R], shared: S, collect: bool | None = None) -> AbstractContextManager[Callable[[], R]]: ...


@overload
def beside(function: Callable[[None], R], shared: None = None, collect: bool | None = None) -> AbstractContextManager[Callable[[], R]]: ...


@contextmanager
def beside(function: Callable[[Any], R], shared: Any = None, collect: bool | None = None) -> Iterator[Callable[[], R]]:
    """``function(shared)`` in a child forked now, while the body runs.

    Yields a function that returns what it returned (or raises what it raised).
    Leaving the block waits for the child, also when the body failed. The answer is
    read as soon as it comes, so that the child ends then with all it holds, rather
    than wait until it is asked for.
    """
    child = _Child.fork(_alone, function, shared, collect, 0)
    # The thread only reads and reaps: unpickling, which may import, stays with the thread
    # that forks (a fork copies no other thread, nor releases what it holds).
    reader = threading.Thread(target=child.read_all, daemon=True)
    reader.start()
    outcome: list[tuple[bool, Any]] = []

    def answer() -> tuple[bool, Any]:
        reader.join()
        if not outcome:
            outcome.append(child.outcome())
        return outcome[0]

    def result() -> R:
        done, value = answer()
        if not done:
            raise value
        return value

    try:
        yield result
    finally:
        answer()


@contextmanager
def in_thread(work: Callable[[], R]) -> Iterator[Callable[[], R]]:
    """``work()`` in a thread of this process while the body runs: for work that spends its
    time where Python lets go of the GIL (the kernel's copies, zlib, hashing), on nothing
    the body uses.

    Yields a function that returns what it returned (or raises what it raised). Leaving
    the block waits for the thread, also when the body failed."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(work).result


def _alone(function: Callable[[Any], R], argument: Any) -> R:
    return function(argument)


def _collect(collect: bool | None) -> None:
    if collect is True:
        gc.enable()
    elif collect is False:
        gc.disable()


@contextmanager
def collector_paused() -> Iterator[bool]:
    """The collector paused while the body makes objects none of which is in a cycle, and
    as it was after. Yields whether it ran before: what work done meanwhile in children,
    or by a library that makes cycles (:func:`collecting`), should run with."""
    before = gc.isenabled()
    gc.disable()
    try:
        yield before
    finally:
        if before:
            gc.enable()


@contextmanager
def collecting(collect: bool) -> Iterator[None]:
    """The collector on (or off) in this process while the body runs, and as it was after."""
    before = gc.isenabled()
    _collect(collect)
    try:
        yield
    finally:
        _collect(before)


@contextmanager
def spared() -> Iterator[None]:
    """A whole run (a build, a validation): the collector paused until :func:`keep` says
    otherwise, and everything given back to it when the run ends."""
    with collector_paused():
        try:
            yield
        finally:
            gc.unfreeze()


def keep(collecting: bool = True) -> None:
    """What exists now lives until the run ends: later collections pass it by (and
    processes forked later share it rather than copy what a collection touches), and
    the memory freed so far goes back to the system (:func:`give_back`).
    With *collecting* False, there are no collections until the run ends."""
    gc.freeze()
    give_back()
    _collect(collecting)


def give_back() -> None:
    """The C heap's free pages returned to the system (glibc's ``malloc_trim``; elsewhere
    nothing): freed memory stays mapped, and a child forked later that reuses it copies
    each page it writes, though the parent's copy holds nothing."""
    import ctypes  # only where a build forks: not on every command's start

    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    trim(0)
