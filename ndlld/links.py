"""Links outward: the authorities a record may name the same thing in, and the forms of their IRIs.

A record links to another dataset with ``sameAs`` (the same thing there) or ``url``
(its home page), each with the source that supports it, as lobid-gnd's ``sameAs``
list does. The authorities are data (``ontology/authorities.yaml``): each its name,
the form of its IRIs and the algorithm of its check digits, of which there are two:

* ISNI, ISO 27729: the 16th character is ISO/IEC 7064 MOD 11-2 of the first 15
  digits (``X`` for 10);
* ROR: ``0``, six characters of Crockford's base32, and two digits, ISO/IEC 7064
  MOD 97-10 of the number the six stand for (https://ror.readme.io/docs/identifier).

Countries link to the EU Publications Office's country table by their ISO 3166-1
alpha-3 code, which ``ontology/iso-3166-1.csv`` gives for each alpha-2 code.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml
from pyoxigraph import NamedNode, Triple

from ndlld.context import Context, Term
from ndlld.errors import ConfigError
from ndlld.namespaces import RDF, RDF_TYPE
from ndlld.resources import resource_dir
from ndlld.sources import Pointer, Record, pointed_items

CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"  # base32 without i, l, o and u
COUNTRY_AUTHORITY = "eu-country"


def _isni_check(identifier: str) -> str:
    """ISO/IEC 7064 MOD 11-2 of the first 15 digits, as ISO 27729 gives it."""
    total = 0
    for digit in identifier[:15]:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def _ror_check(identifier: str) -> str:
    """ISO/IEC 7064 MOD 97-10 of the number characters 2-7 stand for in Crockford's base32."""
    number = 0
    for character in identifier[1:7]:
        number = number * 32 + CROCKFORD.index(character)
    return f"{98 - (number * 100) % 97:02d}"


# Each algorithm: the check characters an identifier of the right form should end in.
CHECKS: dict[str, tuple[Callable[[str], str], str]] = {
    "iso7064-mod11-2": (_isni_check, "ISO 27729 (ISO/IEC 7064 MOD 11-2)"),
    "ror-mod97-10": (_ror_check, "ROR's ISO/IEC 7064 MOD 97-10"),
}


@dataclass(frozen=True)
class Lookup:
    """Where ``ndlld links check`` asks an authority about an identifier."""

    base: str
    path: str
    accept: str
    names: str  # "rdf", "none", or a JSON path such as "names[].value"


@dataclass(frozen=True)
class Authority:
    """One authority of ontology/authorities.yaml."""

    key: str
    name: str
    iri: str  # with {id}
    identifier: str  # the identifier's form, a regular expression
    check: str
    lookup: Lookup

    @property
    def prefix(self) -> str:
        return self.iri.partition("{id}")[0]

    @property
    def suffix(self) -> str:
        return self.iri.partition("{id}")[2]

    @property
    def place(self) -> str:
        """Where the authority's IRIs are, by http or https, as a regular expression: an IRI
        there that is not of their form is a mistake (shapes/links.ttl, ndlsh:At...)."""
        return "^https?://" + _escaped(self.prefix.partition("://")[2])

    @property
    def pattern(self) -> str:
        """The form of the authority's IRIs, as shapes/links.ttl gives it (sh:pattern)."""
        return "^" + _escaped(self.prefix) + "(" + self.identifier + ")" + _escaped(self.suffix) + "$"

    def identifier_of(self, iri: str) -> str | None:
        """The identifier *iri* carries, if it has the form of this authority's IRIs."""
        if not iri.startswith(self.prefix) or not iri.endswith(self.suffix):
            return None
        identifier = iri[len(self.prefix) : len(iri) - len(self.suffix)]
        return identifier if re.fullmatch(self.identifier, identifier) else None

    def iri_of(self, identifier: str) -> str:
        return self.iri.replace("{id}", identifier)

    def check_problem(self, identifier: str) -> str | None:
        """What is wrong with the check characters of *identifier*, if anything."""
        if self.check == "none":
            return None
        algorithm, name = CHECKS[self.check]
        expected = algorithm(identifier)
        if identifier.endswith(expected):
            return None
        return f"{self.name} {identifier} fails its check digits ({name}): it would end in {expected}"


def _escaped(text: str) -> str:
    """*text* as a regular expression that XML Schema, Rust and Python read alike (re.escape's
    escapes of '-', ':' or '/' are not all valid in XML Schema's)."""
    return re.sub(r"([.?*+^$()\[\]{}|\\])", r"\\\1", text)


@functools.cache
def authorities() -> tuple[Authority, ...]:
    """The authorities of ontology/authorities.yaml, in the file's order."""
    path = resource_dir("ontology") / "authorities.yaml"
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
        found = tuple(_authority(entry) for entry in entries)
    except (OSError, yaml.YAMLError, KeyError, TypeError) as err:
        raise ConfigError(f"cannot read the authorities: {err}", path=path) from None
    for authority in found:
        if authority.check != "none" and authority.check not in CHECKS:
            raise ConfigError(f"{authority.key}: unknown check-digit algorithm '{authority.check}'", path=path)
    return found


def _authority(entry: dict) -> Authority:
    lookup = entry["lookup"]
    return Authority(
        key=entry["key"],
        name=entry["name"],
        iri=entry["iri"],
        identifier=entry["identifier"],
        check=entry["check"],
        lookup=Lookup(lookup["base"], lookup["path"], lookup["accept"], lookup["names"]),
    )


def authority(key: str) -> Authority:
    return next(a for a in authorities() if a.key == key)


def identify(iri: str) -> tuple[Authority, str] | None:
    """The authority *iri* is an identifier of, and the identifier (form only, not check digits)."""
    for candidate in authorities():
        identifier = candidate.identifier_of(iri)
        if identifier is not None:
            return candidate, identifier
    return None


def link_problem(iri: str) -> str | None:
    """Why *iri* cannot be a sameAs link: an identifier of an authority whose check digits fail.
    Its form is the shapes' to judge (shapes/links.ttl), which see links from any source."""
    found = identify(iri)
    return found[0].check_problem(found[1]) if found else None


@functools.cache
def alpha3() -> dict[str, str]:
    """ISO 3166-1 alpha-2 -> alpha-3, from ontology/iso-3166-1.csv."""
    path = resource_dir("ontology") / "iso-3166-1.csv"
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return {row["alpha2"]: row["alpha3"] for row in csv.DictReader(lines)}


def country_link(alpha2: str) -> str | None:
    """The IRI of the country *alpha2* names in the EU Publications Office's table, if ISO 3166-1 has it."""
    code = alpha3().get(alpha2)
    return authority(COUNTRY_AUTHORITY).iri_of(code) if code else None


def mapping_problem(term: str, value: dict, id_key: str = "id") -> str | None:
    """What is wrong with a link written as a mapping, if anything: it holds its IRI and its source."""
    extra = sorted(set(value) - {id_key, "source"})
    if not extra and "source" in value and id_key in value:
        return None
    missing = f"has no '{id_key}'" if id_key not in value else "has no 'source'"
    found = f"holds '{extra[0]}'" if extra else missing
    return f"a '{term}' link {found}: it takes '{id_key}' (the IRI) and 'source' (what supports it)"


def country_link_problems(data: dict, id_key: str = "id") -> list[tuple[str, tuple[str | int, ...]]]:
    """A country's links to the EU country table that are not the one its ISO 3166-1 code gives,
    each with where it is in the node (a code not of the form of one is the shapes' to report)."""
    code = data.get("countryCode")
    links = data.get("sameAs")
    if not isinstance(code, str) or not re.fullmatch("[A-Z]{2}", code) or links is None:
        return []
    expected, prefix = country_link(code), authority(COUNTRY_AUTHORITY).prefix
    gives = f"gives {expected}" if expected else "is not an ISO 3166-1 code, so it has no link"
    found: list[tuple[str, tuple[str | int, ...]]] = []
    for i, item in enumerate(links if isinstance(links, list) else [links]):
        target = item.get(id_key) if isinstance(item, dict) else None
        if isinstance(target, str) and target.startswith(prefix) and target != expected:
            where: tuple[str | int, ...] = ("sameAs", i, id_key) if isinstance(links, list) else ("sameAs", id_key)
            found.append((f"countryCode {code!r} {gives} (ontology/iso-3166-1.csv), not {target}", where))
    return found


def statement_iri(subject: str, term: str, target: str) -> str:
    """The IRI of the statement that *subject* links to *target* by *term* (sameAs, url):
    a fragment of the subject's page, made from the link alone, so it is the same in
    every build. ``…/id/ifla`` sameAs Wikidata Q46166 -> ``…/id/ifla#sameas-wikidata-q46166``."""
    document, _, fragment = subject.partition("#")
    found = identify(target) if term == "sameAs" else None
    if found:
        name = f"{term.lower()}-{found[0].key}-{found[1].lower()}"
    else:
        name = f"{term.lower()}-{hashlib.sha256(target.encode('utf-8')).hexdigest()[:12]}"
    return f"{document}#{fragment}-{name}" if fragment else f"{document}#{name}"


SAME_AS = "http://schema.org/sameAs"
_LINK_TERMS = {SAME_AS: "sameAs", "http://schema.org/url": "url"}  # each property of a link outward, by its term
LINK_PROPERTIES = set(_LINK_TERMS)  # links outward: each stated with its source


def link_statement(triple: Triple) -> str | None:
    """The IRI of the statement (an ``rdf:Statement``) that names the sources of *triple*, if
    it is a link outward (:func:`statement_iri`); None for any other triple."""
    term = _LINK_TERMS.get(triple.predicate.value)
    if term is None or not isinstance(triple.subject, NamedNode) or not isinstance(triple.object, NamedNode):
        return None
    return statement_iri(triple.subject.value, term, triple.object.value)


# -- reading a record's links --------------------------------------------------------------


class LinkReader:
    """How the record reader (:mod:`ndlld.graph`) reads a link outward and the statement
    that names its source; the reader gives the methods stubbed here."""

    context: Context
    id_key: str

    def error(self, message: str, record: Record, pointer: Pointer) -> None:
        raise NotImplementedError

    def emit(self, triple: Triple, record: Record, pointer: Pointer) -> None:
        raise NotImplementedError

    def value(self, record: Record, subject: NamedNode, term: Term, value: Any, at: Pointer) -> None:
        raise NotImplementedError

    def reference(self, record: Record, term: Term, value: Any, at: Pointer) -> NamedNode | None:
        raise NotImplementedError

    def link(self, record: Record, subject: NamedNode, term: Term, value: Any, at: Pointer) -> None:
        """A link outward (sameAs, url) and the statement that names its source: written
        ``{id: IRI, source: record}``; a link without its source is refused."""
        if not isinstance(value, dict):
            if self.reference(record, term, value, at) is not None:  # else it said what is wrong
                self.error(
                    f"'{term.name}' needs the source that supports it: write '- id: {value}' and under it 'source: <a source record>'",
                    record,
                    at,
                )
            return
        target = self.link_target(record, term, value, at)
        if target is None:
            return
        line_at = at + (self.id_key,)
        predicate = NamedNode(term.iri)
        self.emit(Triple(subject, predicate, target), record, line_at)
        statement = NamedNode(statement_iri(subject.value, term.name, target.value))
        for triple_predicate, obj in ((RDF_TYPE, RDF.Statement), (RDF.subject, subject), (RDF.predicate, predicate), (RDF.object, target)):
            self.emit(Triple(statement, triple_predicate, obj), record, line_at)
        source = self.context.terms["source"]
        for item, item_at in pointed_items(value["source"], at + ("source",)):
            self.value(record, statement, source, item, item_at)

    def link_target(self, record: Record, term: Term, value: dict, at: Pointer) -> NamedNode | None:
        """The IRI a link written as a mapping leads to, if it is one: an IRI, with a source,
        and (for an authority's identifier) the right check digits."""
        wrong = mapping_problem(term.name, value, self.id_key)
        if wrong:
            self.error(wrong, record, at)
            return None
        target = self.reference(record, term, value[self.id_key], at + (self.id_key,))
        wrong = link_problem(target.value) if target is not None and term.iri == SAME_AS else None
        if wrong:
            self.error(wrong, record, at + (self.id_key,))
            return None
        return target

    def country_links(self, record: Record, data: dict, pointer: Pointer) -> None:
        for message, relative in country_link_problems(data, self.id_key):
            self.error(message, record, pointer + relative)
