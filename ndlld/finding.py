"""``/search`` and ``/reconcile`` of ``ndlld serve``: requests to the search index
(:mod:`ndlld.search`) and the Reconciliation API (:mod:`ndlld.reconcile`), and their answers.

* ``/search?q=`` answers HTML for a browser and JSON for a program, by ``Accept`` or by
  ``format=html|json``, with ``Vary: Accept``; ``limit`` (at most 100) and ``offset`` page
  through the results. The page is in the language of ``lang``, else the one
  ``Accept-Language`` chooses (as /sparql's form is), with ``Vary: Accept, Accept-Language``.
* Both are bounded as ``/sparql`` is: the query's length, the results, and the time
  (``--query-timeout``); an index query runs in a thread, so pages never wait for it.
* The index is the one a build with the cache keeps beside its state
  (:mod:`ndlld.incremental.search`) while it is that of the output served; else one made
  from the output's dumps, once per output, in a directory of the server's own
  (:class:`Indexes`). Each request finds out which, with a ``stat`` of ``SHA256SUMS``: a
  build that swaps a new output in is followed at once.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import jinja2
from pyoxigraph import NamedNode
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from ndlld import reconcile
from ndlld.conneg import LANGUAGES, choose
from ndlld.errors import LimitError, NdlldError, short_line
from ndlld.published import output_digest
from ndlld.reconcile import RequestError, Service
from ndlld.search import (
    DESCRIPTION,
    INDEX_FILE,
    MAX_QUERY_CHARS,
    MAX_RESULTS,
    NAME,
    Hit,
    Query,
    Resource,
    SearchIndex,
    connect,
    made_with,
    write_all,
)
from ndlld.service import form_language
from ndlld.site.parts import Text
from ndlld.web import text

HTML, JSON = "text/html", "application/json"
DEFAULT_RESULTS = 20
_VARY = {"Vary": "Accept"}
_HTML_VARY = {"Vary": "Accept, Accept-Language"}  # the page is in the language Accept-Language chooses


@cache
def _environment() -> jinja2.Environment:
    from ndlld.site import environment

    return environment()


@cache
def _type_labels() -> dict[str, dict[str, str]]:
    """The catalogues' names of types, by IRI and language."""
    from ndlld.context import Context
    from ndlld.resources import context_path
    from ndlld.site.messages import term_labels

    return term_labels(Context.load(context_path()))


class Indexes:
    """Where the search index of the output in *dist_dir* is: the one a build keeps in
    *cache_dir* while it is that output's, else one made from the output's dumps into
    *made_dir* (its name the output's digest, made once for all the server processes
    sharing the directory; a directory of its own, removed with this object, when none is
    given)."""

    CATCH_UP = 2.0  # seconds an output swapped in waits for the build to commit its index

    def __init__(self, dist_dir: Path, cache_dir: Path, made_dir: Path | None = None):
        self.dist_dir, self.kept = dist_dir, cache_dir / INDEX_FILE
        if made_dir is None:
            made_dir = Path(tempfile.mkdtemp(prefix="ndlld-search-"))
            weakref.finalize(self, _remove_tree, made_dir)
        self.made_dir = made_dir
        self._lock = threading.Lock()
        self._found: tuple[tuple | None, SearchIndex] | None = None  # the identity of SHA256SUMS, and its index

    def current(self) -> SearchIndex:
        """The index of the output served now: a ``stat``, unless the output changed (then
        it may wait for a build's index, or make one, which the server's log says: call it
        in a thread)."""
        index, note = self._current()
        if note:
            LOG.warning("%s", note)
        return index

    def prepare(self) -> str | None:
        """Find the index now, or make it: what to tell about it, or None."""
        return self._current()[1]

    def _current(self) -> tuple[SearchIndex, str | None]:
        seen = _identity(self.dist_dir / "SHA256SUMS")
        found = self._found
        if found is not None and found[0] == seen:
            return found[1], None
        with self._lock:
            if self._found is not None and self._found[0] == seen:
                return self._found[1], None
            index, note = self._located(wait=self._found is not None)
            self._found = (seen, index)
            return index, note

    def _located(self, wait: bool) -> tuple[SearchIndex, str | None]:
        digest = output_digest(self.dist_dir) or "none"
        deadline = time.monotonic() + (self.CATCH_UP if wait else 0.0)
        while made_with(self.kept) != digest:
            if time.monotonic() >= deadline or not self.kept.is_file():
                try:
                    path, seconds = self._made(digest)
                except (OSError, sqlite3.Error, NdlldError) as err:  # the output removed, the disk full …
                    raise LimitError(f"no search index of {self.dist_dir} can be made now: {short_line(str(err))}", 503) from None
                if seconds is None:  # made by another process, which said so
                    return SearchIndex(path), None
                return SearchIndex(path), (
                    f"search: no index of this output kept in {self.kept.parent} (built with --no-cache, or elsewhere):"
                    f" made one from its dumps in {seconds:.1f} s"
                )
            time.sleep(0.05)
        return SearchIndex(self.kept), None

    def _made(self, digest: str) -> tuple[Path, float | None]:
        """The index made from the dumps of the output whose ``SHA256SUMS`` has *digest*, and
        the seconds it took (None: it was there)."""
        path = self.made_dir / f"{digest}.sqlite"
        self.made_dir.mkdir(parents=True, exist_ok=True)
        with _locked(self.made_dir / f"{digest}.lock"):  # another process may be making it
            if path.is_file():
                return path, None
            started = time.perf_counter()
            for _ in range(3):  # a build may swap another output in while the dumps are read
                resources, base = index_of_output(self.dist_dir)
                if output_digest(self.dist_dir) == digest:
                    break
            part = path.with_suffix(".part")
            part.unlink(missing_ok=True)
            db = connect(part)
            try:
                db.execute("PRAGMA journal_mode=DELETE")  # read only from now on: no log beside it
                db.execute("BEGIN")
                write_all(db, resources, base, digest)
                db.execute("COMMIT")
            finally:
                db.close()
            os.replace(part, path)
        return path, time.perf_counter() - started


LOG = logging.getLogger("uvicorn.error")  # the server's own log, through ndlld.connections.log_config


def index_of_output(dist_dir: Path) -> tuple[list[Resource], str]:
    """What the search index holds of the output in *dist_dir*, from its dumps (as the build
    has it from the pages, :func:`ndlld.site.search.search_entry`), and the dataset's base IRI."""
    from pyoxigraph import RdfFormat

    from ndlld.context import Context
    from ndlld.dumps import DATASET_FILES, read_triples
    from ndlld.resources import context_path
    from ndlld.site.search import search_entry
    from ndlld.site.view import SiteView
    from ndlld.store import read_base

    base = read_base(dist_dir)
    view = SiteView.of(read_triples(dist_dir / DATASET_FILES["ntriples"], RdfFormat.N_TRIPLES), [], base, Context.load(context_path()))
    return [found for document in sorted(view.documents()) if (found := search_entry(view, document)) is not None], base


def _identity(path: Path) -> tuple | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


class _locked:
    """An exclusive ``flock`` on *path* for the block: one process makes an index, the others wait for it."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> None:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc) -> None:
        os.close(self.fd)


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class _Asked:
    """What /search was asked, and the language of the page that answers."""

    q: str
    language: str

    def href(self, offset: int, limit: int = DEFAULT_RESULTS, *, named: bool = False, **more: str) -> str:
        """The search again from *offset*: the next page of results, or (*named*: its language
        named even when it is the default) this one in another language."""
        params = {"q": self.q, **({"lang": self.language} if named or self.language != LANGUAGES[0] else {})}
        params.update(
            {**({"offset": str(offset)} if offset else {}), **({"limit": str(limit)} if limit != DEFAULT_RESULTS else {}), **more}
        )
        return "search?" + urlencode(params)


def _in_language(resource: Resource, kind: str, language: str) -> Text | None:
    """*resource*'s text of *kind* in *language*, else in English."""
    return next((Text(t, wanted) for wanted in dict.fromkeys((language, "en")) if (t := resource.text(kind, wanted))), None)


class Finder:
    """What /search and /reconcile answer from: the *indexes* of the output served, the
    dataset's base IRI and title, and how long a request may take."""

    def __init__(self, indexes: Indexes, base: str, titles: Mapping[str, Text], timeout: float):
        self.indexes, self.base, self.titles, self.timeout = indexes, base, titles, timeout
        self.title = titles[LANGUAGES[0]].text  # the service's name, for programs

    async def _on_index(self, function, *args):
        """*function* of the current index and *args*, in a thread: pages never wait for it."""
        return await run_in_threadpool(lambda: function(self.indexes.current(), *args))

    # -- /search ----------------------------------------------------------------------------
    async def search(self, request: Request) -> Response:
        params = request.query_params
        requested = params.get("format")
        media_type = {"html": HTML, "json": JSON}.get(requested or "") if requested else choose(request.headers.get("accept"), [JSON, HTML])
        if media_type is None:
            return text("not acceptable: search answers application/json or text/html (format=json or format=html)", 406, _VARY)
        asked = _Asked(params.get("q", ""), form_language(params, request.headers) if media_type == HTML else LANGUAGES[0])
        try:
            limit, offset = _number(params.get("limit"), DEFAULT_RESULTS, 1, MAX_RESULTS), _number(params.get("offset"), 0, 0, 10_000)
        except RequestError as err:
            return self._refused(media_type, asked, str(err), err.status)
        if media_type == HTML and not asked.q:
            return self._page(asked, [], 0, None)  # the empty form
        refusal = SearchIndex.refuse(asked.q)
        if refusal is not None:
            return self._refused(media_type, asked, refusal, 400)
        query = Query(asked.q, limit=limit + 1, offset=offset, deadline=time.monotonic() + self.timeout)
        try:
            hits = await self._on_index(SearchIndex.search, query)
        except LimitError as err:
            return self._refused(media_type, asked, str(err), err.status)
        more = len(hits) > limit
        hits = hits[:limit]
        if media_type == HTML:
            return self._page(asked, hits, offset, asked.href(offset + limit, limit) if more else None)
        following = asked.href(offset + limit, limit, format="json") if more else None
        body = {"query": asked.q, "offset": offset, "results": [self._result(h) for h in hits], "next": following}
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

    def _shown(self, hit: Hit, language: str) -> dict:
        """A result as the page in *language* shows it: its name in that language (else in
        English), its names in the others, its description, and its types' names."""
        resource = hit.resource
        name = _in_language(resource, NAME, language) or Text(resource.name, None)
        others = [Text(t, other) for other in LANGUAGES if other != name.language and (t := resource.text(NAME, other)) and t != name.text]
        labels = _type_labels()
        return {
            "path": resource.iri.removeprefix(self.base),
            "name": name,
            "others": others,
            "abbreviation": ", ".join(resource.all("alternateName")),
            "description": _in_language(resource, DESCRIPTION, language),
            "types": [labels.get(t, {}).get(language) or reconcile.type_name(t) for t in resource.types],
        }

    def _page(
        self, asked: _Asked, hits: list[Hit], offset: int, next_href: str | None, error: str | None = None, status: int = 200
    ) -> Response:
        from ndlld.site import language_context

        language = asked.language
        alternates = {other: _Asked(asked.q, other).href(offset, named=True) for other in LANGUAGES}
        html = (
            _environment()
            .get_template("search.html")
            .render(
                static=False,
                title=self.titles[language],
                q=asked.q,
                results=[self._shown(hit, language) for hit in hits],
                first=offset + 1,
                next_href=next_href,
                error=error,
                json_href="search?" + urlencode({"q": asked.q, "format": "json"}),
                **language_context(language, alternates),
            )
        )
        return HTMLResponse(html, status_code=status, headers=_HTML_VARY)

    def _refused(self, media_type: str, asked: _Asked, message: str, status: int) -> Response:
        if media_type == HTML:
            return self._page(asked, [], 0, None, message, status)
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
                return JSONResponse(await self._on_index(reconcile.reconcile, service, batch, deadline))
            if "extend" in form:
                query = reconcile.parse_json(form["extend"], "extend")
                return JSONResponse(await self._on_index(reconcile.extend, service, query))
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
                return JSONResponse(await self._on_index(reconcile.suggest, service, kind, prefix, cursor))
            if what == "properties":
                limit = _number(params.get("limit"), 0, 0, 100) or None
                return JSONResponse(reconcile.propose_properties(params.get("type"), limit))
        except RequestError as err:
            return text(str(err), err.status)
        except LimitError as err:
            return text(str(err), err.status)
        return text(f"not found: /reconcile/{what}; the manifest at /reconcile lists what there is", 404)

    async def _preview(self, service: Service, id_: str) -> Response:
        shown = await self._on_index(reconcile.preview, service, id_)
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
