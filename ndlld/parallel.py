"""The one way ndlld runs work in forked processes, and its one policy for the collector.

Forked children inherit the parent's memory: the graph, its indexes, the rules,
built once. What a child needs besides its job is handed to it explicitly, as
*shared*: with the ``fork`` start method a process's arguments are inherited,
not pickled, so only the jobs and the answers cross a pipe. Nothing is left in
a module for children to read.

The collector: a build makes millions of small objects that live until it ends
(triples, origins, indexes), none in a cycle. Python's cyclic collector walks
them all each time the objects grow by a quarter and finds nothing to free. So
the parent pauses it while making them (:func:`spared`, :func:`collector_paused`),
freezes what lives until the end out of its reach (:func:`keep`), and tells each
child whether to collect (*collect*), since a child's work (pySHACL's rdflib
graphs, which hold cycles) may need it where the parent's did not.
"""

from __future__ import annotations

import gc
import os
import pickle
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, contextmanager
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
    """``function(shared, job)`` for each job, in order, each in a forked child.

    One job goes to one bare child (a fork and a pipe): a pool's start-up costs more
    than a small job. More go to a pool of at most *processes* (all cores by default).
    *collect*: whether the children run the collector (None: as the parent does now).
    An error a job raises is raised here; a child that dies raises :class:`ChildDied`.
    """
    if not jobs:
        return []
    if len(jobs) == 1:
        return [_in_child(function, shared, jobs[0], collect)]
    workers = min(len(jobs), processes or os.cpu_count() or 1)
    try:
        with _pool(workers, function, shared, collect) as pool:
            return list(pool.map(_call, jobs))
    except BrokenProcessPool:
        raise ChildDied("a worker of the pool was killed") from None


@overload
def beside(function: Callable[[S], R], shared: S, collect: bool | None = None) -> AbstractContextManager[Callable[[], R]]: ...


@overload
def beside(function: Callable[[None], R], shared: None = None, collect: bool | None = None) -> AbstractContextManager[Callable[[], R]]: ...


@contextmanager
def beside(function: Callable[[Any], R], shared: Any = None, collect: bool | None = None) -> Iterator[Callable[[], R]]:
    """``function(shared)`` in a child forked now, while the body runs.

    Yields a function that returns what it returned (or raises what it raised).
    Leaving the block waits for the child, also when the body failed.
    """
    with _pool(1, _alone, (function, shared), collect) as pool:
        future = pool.submit(_call, None)

        def result() -> R:
            try:
                return future.result()
            except BrokenProcessPool:
                raise ChildDied("killed") from None

        yield result


def _alone(shared: tuple[Callable[[Any], R], Any], _job: None) -> R:
    function, argument = shared
    return function(argument)


def _pool(workers: int, function: Callable, shared: Any, collect: bool | None) -> ProcessPoolExecutor:
    import multiprocessing

    return ProcessPoolExecutor(workers, multiprocessing.get_context("fork"), initializer=_started, initargs=(function, shared, collect))


# Set in each child of a pool by _started, never in the parent: the function and what it shares.
_CHILD: dict[str, Any] = {}


def _started(function: Callable, shared: Any, collect: bool | None) -> None:
    _CHILD.update(function=function, shared=shared)
    _collect(collect)


def _call(job: Any) -> Any:
    return _CHILD["function"](_CHILD["shared"], job)


def _collect(collect: bool | None) -> None:
    if collect is True:
        gc.enable()
    elif collect is False:
        gc.disable()


def _in_child(function: Callable[[S, J], R], shared: S, job: J, collect: bool | None) -> R:
    """``function(shared, job)`` in one child forked for it, its answer pickled back through a pipe."""
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run the job, send back its outcome, and end at once
        try:
            os.close(reading)
            _collect(collect)
            outcome: tuple[bool, R | BaseException]
            try:
                outcome = (True, function(shared, job))
            except BaseException as err:  # noqa: BLE001 - the parent raises it
                outcome = (False, err)
            with os.fdopen(writing, "wb") as pipe:
                pickle.dump(outcome, pipe)
        finally:
            os._exit(0)
    os.close(writing)
    try:
        with os.fdopen(reading, "rb") as pipe:
            sent = pipe.read()
    finally:
        _pid, status = os.waitpid(pid, 0)
    if not sent:
        raise ChildDied(f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit code {os.waitstatus_to_exitcode(status)}")
    done, value = pickle.loads(sent)
    if not done:
        raise value
    return value


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
    processes forked later share it rather than copy what a collection touches).
    With *collecting* False, there are no collections until the run ends."""
    gc.freeze()
    _collect(collecting)
