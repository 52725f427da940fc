"""The nginx configuration and the Apache .htaccess `ndlld build` writes, run by a real
nginx and a real Apache (Debian packages) on loopback ports: they negotiate resource IRIs
as `ndlld serve` does, and send the same security headers on every response; nginx
bounds connections in time and per client as `ndlld serve` does."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from ndlld.conneg import CONTENT_TYPES, negotiate
from ndlld.server import SECURITY_HEADERS

from conftest import connect, nginx_serving, program, read_until_closed, sending_nothing, site_server, trickle
from conftest import http_get as get

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
    "application/rdf+xml",
    "application/n-quads",
    "application/json",
    "text/turtle, */*;q=0.1",
    'application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"',
    "text/turtle;q=0.9, application/n-triples;q=0.8",
    "text/turtle;q=0.5, application/ld+json",
    "text/*",
    "application/*",
    "*/*",
    "TEXT/TURTLE",
]


@pytest.mark.parametrize("accept", COMMON)
def test_static_server_negotiates_as_ndlld_serve(static_server: str, real_dist: Path, accept):
    """The 303 followed (tests/test_http.py has the redirect's own headers)."""
    expected = negotiate(accept)
    status, headers, body = get(static_server + "/id/ifla", accept)
    assert status == 200
    assert body == (real_dist / "id" / f"ifla.{expected}").read_bytes()
    assert headers["Content-Type"] == CONTENT_TYPES[expected]


@pytest.mark.parametrize("accept", ["image/png", "application/xml", "text/turtle;q=0"])
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


@pytest.mark.parametrize(
    "path, accept, status",
    [
        ("/", None, 200),
        ("/id/ifla", "text/turtle", 200),  # after the 303
        ("/id/ifla", "image/png", 406),
        ("/id/ifla.jsonld", None, 200),
        ("/vocab", None, 200),
        ("/static/style.css", None, 200),
        ("/.well-known/void", None, 200),
        ("/id/nothing", None, 404),
        ("/nothing", None, 404),
        ("/sparql", None, 200),  # the copy of its page, without an endpoint
        ("/search?q=ifla", None, 200),  # the same for search
    ],
)
def test_static_server_sends_the_security_headers_of_ndlld_serve(static_server: str, path: str, accept, status: int):
    got, headers, _ = get(static_server + path, accept)
    assert got == status
    for name, value in SECURITY_HEADERS.items():
        assert headers.get_all(name) == [value], name  # once each, as ndlld serve sends them


def test_the_search_form_leads_to_the_page_that_says_where_to_look(static_server: str, real_dist: Path):
    """Every page's header has the search form (action ``search``): without ``ndlld serve``
    behind the static server, it leads to the copy of the search page, which says so."""
    page = (real_dist / "id" / "ifla.html").read_text(encoding="utf-8")
    assert '<form class="find" role="search" method="get" action="../search">' in page
    status, headers, body = get(static_server + "/search?q=ifla")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert body == (real_dist / "search.html").read_bytes() and b"ndlld serve" in body
    assert get(static_server + "/reconcile")[0] == 404  # the API is the server's alone
    # A Japanese page's form is in Japanese, and keeps its language for `ndlld serve`'s answer.
    japanese = (real_dist / "id" / "ifla.ja.html").read_text(encoding="utf-8")
    assert '<input type="hidden" name="lang" value="ja">' in japanese and 'placeholder="検索"' in japanese


def test_htaccess_sets_the_same_security_headers(real_dist: Path):
    """As text too: the lines a server without mod_headers passes by (<IfModule>)."""
    text = (real_dist / ".htaccess").read_text(encoding="utf-8")
    found = dict(re.findall(r'^\s*Header always set (\S+) "(.*)"$', text, flags=re.MULTILINE))
    assert {name: found.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS


# -- connections bounded as `ndlld serve` bounds its own ---------------------------------
BIG = 40_000_000  # bytes: more than the kernel buffers for one connection
SHORT = {  # the generated limits, made short enough to wait for
    "client_header_timeout 10s;": "client_header_timeout 2s;",
    "client_body_timeout 30s;": "client_body_timeout 2s;",
    "keepalive_timeout 5s;": "keepalive_timeout 1s;",
    "send_timeout 30s;": "send_timeout 2s;",
    "limit_conn ndlld_per_client 32;": "limit_conn ndlld_per_client 1;",
}


@pytest.fixture(scope="module")
def tight_nginx(real_dist: Path, tmp_path_factory):
    """nginx with the generated configuration, its connection limits shortened, serving a
    copy of the build with a big file. Yields its URL and its error log."""
    root = Path(shutil.copytree(real_dist, tmp_path_factory.mktemp("tight") / "dist"))
    (root / "big.txt").write_bytes(b"0123456789abcde\n" * (BIG // 16))
    tmp = tmp_path_factory.mktemp("tight-nginx")
    with nginx_serving(root, tmp, SHORT) as url:
        yield url, tmp / "error.log"


def test_nginx_closes_a_connection_that_sends_nothing(tight_nginx):
    assert sending_nothing(tight_nginx[0]) == b""


def test_nginx_closes_a_connection_whose_headers_trickle_in(tight_nginx):
    url, _ = tight_nginx
    with connect(url) as connection:
        answer = trickle(connection, b"GET / HTTP/1.1\r\nHost: x\r\n", b"X-Slow: 1\r\n")
    assert answer == b""  # closed at the header deadline, answered nothing


def test_nginx_closes_an_idle_keep_alive_connection(tight_nginx):
    url, _ = tight_nginx
    with connect(url) as connection:
        connection.sendall(b"GET /vocab HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = read_until_closed(connection)
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.count(b"HTTP/1.1 ") == 1


def test_nginx_caps_requests_per_client_and_drops_one_that_stops_reading(tight_nginx):
    url, log = tight_nginx
    with connect(url, receive_buffer=4096) as stalled:
        stalled.sendall(b"GET /big.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        stalled.recv(1)  # its answer has begun, and stalls
        status, _, _ = get(url + "/vocab")
        assert status == 503  # one request in progress per address, here
        deadline = time.monotonic() + 60
        while "timed out (110: Connection timed out) while sending response" not in log.read_text(errors="replace"):
            assert time.monotonic() < deadline, "nginx kept waiting on a client that did not read"
            time.sleep(0.2)
        received = len(read_until_closed(stalled))  # what the kernel still held, then the end
    assert 0 < received < BIG
