"""What the site gives search (:mod:`ndlld.search`): the search index's row of each page,
made with the page, so that an incremental build changes the rows of the pages it makes
again (:mod:`ndlld.incremental.search`); and the search page's copies for a static server.
``ndlld serve`` answers ``/search`` itself (:mod:`ndlld.finding`).
"""

from __future__ import annotations

import jinja2
from pyoxigraph import Literal

from ndlld.conneg import LANGUAGES, language_suffix
from ndlld.namespaces import SCHEMA
from ndlld.search import ALTERNATE, DESCRIPTION, NAME, Resource
from ndlld.site.view import SiteView

_SEARCHED = tuple(str(SCHEMA) + p for p in (NAME, ALTERNATE, DESCRIPTION))


def search_entry(view: SiteView, document: str) -> Resource | None:
    """What the search index holds of *document*, when the index page lists it: its types,
    and its names, alternate names and descriptions in every language."""
    from ndlld.site import LISTED_TYPES  # the package imports this module

    types = view.types(document)
    if not LISTED_TYPES.intersection(types):
        return None
    texts = tuple(
        (predicate.removeprefix(str(SCHEMA)), o.language or "", o.value)
        for predicate in _SEARCHED
        for o in sorted(view.values(document, predicate), key=lambda o: (o.language or "", o.value))
        if isinstance(o, Literal)
    )
    return Resource(document, tuple(types), texts)


def render_search_page(env: jinja2.Environment, site: dict) -> dict[str, bytes]:
    """``search.html`` and ``search.ja.html``: the search page as a copy of the site without
    its server shows it, so that the header's form leads somewhere on any static server
    (which answers ``/search`` with it, in the language chosen): it says that searching
    needs ``ndlld serve``, and where to look instead."""
    from ndlld.site import alternates, language_context

    values = {"q": "", "results": [], "first": 1, "next_href": None, "error": None, "json_href": "", "static": True}
    template = env.get_template("search.html")
    return {
        f"search{language_suffix(language)}.html": template.render(
            title=site["titles"][language], **values, **language_context(language, alternates("search"))
        ).encode("utf-8")
        for language in LANGUAGES
    }
