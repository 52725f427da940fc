"""The SPARQL page in a real browser (Debian's Chromium, as tests/test_browser.py
launches it) against a real `ndlld serve`: the form, its answers as a table made by
the server, the named queries and their parameters, all without a script and under
the site's Content-Security-Policy (a violation is a console error, which fails)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from test_browser import OUTPUT, browser, launch, page, playwright  # noqa: F401 - the fixtures, and Chromium's launch

from ndlld.queries import load_queries
from ndlld.server import SECURITY_HEADERS

from conftest import ROOT

QUERIES = load_queries(ROOT / "queries")


def test_the_index_links_to_the_form_which_answers_as_a_table(page, served: str):  # noqa: F811
    OUTPUT.mkdir(exist_ok=True)
    page.goto(served + "/")
    page.locator("#downloads a[href='sparql']").click()
    page.wait_for_url(served + "/sparql")
    assert page.locator("h1").inner_text() == "SPARQL endpoint"
    assert page.title() == "SPARQL · The National Diet Library's international cooperation network"
    assert page.locator("section.named-queries dt").count() == len(QUERIES)
    page.locator("textarea#query").fill(
        "PREFIX schema: <http://schema.org/> SELECT ?org ?name WHERE { ?org a schema:Organization ; schema:name ?name } ORDER BY ?name"
    )
    response_of = page.expect_navigation()
    with response_of as navigation:
        page.locator("form.query button[type=submit]").click()
    response = navigation.value
    assert response.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    assert parse_qs(urlsplit(page.url).query)["format"] == ["html"]
    assert [h.inner_text() for h in page.locator("section.answer th").all()] == ["org", "name"]
    assert page.locator("section.answer tbody tr").count() > 10
    assert "ORDER BY ?name" in page.locator("textarea#query").input_value()  # the query stays in the form
    page.screenshot(path=str(OUTPUT / "sparql.png"), full_page=True)
    # an IRI of the dataset leads to its page on this server
    page.locator("section.answer a[href='id/ifla.html']").click()
    page.wait_for_url(served + "/id/ifla.html")  # the table links the page in the form's language
    assert page.locator("h1").inner_text() == "International Federation of Library Associations and Institutions"


def test_a_named_query_runs_from_its_link_and_with_its_parameters(page, served: str):  # noqa: F811
    page.goto(served + "/sparql")
    page.locator("#q-founded-before a").click()
    page.wait_for_load_state()
    assert page.locator("section.answer h2").inner_text() == "Answer: founded-before"
    with_default = page.locator("section.answer tbody tr").count()
    assert with_default > 0
    assert QUERIES["founded-before"].bind({}, "https://w3id.org/ndlld/") == page.locator("textarea#query").input_value()
    page.locator("#q-founded-before + dd input[name=year]").fill("2030")
    page.locator("#q-founded-before + dd button").click()
    page.wait_for_load_state()
    assert page.locator("#q-founded-before + dd input[name=year]").input_value() == "2030"  # the value given stays
    assert page.locator("section.answer tbody tr").count() > with_default


def test_the_form_works_without_javascript(playwright, served: str, tmp_path: Path):  # noqa: F811
    context = launch(playwright, tmp_path / "profile", java_script_enabled=False)
    tab = context.new_page()
    tab.goto(served + "/sparql")
    tab.locator("textarea#query").fill("ASK { ?s ?p ?o }")
    tab.locator("form.query button[type=submit]").click()
    tab.wait_for_load_state()
    assert tab.locator("section.answer td").inner_text() == "true"
    tab.locator("textarea#query").fill("SELECT ?x WHERE { ?x")
    tab.locator("form.query button[type=submit]").click()
    tab.wait_for_load_state()
    assert tab.locator("p.error").inner_text().startswith("malformed query")  # answered 400, as a page
    tab.locator("#q-organization + dd input[name=organization]").fill("not an id")
    tab.locator("#q-organization + dd button").click()
    tab.wait_for_load_state()
    assert "must be a record id" in tab.locator("p.error").inner_text()
    context.close()
