"""Every id the id rule accepts answers at its IRI, on every server the site is published with.

A build of the good records and tests/records/ids/edge-ids.yaml (ids at the edges of the
rule: one letter, every character a part may hold, digits only, a page beside a directory
of others, three parts, a part of 200 bytes, an id of 1000, fragments, dot-parts that Apache's mod_mime
takes for a language, a charset or a handler of their own) is served by ``ndlld serve``, by
a real nginx with the generated configuration and by a real Apache with the generated
.htaccess. In each, every IRI of a described resource answers 200 with its page's file for
each media type, as does each file at its own URL, and every link of the index and of the
pages leads to a page. The ids outside the rule are refused by ``validate`` and ``build``
(tests/records/bad/id-*.yaml, in test_bad_input.py).
"""

from __future__ import annotations

import re
import shutil
import urllib.parse
from pathlib import Path

import pytest
import rdflib
import yaml
from lxml import html as lxml_html

from ndlld.build import build
from ndlld.conneg import CONTENT_TYPES
from ndlld.ids import ID_RULE, MAX_ID

from conftest import GOOD, TESTS, add_fixture, program, site_server
from conftest import http_fetch as fetch
from conftest import http_get as get

EDGE_IDS = TESTS / "records" / "ids" / "edge-ids.yaml"
BASE = "https://example.org/ndlld/"
ACCEPT = {"html": None, "ttl": "text/turtle", "jsonld": "application/ld+json", "nt": "application/n-triples"}

program("nginx", "nginx")
program("apache2", "apache2")


@pytest.fixture(scope="module")
def edge_dist(tmp_path_factory) -> Path:
    top = tmp_path_factory.mktemp("edge-ids")
    data = Path(shutil.copytree(GOOD, top / "data"))
    add_fixture(data, EDGE_IDS)
    build(data, top / "dist")
    return top / "dist"


@pytest.fixture(scope="module", params=["serve", "nginx", "apache"])
def server(request, edge_dist: Path, tmp_path_factory) -> str:
    """The edge build served by one of the three, on a loopback port, stopped by its pid."""
    with site_server(request.param, edge_dist, tmp_path_factory.mktemp(request.param)) as url:
        yield url


def described_ids(dist: Path) -> set[str]:
    """The ids of every resource of the build with a page, from its N-Triples dump."""
    graph = rdflib.Graph().parse(dist / "dataset.nt", format="nt")
    return {str(s)[len(BASE + "id/") :].partition("#")[0] for s in graph.subjects() if str(s).startswith(BASE + "id/")}


def test_the_build_holds_every_edge_id(edge_dist: Path):
    written = {node["id"] for node in yaml.safe_load(EDGE_IDS.read_text(encoding="utf-8"))["graph"]}
    ids = described_ids(edge_dist)
    assert {i for i in written if "#" not in i} <= ids and all(ID_RULE.fullmatch(i) for i in ids)
    assert {"x", "x/y", "x/y/z", "q" * 200, "/".join(["m" * 200] * 4 + ["m" * 196]), "0123456789", "a.b-c_d", "x.var", "x.sjis"} <= ids
    assert max(map(len, ids)) == MAX_ID
    assert (edge_dist / "id" / "x").is_dir() and (edge_dist / "id" / "x.html").is_file()


@pytest.mark.parametrize("extension", list(ACCEPT))
def test_every_iri_answers_with_its_page(server: str, edge_dist: Path, extension: str):
    """The IRI of each resource, with the server in place of the base: 303 to the page's
    file for the media type asked (``Vary: Accept``), which answers 200 with its
    Content-Type (charset included)."""
    failed = []
    for record_id in sorted(described_ids(edge_dist)):
        iri = f"{server}/id/{urllib.parse.quote(record_id)}"
        accept = {"Accept": ACCEPT[extension]} if ACCEPT[extension] else {}
        status, headers, _ = fetch(iri, headers=accept)
        document = urllib.parse.urljoin(iri, headers.get("Location", ""))
        if (status, document) != (303, f"{iri}.{extension}"):
            failed.append((record_id, status, headers.get("Location")))
        elif "Accept" not in re.split(r",\s*", headers.get("Vary", "")):
            failed.append((record_id, "Vary", headers.get("Vary")))
        status, headers, body = get(iri, ACCEPT[extension])  # the redirect followed
        expected = (edge_dist / "id" / f"{record_id}.{extension}").read_bytes()
        if (status, headers.get("Content-Type"), body == expected) != (200, CONTENT_TYPES[extension], True):
            failed.append((record_id, status, headers.get("Content-Type")))
    assert not failed


@pytest.mark.parametrize("extension", list(ACCEPT))
def test_every_file_of_a_page_answers_at_its_own_url(server: str, edge_dist: Path, extension: str):
    failed = []
    for record_id in sorted(described_ids(edge_dist)):
        status, headers, body = get(f"{server}/id/{record_id}.{extension}")
        if (status, headers.get("Content-Type"), body) != (
            200,
            CONTENT_TYPES[extension],
            (edge_dist / "id" / f"{record_id}.{extension}").read_bytes(),
        ):
            failed.append((record_id, status, headers.get("Content-Type")))
    assert not failed


def test_a_resource_with_a_fragment_is_on_the_page_its_iri_leads_to(server: str):
    """A client asks for the IRI without its fragment (RFC 3986 §3.5) and finds the
    resource described there, and the anchor of its section in the HTML."""
    for document, fragment in [("a", "f"), ("x/y/z", "p.q-r_s"), ("0123456789", "0")]:
        status, _, body = get(f"{server}/id/{document}", "text/turtle")
        assert status == 200
        graph = rdflib.Graph().parse(data=body, format="turtle", publicID=BASE + f"id/{document}")
        assert len(list(graph.predicate_objects(rdflib.URIRef(BASE + f"id/{document}#{fragment}")))) >= 4, document
        status, _, body = get(f"{server}/id/{document}")
        assert status == 200 and lxml_html.fromstring(body).xpath(f"//*[@id='{fragment}']"), document


def test_every_link_of_the_index_and_the_pages_leads_to_a_page(server: str, edge_dist: Path):
    """Where the site links a page, the page answers there (an id with '?' or '%2F' built a
    page its own link missed)."""
    pages = ["", *(f"id/{record_id}" for record_id in sorted(described_ids(edge_dist)))]
    linked: set[str] = set()
    for page in pages:
        tree = lxml_html.fromstring((edge_dist / (f"{page}.html" if page else "index.html")).read_bytes())
        for href in tree.xpath("//a/@href"):
            if not re.match(r"^[a-z]+:", href):
                linked.add(urllib.parse.urljoin(f"/{page}", href).partition("#")[0])
    assert {"/id/x.html", "/id/x/y.html", "/id/x.var.html", "/id/" + "q" * 200 + ".html"} <= linked
    failed = [(path, status) for path in sorted(linked) if (status := get(server + path)[0]) != 200]
    assert not failed
