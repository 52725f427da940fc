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
* ``/search`` searches the names and descriptions, and ``/reconcile`` is the W3C
  Reconciliation API 0.2 over them (:mod:`ndlld.finding`), both from the search index
  the build writes.

It is meant to face the open web, so every request is bounded (:class:`Limits`):
queries run in worker processes, because pyoxigraph evaluates a query in Rust
where Python cannot interrupt it; a query past its time is stopped by killing
its worker (a fresh one takes its place), and pages never wait for queries.
Every response carries the same security headers as the nginx and Apache
configurations ``ndlld build`` writes.

Built on Starlette (ASGI) and served by uvicorn.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from pyoxigraph import NamedNode
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ndlld import web
from ndlld.conneg import EXPOSED, choose
from ndlld.dumps import DATASET_FILES
from ndlld.errors import ConfigError, LimitError, NdlldError, short_line
from ndlld.finding import Finder, Indexes
from ndlld.output import cache_dir_of
from ndlld.queries import Query, load_queries
from ndlld.querypool import GRAPH_FORMATS, SOLUTION_FORMATS, QueryPool
from ndlld.resources import resource_dir
from ndlld.service import (
    DESCRIPTION_FORMATS,
    FOR_A_TABLE,
    HTML,
    PROTOCOL_PARAMETERS,
    Form,
    description_bytes,
    form_language,
    form_page,
    table,
    title_of,
)
from ndlld.site.parts import Text
from ndlld.store import read_base
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
_CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": ", ".join(EXPOSED)}

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
    page_cache_mb: int = 32  # answers of pages and files kept by each server process (ndlld.httpcache); 0: none


def create_app(dist_dir: str | Path, limits: Limits = Limits(), indexes: Indexes | None = None) -> Starlette:
    """The ASGI application serving *dist_dir* (and its dataset at /sparql).

    Its query workers start here, so that a dataset they cannot load is an
    error before anything listens, and stop with the application's lifespan.
    /search and /reconcile answer from *indexes* (by default, the index kept in the
    cache beside *dist_dir*, or one made from its dumps)."""
    root = Path(dist_dir).resolve()
    for name in (DATASET_FILES["ntriples"], "ontology.ttl"):
        if not (root / name).is_file():
            raise ConfigError(f"no {name} in {dist_dir}: run 'ndlld build' first", path=dist_dir)
    base = read_base(root)  # fails now, in one line, rather than in a worker
    service = _Service(base, title_of(root, base), load_queries(resource_dir("queries")))
    indexes = indexes or Indexes(root, cache_dir_of(root))
    finder = Finder(indexes, base, service.title, limits.query_timeout)
    pool = QueryPool(root, limits)
    pool.start()

    async def sparql(request: Request) -> Response:
        return await _sparql(request, pool, limits, service)

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
        Route("/search", finder.search, methods=["GET", "HEAD"]),
        Route("/reconcile", finder.reconcile, methods=["GET", "POST"]),
        Route("/reconcile/{what:path}", finder.reconcile_more, methods=["GET", "HEAD"]),
        Route("/{path:path}", resource, methods=["GET", "HEAD"]),
    ]
    cors = Middleware(
        CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "HEAD"], allow_headers=["*"], expose_headers=EXPOSED
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
    (a GET or HEAD of anything but the services) it answers itself: the router and the
    middleware of the services would cost more than the answer."""

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
                if "frame-ancestors *" in headers["Content-Security-Policy"]:  # a page made to be framed
                    del headers["X-Frame-Options"]
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            return await refusal(scope, receive, send_with_headers)
        if scope["method"] in ("GET", "HEAD") and not web.is_service(scope["path"]):
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
@dataclass(frozen=True)
class _Service:
    """What /sparql knows besides the workers: the dataset's base IRI and title, and the named queries."""

    base: str
    title: Mapping[str, Text]  # by language
    queries: Mapping[str, Query]


@dataclass(frozen=True)
class _Asked:
    """A query as a request asked it: its text, and the named query and values it was bound from."""

    text: str
    named: str | None = None
    values: Mapping[str, str] | None = None


async def _sparql(request: Request, pool: QueryPool, limits: Limits, service: _Service) -> Response:
    params = request.query_params
    if request.method in ("GET", "HEAD") and not {"query", "named", "update"} & set(params):
        return _describe(request, service)
    html = _wants_html(request)
    language = form_language(params, request.headers)
    asked, error = await _query_of(request, service)
    if asked is None or error is not None:
        assert error is not None
        return _html_error(service, error, language) if html else error
    # The protocol's dataset parameters; without them, the dataset graph is the default graph.
    default = params.getlist("default-graph-uri")
    named = params.getlist("named-graph-uri")
    requested = params.get("format")
    accept = FOR_A_TABLE if html else _SHORT_FORMATS.get(requested, requested) if requested else request.headers.get("accept")
    try:
        status, body, media_type = await pool.run((asked.text, default, named, accept), limits.query_timeout)
    except LimitError as err:
        status, body, media_type = err.status, str(err), None
    if html:
        return _html_answer(service, asked, status, body, media_type, language)
    if isinstance(body, str):  # why the query has no answer; status says which way it failed
        return _text(body, status)
    return Response(body, media_type=media_type, headers={"Vary": "Accept"})


def _wants_html(request: Request) -> bool:
    """Whether the answer is to be a page: the form asked for one (format=html), or a
    browser, which names HTML before anything else a query's answer can be."""
    requested = request.query_params.get("format")
    if requested:
        return requested == "html"
    offered = [*SOLUTION_FORMATS, *GRAPH_FORMATS, HTML]
    return choose(request.headers.get("accept"), offered) == HTML


def _describe(request: Request, service: _Service) -> Response:
    """/sparql without a query: the Service Description, or the form for a browser."""
    media_type = choose(request.headers.get("accept"), DESCRIPTION_FORMATS)
    headers = dict(_HTML_VARY)  # the form is in the language Accept-Language chooses
    if media_type is None:
        return _text("not acceptable: the service description is available as " + ", ".join(DESCRIPTION_FORMATS), 406, headers)
    if media_type == HTML:
        language = form_language(request.query_params, request.headers)
        return HTMLResponse(form_page(Form(service.title, language=language), service.queries), headers=_HTML_VARY)
    try:  # the endpoint as this client reached it; a Host header that makes no IRI gets the published one
        endpoint = NamedNode(str(request.url.replace(query="", fragment=""))).value
    except ValueError:
        endpoint = service.base + "sparql"
    body = description_bytes(endpoint, service.base, media_type)
    return Response(body, media_type=media_type + "; charset=utf-8", headers=headers)


def _html_answer(service: _Service, asked: _Asked, status: int, body: bytes | str, media_type: str | None, language: str) -> Response:
    """The form with the query in it, and its answer as a table (or why there is none)."""
    form = Form(service.title, asked.text, asked.named, asked.values, language=language)
    if isinstance(body, str) or media_type is None:
        form.error = short_line(str(body))
    else:
        form.answer = table(body, media_type, service.base)
    return HTMLResponse(form_page(form, service.queries), status_code=status, headers=_HTML_VARY)


def _html_error(service: _Service, error: Response, language: str) -> Response:
    """A refused request (a bad parameter, no query) as the form saying why."""
    message = bytes(error.body).decode("utf-8").strip()
    form = Form(service.title, error=message, language=language)
    return HTMLResponse(form_page(form, service.queries), status_code=error.status_code, headers=_HTML_VARY)


_HTML_VARY = {"Vary": "Accept, Accept-Language"}  # the form is in the language Accept-Language chooses


async def _query_of(request: Request, service: _Service) -> tuple[_Asked | None, Response | None]:
    """The query from a GET (or HEAD) or POST request, or the error response to give."""
    if request.method in ("GET", "HEAD"):
        params = request.query_params
        if "update" in params:
            return None, _read_only()
        if "named" in params and "query" not in params:
            return _named(params, service)
        query = params.get("query")
    else:
        query, error = await _posted_query(request)
        if error is not None:
            return None, error
    if not query:
        return None, _text("give a SPARQL query in the 'query' parameter", 400)
    return _Asked(str(query)), None


def _named(params: Mapping[str, str], service: _Service) -> tuple[_Asked | None, Response | None]:
    """A named query of queries/ bound to the request's other parameters (its defaults for the rest)."""
    name = params["named"]
    query = service.queries.get(name)
    if query is None:
        return None, _text(f"no named query '{name}': the form at /sparql lists them", 404)
    values = {key: value for key, value in params.items() if key not in PROTOCOL_PARAMETERS}
    try:
        return _Asked(query.bind(values, service.base), name, values), None
    except NdlldError as err:
        return None, _text(str(err), 400)


async def _posted_query(request: Request) -> tuple[str | None, Response | None]:
    """The query of a POST: its body, or its form's 'query'."""
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
        return body, None
    form = parse_qs(body)
    if "update" in form:
        return None, _read_only()
    return form.get("query", [None])[0], None


def _read_only() -> Response:
    return _text("this SPARQL endpoint is read-only: updates are refused", 403)
