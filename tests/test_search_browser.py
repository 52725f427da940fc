"""The search page and the reconciliation preview in a real browser (Debian's Chromium, as
tests/test_browser.py launches it) against a real `ndlld serve`: a name typed in Japanese
and submitted, on the search page and in a page's header, the results as links, no accessibility violation (axe-core), all without a
script and under the site's Content-Security-Policy (a violation is a console error, which
fails). Screenshots in tests/output/."""

from __future__ import annotations

from test_browser import OUTPUT, browser, launch, page, playwright  # noqa: F401 - the fixtures, and Chromium's launch

from ndlld.server import SECURITY_HEADERS


def test_a_japanese_name_typed_and_submitted_finds_the_library(page, served: str):  # noqa: F811
    OUTPUT.mkdir(exist_ok=True)
    page.goto(served + "/search")
    page.locator("input#q").fill("国立国会図書館")
    with page.expect_navigation() as navigation:
        page.locator("form.search button[type=submit]").click()
    assert navigation.value.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    first = page.locator("ol.results li a").first
    assert first.inner_text() == "National Diet Library"
    assert page.locator("ol.results li [lang=ja]").first.inner_text() == "国立国会図書館"
    page.screenshot(path=str(OUTPUT / "search.png"), full_page=True)
    first.click()
    page.wait_for_url(served + "/id/ndl.html")


def test_the_form_in_a_pages_header_searches(page, served: str):  # noqa: F811
    page.goto(served + "/id/ifla.html")
    page.locator("header.site form[role=search] input[name=q]").fill("ＮＤＬ")  # full-width, as a Japanese keyboard may type it
    with page.expect_navigation():
        page.locator("header.site form[role=search] button").click()
    assert page.url == served + "/search?q=%EF%BC%AE%EF%BC%A4%EF%BC%AC"
    assert page.locator("ol.results li a").first.inner_text() == "National Diet Library"
    assert page.locator("header.site form").count() == 0  # the search page has one form, its own


def test_the_search_page_and_the_preview_have_no_accessibility_violation(page, served: str):  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    found = {}
    for path in ("/search", "/search?q=library", "/search?q=zzzz", "/search?q=図書館&lang=ja", "/reconcile/preview?id=ndl"):
        page.goto(served + path)
        results = axe.run(page, options={"resultTypes": ["violations"]}).response
        assert results["testEngine"]["name"] == "axe-core" and len(results["passes"]) > 5
        found[path] = [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in results["violations"]]
    page.screenshot(path=str(OUTPUT / "reconcile-preview.png"))
    assert found == {path: [] for path in found}
