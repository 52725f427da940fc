"""The pages in a real browser: Debian's Chromium, driven by Playwright, against a
real `ndlld serve`. It opens the index, follows a link to an organization,
reads the embedded JSON-LD from the DOM, and leaves a screenshot of each page
in tests/output/ for a person to look at. The pages are served with the
Content-Security-Policy of ndlld serve: styles, the inline SVG pictures and the
embedded JSON-LD must still work (a CSP violation is a console error, which
fails every test here), and a script slipped into a page must not run."""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import extruct
import pytest
import rdflib
from rdflib.compare import isomorphic

from ndlld.server import SECURITY_HEADERS

from conftest import GONE, TESTS, free_port, server_process
from test_site import to_graph

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
]
OUTPUT = TESTS / "output"

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError("chromium is not installed: .ci/run installs it (apt-get install chromium)")
    pytest.skip("Debian chromium is not installed here (CI installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as instance:
        yield instance


def launch(playwright, profile: Path, **options):
    """Debian's Chromium in a fresh user-data directory (never a downloaded browser)."""
    return playwright.chromium.launch_persistent_context(
        user_data_dir=str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS, **options
    )


def _context(playwright, tmp_path_factory, **options):
    context = launch(playwright, tmp_path_factory.mktemp("chromium-profile"), viewport={"width": 1280, "height": 900}, **options)
    yield context
    context.close()


@pytest.fixture(scope="module")
def browser(playwright, tmp_path_factory):
    yield from _context(playwright, tmp_path_factory)


@pytest.fixture(scope="module")
def japanese_browser(playwright, tmp_path_factory):
    """Chromium set to Japanese: it sends Accept-Language: ja-JP,ja;q=0.9."""
    yield from _context(playwright, tmp_path_factory, locale="ja-JP")


MISSING = "/id/nothing"  # asked for on purpose: its 404 (and the icon the browser then asks for) is no fault


def _guarded_tab(browser, served: str):
    """A tab that refuses every request that would leave the local server."""
    tab = browser.new_page()
    outside: list[str] = []
    host = urlsplit(served).netloc

    def guard(route):
        if urlsplit(route.request.url).netloc == host:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    def noted(message) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith((MISSING, "/favicon.ico")):
            errors.append(f"{message.text} {message.location.get('url')}")

    tab.route("**/*", guard)
    errors: list[str] = []
    tab.on("console", noted)
    yield tab
    tab.close()
    assert outside == [], "the page tried to load resources from elsewhere"
    assert errors == []


@pytest.fixture
def page(browser, served):
    yield from _guarded_tab(browser, served)


@pytest.fixture
def japanese_page(japanese_browser, served):
    yield from _guarded_tab(japanese_browser, served)


def dom_jsonld(page) -> list[dict]:
    texts = page.eval_on_selector_all('script[type="application/ld+json"]', "elements => elements.map(e => e.textContent)")
    return [json.loads(text) for text in texts]


def test_index_then_an_organization(page, served: str, real_dist: Path):
    OUTPUT.mkdir(exist_ok=True)
    page.goto(served + "/")
    assert page.title() == "The National Diet Library's international cooperation network"
    assert page.locator("figure svg").count() == 2
    [dataset] = dom_jsonld(page)
    assert "Dataset" in json.dumps(dataset)
    page.screenshot(path=str(OUTPUT / "index.png"), full_page=True)

    page.locator("section.organizations a", has_text="International Federation of Library Associations").click()
    page.wait_for_url(served + "/id/ifla.html")  # the IRI answers 303 to its page
    assert page.locator("h1").inner_text() == "International Federation of Library Associations and Institutions"
    assert page.locator("section.timeline li").count() == 2
    [document] = dom_jsonld(page)
    described = rdflib.Graph().parse(real_dist / "id" / "ifla.nt", format="nt")
    own = rdflib.Graph()  # the page embeds the resource's own statements; its .nt has the links to it too
    for triple in described.triples((None, None, None)):
        if str(triple[0]).partition("#")[0] == "https://w3id.org/ndlld/id/ifla":
            own.add(triple)
    assert isomorphic(to_graph(document), own) and len(own) < len(described)
    page.screenshot(path=str(OUTPUT / "ifla.png"), full_page=True)


def test_network_picture_links_to_pages(page, served: str):
    page.goto(served + "/")
    page.locator("figure svg a[href='id/cdnlao.html']").first.click()
    page.wait_for_url(served + "/id/cdnlao.html")  # the IRI answers 303 to its page
    assert "Asia and Oceania" in page.locator("h1").inner_text()
    page.screenshot(path=str(OUTPUT / "cdnlao.png"), full_page=True)


def test_readable_without_javascript(playwright, served: str, tmp_path: Path):
    context = launch(playwright, tmp_path / "profile", java_script_enabled=False)
    tab = context.new_page()
    tab.goto(served + "/id/ndl")
    assert tab.locator("h1").inner_text() == "National Diet Library"
    assert tab.locator("p.name-ja[lang=ja]").first.inner_text() == "国立国会図書館"
    assert tab.locator("section.timeline li").count() >= 5
    context.close()


def test_the_security_policy_keeps_styles_pictures_and_jsonld(page, served: str, real_dist: Path):
    response = page.goto(served + "/id/ifla")
    assert response.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    # static/style.css is applied, and so is the <style> inside the inline SVG picture
    assert page.eval_on_selector("header.site", "e => getComputedStyle(e).backgroundColor") == "rgb(243, 245, 248)"
    page.goto(served + "/")
    assert page.eval_on_selector("figure svg .edge line", "e => getComputedStyle(e).stroke") == "rgb(91, 100, 114)"
    # the JSON-LD block is data, not script: the DOM has it, and pyld and extruct read it
    [dataset] = dom_jsonld(page)
    assert len(to_graph(dataset)) > 10
    with urllib.request.urlopen(served + "/", timeout=10) as answer:
        assert answer.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]
        html = answer.read().decode("utf-8")
    assert extruct.extract(html, syntaxes=["json-ld"], uniform=False)["json-ld"] == [dataset]


def test_the_security_policy_stops_an_injected_script(browser, served: str):
    tab = browser.new_page()
    violations: list[str] = []
    tab.on("console", lambda message: violations.append(message.text) if message.type == "error" else None)
    tab.goto(served + "/id/ifla")
    tab.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "document.body.dataset.injected = 'ran'";
        document.body.append(script);
    }""")
    assert tab.evaluate("() => document.body.dataset.injected") is None
    assert any("Content Security Policy" in text for text in violations)
    tab.close()


# -- accessibility: axe-core (bundled by axe-playwright-python, never from a CDN) ---------------


def _kinds_of_page(dist: Path) -> dict[str, str]:
    """One page of each kind the site has: the index, the vocabulary, the SPARQL form, the
    404 page, and a resource page
    of every type the dataset has (each type's first, by id), the NDL's (the largest) and
    IFLA's (roles and counts in sections)."""
    dataset = rdflib.Graph().parse(dist / "dataset.nt", format="nt")
    pages = {
        "index": "/",
        "vocabulary": "/vocab",
        "ndl": "/id/ndl",
        "ifla": "/id/ifla",
        "sparql": "/sparql",
        "not found": "/404.html",
    }  # the page of a 404, as a file
    base = "https://w3id.org/ndlld/"
    for kind in sorted(set(dataset.objects(None, rdflib.RDF.type))):
        documents = sorted(str(s) for s in dataset.subjects(rdflib.RDF.type, kind) if "#" not in str(s))
        if documents:
            pages[str(kind).rpartition("/")[2]] = "/" + documents[0].removeprefix(base)
    return pages


def test_every_kind_of_page_has_no_accessibility_violation(page, served: str, real_dist: Path):
    """axe-core, run in Debian's Chromium on each kind of page, finds no violation of any
    impact (WCAG 2 A and AA and axe's best practices)."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    kinds = _kinds_of_page(real_dist)
    assert len(kinds) >= 12
    found = {}
    for kind, path in kinds.items():
        page.goto(served + path)
        results = axe.run(page, options={"resultTypes": ["violations"]}).response
        assert results["testEngine"]["name"] == "axe-core" and len(results["passes"]) > 10 and results["url"] == page.url
        assert page.url in (served + path, served + path + ".html")  # a resource's IRI answers 303 to its page
        assert page.evaluate("() => document.documentElement.lang") == "en"
        found[kind] = [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in results["violations"]]
    assert found == {kind: [] for kind in kinds}


def test_axe_finds_what_it_is_asked_to_find(page, served: str):
    """The check above can fail: axe sees a link put inside a picture with role="img"
    (nested-interactive), the fault the index once had."""
    from axe_playwright_python.sync_playwright import Axe

    page.goto(served + "/")
    page.eval_on_selector("figure svg", "svg => svg.setAttribute('role', 'img')")
    results = Axe().run(page).response
    assert "nested-interactive" in {v["id"] for v in results["violations"]}


def test_the_vocabulary_page_has_contents_and_embeds_the_vocabulary(page, served: str, real_dist: Path):
    """Like pyLODE's pages: a table of contents leading to every term, and the vocabulary as
    JSON-LD, the same graph as vocab.nt for the DOM, pyld and extruct alike."""
    page.goto(served + "/vocab")
    [document] = dom_jsonld(page)
    vocabulary = rdflib.Graph().parse(real_dist / "vocab.nt", format="nt")
    assert len(vocabulary) > 50 and isomorphic(to_graph(document), vocabulary)
    with urllib.request.urlopen(served + "/vocab", timeout=10) as answer:
        assert extruct.extract(answer.read().decode("utf-8"), syntaxes=["json-ld"], uniform=False)["json-ld"] == [document]
    targets = page.eval_on_selector_all("nav.toc a", "links => links.map(a => a.getAttribute('href'))")
    ids = page.eval_on_selector_all("[id]", "elements => elements.map(e => e.id)")
    assert len(ids) == len(set(ids))
    assert all(t.startswith("#") for t in targets) and {t[1:] for t in targets} <= set(ids)
    terms = page.eval_on_selector_all("article.term", "articles => articles.map(a => a.id)")
    sections = page.eval_on_selector_all("section.terms", "sections => sections.map(s => s.id)")
    assert [t[1:] for t in targets] == [anchor for section in sections for anchor in [section, *_terms_of(page, section)]]
    assert set(terms) == {t[1:] for t in targets} - set(sections)
    page.locator("nav.toc a[href='#memberCount']").click()
    assert page.evaluate("() => location.hash") == "#memberCount"


def _terms_of(page, section: str) -> list[str]:
    return page.eval_on_selector_all(f"section#{section} article.term", "articles => articles.map(a => a.id)")


# -- the pages in Japanese: a browser whose language is Japanese ------------------------------


def test_a_japanese_browser_gets_the_japanese_site_and_can_switch(japanese_page, served: str):
    OUTPUT.mkdir(exist_ok=True)
    page = japanese_page
    page.goto(served + "/")
    assert page.evaluate("() => document.documentElement.lang") == "ja"
    assert page.title() == "国立国会図書館の国際協力ネットワーク"
    assert page.locator("section.network h2").inner_text() == "協力関係のネットワーク"
    page.screenshot(path=str(OUTPUT / "index-ja.png"), full_page=True)

    page.locator("section.organizations a", has_text="International Federation of Library Associations").click()
    page.wait_for_url(served + "/id/ifla.ja.html")
    assert page.locator("section.timeline h2").inner_text() == "国立国会図書館の関わり"
    assert page.locator("section.timeline li").first.inner_text().startswith("1966")
    page.screenshot(path=str(OUTPUT / "ifla-ja.png"), full_page=True)

    page.goto(served + "/id/ndl")  # the IRI: 303 to the page in the browser's language
    page.wait_for_url(served + "/id/ndl.ja.html")
    assert page.locator("h1").inner_text() == "国立国会図書館"
    page.screenshot(path=str(OUTPUT / "ndl-ja.png"), full_page=True)

    page.locator("nav.languages a", has_text="English").click()  # the switch, then the English site onwards
    page.wait_for_url(served + "/id/ndl.html")
    assert page.evaluate("() => document.documentElement.lang") == "en"
    page.locator("section.sources a", has_text="National Diet Library Law").click()
    assert page.url.endswith(".html") and not page.url.endswith(".ja.html")
    assert page.evaluate("() => document.documentElement.lang") == "en"


def test_the_japanese_vocabulary_form_and_error_pages(japanese_page, served: str):
    page = japanese_page
    for path, name, heading in (
        ("/vocab", "vocab-ja", "目次"),
        ("/sparql", "sparql-ja", "登録済みの検索式"),
        (MISSING, "404-ja", "ページが見つかりません"),
    ):
        page.goto(served + path)
        assert page.evaluate("() => document.documentElement.lang") == "ja"
        assert heading in page.locator("main").inner_text(), path
        page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)
    page.goto(served + "/sparql?named=organization")  # a named query's answer, still in Japanese
    assert page.evaluate("() => document.documentElement.lang") == "ja"
    assert page.locator("section.answer h2").inner_text().startswith("結果")


@pytest.fixture(scope="module")
def served_with_a_release(released_and_deleted: Path):
    """A real `ndlld serve` on a site whose last release had a resource this build has not."""
    port = free_port()
    command = [sys.executable, "-m", "ndlld", "serve", "--out", str(released_and_deleted), "--port", str(port)]
    with server_process(command, "/", port) as (url, _process):
        yield url


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_page_of_a_resource_gone_has_no_accessibility_violation(browser, japanese_browser, served_with_a_release: str, language):
    """axe-core on the 410 page, which names the last release that had the resource."""
    from axe_playwright_python.sync_playwright import Axe

    tab = (browser if language == "en" else japanese_browser).new_page()
    try:
        answer = tab.goto(f"{served_with_a_release}/id/{GONE}")
        assert answer is not None and answer.status == 410
        assert tab.evaluate("() => document.documentElement.lang") == language
        assert "0.1.0" in tab.locator("main").inner_text()
        results = Axe().run(tab, options={"resultTypes": ["violations"]}).response
        assert results["testEngine"]["name"] == "axe-core" and len(results["passes"]) > 10
        assert [f"{v['id']} ({v['impact']})" for v in results["violations"]] == []
    finally:
        tab.close()


def test_every_kind_of_japanese_page_has_no_accessibility_violation(japanese_page, served: str, real_dist: Path):
    """axe-core on each kind of page as a Japanese browser gets it (WCAG 2 A and AA and
    axe's best practices, the language attributes included)."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    found = {}
    for kind, path in _kinds_of_page(real_dist).items():
        japanese_page.goto(served + path.replace("/404.html", "/404.ja.html"))
        assert japanese_page.evaluate("() => document.documentElement.lang") == "ja", path
        results = axe.run(japanese_page, options={"resultTypes": ["violations"]}).response
        assert results["testEngine"]["name"] == "axe-core" and len(results["passes"]) > 10
        found[kind] = [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in results["violations"]]
    assert found == {kind: [] for kind in found}
