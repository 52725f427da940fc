"""The query workers of ``ndlld serve``: processes that each hold the dataset and answer
one query at a time, killed at a query's deadline, and replaced by a new set when a build
replaces the output they hold (:class:`QueryPool`).

pyoxigraph evaluates a query in Rust, where Python cannot interrupt it: a query past
its time is stopped by killing its worker, the only way to stop it, and the event
loop of the server only ever waits on them.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from pyoxigraph import (
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolution,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Variable,
    parse_query_results,
)

from ndlld.conneg import choose
from ndlld.errors import ConfigError, LimitError, QueryError, short_line
from ndlld.published import output_identity
from ndlld.queries import check_nesting, refuse_outbound
from ndlld.rdf import results_serialized, serialized
from ndlld.sandbox import forbid_network
from ndlld.store import EmbeddedStore

if TYPE_CHECKING:
    from ndlld.server import Limits

# SPARQL results: media type -> pyoxigraph format, server preference first.
SOLUTION_FORMATS = {
    "application/sparql-results+json": QueryResultsFormat.JSON,
    "application/sparql-results+xml": QueryResultsFormat.XML,
    "text/csv": QueryResultsFormat.CSV,
    "text/tab-separated-values": QueryResultsFormat.TSV,
    "application/json": QueryResultsFormat.JSON,
    "application/xml": QueryResultsFormat.XML,
}
GRAPH_FORMATS = {
    "text/turtle": RdfFormat.TURTLE,
    "application/ld+json": RdfFormat.JSON_LD,
    "application/n-triples": RdfFormat.N_TRIPLES,
}
# Plain JSON and XML clients get the SPARQL results formats.
_CANONICAL = {"application/json": "application/sparql-results+json", "application/xml": "application/sparql-results+xml"}


# -- query workers ------------------------------------------------------------
class QueryPool:
    """Worker processes, each with the dataset in its own store, one query at a time.

    A query waits for a free worker, then runs there; at its deadline the worker
    is killed, which is the only way to stop pyoxigraph mid-query, and a fresh
    one is started in its place. The event loop only waits, so pages are served
    meanwhile.

    The pool follows the output it serves: a build swaps a new output in whole
    (:mod:`ndlld.output`), and when the files the workers load are no longer those
    they loaded (:func:`ndlld.published.output_identity`), a new set of workers loads
    the new output while the old set answers; then the new set takes every query
    that comes, and each old worker stops once its query is answered. Each query is
    answered by one worker, which holds one output: never a mix.
    """

    def __init__(self, dist_dir: Path, limits: Limits, follow_every: float = 1.0):
        self.dist_dir, self.limits, self.follow_every = dist_dir, limits, follow_every
        # A fork server: a clean process (no copy of the server's threads and sockets)
        # that has imported this module once, so a worker starts in a tenth of a second.
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["ndlld.querypool"])
        # Threads wait on workers: one a query, one a worker loading (two sets while following a build).
        self._threads = ThreadPoolExecutor(max_workers=3 * limits.query_workers + 2, thread_name_prefix="ndlld-query")
        self._idle: asyncio.Queue | None = None  # made by open(), in the event loop's time
        self._workers: set = set()  # those of the output being answered
        self._retiring: set = set()  # those of an older output, answering their last query
        self._replacing: set[asyncio.Task] = set()
        self._following: asyncio.Task | None = None
        self._reloading: asyncio.Task | None = None  # the one load of a new output under way
        self.identity: dict | None = None  # of the output the workers hold
        self._refused: dict | None = None  # an output the workers could not load: not tried again
        # Each worker's stderr, read when it dies: its last words say why.
        self._stderr = Path(tempfile.mkdtemp(prefix="ndlld-query-"))
        self.sandboxed = True  # whether the workers could forbid themselves the network
        self._stopped = False  # no worker is started once the pool is stopping

    def start(self) -> None:
        """Start the workers and wait until each holds the dataset: one that cannot
        load it is a ConfigError, raised here, before the server listens."""
        try:
            self._workers.update(self._generation())
        except ConfigError:
            shutil.rmtree(self._stderr, ignore_errors=True)
            raise

    def _generation(self) -> list[tuple]:
        """A full set of workers holding one and the same output (:attr:`identity` set to
        it); a ConfigError, and none left running, when they cannot load it."""
        for _ in range(3):  # a build may swap its output in while they load: they load again
            if self._stopped:  # serve is stopping while a new build was being loaded
                raise ConfigError("the query workers were stopped")
            workers = [self._spawn() for _ in range(self.limits.query_workers)]
            try:
                loaded = [self._wait_ready(worker) for worker in workers]
            except ConfigError:
                self._stop_all(workers)
                raise
            if all(identity == loaded[0] for identity in loaded):
                self.identity = loaded[0]
                return workers
            self._stop_all(workers)
        raise ConfigError(f"the query workers could not load {self.dist_dir}: it kept changing while they did")

    @staticmethod
    def _stop_all(workers: list[tuple]) -> None:
        for process, connection in workers:
            process.kill()
            process.join()
            connection.close()

    async def open(self) -> None:
        """Hand the workers to the running event loop (the application's startup), and
        follow the output from now on."""
        if not self._workers:
            self.start()
        self._idle = asyncio.Queue()
        for worker in self._workers:
            self._idle.put_nowait(worker)
        self._following = asyncio.get_running_loop().create_task(self._follow())

    async def stop(self) -> None:
        self._stopped = True
        for task in [*self._replacing, *(t for t in (self._following, self._reloading) if t is not None)]:
            task.cancel()
        for process, connection in [*self._workers, *self._retiring]:
            connection.close()  # the worker's recv() ends, and so does the worker
            process.join(timeout=2)
            if process.is_alive():
                process.kill()
                process.join()
        self._workers.clear()
        self._retiring.clear()
        self._threads.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(self._stderr, ignore_errors=True)

    def pids(self) -> set[int]:
        """The worker processes' ids (for tests and monitoring)."""
        return {process.pid for process, _ in self._workers}

    # -- following the output ------------------------------------------------------
    async def _follow(self) -> None:
        """Look at the output every :attr:`follow_every` seconds; when a build replaced
        it, load the new one (:meth:`reload`)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.follow_every)
            try:
                identity = await loop.run_in_executor(self._threads, output_identity, self.dist_dir)
                if identity is not None and identity not in (self.identity, self._refused):
                    await self._reload_once()
            except Exception as err:  # noqa: BLE001 - following stops for nothing: said, and tried again
                print(f"ndlld serve: could not load the new output for /sparql: {short_line(str(err))}", file=sys.stderr, flush=True)

    def _reload_once(self) -> asyncio.Task:
        """The load of the new output under way, started if none is: the follower and the
        queries that find the output replaced wait for the same one."""
        if self._reloading is None or self._reloading.done():
            self._reloading = asyncio.get_running_loop().create_task(self.reload())
        return self._reloading

    async def _caught_up(self, deadline: float) -> None:
        """Wait, if the output was replaced since the workers loaded it, until they hold the
        new one. ``ndlld serve`` may run several processes, each with a pool: a query that
        found the new output in one must not be followed by an answer from the old one in
        another, so no pool answers from an output that is no longer the one published."""
        identity = output_identity(self.dist_dir)  # a few stat calls and a small read
        if identity is None or identity in (self.identity, self._refused):
            return
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(asyncio.shield(self._reload_once()), deadline - loop.time())
        except TimeoutError:
            raise LimitError("busy: the query workers are still loading the new build; try again later", 503) from None

    async def reload(self) -> None:
        """A new set of workers on the output as it is now; once all hold it, they take
        the place of the old ones, which stop as soon as they are idle."""
        loop = asyncio.get_running_loop()
        previous = self.identity
        try:
            workers = await loop.run_in_executor(self._threads, self._generation)
        except ConfigError as err:  # a broken output: the workers go on answering the last good one
            self._refused, self.identity = output_identity(self.dist_dir), previous
            print(f"ndlld serve: /sparql still answers the previous build: {short_line(str(err))}", file=sys.stderr, flush=True)
            return
        old, self._workers = self._workers, set(workers)
        self._retiring |= old
        while not self._queue().empty():  # the old idle workers: none will be handed a query again
            self._close(self._queue().get_nowait())
        for worker in workers:
            self._queue().put_nowait(worker)

    def _close(self, worker: tuple) -> None:
        """Stop an old worker, idle now (closing its pipe ends it)."""
        process, connection = worker
        self._retiring.discard(worker)
        connection.close()
        self._threads.submit(process.join, 5)

    async def run(self, request: tuple, timeout: float) -> tuple[int, bytes | str, str | None]:
        """(status, body or message, media type) of *request*, within *timeout* seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await self._caught_up(deadline)
        try:
            worker = await asyncio.wait_for(self._queue().get(), deadline - loop.time())
        except TimeoutError:
            raise LimitError(f"busy: no query worker became free within {timeout:g} s; try again later", 503) from None
        process, connection = worker
        try:
            connection.send(request)
            return await asyncio.wait_for(loop.run_in_executor(self._threads, connection.recv), deadline - loop.time())
        except TimeoutError:
            self._retire(worker)
            raise LimitError(f"query timeout: the query ran past the limit of {timeout:g} s and was stopped", 503) from None
        except (EOFError, OSError):
            raise LimitError(f"query failed: {self._retire(worker)}", 503) from None
        except BaseException:  # cancelled: the worker may be mid-query
            self._retire(worker)
            raise
        finally:
            if worker in self._workers:
                self._queue().put_nowait(worker)
            elif worker in self._retiring:  # answered, and its output was replaced meanwhile
                self._close(worker)

    def _retire(self, worker) -> str:
        """Kill *worker* and, if it holds the output answered now, start another in its
        place, in the background; say why it stopped, if it had stopped before."""
        process, _ = worker
        current = worker in self._workers
        self._workers.discard(worker)
        self._retiring.discard(worker)
        process.kill()
        process.join(timeout=5)
        stderr = self._stderr / f"{process.pid}.log"
        try:
            last_words = stderr.read_bytes()[-4096:].decode("utf-8", "replace")
            stderr.unlink()
        except OSError:
            last_words = ""
        # The connection is not closed here: a thread may still be in its recv(), which
        # the kill ends with EOFError; closing it now could hand that thread a reused fd.
        if current:
            task = asyncio.get_running_loop().create_task(self._add())
            self._replacing.add(task)
            task.add_done_callback(self._replacing.discard)
        return _why_stopped(process.exitcode, last_words, self.limits.query_memory_mb)

    async def _add(self) -> None:
        """A fresh worker for the pool, once it holds the dataset: the output the others
        hold, or else it is dropped (the others are about to be replaced themselves)."""
        worker = self._spawn()
        identity = self.identity
        try:
            loaded = await asyncio.get_running_loop().run_in_executor(self._threads, self._wait_ready, worker)
        except ConfigError:  # it loaded once, so this is rare: the pool goes on with one worker less
            worker[0].kill()
            return
        if loaded != identity or identity != self.identity:
            self._stop_all([worker])
            return
        self._workers.add(worker)
        self._queue().put_nowait(worker)

    def _queue(self) -> asyncio.Queue:
        """The idle workers, waiting in the queue that open() made."""
        if self._idle is None:
            raise RuntimeError("the query pool is used before QueryPool.open()")
        return self._idle

    def _spawn(self) -> tuple:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_query_worker,
            args=(child, str(self.dist_dir), self.limits.max_results, self.limits.query_memory_mb, str(self._stderr)),
            name="ndlld-query",
            daemon=True,
        )
        process.start()
        child.close()
        return process, parent

    def _wait_ready(self, worker: tuple) -> dict | None:
        """The identity of the output *worker* loaded, once it has; a ConfigError if it could not."""
        process, connection = worker
        try:
            answer, identity = connection.recv()  # "ready" and what it loaded, or why not
        except (EOFError, OSError):
            memory = f"; it may need more than --query-memory {self.limits.query_memory_mb} MB" if self.limits.query_memory_mb else ""
            answer, identity = f"a query worker stopped while loading {self.dist_dir}{memory}", None
        if not str(answer).startswith("ready"):
            raise ConfigError(str(answer))
        self.sandboxed = answer == "ready"
        return identity


def _query_worker(connection, dist_dir: str, max_results: int, memory_mb: int, stderr_dir: str) -> None:
    """A worker process: load the dataset, then answer queries until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server, which stops the workers
    os.nice(5)  # where cores are short, pages go first
    # Answers and errors go through the pipe. What Rust writes as it aborts (out of
    # memory, with a backtrace) goes to a file the server reads only if this one dies.
    try:
        log = os.open(os.path.join(stderr_dir, f"{os.getpid()}.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except FileNotFoundError:  # the pool stopped (and took the folder away) while this one started
        return
    os.dup2(log, 2)
    sandboxed = forbid_network()  # a second wall behind refuse_outbound
    if memory_mb:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    try:
        store, identity = _load(Path(dist_dir))
    except Exception as err:  # noqa: BLE001 - reported to the server as one line
        connection.send((f"the query worker could not load {dist_dir}: {err}", None))
        return
    connection.send(("ready" if sandboxed else "ready, without a seccomp filter", identity))
    while True:
        try:
            query, default, named, accept = connection.recv()
        except (EOFError, OSError):
            return
        connection.send(_answer(store, query, default, named, accept, max_results))


def _load(dist_dir: Path) -> tuple[EmbeddedStore, dict | None]:
    """The dumps of *dist_dir* loaded, and the identity of the output they are from: the
    same before and after loading, so that no build swapped another output in meanwhile."""
    for _ in range(3):
        before = output_identity(dist_dir)
        store = EmbeddedStore.open(dist_dir)
        if output_identity(dist_dir) == before:
            return store, before
    raise ConfigError("it kept changing while it was loaded", path=dist_dir)


def _answer(
    store: EmbeddedStore, query: str, default: list[str], named: list[str], accept: str | None, max_results: int
) -> tuple[int, bytes | str, str | None]:
    """(status, body or message, media type) of one query, in the worker."""
    try:
        check_nesting(query)  # before pyoxigraph's parser recurses that deep
        refuse_outbound(query)
        result = store.query(
            query, default_graph=[NamedNode(iri) for iri in default] or None, named_graphs=[NamedNode(iri) for iri in named] or None
        )
        formats = SOLUTION_FORMATS if isinstance(result, (QuerySolutions, QueryBoolean)) else GRAPH_FORMATS
        media_type = choose(accept, formats)
        if media_type is None:
            kind = "results" if formats is SOLUTION_FORMATS else "graphs"
            return 406, f"not acceptable: {kind} are available as " + ", ".join(formats), None
        body = _body(result, media_type, max_results)
        if body is None:
            return 400, f"too many results: the query gives more than {max_results}; add LIMIT (and OFFSET to page through them)", None
    except (QueryError, ValueError) as err:
        return 400, str(err), None
    except MemoryError:
        return 503, "query failed: it needed more memory than a query may use", None
    except Exception as err:  # noqa: BLE001 - pyoxigraph's evaluation errors (OSError, ...) as one line
        return 500, f"query failed: {str(err).splitlines()[0] if str(err) else type(err).__name__}", None
    return 200, body, _CANONICAL.get(media_type, media_type) + "; charset=utf-8"


def _body(result: QuerySolutions | QueryBoolean | QueryTriples, media_type: str, max_results: int) -> bytes | None:
    """*result* written as *media_type*, or None when it has more than *max_results* rows or triples."""
    if isinstance(result, QueryBoolean):
        return results_serialized(result, SOLUTION_FORMATS[media_type])
    if isinstance(result, QuerySolutions):
        variables = result.variables
        rows = list(islice(result, max_results + 1))
        return results_serialized(_solutions(variables, rows), SOLUTION_FORMATS[media_type]) if len(rows) <= max_results else None
    triples = list(islice(result, max_results + 1))
    return serialized(triples, GRAPH_FORMATS[media_type]) if len(triples) <= max_results else None


def _why_stopped(exitcode: int | None, stderr: str, memory_mb: int) -> str:
    """Why a query worker stopped mid-query, as far as its exit status and its last
    words on stderr tell."""
    if "memory allocation of" in stderr:  # Rust's last words when an allocation fails
        return "it needed more memory than a query may use" + (f" ({memory_mb} MB)" if memory_mb else "")
    if exitcode is None or exitcode >= 0:
        return f"its worker stopped unexpectedly (exit code {exitcode})"
    try:
        name = signal.Signals(-exitcode).name
    except ValueError:
        name = f"signal {-exitcode}"
    if -exitcode == signal.SIGSEGV:  # pyoxigraph recurses: this is how a stack overflow ends
        return f"its worker crashed ({name}), most likely out of stack: the query nests or chains too deeply"
    if -exitcode == signal.SIGKILL:
        return f"its worker was killed ({name}), most likely by the system for want of memory"
    return f"its worker stopped unexpectedly ({name})"


def _solutions(variables: list[Variable], rows: list[QuerySolution]) -> QuerySolutions:
    """*rows*, already counted, as solutions again: written out as SPARQL TSV, whose
    cells are terms in N-Triples syntax (tabs and newlines escaped), and read back."""
    lines = ["\t".join(str(variable) for variable in variables)]
    lines += ["\t".join("" if row[v] is None else str(row[v]) for v in variables) for row in rows]
    solutions = parse_query_results(("\n".join(lines) + "\n").encode("utf-8"), format=QueryResultsFormat.TSV)
    if not isinstance(solutions, QuerySolutions):  # TSV holds only solutions: never an ASK's boolean
        raise TypeError("SPARQL TSV read back as a boolean")
    return solutions
