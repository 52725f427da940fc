"""The words of the pages in each language of :data:`ndlld.conneg.LANGUAGES`.

One catalogue a language, ``locales/<language>.yaml``, with the same keys: the
templates take it as ``t`` (``{{ t.resource.sources }}``), and fill the
placeholders of a sentence with :func:`fill`, so that a translator moves a
link or a name where the language puts it. The catalogues' ``terms`` name in
their language the schema.org terms that the vocabulary files name in English only.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from markupsafe import Markup, escape

from ndlld.conneg import LANGUAGES, language_suffix
from ndlld.context import Context

LOCALES = Path(__file__).parent / "locales"


@cache
def messages(language: str) -> dict[str, Any]:
    """The catalogue of *language*."""
    text = (LOCALES / f"{language}.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml's: every build reads them


def term_labels(context: Context) -> dict[str, dict[str, str]]:
    """The catalogues' labels of terms, by IRI and language."""
    labels: dict[str, dict[str, str]] = {}
    for language in LANGUAGES:
        for curie, label in (messages(language).get("terms") or {}).items():
            labels.setdefault(context.expand(curie), {})[language] = label
    return labels


def fill(sentence: str, **values: object) -> Markup:
    """*sentence* with its ``{placeholders}`` filled: the sentence and every value that is not
    markup already escaped, so a value may be a link made by the template."""
    return Markup(str(escape(sentence)).format(**{name: str(escape(value)) for name, value in values.items()}))


def plural(forms: list[str], count: int) -> str:
    """'1 row' or '3 rows': the catalogue gives a language's [one, other] forms of ``{n}``."""
    return forms[0 if count == 1 else 1].format(n=f"{count:,}")


def document_href(href: str, language: str) -> str:
    """A link to a resource (the path of its IRI, maybe with a ``#fragment``) as a link to
    its page in *language*: ``unesco#x`` -> ``unesco.ja.html#x``, ``./`` -> ``./index.html``.

    The pages link to pages, not to the IRIs, so that whoever chose a language by the
    switch keeps it from page to page (an IRI would choose by the browser's language)."""
    path, hash_, fragment = href.partition("#")
    if not path:
        return href
    if path.endswith("/"):
        path += "index"
    return f"{path}{language_suffix(language)}.html{hash_}{fragment}"
