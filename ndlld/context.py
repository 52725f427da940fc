"""The project's JSON-LD context (ontology/context.jsonld), read once.

The one context is both the input mapping of the YAML-LD records and the
output context of the JSON-LD dump (JSON-LD 1.1, §4.1 "The Context",
https://www.w3.org/TR/json-ld11/#the-context). ndlld reads only the subset of
term definitions it uses: ``@id``, ``@reverse``, ``@type`` (``@id``,
``@vocab`` or a datatype) and ``@container: @language``. Anything else in the
context is refused when it is loaded, so the records never mean something
other than what a full JSON-LD processor would make of them.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

from ndlld.errors import ConfigError

KEYWORD_ALIASES = {"@id", "@type", "@graph"}
_SUPPORTED = {"@id", "@reverse", "@type", "@container"}
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


@dataclass(frozen=True)
class Term:
    """One property term of the context."""

    name: str
    iri: str
    reverse: bool = False
    type: str | None = None  # "@id", "@vocab", a datatype IRI, or None
    container: str | None = None  # "@language" or None

    @property
    def is_reference(self) -> bool:
        return self.type in {"@id", "@vocab"} or self.reverse


class Context:
    """Terms and prefixes of a JSON-LD context, for expanding and compacting."""

    def __init__(self, document: dict, path: str | Path = "context.jsonld"):
        self.path = Path(path)
        self.document = document
        definitions = document.get("@context")
        if not isinstance(definitions, dict):
            raise ConfigError("a JSON-LD context must be an object under '@context'", path=path)
        self.aliases: dict[str, str] = {}  # "id" -> "@id"
        self.prefixes: dict[str, str] = {}  # "schema" -> "http://schema.org/"
        self.names: dict[str, str] = {}  # "Organization" -> its IRI (classes, concepts)
        self.terms: dict[str, Term] = {}  # "memberOf" -> Term
        for name, definition in definitions.items():
            if name.startswith("@"):
                continue
            if isinstance(definition, str) and definition in KEYWORD_ALIASES:
                self.aliases[name] = definition
            elif isinstance(definition, str) and definition.endswith(("/", "#")):
                self.prefixes[name] = definition
            elif isinstance(definition, str):
                self.names[name] = definition
            elif isinstance(definition, dict):
                self.terms[name] = self._term(name, definition)
            else:
                raise ConfigError(f"term '{name}': unsupported definition", path=path)
        # Names and datatypes are compact IRIs: expand them now, once.
        self.names = {name: self.expand(iri) for name, iri in self.names.items()}
        self.terms = {
            name: Term(
                name,
                self.expand(t.iri),
                t.reverse,
                t.type if t.type in {None, "@id", "@vocab"} else self.expand(t.type),
                t.container,
            )
            for name, t in self.terms.items()
        }
        self.alias_of = {keyword: alias for alias, keyword in self.aliases.items()}  # "@id" -> "id"
        self._names_by_iri = {iri: name for name, iri in sorted(self.names.items(), reverse=True)}
        self._longest_first = sorted(self.prefixes.items(), key=lambda p: -len(p[1]))  # the longest namespace matching wins

    def _term(self, name: str, definition: dict) -> Term:
        unsupported = set(definition) - _SUPPORTED
        if unsupported or definition.get("@container") not in {None, "@language"}:
            raise ConfigError(f"term '{name}': ndlld does not support {sorted(unsupported) or '@container'}", path=self.path)
        reverse = "@reverse" in definition
        return Term(
            name=name,
            iri=definition["@reverse"] if reverse else definition["@id"],
            reverse=reverse,
            type=definition.get("@type"),
            container=definition.get("@container"),
        )

    @classmethod
    def load(cls, path: str | Path) -> Context:
        path = Path(path)
        try:
            return cls(json.loads(path.read_text(encoding="utf-8")), path)
        except (OSError, json.JSONDecodeError) as err:
            raise ConfigError(f"cannot read the JSON-LD context: {err}", path=path) from None

    def expand(self, value: str) -> str:
        """Expand a compact IRI (``schema:name``) or a defined name; leave others."""
        if value in self.names:
            return self.names[value]
        prefix, colon, local = value.partition(":")
        if colon and prefix in self.prefixes and not local.startswith("//"):
            return self.prefixes[prefix] + local
        return value

    def is_absolute(self, value: str) -> bool:
        return bool(_ABSOLUTE_IRI.match(value))

    @functools.cached_property
    def inline_head(self) -> str:
        """The start of a JSON-LD document with this context inline (``{"@context": …``), written once."""
        return json.dumps({"@context": self.document["@context"]}, ensure_ascii=False, indent=2)[:-2]

    def name_of(self, iri: str) -> str | None:
        """The context's name for a class or concept IRI, if it has one."""
        return self._names_by_iri.get(iri)

    def compact(self, iri: str) -> str:
        """The shortest name of *iri*: a defined name, a compact IRI, or the IRI."""
        if iri in self._names_by_iri:
            return self._names_by_iri[iri]
        for prefix, namespace in self._longest_first:
            if iri.startswith(namespace) and len(iri) > len(namespace):
                return f"{prefix}:{iri[len(namespace) :]}"
        return iri
