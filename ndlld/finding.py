"""``/search`` and ``/reconcile`` of ``ndlld serve``: requests to the search index
(:mod:`ndlld.search`) and the Reconciliation API (:mod:`ndlld.reconcile`), and their answers.

* ``/search?q=`` answers HTML for a browser and JSON for a program, by ``Accept`` or by
  ``format=html|json``, with ``Vary: Accept``; ``limit`` (at most 100) and ``offset`` page
  through the results.
* Both are bounded as ``/sparql`` is: the query's length, the results, and the time
  (``--query-timeout``); an index query runs in a thread, so pages never wait for it.
* Both read the index of the output being served at each request: a build that swaps a
  new output in is followed at once.
"""

from __future__ import annotations

import time
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import jinja2
from pyoxigraph import NamedNode
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from ndlld import reconcile
from ndlld.conneg import choose
from ndlld.errors import LimitError
from ndlld.reconcile import RequestError, Service
from ndlld.search import MAX_QUERY_CHARS, MAX_RESULTS, Hit, Query, SearchIndex
from ndlld.web import text

HTML, JSON = "text/html", "application/json"
DEFAULT_RESULTS = 20
_VARY = {"Vary": "Accept"}


@cache
def _environment() -> jinja2.Environment:
    from ndlld.site import environment

    return environment()


class Finder:
    """What /search and /reconcile answer from: the index of *root*, the dataset's base IRI
    and title, and how long a request may take."""

    def __init__(self, root: Path, base: str, title: str, timeout: float):
        self.index, self.base, self.title, self.timeout = SearchIndex(root), base, title, timeout

    # -- /search ----------------------------------------------------------------------------
    async def search(self, request: Request) -> Response:
        params = request.query_params
        requested = params.get("format")
        media_type = {"html": HTML, "json": JSON}.get(requested or "") if requested else choose(request.headers.get("accept"), [JSON, HTML])
        if media_type is None:
            return text("not acceptable: search answers application/json or text/html (format=json or format=html)", 406, _VARY)
        q = params.get("q", "")
        try:
            limit, offset = _number(params.get("limit"), DEFAULT_RESULTS, 1, MAX_RESULTS), _number(params.get("offset"), 0, 0, 10_000)
        except RequestError as err:
            return self._refused(media_type, q, str(err), err.status)
        if media_type == HTML and not q:
            return self._page(q, [], 0, None)  # the empty form
        refusal = SearchIndex.refuse(q)
        if refusal is not None:
            return self._refused(media_type, q, refusal, 400)
        query = Query(q, limit=limit + 1, offset=offset, deadline=time.monotonic() + self.timeout)
        try:
            hits = await run_in_threadpool(self.index.search, query)
        except LimitError as err:
            return self._refused(media_type, q, str(err), err.status)
        more = len(hits) > limit
        hits = hits[:limit]
        next_href = (
            "search?" + urlencode({"q": q, "offset": offset + limit, **({"limit": limit} if limit != DEFAULT_RESULTS else {})})
            if more
            else None
        )
        if media_type == HTML:
            return self._page(q, hits, offset, next_href)
        body = {"query": q, "offset": offset, "results": [self._result(h) for h in hits], "next": next_href and next_href + "&format=json"}
        return JSONResponse(body, headers=_VARY)

    def _result(self, hit: Hit) -> dict:
        resource = hit.resource
        return {
            "id": resource.iri,
            "path": resource.iri.removeprefix(self.base),
            "name": resource.name,
            "name_ja": resource.text("name", "ja"),
            "alternateName": resource.all("alternateName"),
            "description": resource.text("description", "en"),
            "description_ja": resource.text("description", "ja"),
            "types": list(resource.types),
            "exact": hit.exact,
        }

    def _page(self, q: str, hits: list[Hit], offset: int, next_href: str | None, error: str | None = None, status: int = 200) -> Response:
        results = []
        for hit in hits:
            found = self._result(hit)
            found["abbreviation"] = ", ".join(found["alternateName"])
            found["types"] = [reconcile.type_name(t) for t in found["types"]]
            found["name_ja"] = found["name_ja"] if found["name_ja"] != found["name"] else None
            results.append(found)
        html = (
            _environment()
            .get_template("search.html")
            .render(
                title=self.title,
                q=q,
                results=results,
                first=offset + 1,
                next_href=next_href,
                error=error,
                max_chars=MAX_QUERY_CHARS,
                json_href="search?" + urlencode({"q": q, "format": "json"}),
            )
        )
        return HTMLResponse(html, status_code=status, headers=_VARY)

    def _refused(self, media_type: str, q: str, message: str, status: int) -> Response:
        if media_type == HTML:
            return self._page(q, [], 0, None, message, status)
        return text(message, status, _VARY)

    # -- /reconcile ---------------------------------------------------------------------------
    def service(self, request: Request) -> Service:
        """The service as this client reached it (the published base when the Host makes no IRI)."""
        url = str(request.url.replace(query="", fragment=""))
        endpoint = url[: url.index("/reconcile") + len("/reconcile")]
        try:
            NamedNode(endpoint)
        except ValueError:
            endpoint = self.base + "reconcile"
        return Service(self.base, self.title, endpoint)

    async def reconcile(self, request: Request) -> Response:
        """The manifest, or the answer to ``queries`` or ``extend`` (GET or POST form)."""
        try:
            form = await _form(request)
            service = self.service(request)
            if "queries" in form:
                batch = reconcile.parse_json(form["queries"], "queries")
                deadline = time.monotonic() + self.timeout
                return JSONResponse(await run_in_threadpool(reconcile.reconcile, self.index, service, batch, deadline))
            if "extend" in form:
                query = reconcile.parse_json(form["extend"], "extend")
                return JSONResponse(await run_in_threadpool(reconcile.extend, self.index, service, query))
            if request.method == "POST":
                raise RequestError("POST 'queries' or 'extend' as application/x-www-form-urlencoded")
            return JSONResponse(reconcile.manifest(service))
        except RequestError as err:
            return text(str(err), err.status)
        except LimitError as err:
            return text(str(err), err.status)

    async def reconcile_more(self, request: Request) -> Response:
        """Preview, suggest and the property proposals, below /reconcile."""
        what = request.path_params["what"]
        params = request.query_params
        service = self.service(request)
        try:
            if what == "preview":
                return await self._preview(service, params.get("id", ""))
            if what in ("suggest/entity", "suggest/type", "suggest/property"):
                prefix = params.get("prefix", "")
                if len(prefix) > MAX_QUERY_CHARS:
                    raise RequestError(f"the prefix may have at most {MAX_QUERY_CHARS} characters")
                cursor = _number(params.get("cursor"), 0, 0, 10_000)
                kind = what.split("/")[1]
                return JSONResponse(await run_in_threadpool(reconcile.suggest, self.index, service, kind, prefix, cursor))
            if what == "properties":
                limit = _number(params.get("limit"), 0, 0, 100) or None
                return JSONResponse(reconcile.propose_properties(params.get("type"), limit))
        except RequestError as err:
            return text(str(err), err.status)
        except LimitError as err:
            return text(str(err), err.status)
        return text(f"not found: /reconcile/{what}; the manifest at /reconcile lists what there is", 404)

    async def _preview(self, service: Service, id_: str) -> Response:
        shown = await run_in_threadpool(reconcile.preview, self.index, service, id_)
        if shown is None:
            return text(f"no resource with id '{id_}'", 404)
        html = _environment().get_template("reconcile-preview.html").render(p=shown)
        # Shown in an iframe of another site (OpenRefine's): the one page that may be framed.
        return HTMLResponse(html, headers={"Content-Security-Policy": PREVIEW_POLICY})


# The preview's own policy: styles inline, no script, framed by anyone (ndlld.server adds no X-Frame-Options to it).
PREVIEW_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors *"


def _number(value: str | None, default: int, least: int, most: int) -> int:
    if value is None or value == "":
        return default
    if not value.isdigit() or not least <= int(value) <= most:
        raise RequestError(f"'{value}' is not a number from {least} to {most}")
    return int(value)


async def _form(request: Request) -> dict[str, str]:
    """The parameters of a GET, or of a POSTed form."""
    if request.method != "POST":
        return dict(request.query_params)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise RequestError("POST the parameters as application/x-www-form-urlencoded", 415)
    try:
        body = (await request.body()).decode("utf-8", errors="replace")
    except ClientDisconnect:
        raise RequestError("the client went away") from None
    return {key: values[0] for key, values in parse_qs(body).items()}
