"""The words of the pages in each language of :data:`ndlld.conneg.LANGUAGES`.

One catalogue a language, ``locales/<language>.yaml``, with the same keys: the
templates take it as ``t`` (``{{ t.resource.sources }}``), and fill the
placeholders of a sentence with :func:`fill`, so that a translator moves a
link or a name where the language puts it. The catalogues' ``terms`` name in
their language the schema.org terms that the vocabulary files name in English only.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def publisher_short(names: Mapping[str, Any], abbreviations: list[str]) -> dict[str, str]:
    """The publisher as the headings name it ("The NDL's involvement", "国立国会図書館の関わり"),
    by language, from its *names* there (each a view.Text): its name where the name is in that language and the
    language is not English; else its first abbreviation; else its name."""
    short = {}
    for language in LANGUAGES:
        name = names.get(language)
        if name is not None and name.language == language != "en":
            short[language] = name.text
        else:
            short[language] = (sorted(abbreviations) or [name.text if name else messages(language)["site"]["unnamed_publisher"]])[0]
    return short


@cache
def naming(language: str, publisher: str) -> dict[str, Any]:
    """The catalogue of *language* with ``{publisher}`` filled in, for the pictures (whose
    words are not filled by a template)."""

    def filled(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: filled(item) for key, item in value.items()}
        return value.replace("{publisher}", publisher) if isinstance(value, str) else value

    return filled(messages(language))


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
