"""What every page's header and footer say about the dataset (its title, version, licence and
publisher), and the texts of a resource in the order the pages show them."""

from __future__ import annotations

from pyoxigraph import Literal

from ndlld.conneg import LANGUAGES
from ndlld.namespaces import SCHEMA
from ndlld.site.messages import publisher_short
from ndlld.site.parts import Text
from ndlld.site.view import SiteView


def site_header(view: SiteView) -> dict:
    """What every page's header and footer say about the dataset: the same for every page,
    so not among any page's reads (whoever keeps pages compares it as a whole)."""
    dataset = view.dataset
    license_iri = view.value(dataset, str(SCHEMA) + "license") or ""
    return {
        "title": view.name(dataset),
        "title_ja": view.text(dataset, str(SCHEMA) + "name", "ja"),
        "titles": {language: view.named(dataset, language) for language in LANGUAGES},
        "publishers": (publishers := {language: view.named(view.publisher, language) for language in LANGUAGES} if view.publisher else {}),
        "descriptions": texts(view, dataset, str(SCHEMA) + "description"),
        "version": view.value(dataset, str(SCHEMA) + "version") or "",
        "modified": view.value(dataset, str(SCHEMA) + "dateModified") or "",
        "license": license_iri,
        "license_name": _LICENSES.get(license_iri, license_iri),
        "publisher": view.name(view.publisher) if view.publisher else "",
        "publisher_short": publisher_short(publishers, [o.value for o in view.values(view.publisher or "", str(SCHEMA) + "alternateName")]),
    }


_LICENSES = {"https://creativecommons.org/licenses/by/4.0/": "CC BY 4.0"}


def texts(view: SiteView, iri: str, predicate: str) -> list[Text]:
    """English first, then by language, then by the text (a page shows its own language's first)."""
    found = [Text(o.value, o.language) for o in view.values(iri, predicate) if isinstance(o, Literal)]
    return sorted(found, key=lambda t: (t.language != "en", t.language or "", t.text))
