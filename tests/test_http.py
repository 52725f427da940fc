"""HTTP as the Linked Data best practices have it, side by side: every case of the table
below is one request, sent to `ndlld serve`, to a real nginx with the server/nginx.conf
`ndlld build` writes and to a real Apache with the .htaccess it writes, and what each of
the three must answer: the same status and the same headers that matter.

The site is the real data, released once, then built again without one record: that
resource answers 410 Gone. Standards: RFC 9110 (status codes, Vary, conditional
requests, content codings), RFC 8288 (Link), "Cool URIs for the Semantic Web"
(https://www.w3.org/TR/cooluris/: 303 See Other from a thing to its documents),
Fetch (CORS), the Sitemaps protocol (robots.txt)."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from pyoxigraph import RdfFormat, parse

from ndlld.build import build
from ndlld.conneg import CONTENT_TYPES, negotiate
from ndlld.server import SECURITY_HEADERS

from conftest import DATA, GONE, free_port, program, server_process, site_server
from conftest import http_fetch as fetch

program("nginx", "nginx")
program("apache2", "apache2")

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.fixture(scope="module")
def site(released_and_deleted: Path) -> Path:
    """The real data released as 0.1.0, then built again without one record (GONE)."""
    return released_and_deleted


@pytest.fixture(scope="module", params=["serve", "nginx", "apache"])
def server(request, site: Path, tmp_path_factory) -> str:
    with site_server(request.param, site, tmp_path_factory.mktemp(request.param)) as url:
        yield url


def links(name: str, relation: str) -> str:
    """The Link header naming each document of *name*, relative to the resource's URL: the
    page in English and in Japanese, then the RDF."""
    pages = [f'<{name}.html>; rel="{relation}"; type="text/html"; hreflang="en"']
    pages.append(f'<{name}.ja.html>; rel="{relation}"; type="text/html"; hreflang="ja"')
    rdf = [f'<{name}.{ext}>; rel="{relation}"; type="{CONTENT_TYPES[ext].split(";")[0]}"' for ext in list(CONTENT_TYPES)[1:]]
    return ", ".join(pages + rdf)


def tokens(headers: http.client.HTTPMessage, name: str) -> set[str]:
    """The comma-separated values of every *name* header, lowercased."""
    return {value.strip().lower() for line in headers.get_all(name) or [] for value in line.split(",") if value.strip()}


@dataclass(frozen=True)
class Case:
    """A request, and what every server must answer. *headers*: exact values; *vary*: tokens
    the Vary header must hold; *location*: the path the Location resolves to; *absent*:
    headers there must not be; *conditional*: the validator (ETag or Last-Modified) of a
    first GET, sent back as If-None-Match or If-Modified-Since."""

    path: str
    request: dict = field(default_factory=dict)
    status: int = 200
    headers: dict = field(default_factory=dict)
    vary: tuple[str, ...] = ()
    location: str | None = None
    absent: tuple[str, ...] = ()
    conditional: str | None = None
    method: str = "GET"


def thing(accept: str | None, document: str, path: str = "/id/ifla", language: str | None = None) -> Case:
    name = path.rsplit("/", 1)[-1]
    request = {"Accept": accept} if accept is not None else {}
    return Case(
        path,
        {**request, "Accept-Language": language} if language is not None else request,
        303,
        {"Link": links(name, "describedby")},
        vary=("accept", "accept-language"),
        location=f"{path}.{document}",
    )


def document(path: str, extension: str, **more) -> Case:
    name = path.rsplit("/", 1)[-1]
    headers = {"Content-Type": CONTENT_TYPES[extension.rpartition(".")[2]], "Link": links(name, "alternate")}
    if extension.endswith("html"):  # a page says its language
        headers["Content-Language"] = "ja" if extension == "ja.html" else "en"
    return Case(f"{path}.{extension}", more.pop("request", {}), 200, headers, **more)


JAPANESE = "ja,en-US;q=0.9,en;q=0.8"  # Chromium set to Japanese
ENGLISH_THEN_JAPANESE = "en-GB,en;q=0.9,ja;q=0.8"


HTML = CONTENT_TYPES["html"]
CASES = {
    # A thing: 303 See Other to the document the Accept header chooses.
    "thing, no Accept": thing(None, "html"),
    "thing, a browser": thing(BROWSER, "html"),
    "thing, Turtle": thing("text/turtle", "ttl"),
    "thing, JSON-LD": thing("application/ld+json", "jsonld"),
    "thing, JSON-LD with a profile": thing('application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"', "jsonld"),
    "thing, N-Triples": thing("application/n-triples", "nt"),
    "thing, RDF/XML": thing("application/rdf+xml", "rdf"),
    "thing, N-Quads": thing("application/n-quads", "nq"),
    "thing, plain JSON": thing("application/json", "jsonld"),
    "thing, Turtle before anything": thing("text/turtle, */*;q=0.1", "ttl"),
    "thing, a nested id": thing("text/turtle", "ttl", "/id/country/jp"),
    "thing, HEAD": Case("/id/ifla", {"Accept": "text/turtle"}, 303, vary=("accept",), location="/id/ifla.ttl", method="HEAD"),
    "thing, nothing acceptable": Case("/id/ifla", {"Accept": "image/png"}, 406, vary=("accept",)),
    # The page in the language Accept-Language chooses (English by default).
    "thing, a Japanese browser": thing(BROWSER, "ja.html", language=JAPANESE),
    "thing, Japanese by its region only": thing(BROWSER, "ja.html", language="ja-JP"),
    "thing, English before Japanese": thing(BROWSER, "html", language=ENGLISH_THEN_JAPANESE),
    "thing, Japanese refused": thing(BROWSER, "html", language="ja;q=0, fr"),
    "thing, a language there is no page in": thing(BROWSER, "html", language="fr-CH, fr;q=0.9"),
    "thing, Japanese, no Accept": thing(None, "ja.html", language="ja"),
    "thing, Japanese, Turtle": thing("text/turtle", "ttl", language=JAPANESE),
    "thing, Japanese, a nested id": thing(BROWSER, "ja.html", "/id/country/jp", language=JAPANESE),
    # Its documents: files, with a Link to each variant.
    "document, HTML": document("/id/ifla", "html"),
    "document, the Japanese page": document("/id/ifla", "ja.html", request={"Accept-Language": "en"}),
    "document, the English page to a Japanese browser": document("/id/ifla", "html", request={"Accept-Language": JAPANESE}),
    "document, Turtle": document("/id/ifla", "ttl", request={"Accept": "text/html"}),
    "document, JSON-LD": document("/id/ifla", "jsonld"),
    "document, N-Triples": document("/id/ifla", "nt"),
    "document, RDF/XML": document("/id/ifla", "rdf"),
    "document, N-Quads": document("/id/ifla", "nq"),
    "document, nested": document("/id/country/jp", "ttl"),
    # The vocabulary is a document already: 200 with the variant chosen.
    "vocabulary, Turtle": Case(
        "/vocab",
        {"Accept": "text/turtle"},
        200,
        {"Content-Type": CONTENT_TYPES["ttl"], "Content-Location": "vocab.ttl", "Link": links("vocab", "alternate")},
        vary=("accept",),
    ),
    "vocabulary, RDF/XML": Case(
        "/vocab",
        {"Accept": "application/rdf+xml"},
        200,
        {"Content-Type": CONTENT_TYPES["rdf"], "Content-Location": "vocab.rdf"},
        vary=("accept",),
    ),
    "vocabulary, no Accept": Case("/vocab", {}, 200, {"Content-Type": HTML, "Content-Location": "vocab.html"}, vary=("accept",)),
    "vocabulary, a Japanese browser": Case(
        "/vocab",
        {"Accept": BROWSER, "Accept-Language": JAPANESE},
        200,
        {"Content-Type": HTML, "Content-Location": "vocab.ja.html", "Content-Language": "ja"},
        vary=("accept", "accept-language"),
    ),
    "vocabulary, Turtle to a Japanese browser": Case(
        "/vocab", {"Accept": "text/turtle", "Accept-Language": JAPANESE}, 200, {"Content-Location": "vocab.ttl"}, vary=("accept",)
    ),
    "vocabulary, the Japanese page": document("/vocab", "ja.html"),
    "vocabulary, nothing acceptable": Case("/vocab", {"Accept": "image/png"}, 406, vary=("accept",)),
    "vocabulary document": document("/vocab", "nq"),
    # Conditional requests: the client has it already.
    "document, If-None-Match": Case("/id/ifla.ttl", {}, 304, conditional="ETag"),
    "document, If-Modified-Since": Case("/id/ifla.html", {}, 304, conditional="Last-Modified"),
    "index, If-None-Match": Case("/", {}, 304, conditional="ETag"),
    # The same for the page Accept-Language chose: the validator is that page's, and the answer varies.
    "index, Japanese, If-None-Match": Case("/", {"Accept-Language": JAPANESE}, 304, vary=("accept-language",), conditional="ETag"),
    "vocabulary, Japanese, If-None-Match": Case(
        "/vocab", {"Accept": BROWSER, "Accept-Language": JAPANESE}, 304, vary=("accept", "accept-language"), conditional="ETag"
    ),
    "Japanese page, If-Modified-Since": Case("/id/ifla.ja.html", {}, 304, conditional="Last-Modified"),
    "document, If-None-Match of another version": Case("/id/ifla.ttl", {"If-None-Match": '"0-0"'}, 200),
    "dump, If-Modified-Since": Case("/dataset.nt", {}, 304, conditional="Last-Modified"),
    # Compression, for clients that accept it.
    "page, gzip": Case(
        "/id/ifla.html", {"Accept-Encoding": "gzip"}, 200, {"Content-Encoding": "gzip", "Content-Type": HTML}, vary=("accept-encoding",)
    ),
    "Turtle, gzip": Case(
        "/id/ifla.ttl", {"Accept-Encoding": "gzip, deflate"}, 200, {"Content-Encoding": "gzip"}, vary=("accept-encoding",)
    ),
    "RDF/XML, gzip": Case("/id/ifla.rdf", {"Accept-Encoding": "gzip"}, 200, {"Content-Encoding": "gzip"}, vary=("accept-encoding",)),
    "page, no gzip asked": Case("/id/ifla.html", {}, 200, absent=("Content-Encoding",)),
    "a gzip file is not compressed again": Case(
        "/dataset.nt.gz", {"Accept-Encoding": "gzip"}, 200, {"Content-Type": "application/gzip"}, absent=("Content-Encoding",)
    ),
    # CORS: scripts on other sites may read the data and the context.
    "CORS, a document": Case(
        "/id/ifla.jsonld",
        {"Origin": "https://example.org"},
        200,
        {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Link, Content-Location, ETag"},
    ),
    "CORS, the context": Case(
        "/context.jsonld",
        {"Origin": "https://example.org"},
        200,
        {"Access-Control-Allow-Origin": "*", "Content-Type": CONTENT_TYPES["jsonld"]},
    ),
    "CORS, a dump": Case("/dataset.ttl", {"Origin": "https://example.org"}, 200, {"Access-Control-Allow-Origin": "*"}),
    "CORS, a redirect": Case(
        "/id/ifla", {"Origin": "https://example.org", "Accept": "text/turtle"}, 303, {"Access-Control-Allow-Origin": "*"}
    ),
    # Missing and gone.
    "missing thing": Case("/id/nothing", {}, 404, {"Content-Type": HTML}),
    "missing thing, Turtle asked": Case("/id/nothing", {"Accept": "text/turtle"}, 404, {"Content-Type": HTML}),
    "missing document": Case("/id/nothing.ttl", {}, 404, {"Content-Type": HTML}),
    "missing file": Case("/nothing/at/all.css", {}, 404, {"Content-Type": HTML}),
    "gone thing": Case(f"/id/{GONE}", {"Accept": "text/turtle"}, 410, {"Content-Type": HTML}),
    "gone document": Case(f"/id/{GONE}.ttl", {}, 410, {"Content-Type": HTML}),
    "gone page": Case(f"/id/{GONE}.html", {}, 410, {"Content-Type": HTML}),
    "gone thing, Japanese": Case(f"/id/{GONE}", {"Accept-Language": JAPANESE}, 410, {"Content-Type": HTML}, vary=("accept-language",)),
    "gone Japanese page": Case(f"/id/{GONE}.ja.html", {}, 410, {"Content-Type": HTML}),
    "missing, Japanese": Case("/nothing/at/all.css", {"Accept-Language": JAPANESE}, 404, {"Content-Type": HTML}, vary=("accept-language",)),
    # Files of the site.
    "index": Case("/", {}, 200, {"Content-Type": HTML, "Content-Language": "en"}, vary=("accept-language",)),
    "index, a Japanese browser": Case(
        "/", {"Accept-Language": JAPANESE}, 200, {"Content-Type": HTML, "Content-Language": "ja"}, vary=("accept-language",)
    ),
    "index, English before Japanese": Case("/", {"Accept-Language": ENGLISH_THEN_JAPANESE}, 200, {"Content-Language": "en"}),
    "index, the Japanese page": Case("/index.ja.html", {}, 200, {"Content-Type": HTML, "Content-Language": "ja"}),
    "SPARQL form, a Japanese browser": Case(
        "/sparql", {"Accept": BROWSER, "Accept-Language": JAPANESE}, 200, {"Content-Type": HTML}, vary=("accept-language",)
    ),
    "robots.txt": Case("/robots.txt", {}, 200, {"Content-Type": "text/plain; charset=utf-8"}),
    "VoID at its well-known address": Case("/.well-known/void", {}, 200, {"Content-Type": "text/turtle; charset=utf-8"}),
    "sitemap": Case("/sitemap.xml", {}, 200, {"Content-Type": "application/xml; charset=utf-8"}),
    "the search page's static copy": Case("/search.html", {}, 200, {"Content-Type": "text/html; charset=utf-8"}),
    "search page, a Japanese browser": Case(
        "/search", {"Accept": BROWSER, "Accept-Language": JAPANESE}, 200, {"Content-Type": HTML}, vary=("accept-language",)
    ),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_every_server_answers_alike(server: str, case: Case):
    request = dict(case.request)
    if case.conditional:
        _, first, _ = fetch(server + case.path, headers=case.request)
        request["If-None-Match" if case.conditional == "ETag" else "If-Modified-Since"] = first[case.conditional]
    status, headers, body = fetch(server + case.path, case.method, request)
    assert status == case.status, body[:300]
    for name, value in case.headers.items():
        assert headers.get_all(name) == [value], name
    assert set(case.vary) <= tokens(headers, "Vary")
    for name in case.absent:
        assert headers.get(name) is None, name
    if case.location is not None:
        assert urlsplit(urljoin(server + case.path, headers["Location"])).path == case.location
    if status == 200 and case.method == "GET" and case.path not in ("/sparql", "/search"):  # serve makes the forms: no file
        assert headers["ETag"] and headers["Last-Modified"]
    if status != 304:  # a 304 need not repeat them: the client has the response they came with
        for name, value in SECURITY_HEADERS.items():
            assert headers.get_all(name) == [value], name


# -- serve's answers kept in memory (ndlld/httpcache.py) -----------------------------------
@pytest.fixture(scope="module")
def serve_twice(site: Path):
    """`ndlld serve` as it runs, and with no answer kept (--page-cache 0); one process each,
    so that a request sent twice to the first meets the answer the first time left."""
    with contextlib.ExitStack() as servers:
        urls = []
        for more in ([], ["--page-cache", "0"]):
            port = free_port()
            command = [sys.executable, "-m", "ndlld", "serve", "--out", str(site), "--port", str(port), "--processes", "1", *more]
            urls.append(servers.enter_context(server_process(command, "/", port))[0])
        yield urls


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_a_kept_answer_is_the_applications(serve_twice: list[str], case: Case):
    """The whole answer, every header but Date in its order and the body, byte for byte."""
    answers = []
    for url, times in zip(serve_twice, (2, 1)):
        request = dict(case.request)
        if case.conditional:
            _, first, _ = fetch(url + case.path, headers=case.request)
            request["If-None-Match" if case.conditional == "ETag" else "If-Modified-Since"] = first[case.conditional]
        for _ in range(times):
            status, headers, body = fetch(url + case.path, case.method, request)
        answers.append((status, [(name.lower(), value) for name, value in headers.items() if name.lower() != "date"], body))
    assert answers[0] == answers[1]


# -- what the bodies are ---------------------------------------------------------------
@pytest.mark.parametrize("accept", [None, BROWSER, "text/turtle", "application/rdf+xml", "application/n-quads", "*/*", "text/*"])
def test_a_redirect_leads_to_the_chosen_file(server: str, site: Path, accept):
    _, headers, _ = fetch(server + "/id/ifla", headers={"Accept": accept} if accept else {})
    target = urljoin(server + "/id/ifla", headers["Location"])
    status, _, body = fetch(target)
    assert status == 200 and body == (site / "id" / f"ifla.{negotiate(accept)}").read_bytes()


def test_the_descriptions_say_the_same_in_every_format(server: str):
    graphs = {}
    for extension, rdf_format in (
        ("ttl", RdfFormat.TURTLE),
        ("jsonld", RdfFormat.JSON_LD),
        ("nt", RdfFormat.N_TRIPLES),
        ("rdf", RdfFormat.RDF_XML),
        ("nq", RdfFormat.N_QUADS),
    ):
        status, _, body = fetch(f"{server}/id/ifla.{extension}")
        assert status == 200
        graphs[extension] = {(q.subject, q.predicate, q.object, q.graph_name) for q in parse(body, format=rdf_format)}
    assert len(graphs["ttl"]) > 10  # no blank nodes: the same terms in every format
    for extension, graph in graphs.items():
        assert graph == graphs["ttl"], extension


def test_a_compressed_answer_is_the_file(server: str, site: Path):
    status, headers, body = fetch(server + "/id/ifla.rdf", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == (site / "id" / "ifla.rdf").read_bytes()


def test_the_404_page_links_back_to_the_index(server: str, site: Path):
    status, _, body = fetch(server + "/id/nothing/deeper")
    assert status == 404 and body == (site / "404.html").read_bytes()
    assert b'<a href="/index.html">' in body


def test_the_410_page_names_the_last_release_that_had_it(server: str):
    status, _, body = fetch(f"{server}/id/{GONE}")
    assert status == 410
    text = body.decode("utf-8")
    assert f"https://w3id.org/ndlld/id/{GONE}" in text and "<strong>0.1.0</strong>" in text
    assert 'href="../releases/0.1.0/dataset.ttl"' in text
    assert fetch(f"{server}/releases/0.1.0/dataset.ttl")[0] == 200  # where it points is there


def test_robots_txt_names_the_sitemap(server: str):
    status, _, body = fetch(server + "/robots.txt")
    assert status == 200 and "\nSitemap: https://w3id.org/ndlld/sitemap.xml\n" in body.decode()
    assert "\nDisallow: /sparql\nDisallow: /search\nDisallow: /reconcile\n" in body.decode()


# -- the build's side ------------------------------------------------------------------
def test_a_resource_back_in_the_data_is_no_longer_gone(site: Path, tmp_path: Path):
    data = Path(shutil.copytree(DATA, tmp_path / "data"))
    out = Path(shutil.copytree(site, tmp_path / "dist", symlinks=True))
    build(data, out)
    assert not (out / "gone").exists()
    assert (out / "id" / f"{GONE}.html").is_file()


def test_the_configurations_advertise_the_endpoint_the_data_names(site: Path):
    nginx = (site / "server" / "nginx.conf").read_text(encoding="utf-8")
    assert "void:sparqlEndpoint <https://w3id.org/ndlld/sparql>" in nginx
    assert "#   proxy_pass http://127.0.0.1:8000;" in nginx
    void = (site / "void.ttl").read_text(encoding="utf-8")
    assert "<https://w3id.org/ndlld/sparql>" in void


# -- serve on every core -----------------------------------------------------------------
def server_processes(pid: int) -> list[int]:
    """The processes *pid* started (serve's server processes; their query workers are theirs)."""
    found = subprocess.run(["ps", "--ppid", str(pid), "-o", "pid="], capture_output=True, text=True, check=True).stdout
    return [int(line) for line in found.split()]


def test_serve_answers_from_as_many_processes_as_asked(site: Path):
    port = free_port()
    command = [sys.executable, "-m", "ndlld", "serve", "--out", str(site), "--port", str(port), "--processes", "3", "--query-workers", "3"]
    with server_process(command, "/", port) as (url, process):  # and on SIGTERM, exit 0
        assert len(server_processes(process.pid)) == 3
        statuses = [fetch(url + "/id/ifla", headers={"Accept": "text/turtle"})[0] for _ in range(30)]
        assert statuses == [303] * 30
        status, _, body = fetch(url + "/sparql?query=ASK%7B%7D")
        assert status == 200 and b"true" in body


def test_a_port_taken_stops_serve_with_one_line(site: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for processes in ("1", "2"):
            run = subprocess.run(
                [sys.executable, "-m", "ndlld", "serve", "--out", str(site), "--port", str(port), "--processes", processes],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert run.returncode == 3, run.stderr  # the documented code of a taken port
            assert run.stderr.strip().count("\n") == 0 and "Traceback" not in run.stderr
            assert f"127.0.0.1:{port}" in run.stderr


# -- the language of the pages -------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "language", "page"),
    [
        ("/id/ifla", JAPANESE, "id/ifla.ja.html"),
        ("/id/ifla", ENGLISH_THEN_JAPANESE, "id/ifla.html"),
        ("/", JAPANESE, "index.ja.html"),
        ("/", None, "index.html"),
        ("/vocab", JAPANESE, "vocab.ja.html"),
        ("/id/nothing", JAPANESE, "404.ja.html"),
        ("/id/nothing", None, "404.html"),
        (f"/id/{GONE}", JAPANESE, f"gone/id/{GONE}.ja.html"),
        (f"/id/{GONE}.ttl", JAPANESE, f"gone/id/{GONE}.ja.html"),
        (f"/id/{GONE}.html", JAPANESE, f"gone/id/{GONE}.html"),
        (f"/id/{GONE}", None, f"gone/id/{GONE}.html"),
    ],
)
def test_accept_language_chooses_the_page(server: str, site: Path, path: str, language: str | None, page: str):
    """Followed as a browser follows a 303: the body is the build's page in the language chosen."""
    headers = {"Accept": BROWSER, **({"Accept-Language": language} if language else {})}
    status, answer_headers, body = fetch(server + path, headers=headers)
    if status == 303:
        status, _, body = fetch(urljoin(server + path, answer_headers["Location"]), headers=headers)
    assert body == (site / page).read_bytes()
    expected_lang = "ja" if page.endswith(".ja.html") else "en"
    assert f'<html lang="{expected_lang}">'.encode() in body


def test_a_validator_of_one_languages_page_is_not_the_others(server: str):
    """The English index's ETag, sent by a browser now set to Japanese: the Japanese index, whole."""
    _, english, _ = fetch(server + "/")
    status, headers, body = fetch(server + "/", headers={"Accept-Language": JAPANESE, "If-None-Match": english["ETag"]})
    assert status == 200 and headers["Content-Language"] == "ja" and b'<html lang="ja">' in body
    assert headers["ETag"] != english["ETag"]


def test_the_sparql_form_follows_accept_language(server: str):
    status, _, body = fetch(server + "/sparql", headers={"Accept": BROWSER, "Accept-Language": JAPANESE})
    assert status == 200 and b'<html lang="ja">' in body and "登録済みの検索式".encode() in body
    status, _, body = fetch(server + "/sparql", headers={"Accept": BROWSER})
    assert status == 200 and b'<html lang="en">' in body and b"Named queries" in body


def test_the_search_page_follows_accept_language(server: str):
    """`ndlld serve`'s form, or the static servers' copy of the page (search.ja.html): in Japanese for a Japanese browser."""
    status, _, body = fetch(server + "/search", headers={"Accept": BROWSER, "Accept-Language": JAPANESE})
    assert status == 200 and b'<html lang="ja">' in body and "<h1>検索</h1>".encode() in body
    status, _, body = fetch(server + "/search", headers={"Accept": BROWSER})
    assert status == 200 and b'<html lang="en">' in body and b"<h1>Search</h1>" in body
