"""The nginx configuration and the Apache .htaccess `ndlld build` writes, run by a real
nginx and a real Apache (Debian packages) on loopback ports: they negotiate resource IRIs
as `ndlld serve` does, and send the same security headers on every response."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ndlld.conneg import negotiate
from ndlld.server import SECURITY_HEADERS

from conftest import http_get as get
from conftest import program, site_server

program("nginx", "nginx")
program("apache2", "apache2")


@pytest.fixture(scope="module", params=["nginx", "apache"])
def static_server(request, real_dist: Path, tmp_path_factory) -> str:
    """The real build served by nginx with the generated site configuration, or by Apache
    with the generated .htaccess; each stopped by its pid."""
    with site_server(request.param, real_dist, tmp_path_factory.mktemp(request.param)) as url:
        yield url


COMMON = [
    None,
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "text/turtle",
    "application/ld+json",
    "application/n-triples",
    "application/json",
    "text/turtle, */*;q=0.1",
    "application/ld+json;profile=\"http://www.w3.org/ns/json-ld#compacted\"",
    "text/turtle;q=0.9, application/n-triples;q=0.8",
    "text/turtle;q=0.5, application/ld+json",
    "text/*",
    "application/*",
    "*/*",
    "TEXT/TURTLE",
]


@pytest.mark.parametrize("accept", COMMON)
def test_static_server_negotiates_as_ndlld_serve(static_server: str, real_dist: Path, accept):
    expected = negotiate(accept)
    status, headers, body = get(static_server + "/id/ifla", accept)
    assert status == 200
    assert body == (real_dist / "id" / f"ifla.{expected}").read_bytes()
    assert headers["Vary"] == "Accept"
    media_type = {"html": "text/html", "ttl": "text/turtle", "jsonld": "application/ld+json", "nt": "application/n-triples"}[expected]
    assert headers["Content-Type"] == f"{media_type}; charset=utf-8"


@pytest.mark.parametrize("accept", ["image/png", "application/rdf+xml", "text/turtle;q=0"])
def test_static_server_answers_406_when_nothing_fits(static_server: str, accept: str):
    status, headers, _ = get(static_server + "/id/ifla", accept)
    assert status == 406 and negotiate(accept) is None


def test_static_server_serves_files_pages_and_vocabulary(static_server: str, real_dist: Path):
    status, headers, body = get(static_server + "/id/country/jp.ttl", "text/html")
    assert status == 200 and headers["Content-Type"] == "text/turtle; charset=utf-8"
    assert body == (real_dist / "id" / "country" / "jp.ttl").read_bytes()
    status, headers, body = get(static_server + "/vocab", "text/turtle")
    assert status == 200 and body == (real_dist / "vocab.ttl").read_bytes()
    status, headers, body = get(static_server + "/")
    assert status == 200 and body == (real_dist / "index.html").read_bytes()
    assert get(static_server + "/id/nothing")[0] == 404
    status, headers, body = get(static_server + "/.well-known/void")
    assert status == 200 and headers["Content-Type"] == "text/turtle; charset=utf-8"
    assert body == (real_dist / "void.ttl").read_bytes()
    status, headers, _ = get(static_server + "/dataset.ndjson")
    assert headers["Content-Type"] == "application/x-ndjson; charset=utf-8"


@pytest.mark.parametrize("path, accept, status", [
    ("/", None, 200),
    ("/id/ifla", "text/turtle", 200),
    ("/id/ifla", "image/png", 406),
    ("/id/ifla.jsonld", None, 200),
    ("/vocab", None, 200),
    ("/static/style.css", None, 200),
    ("/.well-known/void", None, 200),
    ("/id/nothing", None, 404),
    ("/nothing", None, 404),
    ("/sparql", None, 404),
])
def test_static_server_sends_the_security_headers_of_ndlld_serve(static_server: str, path: str, accept, status: int):
    got, headers, _ = get(static_server + path, accept)
    assert got == status
    for name, value in SECURITY_HEADERS.items():
        assert headers.get_all(name) == [value], name  # once each, as ndlld serve sends them


def test_htaccess_sets_the_same_security_headers(real_dist: Path):
    """As text too: the lines a server without mod_headers passes by (<IfModule>)."""
    text = (real_dist / ".htaccess").read_text(encoding="utf-8")
    found = dict(re.findall(r'^\s*Header always set (\S+) "(.*)"$', text, flags=re.MULTILINE))
    assert {name: found.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
