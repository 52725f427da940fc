"""Which representation to serve: proactive content negotiation on ``Accept``.

RFC 9110 §12.5.1 (https://www.rfc-editor.org/rfc/rfc9110#section-12.5.1)
defines the ``Accept`` header field, §12.4.2 its quality values. ndlld keeps
the decision in one table (:data:`MEDIA_TYPES`) and one pure function
(:func:`negotiate`) that the HTTP server and the tests share, so that what is
served and what is tested cannot drift apart; the nginx and Apache configs
approximate the same rules with their own directives.

The rules, for each representation the server has:

* Its media type is the one of its ``Content-Type`` (:data:`CONTENT_TYPES`);
  a media range matches it exactly (``text/turtle``), by type (``text/*``)
  or by anything (``*/*``). A representation also answers to aliases, but
  only when the client names them exactly: ``application/xhtml+xml`` gets the
  HTML and ``application/json`` the JSON-LD, yet ``application/*`` does not
  get the HTML.
* Its quality is the ``q`` of the most specific matching range (exact beats
  ``type/*`` beats ``*/*``); equally specific ranges give the highest of
  their ``q``. Media-type parameters other than ``q`` (a JSON-LD ``profile``,
  a ``charset``) are ignored: ``application/ld+json;profile="..."`` matches
  as ``application/ld+json``. Under several media types (aliases), the best
  one counts.
* ``q=0`` means not acceptable. The highest quality wins; at equal quality
  the more specific match wins (so ``text/turtle, */*`` gives Turtle, though
  ``*/*`` alone gives HTML), then the server's order of preference, which is
  the order of ``available``.

No ``Accept``, an empty one or one of empty list elements only (``" , "``)
states no preference: HTML, or the first available representation. A
malformed element (``q=abc``, ``q=1.5``, ``q=0.5000``, no ``/``, a bad token,
an unclosed quote) is ignored whole, never raised about; so a header of
malformed elements only (``text/turtle;q=abc``) leaves nothing acceptable,
and :func:`negotiate` returns ``None``: the server answers 406.

>>> negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
'html'
>>> negotiate("text/turtle;q=0.5, application/ld+json")
'jsonld'
>>> media_type_of(negotiate("text/turtle, */*;q=0.1"))
'text/turtle; charset=utf-8'
>>> negotiate("application/rdf+xml")
'rdf'
>>> negotiate("image/png") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

MEDIA_TYPES: dict[str, str] = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/turtle": "ttl",
    "application/ld+json": "jsonld",
    "application/n-triples": "nt",
    "application/json": "jsonld",  # plain JSON clients get JSON-LD, which is JSON
    "application/rdf+xml": "rdf",  # older harvesters ask for RDF/XML only
    "application/n-quads": "nq",
}
"""Media type -> file extension of the representation served for it, in server preference order."""

CONTENT_TYPES: dict[str, str] = {
    "html": "text/html; charset=utf-8",
    "ttl": "text/turtle; charset=utf-8",
    "jsonld": "application/ld+json; charset=utf-8",
    "nt": "application/n-triples; charset=utf-8",
    "rdf": "application/rdf+xml; charset=utf-8",
    "nq": "application/n-quads; charset=utf-8",
}
"""File extension -> the ``Content-Type`` header value the representation is served with."""

DEFAULT = "html"
"""What a client that states no preference gets, if available."""

# RFC 9110 §5.6.2 token; §5.6.4 quoted-string (with quoted-pair); §12.4.2 qvalue.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_RANGE = re.compile(rf"(?:(\*)/\*|({_TOKEN})/(\*|{_TOKEN}))")
_PARAMETER = re.compile(rf"({_TOKEN})=({_TOKEN}|\"(?:[^\"\\]|\\.)*\")")
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")

Range = tuple[str, float, int]
"""A parsed media range: (``type/subtype`` lowercased, q, specificity)."""

EXACT, TYPE_WILDCARD, ANY = 2, 1, 0
"""Specificities: ``type/subtype``, ``type/*``, ``*/*``."""


def _split(text: str, separator: str) -> tuple[list[str], bool]:
    """Split on ``separator`` outside quoted strings; also whether every quote was closed."""
    parts, start, quoted, escaped = [], 0, False, False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts, not quoted


def _parse_element(element: str) -> Range | None:
    """One list element of ``Accept``, or None if it is malformed."""
    pieces, closed = _split(element, ";")
    if not closed:
        return None
    match = _MEDIA_RANGE.fullmatch(pieces[0].strip())
    if match is None or match[2] == "*":  # "*" is a token, but "*/html" no media range
        return None
    q = None
    for piece in pieces[1:]:
        piece = piece.strip()
        if not piece:
            continue  # "text/turtle;;q=1": empty parameters are allowed
        parameter = _PARAMETER.fullmatch(piece)
        if parameter is None:
            return None
        if parameter[1].lower() == "q":
            if q is not None or not _QVALUE.fullmatch(parameter[2]):
                return None
            q = float(parameter[2])
    if match[1]:
        return ("*/*", 1.0 if q is None else q, ANY)
    media_range = f"{match[2]}/{match[3]}".lower()
    return (media_range, 1.0 if q is None else q, TYPE_WILDCARD if match[3] == "*" else EXACT)


def _elements(header: str) -> list[str]:
    """The non-empty list elements of a header value (RFC 9110 §5.6.1), split outside quotes.

    After a quote left open, the rest of the value is one (malformed) element.
    """
    return [element for element in _split(header, ",")[0] if element.strip()]


def parse_accept(header: str | None) -> list[Range]:
    """The media ranges of an ``Accept`` value, in the client's order, malformed ones left out.

    >>> parse_accept('Text/Turtle;q=0.5, application/*;profile="a,b", */*;q=0')
    [('text/turtle', 0.5, 2), ('application/*', 1.0, 1), ('*/*', 0.0, 0)]
    """
    if not header:
        return []
    return [r for r in map(_parse_element, _elements(header)) if r is not None]


def _quality(media_type: str, ranges: list[Range], exact_only: bool) -> tuple[float, int] | None:
    """(q, specificity) of the most specific ranges matching ``media_type``, or None if none does."""
    type_wildcard = media_type.split("/")[0] + "/*"
    best: tuple[float, int] | None = None
    for media_range, q, specificity in ranges:
        if specificity == EXACT:
            matches = media_range == media_type
        elif exact_only:
            matches = False
        else:
            matches = media_range in (type_wildcard, "*/*")
        if matches and (best is None or (specificity, q) > (best[1], best[0])):
            best = (q, specificity)
    return best


def negotiate(accept: str | None, available: Iterable[str] = tuple(CONTENT_TYPES)) -> str | None:
    """The extension of the representation to serve for ``accept``, or None for 406 Not Acceptable.

    ``available`` lists extensions of :data:`CONTENT_TYPES` in server preference order;
    another extension is a programming error (ValueError).

    >>> negotiate("*/*"), negotiate("text/turtle, */*"), negotiate("text/*")
    ('html', 'ttl', 'html')
    >>> negotiate("*/*", available=("ttl", "nt"))
    'ttl'
    """
    available = tuple(available)
    unknown = [extension for extension in available if extension not in CONTENT_TYPES]
    if unknown:
        raise ValueError(f"no media type for extension(s) {', '.join(map(repr, unknown))}")
    if accept is None or not _elements(accept):
        return DEFAULT if DEFAULT in available else (available[0] if available else None)
    candidates = [
        (extension, media_type, media_type != CONTENT_TYPES[extension].split(";")[0])
        for extension in available
        for media_type, served_as in MEDIA_TYPES.items()
        if served_as == extension
    ]
    return _best(parse_accept(accept), candidates, available)


def choose(accept: str | None, media_types: Iterable[str]) -> str | None:
    """The best of *media_types* (server preference order) for ``accept``, or None.

    The same rules as :func:`negotiate`, for answers that are not files, such as
    SPARQL results.

    >>> choose("text/csv, */*;q=0.1", ["application/sparql-results+json", "text/csv"])
    'text/csv'
    >>> choose(None, ["text/turtle", "application/ld+json"])
    'text/turtle'
    """
    media_types = list(media_types)
    if accept is None or not _elements(accept):
        return media_types[0] if media_types else None
    return _best(parse_accept(accept), [(m, m, False) for m in media_types], media_types)


def _best(ranges: list[Range], candidates: list[tuple[str, str, bool]], order: Sequence[str]) -> str | None:
    """Of (answer, media type, exact-only) candidates: highest q, then the more specific
    match, then the server's order of *order*; None when every q is 0."""
    best, chosen = None, None
    for answer, media_type, exact_only in candidates:
        quality = _quality(media_type, ranges, exact_only=exact_only)
        if quality is None or quality[0] <= 0:
            continue
        key = (quality[0], quality[1], -order.index(answer))
        if best is None or key > best:
            best, chosen = key, answer
    return chosen


def media_type_of(extension: str) -> str:
    """The ``Content-Type`` value of a representation: ``"ttl"`` -> ``"text/turtle; charset=utf-8"``.

    Raises KeyError for an extension that is not in :data:`CONTENT_TYPES`.
    """
    return CONTENT_TYPES[extension]


# -- the same negotiation for static web servers --------------------------
# nginx and Apache match the Accept header with regular expressions and cannot
# compare q-values; these rules, tried in order, come as close as that allows:
# a type named without a q (or with q=1) first, in server preference order,
# then a type named with any q above 0, then wildcards. The nginx and Apache
# configurations that `ndlld build` writes are rendered from them.
_FULL_Q = r"(?![^,]*;\s*q=0)"
_SOME_Q = r"(?![^,]*;\s*q=0(\.0*)?\s*(,|;|$))"
_EXACT = [(media_type, extension) for media_type, extension in MEDIA_TYPES.items()]
_WILDCARDS = [("text/*", "html"), ("application/*", "jsonld"), ("*/*", "html")]


def static_server_rules() -> list[tuple[str, str]]:
    """(extension, regular expression over the Accept header), first match wins."""
    rules = []
    for lookahead, ranges in ((_FULL_Q, _EXACT), (_SOME_Q, _EXACT + _WILDCARDS)):
        for media_type, extension in ranges:
            rules.append((extension, r"(^|,)\s*" + re.escape(media_type).replace("\\/", "/") + lookahead))
    return rules


# -- the language of a page: Accept-Language -------------------------------
# RFC 9110 §12.5.4 (https://www.rfc-editor.org/rfc/rfc9110#section-12.5.4): the
# pages are written in each of LANGUAGES, the first the default. A page's files
# are ``x.html`` in the default language and ``x.<lang>.html`` in each other
# (docs/serving.md says why), so the language's suffix is what the URL adds.
LANGUAGES: tuple[str, ...] = ("en", "ja")
"""The languages of the pages, the default first (what a client that states no preference gets)."""

_LANGUAGE_RANGE = re.compile(r"\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")


def language_suffix(language: str) -> str:
    """What a page's file name adds for *language*: ``""`` for the default, ``".ja"`` for Japanese."""
    return "" if language == LANGUAGES[0] else f".{language}"


def parse_accept_language(header: str | None) -> list[tuple[str, float]]:
    """The language ranges of an ``Accept-Language`` value and their q, in the client's order
    (lowercased; malformed elements left out).

    >>> parse_accept_language("ja-JP, ja;q=0.9, en;q=0.5, ??")
    [('ja-jp', 1.0), ('ja', 0.9), ('en', 0.5)]
    """
    ranges = []
    for element in (header or "").split(","):
        language_range, *parameters = (part.strip() for part in element.split(";"))
        if not _LANGUAGE_RANGE.fullmatch(language_range):
            continue
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                q = float(value.strip()) if _QVALUE.fullmatch(value.strip()) else -1.0
        if q >= 0:
            ranges.append((language_range.lower(), q))
    return ranges


def negotiate_language(header: str | None, available: Sequence[str] = LANGUAGES) -> str:
    """The language of *available* to serve for ``Accept-Language`` *header*: the highest q,
    a tag named before ``*``, then the one the client names first, then the server's order;
    the first of *available* when the client accepts none of them (a page in some language
    is more use than 406).

    A range matches a language it names, or one of its subtags (``ja-JP`` asks for ``ja``,
    as RFC 4647 §3.4 lookup falls back).

    >>> negotiate_language("ja,en-US;q=0.9,en;q=0.8"), negotiate_language("en-GB,en;q=0.9,ja;q=0.8")
    ('ja', 'en')
    >>> negotiate_language(None), negotiate_language("fr, de;q=0.5"), negotiate_language("ja;q=0, *")
    ('en', 'en', 'en')
    """
    best: tuple | None = None
    chosen = available[0]
    ranges = parse_accept_language(header)
    for order, language in enumerate(available):
        named = [(q, -position) for position, (r, q) in enumerate(ranges) if r == language or r.startswith(language + "-")]
        anything = [(q, -position) for position, (r, q) in enumerate(ranges) if r == "*"]
        q, position = max(named) if named else max(anything, default=(0.0, 0))
        key = (q, bool(named), position, -order)
        if q > 0 and (best is None or key > best):
            best, chosen = key, language
    return chosen


def static_language_rules() -> list[tuple[str, str]]:
    """(suffix, regular expression over Accept-Language) for nginx and Apache, which cannot
    weigh q-values: a language other than the default is chosen when it is named, with a q
    above 0, before the default is. Browsers list their languages by preference, so for
    them this is :func:`negotiate_language`'s choice."""
    default = re.escape(LANGUAGES[0])
    rules = []
    for language in LANGUAGES[1:]:
        before = rf"^(?:(?!\s*{default}(?:-|;|,|\s|$))[^,]*,)*"  # elements that do not name the default
        named = rf"\s*{re.escape(language)}(?:-[A-Za-z0-9-]*)?\s*"
        rules.append((language_suffix(language), before + named + r"(?:;(?!\s*q=0(?:\.0*)?\s*(?:,|$))[^,]*)?(?:,|$)"))
    return rules


# -- the site's files, as served -----------------------------------------
# ndlld.web serves them so; the static servers' configurations the site writes say the same.

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
    ".trig": "application/trig; charset=utf-8",
}
# Files without an extension, by their path in the site.
NAMED_FILES = {".well-known/void": "text/turtle; charset=utf-8", "SHA256SUMS": "text/plain; charset=utf-8"}
DOCUMENTS = tuple(CONTENT_TYPES)  # a resource's documents, by extension, in the server's order
THINGS = "id/"  # under it, a path without a document's extension names a thing: 303
GONE = "gone/"  # gone/id/x.html: the page of a resource a release had and this build has not
NOT_FOUND_PAGE = "404.html"

# Headers a script on another site may read (CORS), beside those it always may: the
# documents a resource has, and which one it got.
EXPOSED = ["Link", "Content-Location", "ETag"]
# Compressed when the client accepts gzip (nginx's gzip_types and Apache's
# AddOutputFilterByType DEFLATE in the generated configurations list the same).
COMPRESSIBLE = frozenset(
    media_type.split(";")[0]
    for media_type in (*CONTENT_TYPES.values(), *FILE_TYPES.values(), *NAMED_FILES.values())
    if media_type.split(";")[0] not in ("application/gzip",)
)

# Each document of a resource, for its Link header: the name's ending, and what the link says of it.
DOCUMENT_LINKS = [
    *((f"{language_suffix(language)}.html", f'type="text/html"; hreflang="{language}"') for language in LANGUAGES),
    *((f".{ext}", f'type="{CONTENT_TYPES[ext].split(";")[0]}"') for ext in DOCUMENTS[1:]),
]
