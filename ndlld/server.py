"""``ndlld serve``: the published site over HTTP, as a linked-data server would.

* Every resource IRI answers by content negotiation (RFC 9110 §12.5.1, the
  table in :mod:`ndlld.conneg`): HTML for browsers, Turtle, JSON-LD or
  N-Triples for clients by their ``Accept`` header, ``Vary: Accept`` on every
  negotiated answer, 406 when nothing fits. The explicit ``.ttl``,
  ``.jsonld``, ``.nt`` and ``.html`` URLs answer as files.
* ``/sparql`` is a read-only SPARQL 1.1 Protocol endpoint
  (https://www.w3.org/TR/sparql11-protocol/) over the embedded store: GET and
  POST, results as JSON, XML, CSV or TSV, graphs as Turtle, JSON-LD or
  N-Triples; updates are refused.

Built on Starlette (ASGI) and served by uvicorn.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote

from pyoxigraph import NamedNode, QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat, serialize
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from ndlld.conneg import CONTENT_TYPES, choose, negotiate
from ndlld.errors import QueryError
from ndlld.store import EmbeddedStore

# Files served as they are, by extension.
FILE_TYPES = {
    **{f".{ext}": content_type for ext, content_type in CONTENT_TYPES.items()},
    ".css": "text/css; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".ndjson": "application/x-ndjson; charset=utf-8",
    ".json": "application/json",
    ".gz": "application/gzip",
}
# Files without an extension, by their path in the site.
NAMED_FILES = {".well-known/void": "text/turtle; charset=utf-8", "SHA256SUMS": "text/plain; charset=utf-8"}
NEGOTIATED = ("html", "ttl", "jsonld", "nt")

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
_SHORT_FORMATS = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml", "csv": "text/csv",
                  "tsv": "text/tab-separated-values", "turtle": "text/turtle", "jsonld": "application/ld+json",
                  "ntriples": "application/n-triples"}


def create_app(dist_dir: str | Path, store: EmbeddedStore | None = None) -> Starlette:
    """The ASGI application serving *dist_dir* (and its dataset at /sparql)."""
    root = Path(dist_dir).resolve()
    store = store if store is not None else EmbeddedStore.open(root)

    async def sparql(request: Request) -> Response:
        return await _sparql(request, store)

    async def resource(request: Request) -> Response:
        return _resource(request, root)

    routes = [
        Route("/sparql", sparql, methods=["GET", "POST"]),
        Route("/{path:path}", resource, methods=["GET", "HEAD"]),
    ]
    middleware = [Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "HEAD"], allow_headers=["*"])]
    return Starlette(routes=routes, middleware=middleware)


# -- pages and files ------------------------------------------------------
def _resource(request: Request, root: Path) -> Response:
    path = unquote(request.url.path)
    if path in ("", "/"):
        return FileResponse(root / "index.html", media_type=FILE_TYPES[".html"])
    target = _inside(root, path.lstrip("/"))
    if target is None:
        return PlainTextResponse("not found\n", status_code=404)
    if target.is_dir():
        return RedirectResponse(request.url.path.rstrip("/") or "/", status_code=301) if path.endswith("/") else _not_found()
    named = NAMED_FILES.get(target.relative_to(root).as_posix()) if target.is_relative_to(root) else None
    if target.is_file() and (named or target.suffix in FILE_TYPES):
        return FileResponse(target, media_type=named or FILE_TYPES[target.suffix])
    available = [ext for ext in NEGOTIATED if target.with_name(f"{target.name}.{ext}").is_file()]
    if not available:
        return _not_found()
    chosen = negotiate(request.headers.get("accept"), available)
    if chosen is None:
        listing = ", ".join(CONTENT_TYPES[ext].split(";")[0] for ext in available)
        return PlainTextResponse(f"not acceptable: this resource is available as {listing}\n", status_code=406, headers={"Vary": "Accept"})
    file = target.with_name(f"{target.name}.{chosen}")
    headers = {"Vary": "Accept", "Content-Location": f"{request.url.path.rsplit('/', 1)[-1]}.{chosen}"}
    return FileResponse(file, media_type=CONTENT_TYPES[chosen], headers=headers)


def _inside(root: Path, relative: str) -> Path | None:
    """*relative* under *root*, or None when it would leave it (``..``, symlinks)."""
    if any(part in ("..", "") for part in relative.split("/")[:-1]) or "\x00" in relative:
        return None
    candidate = (root / relative).resolve()
    return candidate if candidate == root or candidate.is_relative_to(root) else None


def _not_found() -> Response:
    return PlainTextResponse("not found\n", status_code=404)


# -- SPARQL 1.1 Protocol -----------------------------------------------------
async def _sparql(request: Request, store: EmbeddedStore) -> Response:
    query, error = await _query_of(request)
    if error:
        return error
    # The protocol's dataset parameters; without them, the dataset graph is the default graph.
    default = [NamedNode(iri) for iri in request.query_params.getlist("default-graph-uri")] or None
    named = [NamedNode(iri) for iri in request.query_params.getlist("named-graph-uri")] or None
    try:
        result = store.query(query, default_graph=default, named_graphs=named)
    except (QueryError, ValueError) as err:
        return PlainTextResponse(f"{err}\n", status_code=400)
    requested = request.query_params.get("format")
    accept = _SHORT_FORMATS.get(requested, requested) if requested else request.headers.get("accept")
    if isinstance(result, (QuerySolutions, QueryBoolean)):
        media_type = choose(accept, SOLUTION_FORMATS)
        if media_type is None:
            return PlainTextResponse("not acceptable: results are available as " + ", ".join(SOLUTION_FORMATS) + "\n", status_code=406)
        body = result.serialize(format=SOLUTION_FORMATS[media_type])
    else:
        media_type = choose(accept, GRAPH_FORMATS)
        if media_type is None:
            return PlainTextResponse("not acceptable: graphs are available as " + ", ".join(GRAPH_FORMATS) + "\n", status_code=406)
        body = serialize(result, format=GRAPH_FORMATS[media_type])
    return Response(body, media_type=_CANONICAL.get(media_type, media_type) + "; charset=utf-8", headers={"Vary": "Accept"})


async def _query_of(request: Request) -> tuple[str | None, Response | None]:
    """The query text from a GET or POST request, or the error response to give."""
    if request.method == "GET":
        params = request.query_params
        if "update" in params:
            return None, _read_only()
        query = params.get("query")
    else:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "application/sparql-query":
            query = (await request.body()).decode("utf-8", errors="replace")
        elif content_type == "application/x-www-form-urlencoded":
            form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
            if "update" in form:
                return None, _read_only()
            query = form.get("query", [None])[0]
        elif content_type == "application/sparql-update":
            return None, _read_only()
        else:
            return None, PlainTextResponse(
                "POST a query as application/sparql-query or application/x-www-form-urlencoded\n", status_code=415
            )
    if not query:
        return None, PlainTextResponse("give a SPARQL query in the 'query' parameter\n", status_code=400)
    return str(query), None


def _read_only() -> Response:
    return PlainTextResponse("this SPARQL endpoint is read-only: updates are refused\n", status_code=403)
