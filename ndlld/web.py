"""The site's resources and files over HTTP, as the Linked Data best practices have them.

``ndlld serve`` answers every path but ``/sparql`` here; the nginx configuration and the
``.htaccess`` that ``ndlld build`` writes do the same with their own directives
(tests/test_http.py sends the same requests to the three and compares the answers).

* A resource's IRI (``/id/x``) names a thing, not a document: it answers
  **303 See Other** to the document the ``Accept`` header chooses (``x.html``,
  ``x.ttl``, ...; :mod:`ndlld.conneg`), with ``Vary: Accept`` and a ``Link`` header
  naming every document that describes it (``rel="describedby"``), as "Cool URIs for
  the Semantic Web" (https://www.w3.org/TR/cooluris/ §4.3) and RFC 9110 §15.4.4 say.
  The vocabulary's IRI (``/vocab``) is a document already (its terms are hash IRIs):
  it answers 200 with the chosen variant and its ``Content-Location``.
* A document answers 200 with ``ETag`` and ``Last-Modified``, and 304 to a request
  whose ``If-None-Match`` or ``If-Modified-Since`` says the client has it (RFC 9110
  §13); a resource's documents carry a ``Link`` to each variant (``rel="alternate"``,
  RFC 8288) with its type.
* Text is sent gzip-compressed to a client that accepts it (RFC 9110 §8.4), with
  ``Vary: Accept-Encoding`` and a weak ETag, as nginx does.
* A resource deleted in a release answers **410 Gone** with the page the build wrote
  for it (``gone/id/x.html``, naming the last release that had it); anything else
  missing answers 404 with the site's ``404.html``, which links back to the index.
* Every page is written in each language of :data:`ndlld.conneg.LANGUAGES`: ``x.html``
  in English, ``x.ja.html`` in Japanese. Where the URL names no language (a resource's
  IRI, ``/``, ``/vocab``, a missing path, a gone resource's IRI), ``Accept-Language``
  chooses (:func:`ndlld.conneg.negotiate_language`), with ``Vary: Accept-Language``;
  a page says its language in ``Content-Language``.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Mapping
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from starlette.datastructures import Headers
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response

from ndlld.changes import FEED_MEDIA_TYPE, FEED_PATH
from ndlld.conneg import (
    COMPRESSIBLE,
    CONTENT_TYPES,
    DOCUMENT_LINKS,
    DOCUMENTS,
    FILE_TYPES,
    GONE,
    LANGUAGES,
    NAMED_FILES,
    THINGS,
    language_suffix,
    negotiate,
    negotiate_language,
)
from ndlld.errors import short_line
from ndlld.releases import IMMUTABLE, IMMUTABLE_PATH

# Paths the application answers itself, not from the files: never looked for on disk, and never
# answered from the kept answers (ndlld.httpcache), as they are the query workers' and the index's.
SERVICES = ("/sparql", "/search", "/reconcile")


def is_service(path: str) -> bool:
    return path in SERVICES or path.startswith("/reconcile/")


COMPRESS_FROM = 256  # bytes: below, gzip saves next to nothing (nginx: gzip_min_length)
# Files up to this size are kept in memory (a thousand at most, and as many compressed):
# bigger ones, the dumps, are sent from disk as they are (each has its .gz beside it).
CACHED_UP_TO = 128 * 1024


def answer(headers: Headers, root: Path, path: str) -> Response:
    """The answer to a GET or HEAD of *path* (percent-decoded, from the site's root *root*)."""
    if path in ("", "/"):
        index = f"index{language_suffix(negotiate_language(headers.get('accept-language')))}.html"
        more = {"Vary": "Accept-Language", "Content-Location": index, "Content-Language": language_of(index) or ""}
        return file_answer(headers, root / index, FILE_TYPES[".html"], more)
    relative = path.lstrip("/")
    target = inside(root, relative)
    if target is None:
        return not_found(root, headers)
    if target.is_dir() and path.endswith("/"):
        return RedirectResponse(url_path(path.rstrip("/") or "/"), status_code=301)
    # A directory without the '/' may share its name with a page: id/x beside id/x/y.
    named = FEED_MEDIA_TYPE if FEED_PATH.fullmatch(relative) else NAMED_FILES.get(relative)
    if target.is_file() and (named or target.suffix in FILE_TYPES):
        return file_answer(headers, target, named or FILE_TYPES[target.suffix], _file_headers(relative))
    return _negotiated(headers, root, relative)


def _negotiated(headers: Headers, root: Path, relative: str) -> Response:
    """The document of the resource *relative* names (``id/x``: ``id/x.html``,
    ``id/x.ttl``, ...) that the Accept header chooses: a 303 to it for a thing, the
    document itself for the vocabulary."""
    # Each variant is checked as a path of its own: a variant may be a symlink too.
    html = f"{language_suffix(negotiate_language(headers.get('accept-language')))}.html"  # the page in the language chosen
    variants = {ext: inside(root, relative + (html if ext == "html" else f".{ext}")) for ext in DOCUMENTS}
    available = {ext: file for ext, file in variants.items() if file is not None and file.is_file()}
    if not available:
        return gone_or_not_found(root, relative, headers)
    name = relative.rsplit("/", 1)[-1]
    chosen = negotiate(headers.get("accept"), list(available))
    vary = "Accept, Accept-Language"
    if chosen is None:
        listing = ", ".join(CONTENT_TYPES[ext].split(";")[0] for ext in available)
        return text(f"not acceptable: this resource is available as {listing}", 406, {"Vary": vary})
    document = url_path(name + (html if chosen == "html" else f".{chosen}"))
    if relative.startswith(THINGS):
        links = link_header(name, "describedby")
        return Response(f"see other: {document}\n", 303, {"Location": document, "Vary": vary, "Link": links}, "text/plain")
    more = {"Vary": vary, "Content-Location": document, "Link": link_header(name, "alternate")}
    if chosen == "html":
        more["Content-Language"] = language_of(document) or ""
    return file_answer(headers, available[chosen], CONTENT_TYPES[chosen], more)


def _file_headers(relative: str) -> dict[str, str]:
    """The Link header of a resource's document (``id/x.ttl``, ``vocab.html``); a release's
    files, which never change, say so (the LDES server primer asks it of immutable pages)."""
    if IMMUTABLE_PATH.fullmatch(relative):
        return {"Cache-Control": IMMUTABLE}
    language = language_of(relative)
    found = {"Content-Language": language} if language else {}
    stem, _, extension = relative.rpartition(".")
    if extension == "html" and language != LANGUAGES[0]:
        stem = stem.removesuffix(language_suffix(language or ""))
    if extension not in DOCUMENTS or not (stem.startswith(THINGS) or stem == "vocab"):
        return found
    return {**found, "Link": link_header(stem.rsplit("/", 1)[-1], "alternate")}


def language_of(relative: str) -> str | None:
    """The language of a page by its name (``x.ja.html``: ja, ``x.html``: the default); None
    for a file that is not a page."""
    if not relative.endswith(".html"):
        return None
    return next((language for language in LANGUAGES[1:] if relative.endswith(f"{language_suffix(language)}.html")), LANGUAGES[0])


def link_header(name: str, relation: str) -> str:
    """A Link header (RFC 8288) naming each document of the resource *name* with its type,
    relative to the resource's own URL: the page in each language (with its ``hreflang``),
    then the RDF formats."""
    return ", ".join(f'<{url_path(name)}{suffix}>; rel="{relation}"; {attributes}' for suffix, attributes in DOCUMENT_LINKS)


# -- files: 200 or 304, compressed or not ---------------------------------------
def file_answer(headers: Headers, file: Path, media_type: str, more: dict[str, str] | None = None) -> Response:
    """*file* as *media_type*, with *more* headers; 304 when the request's validators match."""
    stat = file.stat()
    etag = f'"{int(stat.st_mtime):x}-{stat.st_size:x}"'  # as nginx writes it
    answer_headers = {"ETag": etag, "Last-Modified": formatdate(stat.st_mtime, usegmt=True), **(more or {})}
    compressible = media_type.split(";")[0] in COMPRESSIBLE and stat.st_size >= COMPRESS_FROM
    if compressible:
        answer_headers["Vary"] = ", ".join(filter(None, [answer_headers.get("Vary"), "Accept-Encoding"]))
    if not_modified(headers, etag, stat.st_mtime):
        return Response(status_code=304, headers=answer_headers)
    if stat.st_size > CACHED_UP_TO:
        return FileResponse(file, media_type=media_type, headers=answer_headers, stat_result=stat)
    key = (str(file), stat.st_mtime_ns, stat.st_size, stat.st_ino)
    if compressible and accepts_gzip(headers.get("accept-encoding")):
        answer_headers["ETag"] = "W/" + etag  # another body than the file's, the same content
        answer_headers["Content-Encoding"] = "gzip"
        return Response(_gzipped(*key), headers=answer_headers, media_type=media_type)
    return Response(_read(*key), headers=answer_headers, media_type=media_type)


@lru_cache(maxsize=1024)
def _read(path: str, mtime_ns: int, size: int, inode: int) -> bytes:
    """A small file's bytes, kept while it is unchanged (a new build gives a new key)."""
    with open(path, "rb") as file:
        return file.read()


@lru_cache(maxsize=1024)
def _gzipped(path: str, mtime_ns: int, size: int, inode: int) -> bytes:
    return gzip.compress(_read(path, mtime_ns, size, inode), compresslevel=6, mtime=0)


def not_modified(headers: Headers, etag: str, mtime: float) -> bool:
    """Whether the client has this version already (RFC 9110 §13.1.2, §13.1.3): by
    If-None-Match (weak comparison) when it is sent, else by If-Modified-Since."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = headers.get("if-modified-since")
    if since is None:
        return False
    try:
        return int(mtime) <= parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return False  # not a date: ignored (§13.1.3)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether ``Accept-Encoding`` accepts gzip (RFC 9110 §12.5.3): named, or ``*``, without q=0."""
    for element in (accept_encoding or "").lower().split(","):
        coding, *parameters = (part.strip() for part in element.split(";"))
        if coding in ("gzip", "x-gzip", "*"):
            q = next((parameter[2:] for parameter in parameters if parameter.startswith("q=")), "1")
            try:
                return float(q) > 0
            except ValueError:
                return False
    return False


# -- 404 and 410 ------------------------------------------------------------------
def gone_or_not_found(root: Path, relative: str, headers: Headers | None = None) -> Response:
    """410 with the page of a resource deleted in a release (for its IRI and its
    documents' names alike), or 404; in the language a page's name says (``x.ja.html``
    is gone/id/x.ja.html), else the one ``Accept-Language`` chooses."""
    stem, _, extension = relative.rpartition(".")
    thing = stem if extension in DOCUMENTS else relative  # an id never ends in a document's extension
    suffix = "" if extension == "html" else _chosen_suffix(headers)
    page = inside(root, f"{GONE}{thing}{suffix}.html") if thing.startswith(THINGS) else None
    if page is not None and page.is_file():
        language = language_of(page.name) or ""
        return Response(_read_whole(page), 410, {"Vary": "Accept-Language", "Content-Language": language}, FILE_TYPES[".html"])
    return not_found(root, headers)


def _chosen_suffix(headers: Headers | None) -> str:
    return language_suffix(negotiate_language(headers.get("accept-language") if headers is not None else None))


def not_found(root: Path, headers: Headers | None = None) -> Response:
    """404 with the site's page in the language ``Accept-Language`` chooses, which links
    back to the index (one line of text if there is none)."""
    page = root / f"404{_chosen_suffix(headers)}.html"
    if page.is_file():
        language = language_of(page.name) or ""
        return Response(_read_whole(page), 404, {"Vary": "Accept-Language", "Content-Language": language}, FILE_TYPES[".html"])
    return text("not found", 404)


def _read_whole(file: Path) -> bytes:
    stat = file.stat()
    return _read(str(file), stat.st_mtime_ns, stat.st_size, stat.st_ino)


def text(message: str, status: int, headers: Mapping[str, str] | None = None) -> Response:
    """One line of plain text: whatever of the request it quotes, escaped and cut short."""
    return PlainTextResponse(short_line(message) + "\n", status_code=status, headers=headers)


# -- paths -------------------------------------------------------------------------
def inside(root: Path, relative: str) -> Path | None:
    """*relative* under *root*, or None when it could leave it: ``..``, a backslash,
    a NUL, or a symlink that resolves outside."""
    parts = relative.split("/")
    if any(part in ("..", ".") for part in parts) or "" in parts[:-1] or "\\" in relative or "\x00" in relative:
        return None
    candidate = Path(os.path.realpath(root / relative))
    return candidate if candidate == root or candidate.is_relative_to(root) else None


def url_path(path: str) -> str:
    """*path* (decoded) as it is written in a URL: a header built from it must be Latin-1,
    and a name in Japanese is not (RFC 3986 percent-encoding of its UTF-8)."""
    return quote(path, safe="/!$&'()*+,;=:@")
