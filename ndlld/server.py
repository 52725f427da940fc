"""``ndlld serve``: the published site over HTTP, as a linked-data server would.

* Every resource IRI answers by content negotiation (RFC 9110 §12.5.1, the
  table in :mod:`ndlld.conneg`): 303 See Other to the HTML for browsers, to
  Turtle, JSON-LD, N-Triples, RDF/XML or N-Quads for clients by their ``Accept``
  header, ``Vary: Accept`` on every negotiated answer, 406 when nothing fits; the
  documents answer as files, 304 when the client has them, gzip-compressed when
  it accepts that; 404 and 410 have pages (:mod:`ndlld.web`).
* ``/sparql`` is a read-only SPARQL 1.1 Protocol endpoint
  (https://www.w3.org/TR/sparql11-protocol/) over the embedded store: GET and
  POST, results as JSON, XML, CSV or TSV, graphs as Turtle, JSON-LD or
  N-Triples; updates are refused.

It is meant to face the open web, so every request is bounded (:class:`Limits`):
queries run in worker processes, because pyoxigraph evaluates a query in Rust
where Python cannot interrupt it; a query past its time is stopped by killing
its worker (a fresh one takes its place), and pages never wait for queries.
Every response carries the same security headers as the nginx and Apache
configurations ``ndlld build`` writes.

Built on Starlette (ASGI) and served by uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import shutil
import signal
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from urllib.parse import parse_qs

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
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ndlld import web
from ndlld.conneg import choose
from ndlld.dumps import DATASET_FILES
from ndlld.errors import ConfigError, LimitError, QueryError
from ndlld.queries import check_nesting, refuse_outbound
from ndlld.rdf import results_serialized, serialized
from ndlld.sandbox import forbid_network
from ndlld.store import EmbeddedStore, read_base
from ndlld.web import text as _text

# On every response, and in the generated nginx.conf and .htaccess (tests/test_nginx.py
# checks they agree). The pages run no script: the JSON-LD in <script type="application/ld+json">
# is a data block, which CSP does not block. Styles may be inline because the SVG pictures
# in the pages carry their own <style>.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}

# What the CORS middleware adds to an answer to another site's script.
_CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": ", ".join(web.EXPOSED)}

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
_SHORT_FORMATS = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "jsonld": "application/ld+json",
    "ntriples": "application/n-triples",
}


@dataclass(frozen=True)
class Limits:
    """What one request may cost: the defaults are those of ``ndlld serve``."""

    query_timeout: float = 10.0  # seconds from arrival, waiting for a worker included -> 503
    max_results: int = 10_000  # rows of a SELECT, triples of a CONSTRUCT or DESCRIBE -> 400
    max_request_bytes: int = 1_000_000  # request body -> 413
    max_url_bytes: int = 8_192  # path and query string -> 414
    query_workers: int = 2  # queries that run at once, one process each
    query_memory_mb: int = 2_048  # address space of a worker; 0: unlimited -> 503
    # Each connection (ndlld.connections): seconds without a byte before or between requests,
    # for a request's headers and for its body (-> 408), for a response to be read.
    idle_timeout: float = 5.0
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    send_timeout: float = 30.0
    max_connections: int = 1_000  # open at once (fewer when the open-file limit is low) -> 503


def create_app(dist_dir: str | Path, limits: Limits = Limits()) -> Starlette:
    """The ASGI application serving *dist_dir* (and its dataset at /sparql).

    Its query workers start here, so that a dataset they cannot load is an
    error before anything listens, and stop with the application's lifespan.
    """
    root = Path(dist_dir).resolve()
    for name in (DATASET_FILES["ntriples"], "ontology.ttl"):
        if not (root / name).is_file():
            raise ConfigError(f"no {name} in {dist_dir}: run 'ndlld build' first", path=dist_dir)
    read_base(root)  # fails now, in one line, rather than in a worker
    pool = QueryPool(root, limits)
    pool.start()

    async def sparql(request: Request) -> Response:
        return await _sparql(request, pool, limits)

    async def resource(request: Request) -> Response:
        return _page(request.scope, root)  # for the 405 of other methods: _Guard answers GET and HEAD

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await pool.open()
        try:
            yield
        finally:
            await pool.stop()

    routes = [
        Route("/sparql", sparql, methods=["GET", "POST"]),
        Route("/{path:path}", resource, methods=["GET", "HEAD"]),
    ]
    cors = Middleware(
        CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "HEAD"], allow_headers=["*"], expose_headers=web.EXPOSED
    )
    middleware = [cors]
    app = _GuardedStarlette(routes=routes, middleware=middleware, lifespan=lifespan, exception_handlers={HTTPException: _http_error})
    app.state.limits, app.state.pool, app.state.root = limits, pool, root
    return app


# -- every request: size limits and security headers ----------------------
class _GuardedStarlette(Starlette):
    """Starlette with :class:`_Guard` outside everything, its error pages included."""

    def build_middleware_stack(self) -> ASGIApp:
        return _Guard(super().build_middleware_stack(), self.state.limits, self.state.root)


class _Guard:
    """Refuses over-long URLs (414), bodies (413) and two body lengths (400) before any
    work, and adds :data:`SECURITY_HEADERS` to every response. Pages and files
    (a GET or HEAD of anything but /sparql) it answers itself: the router and the
    middleware of the SPARQL endpoint would cost more than the answer."""

    def __init__(self, app: ASGIApp, limits: Limits, root: Path):
        self.app, self.limits, self.root = app, limits, root

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            return await refusal(scope, receive, send_with_headers)
        if scope["method"] in ("GET", "HEAD") and scope["path"] != "/sparql":
            return await _page(scope, self.root)(scope, receive, send_with_headers)
        limit = self.limits.max_request_bytes
        received = 0

        async def receive_with_limit() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:  # a chunked body gives no length up front
                raise HTTPException(413, f"request too large: the body may have at most {limit} bytes")
            return message

        await self.app(scope, receive_with_limit, send_with_headers)

    def _refusal(self, scope: Scope) -> Response | None:
        """The answer to a request refused before any work, or None."""
        url_bytes = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
        if url_bytes > self.limits.max_url_bytes:
            return _text(f"URI too long: {url_bytes} bytes, the limit is {self.limits.max_url_bytes}; POST a long query instead", 414)
        headers = dict(scope["headers"])
        if b"transfer-encoding" in headers and b"content-length" in headers:
            # Two lengths that may disagree is how requests are smuggled past a proxy: refused,
            # and the connection closed after the answer (RFC 9112 §6.3).
            return _text("bad request: both Content-Length and Transfer-Encoding; send one", 400, {"Connection": "close"})
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limits.max_request_bytes:
            return _text(f"request too large: the body may have at most {self.limits.max_request_bytes} bytes", 413)
        return None


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (405, 413) as one line, like every other error here."""
    if not isinstance(exc, HTTPException):  # the handler of HTTPException only
        raise exc
    detail = exc.detail
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        detail = f"method not allowed: {request.url.path} answers {allowed}"
    return _text(detail, exc.status_code, exc.headers)


# -- pages and files ------------------------------------------------------
def _page(scope: Scope, root: Path) -> Response:
    """The file a GET or HEAD names, or the document of the resource it names (:mod:`ndlld.web`),
    readable by scripts of any site (CORS, as the middleware would say it)."""
    headers = Headers(scope=scope)
    try:
        response = web.answer(headers, root, scope["path"])  # percent-decoded once by the server, never again
    except OSError:  # gone between a look and a read: a build replaced it
        response = web.not_found(root)
    if "origin" in headers:
        response.headers.update(_CORS)
    return response


# -- SPARQL 1.1 Protocol -----------------------------------------------------
async def _sparql(request: Request, pool: QueryPool, limits: Limits) -> Response:
    query, error = await _query_of(request)
    if error:
        return error
    # The protocol's dataset parameters; without them, the dataset graph is the default graph.
    default = request.query_params.getlist("default-graph-uri")
    named = request.query_params.getlist("named-graph-uri")
    requested = request.query_params.get("format")
    accept = _SHORT_FORMATS.get(requested, requested) if requested else request.headers.get("accept")
    try:
        status, body, media_type = await pool.run((query, default, named, accept), limits.query_timeout)
    except LimitError as err:
        return _text(str(err), err.status)
    if isinstance(body, str):  # why the query has no answer; status says which way it failed
        return _text(body, status)
    return Response(body, media_type=media_type, headers={"Vary": "Accept"})


async def _query_of(request: Request) -> tuple[str | None, Response | None]:
    """The query text from a GET (or HEAD) or POST request, or the error response to give."""
    if request.method in ("GET", "HEAD"):
        params = request.query_params
        if "update" in params:
            return None, _read_only()
        query = params.get("query")
    else:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "application/sparql-update":
            return None, _read_only()
        if content_type not in ("application/sparql-query", "application/x-www-form-urlencoded"):
            return None, _text("POST a query as application/sparql-query or application/x-www-form-urlencoded", 415)
        try:
            body = (await request.body()).decode("utf-8", errors="replace")
        except ClientDisconnect:  # gone, or cut off at its body's deadline: no one to answer
            return None, _text("the client went away", 400)
        if content_type == "application/sparql-query":
            query = body
        else:
            form = parse_qs(body)
            if "update" in form:
                return None, _read_only()
            query = form.get("query", [None])[0]
    if not query:
        return None, _text("give a SPARQL query in the 'query' parameter", 400)
    return str(query), None


def _read_only() -> Response:
    return _text("this SPARQL endpoint is read-only: updates are refused", 403)


# -- query workers ------------------------------------------------------------
class QueryPool:
    """Worker processes, each with the dataset in its own store, one query at a time.

    A query waits for a free worker, then runs there; at its deadline the worker
    is killed, which is the only way to stop pyoxigraph mid-query, and a fresh
    one is started in its place. The event loop only waits, so pages are served
    meanwhile.
    """

    def __init__(self, dist_dir: Path, limits: Limits):
        self.dist_dir, self.limits = dist_dir, limits
        # A fork server: a clean process (no copy of the server's threads and sockets)
        # that has imported this module once, so a worker starts in a tenth of a second.
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["ndlld.server"])
        self._threads = ThreadPoolExecutor(max_workers=2 * limits.query_workers + 2, thread_name_prefix="ndlld-query")
        self._idle: asyncio.Queue | None = None  # made by open(), in the event loop's time
        self._workers: set = set()
        self._replacing: set[asyncio.Task] = set()
        # Each worker's stderr, read when it dies: its last words say why.
        self._stderr = Path(tempfile.mkdtemp(prefix="ndlld-query-"))
        self.sandboxed = True  # whether the workers could forbid themselves the network

    def start(self) -> None:
        """Start the workers and wait until each holds the dataset: one that cannot
        load it is a ConfigError, raised here, before the server listens."""
        workers = [self._spawn() for _ in range(self.limits.query_workers)]
        try:
            for worker in workers:
                self._wait_ready(worker)
        except ConfigError:
            for process, connection in workers:
                process.kill()
                connection.close()
            shutil.rmtree(self._stderr, ignore_errors=True)
            raise
        self._workers.update(workers)

    async def open(self) -> None:
        """Hand the workers to the running event loop (the application's startup)."""
        if not self._workers:
            self.start()
        self._idle = asyncio.Queue()
        for worker in self._workers:
            self._idle.put_nowait(worker)

    async def stop(self) -> None:
        for task in self._replacing:
            task.cancel()
        for process, connection in list(self._workers):
            connection.close()  # the worker's recv() ends, and so does the worker
            process.join(timeout=2)
            if process.is_alive():
                process.kill()
                process.join()
        self._workers.clear()
        self._threads.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(self._stderr, ignore_errors=True)

    def pids(self) -> set[int]:
        """The worker processes' ids (for tests and monitoring)."""
        return {process.pid for process, _ in self._workers}

    async def run(self, request: tuple, timeout: float) -> tuple[int, bytes | str, str | None]:
        """(status, body or message, media type) of *request*, within *timeout* seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            worker = await asyncio.wait_for(self._queue().get(), timeout)
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

    def _retire(self, worker) -> str:
        """Kill *worker* and start another in its place, in the background; say why it
        stopped, if it had stopped before."""
        process, _ = worker
        self._workers.discard(worker)
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
        task = asyncio.get_running_loop().create_task(self._add())
        self._replacing.add(task)
        task.add_done_callback(self._replacing.discard)
        return _why_stopped(process.exitcode, last_words, self.limits.query_memory_mb)

    async def _add(self) -> None:
        """A fresh worker for the pool, once it holds the dataset."""
        worker = self._spawn()
        try:
            await asyncio.get_running_loop().run_in_executor(self._threads, self._wait_ready, worker)
        except ConfigError:  # it loaded once, so this is rare: the pool goes on with one worker less
            worker[0].kill()
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

    def _wait_ready(self, worker: tuple) -> None:
        process, connection = worker
        try:
            answer = connection.recv()  # "ready", or why not
        except (EOFError, OSError):
            memory = f"; it may need more than --query-memory {self.limits.query_memory_mb} MB" if self.limits.query_memory_mb else ""
            answer = f"a query worker stopped while loading {self.dist_dir}{memory}"
        if not str(answer).startswith("ready"):
            raise ConfigError(str(answer))
        self.sandboxed = answer == "ready"


def _query_worker(connection, dist_dir: str, max_results: int, memory_mb: int, stderr_dir: str) -> None:
    """A worker process: load the dataset, then answer queries until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server, which stops the workers
    os.nice(5)  # where cores are short, pages go first
    # Answers and errors go through the pipe. What Rust writes as it aborts (out of
    # memory, with a backtrace) goes to a file the server reads only if this one dies.
    os.dup2(os.open(os.path.join(stderr_dir, f"{os.getpid()}.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 2)
    sandboxed = forbid_network()  # a second wall behind refuse_outbound
    if memory_mb:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    try:
        store = EmbeddedStore.open(dist_dir)
    except Exception as err:  # noqa: BLE001 - reported to the server as one line
        connection.send(f"the query worker could not load {dist_dir}: {err}")
        return
    connection.send("ready" if sandboxed else "ready, without a seccomp filter")
    while True:
        try:
            query, default, named, accept = connection.recv()
        except (EOFError, OSError):
            return
        connection.send(_answer(store, query, default, named, accept, max_results))


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
