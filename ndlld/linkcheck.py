"""ndlld links check: asks each authority whether a record's identifier exists and still names the same thing.

Never part of a build (it needs the network, and the authorities' answers change): it
is for people who have network access, to run now and then. For each sameAs link to an
authority of ontology/authorities.yaml it fetches the authority's description of the
identifier (``lookup`` there) and compares the names it gives with the record's. An
authority's lookup base can be replaced (``--base KEY=URL``): a mirror, or in the tests
a server on the loopback standing in for the authorities.

Each link gets one line: it exists (and names the same thing), it is gone (HTTP 404 or
410), renamed (none of the authority's names is one of the record's), or the authority
could not be asked. The exit code is 2 if any authority could not be asked (the check is
incomplete), else 1 if any link is gone or renamed, else 0.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import Literal, NamedNode, RdfFormat, parse

from ndlld.errors import ConfigError, HarvestError
from ndlld.fetch import Fetched, Limits, fetch
from ndlld.links import Authority, authorities, identify
from ndlld.namespaces import SCHEMA
from ndlld.rdf import subject_value

MAX_BYTES = 20 * 1024**2  # an authority's description of one identifier is far smaller
TIMEOUT = 30.0
GONE = {404, 410}
# The properties authorities give names by: RDFS, SKOS, schema.org, MADS (id.loc.gov), GeoNames, FOAF.
NAME_PROPERTIES = {
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2004/02/skos/core#altLabel",
    str(SCHEMA) + "name",
    "http://www.loc.gov/mads/rdf/v1#authoritativeLabel",
    "http://www.geonames.org/ontology#name",
    "http://www.geonames.org/ontology#officialName",
    "http://xmlns.com/foaf/0.1/name",
}
_FORMATS = {".ttl": RdfFormat.TURTLE, ".nt": RdfFormat.N_TRIPLES, ".rdf": RdfFormat.RDF_XML, ".xml": RdfFormat.RDF_XML}
_NAME_PREDICATES = (str(SCHEMA) + "name", str(SCHEMA) + "alternateName")


@dataclass(frozen=True)
class Outcome:
    """What an authority said of one link."""

    where: str  # file:line of the link
    authority: str
    identifier: str
    state: str  # exists, gone, renamed, unreachable
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.authority} {self.identifier}: {self.state}{': ' + self.detail if self.detail else ''}"


@dataclass
class LinkCheck:
    """The outcome of every link, in the records' order."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        states = {o.state for o in self.outcomes}
        return 2 if "unreachable" in states else 1 if states & {"gone", "renamed"} else 0

    def summary(self) -> str:
        counts = {state: sum(o.state == state for o in self.outcomes) for state in ("exists", "gone", "renamed", "unreachable")}
        return f"checked {len(self.outcomes)} link(s): " + ", ".join(f"{n} {state}" for state, n in counts.items())


def parse_bases(options: tuple[str, ...]) -> dict[str, str]:
    """``--base KEY=URL`` options as a mapping; a key no authority has, or no URL, is an error."""
    keys = {a.key for a in authorities()}
    bases = {}
    for option in options:
        key, _, url = option.partition("=")
        if key not in keys or not url.startswith(("http://", "https://")):
            raise ConfigError(f"--base {option}: give KEY=URL, KEY one of {', '.join(sorted(keys))} and URL an http(s) address")
        bases[key] = url
    return bases


def check_links(data_dir: str | Path, bases: dict[str, str] | None = None, timeout: float = TIMEOUT) -> LinkCheck:
    """Ask the authorities about every sameAs link of the records in *data_dir*."""
    from ndlld.build import load_graph

    graph = load_graph(data_dir)
    same_as = str(SCHEMA) + "sameAs"
    names: dict[str, set[str]] = {}
    for triple in graph.triples:
        if triple.predicate.value in _NAME_PREDICATES and isinstance(triple.object, Literal):
            names.setdefault(subject_value(triple), set()).add(_normal(triple.object.value))
    result = LinkCheck()
    for triple in graph.triples:
        target = triple.object.value if triple.predicate.value == same_as and isinstance(triple.object, NamedNode) else None
        found = identify(target) if target else None
        if target and found:
            subject = subject_value(triple)
            where = str(graph.origin(subject, triple))
            result.outcomes.append(_ask(found[0], found[1], target, names.get(subject, set()), where, bases or {}, timeout))
    return result


def _ask(authority: Authority, identifier: str, iri: str, ours: set[str], where: str, bases: dict[str, str], timeout: float) -> Outcome:
    lookup = authority.lookup
    url = bases.get(authority.key, lookup.base) + lookup.path.replace("{id}", identifier)
    outcome = Outcome(where, authority.name, identifier, "exists", "")
    try:
        fetched = fetch(url, Limits(MAX_BYTES, timeout), accept=lookup.accept)
        theirs = _names(fetched, lookup.names, iri, url)
    except HarvestError as err:
        state = "gone" if err.status in GONE else "unreachable"
        return Outcome(where, authority.name, identifier, state, str(err))
    if not theirs:
        return Outcome(where, authority.name, identifier, "exists", "" if lookup.names == "none" else "it gives no name to compare")
    if not {_normal(name) for name in theirs} & ours:
        shown = sorted(theirs)[0]
        return Outcome(where, authority.name, identifier, "renamed", f"it names {shown!r}, which the record does not")
    return outcome


def _names(fetched: Fetched, how: str, iri: str, url: str) -> list[str]:
    """The names the authority gives the thing *iri* names, read as *how* says."""
    if how == "none":
        return []
    try:
        if how == "rdf":
            media = RdfFormat.from_media_type(fetched.media_type or "") or _FORMATS.get(Path(fetched.name).suffix) or RdfFormat.TURTLE
            return [
                quad.object.value
                for quad in parse(fetched.content, format=media, base_iri=url)
                if quad.subject == NamedNode(iri) and quad.predicate.value in NAME_PROPERTIES and isinstance(quad.object, Literal)
            ]
        return _json_path(json.loads(fetched.content), how.split("."))
    except (SyntaxError, ValueError) as err:  # pyoxigraph's parse errors are SyntaxErrors
        raise HarvestError(f"{url}: not readable as {how} ({str(err).splitlines()[0] if str(err) else type(err).__name__})") from None


def _json_path(value: object, keys: list[str]) -> list[str]:
    """The texts at *keys* in *value* (``names[]`` goes into each item of the list ``names``)."""
    if not keys:
        return [value] if isinstance(value, str) else []
    key, rest = keys[0], keys[1:]
    each = key.endswith("[]")
    inner = value.get(key.removesuffix("[]")) if isinstance(value, dict) else None
    if each:
        return [text for item in (inner if isinstance(inner, list) else []) for text in _json_path(item, rest)]
    return _json_path(inner, rest)


def _normal(name: str) -> str:
    """A name as compared: NFKC, case folded, letters and digits only."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", name).casefold())
