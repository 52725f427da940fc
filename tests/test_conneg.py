"""Content negotiation: which representation an Accept header gets (RFC 9110 §12.5.1).

The table below reads as the examples of ndlld.conneg's rules; ``None`` means
the server answers 406 Not Acceptable.
"""

from __future__ import annotations

import doctest

import pytest

from ndlld import conneg
from ndlld.conneg import CONTENT_TYPES, MEDIA_TYPES, media_type_of, negotiate, parse_accept

ALL = ("html", "ttl", "jsonld", "nt", "rdf", "nq")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JSONLD_COMPACTED = 'application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"'

EXAMPLES = [
    # accept, available, expected, why
    (None, ALL, "html", "no Accept: no preference, the server's default"),
    ("", ALL, "html", "empty Accept: no preference"),
    (" , ,", ALL, "html", "empty list elements only: no preference"),
    (None, ("ttl", "nt"), "ttl", "no preference, no HTML: the first available"),
    ("*/*", ALL, "html", "anything: server preference"),
    ("text/html", ALL, "html", "exact"),
    (BROWSER, ALL, "html", "a browser"),
    ("application/xhtml+xml", ALL, "html", "XHTML clients get the HTML"),
    ("text/turtle", ALL, "ttl", "exact"),
    ("application/ld+json", ALL, "jsonld", "exact"),
    ("application/json", ALL, "jsonld", "plain JSON clients get JSON-LD"),
    ("application/n-triples", ALL, "nt", "exact"),
    ("text/turtle;q=0.5, application/ld+json", ALL, "jsonld", "higher q wins"),
    ("application/ld+json;q=0.5, text/turtle;q=0.9", ALL, "ttl", "higher q wins, whatever the client's order"),
    ("application/n-triples, text/turtle", ALL, "ttl", "equal q: server order, not the client's"),
    ("text/turtle, */*", ALL, "ttl", "equal q: an exact match beats a wildcard"),
    ("text/turtle, */*;q=0.1", ALL, "ttl", "exact and preferred"),
    ("text/*", ALL, "html", "text/html and text/turtle match: server order"),
    ("application/*", ALL, "jsonld", "ld+json and n-triples match: server order (xhtml is an alias, exact only)"),
    ("application/*, */*", ALL, "jsonld", "equal q: type/* beats */*"),
    ("text/*;q=0.5, text/turtle;q=0.1", ALL, "html", "the most specific range sets q: ttl 0.1, html 0.5"),
    ("text/turtle;q=0.1, text/*;q=0.5", ALL, "html", "the same, in the other order"),
    ("text/html;q=0, */*", ALL, "ttl", "q=0: HTML refused, the rest by server order"),
    ("application/json;q=0, application/*", ALL, "jsonld", "refusing an alias refuses not application/ld+json"),
    ("image/png", ALL, None, "nothing we have"),
    ("application/rdf+xml", ALL, "rdf", "RDF/XML, for older harvesters"),
    ("application/n-quads", ALL, "nq", "N-Quads"),
    ("application/rdf+xml;q=0.9, text/turtle;q=0.8", ALL, "rdf", "higher q wins, last in server order or not"),
    ("application/rdf+xml", ALL[:4], None, "RDF/XML not available"),
    ("text/turtle;q=0", ALL, None, "refused, and nothing else asked for"),
    ("*/*;q=0", ALL, None, "everything refused"),
    ("*/*;q=0.1, text/html;q=0", ALL, "ttl", "HTML refused, the rest acceptable"),
    (JSONLD_COMPACTED, ALL, "jsonld", "parameters other than q are ignored"),
    (JSONLD_COMPACTED + ";q=0.5, text/turtle;q=0.4", ALL, "jsonld", "q after a parameter"),
    ('application/ld+json;profile="a,b;c", text/turtle;q=0.5', ALL, "jsonld", "separators inside quotes"),
    ("TEXT/TURTLE", ALL, "ttl", "types are case-insensitive"),
    ("Text/Turtle;Q=0.5, Application/LD+JSON;Q=0.4", ALL, "ttl", "so is the q parameter's name"),
    ("  text/turtle ;  q=0.5 ,\tapplication/n-triples ; q=0.4  ", ALL, "ttl", "whitespace around separators"),
    ("text/turtle;;q=0.5;", ALL, "ttl", "empty parameters are allowed"),
    ("text/turtle;q=abc", ALL, None, "invalid q: the element is ignored, and nothing is left"),
    ("text/turtle;q=abc, application/n-triples", ALL, "nt", "invalid q: only that element is ignored"),
    ("text/turtle;q=1.5", ALL, None, "q above 1 is invalid, not clamped"),
    ("text/turtle;q=-0.5", ALL, None, "negative q is invalid"),
    ("text/turtle;q=0.5000", ALL, None, "more than 3 decimals is invalid"),
    ("text/turtle;q=0.5;q=1, application/n-triples", ALL, "nt", "two q parameters: invalid"),
    ("text/turtle;q=1.000, application/n-triples;q=0.999", ALL, "ttl", "1.000 and 0.999 are valid"),
    ("text/turtle;level, application/n-triples", ALL, "nt", "a parameter without value: invalid element"),
    ('application/ld+json;profile="unclosed, text/turtle', ALL, None, "an open quote swallows the rest"),
    (",,;;", ALL, None, "garbage only: something was asked, nothing understood"),
    ("turtle, text/, /turtle, */turtle, text/tur tle", ALL, None, "not media ranges"),
    ("garbage, text/turtle", ALL, "ttl", "garbage is ignored beside a valid range"),
    ("text/html", ("ttl", "nt"), None, "HTML not available"),
    ("*/*", ("ttl", "nt"), "ttl", "server order of what is available"),
    ("*/*", ("nt", "ttl"), "nt", "the order of available is the server's preference"),
    ("text/turtle", (), None, "nothing available"),
    (None, (), None, "nothing available, no preference"),
]


@pytest.mark.parametrize(
    "accept, available, expected",
    [pytest.param(accept, available, expected, id=f"{accept!r} {why}") for accept, available, expected, why in EXAMPLES],
)
def test_negotiate(accept: str | None, available: tuple[str, ...], expected: str | None):
    assert negotiate(accept, available) == expected


def test_negotiate_defaults_to_every_representation():
    assert negotiate("application/n-triples") == "nt"
    assert negotiate("text/turtle", available=iter(["nt", "ttl"])) == "ttl"


def test_negotiate_rejects_an_unknown_extension():
    with pytest.raises(ValueError, match="'xml'"):
        negotiate("*/*", available=("ttl", "xml"))


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, []),
        ("", []),
        ("text/turtle", [("text/turtle", 1.0, 2)]),
        ("TEXT/Turtle ; Q=0.25", [("text/turtle", 0.25, 2)]),
        ("text/*;q=0", [("text/*", 0.0, 1)]),
        ("*/*;q=0.8", [("*/*", 0.8, 0)]),
        ("text/turtle;q=1.", [("text/turtle", 1.0, 2)]),
        (JSONLD_COMPACTED + ";q=0.5", [("application/ld+json", 0.5, 2)]),
        (
            BROWSER,
            [
                ("text/html", 1.0, 2),
                ("application/xhtml+xml", 1.0, 2),
                ("application/xml", 0.9, 2),
                ("*/*", 0.8, 0),
            ],
        ),
        ("text/turtle;q=abc, text/turtle;q=2, ,, ;;, foo, */html, text/html", [("text/html", 1.0, 2)]),
    ],
)
def test_parse_accept(header: str | None, expected: list[tuple[str, float, int]]):
    assert parse_accept(header) == expected


@pytest.mark.parametrize("extension, content_type", sorted(CONTENT_TYPES.items()))
def test_media_type_of(extension: str, content_type: str):
    assert media_type_of(extension) == content_type
    assert content_type.endswith("; charset=utf-8")
    assert negotiate(content_type.split(";")[0]) == extension, "a representation gets its own Content-Type"


def test_media_type_of_an_unknown_extension():
    with pytest.raises(KeyError):
        media_type_of("xml")


def test_tables_agree():
    assert set(MEDIA_TYPES.values()) == set(CONTENT_TYPES)
    assert "text/plain" not in MEDIA_TYPES
    for extension, content_type in CONTENT_TYPES.items():
        assert MEDIA_TYPES[content_type.split(";")[0]] == extension


def test_module_docstring_examples():
    failures, tried = doctest.testmod(conneg)
    assert tried and not failures
