"""``/reconcile`` of ``ndlld serve``: the W3C Reconciliation Service API, version 0.2
(https://reconciliation-api.github.io/specs/0.2/), over the search index (:mod:`ndlld.search`),
so that OpenRefine matches a column of organization names to the dataset's IRIs.

* The service manifest (§3.1) at ``/reconcile``; a batch of queries (§4) in ``queries``
  by GET or POST, each with ``type``, ``limit`` and ``properties``; every candidate with a
  ``score`` from 0 to 100, the ``features`` it was made of, and ``match`` when the service
  is sure.
* Preview (§5), suggest for entities, types and properties (§6), and data extension
  (§8) of the properties the index holds.
* Identifiers are the dataset's ids (``ifla``, ``country/jp``): the identifier space is
  the dataset's ``id/``, so that ``{identifierSpace}{id}`` is the resource's IRI.

Scores: a name, alternate name, abbreviation or id equal to the query (NFKC and case
folded, punctuation aside, without "The") is 100; otherwise the best string similarity of a name to the query
(difflib's ratio, on the names as written, with their words sorted, and on the name's
beginning), times 100. A
property given with the query that the candidate has adds 5, one it has otherwise takes
10 off. A candidate is a ``match`` when it is the only one named exactly so, or, when
none is, at 95 or more and 10 ahead of the next.
"""

from __future__ import annotations

import difflib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass

from ndlld.search import ALTERNATE, CANDIDATES, DESCRIPTION, MAX_QUERY_CHARS, NAME, Query, Resource, SearchIndex, fold, name_key
from ndlld.site.view import ORGANIZATION_TYPES

VERSION = "0.2"
BATCH_SIZE = 100  # queries in a batch at most: more is refused (413), as the manifest says
MAX_LIMIT = 25  # candidates of one query at most
DEFAULT_LIMIT = 5
MATCH_SCORE, MATCH_MARGIN = 95.0, 10.0
PREVIEW_WIDTH, PREVIEW_HEIGHT = 400, 160
ORGANIZATION = "http://schema.org/Organization"
# What a query's properties and data extension can name, from what the index holds:
# (label, description, the texts it reads as (property, language or None)).
PROPERTIES = {
    "name": ("Name (English)", "The name in English", (NAME, "en")),
    "name@ja": ("Name (Japanese)", "The name in Japanese, as written", (NAME, "ja")),
    "alternateName": ("Alternate name", "An abbreviation or other name, such as IFLA", (ALTERNATE, None)),
    "description": ("Description (English)", "What the resource is, in a sentence or two", (DESCRIPTION, "en")),
}


class RequestError(ValueError):
    """A request the API refuses: its one-line reason and HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Service:
    """Where the service is: the dataset's base IRI and title, and the URL clients reach it at."""

    base: str
    title: str
    endpoint: str  # this service's URL as the client reached it, without a query

    @property
    def identifiers(self) -> str:
        return self.base + "id/"


def manifest(service: Service) -> dict:
    """The service manifest (§3.1): what the service is and which of the API it offers."""
    endpoint = service.endpoint.rstrip("/")
    return {
        "versions": [VERSION],
        "name": f"{service.title} (reconciliation)",
        "identifierSpace": service.identifiers,
        "schemaSpace": "http://schema.org/",
        "documentation": service.base,
        "batchSize": BATCH_SIZE,
        "view": {"url": service.identifiers + "{{id}}"},
        "defaultTypes": [{"id": ORGANIZATION, "name": "Organization"}],
        "preview": {"url": endpoint + "/preview?id={{id}}", "width": PREVIEW_WIDTH, "height": PREVIEW_HEIGHT},
        "suggest": {
            "entity": {"service_url": endpoint, "service_path": "/suggest/entity"},
            "type": {"service_url": endpoint, "service_path": "/suggest/type"},
            "property": {"service_url": endpoint, "service_path": "/suggest/property"},
        },
        "extend": {"propose_properties": {"service_url": endpoint, "service_path": "/properties"}, "property_settings": []},
    }


# -- reconciliation queries (§4) ----------------------------------------------------------
def parse_json(text: str | None, parameter: str) -> object:
    if text is None:
        raise RequestError(f"give the '{parameter}' parameter")
    try:
        return json.loads(text)
    except ValueError as err:
        raise RequestError(f"'{parameter}' is not JSON: {err}") from None


def reconcile(index: SearchIndex, service: Service, batch: object, deadline: float) -> dict:
    """The result batch of a query batch: each query's candidates by decreasing score."""
    if not isinstance(batch, dict) or not all(isinstance(q, dict) for q in batch.values()):
        raise RequestError("'queries' must be a JSON object of queries, each an object")
    if len(batch) > BATCH_SIZE:
        raise RequestError(f"a batch may have at most {BATCH_SIZE} queries, not {len(batch)}", 413)
    return {key: {"result": _candidates(index, service, query, key, deadline)} for key, query in batch.items()}


@dataclass(frozen=True)
class _Asked:
    """One query of a batch, checked: its text, the types it allows, its limit, its properties."""

    text: str
    types: frozenset[str]
    limit: int
    properties: list[tuple[str, list[str]]]


def _asked(query: dict, key: str) -> _Asked:
    text = query.get("query")
    properties = _properties(query.get("properties"), key)
    if text is None:  # a query of properties only: the names among them are the query
        text = " ".join(str(v) for pid, values in properties for v in values if pid in ("name", "name@ja", "alternateName"))
    if not isinstance(text, str):
        raise RequestError(f"query '{key}': 'query' must be a string")
    if len(text) > MAX_QUERY_CHARS:
        raise RequestError(f"query '{key}': the query may have at most {MAX_QUERY_CHARS} characters, not {len(text)}")
    limit = query.get("limit", DEFAULT_LIMIT)
    if not isinstance(limit, int | float) or limit < 1:
        raise RequestError(f"query '{key}': 'limit' must be a positive number")
    return _Asked(text, _types(query.get("type"), key), min(int(limit), MAX_LIMIT), properties)


def _candidates(index: SearchIndex, service: Service, query: dict, key: str, deadline: float) -> list[dict]:
    asked = _asked(query, key)
    if not asked.text.strip():
        return []
    found = index.candidates(Query(asked.text, asked.types, limit=CANDIDATES, deadline=deadline))
    by_id = index.get([_iri(service, asked.text.strip())])
    resources = {hit.resource.iri: hit.resource for hit in found}
    resources |= {iri: r for iri, r in by_id.items() if not asked.types or asked.types & set(r.types)}
    scored = sorted((_scored(service, r, asked) for r in resources.values()), key=lambda c: (-c["score"], c["id"]))
    if scored and _sure(scored):
        scored[0]["match"] = True
    return scored[: asked.limit]


def _sure(scored: list[dict]) -> bool:
    """Whether the first candidate is the one: the only one named exactly so, or far ahead."""
    exact = [c for c in scored if c["features"][0]["value"]]
    if exact:
        return len(exact) == 1 and scored[0] is exact[0]
    return scored[0]["score"] >= MATCH_SCORE and (len(scored) == 1 or scored[0]["score"] - scored[1]["score"] >= MATCH_MARGIN)


def _iri(service: Service, text: str) -> str:
    """The IRI a query names when it is an identifier (``ifla``) or an IRI of the dataset."""
    return text if text.startswith(service.identifiers) else service.identifiers + text


def _types(value: object, key: str) -> frozenset[str]:
    """The type IRIs a query's ``type`` allows: schema.org's Organization stands for every
    kind of organization the dataset has (Library, GovernmentOrganization)."""
    if value is None:
        return frozenset()
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise RequestError(f"query '{key}': 'type' must be a type's id or a list of them")
    wanted: set[str] = set()
    for type_ in values:
        iri = type_ if "/" in type_ else "http://schema.org/" + type_.removeprefix("schema:")
        iri = iri.replace("https://schema.org/", "http://schema.org/")
        wanted |= ORGANIZATION_TYPES if iri == ORGANIZATION else {iri}
    return frozenset(wanted)


def _properties(value: object, key: str) -> list[tuple[str, list[str]]]:
    """A query's properties as (pid, the values as text); an entity value by its id."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(p, dict) and "pid" in p and "v" in p for p in value):
        raise RequestError(f"query '{key}': 'properties' must be a list of {{'pid': …, 'v': …}}")
    found = []
    for item in value:
        if item["pid"] not in PROPERTIES:
            raise RequestError(f"query '{key}': no property '{item['pid']}'; there are {', '.join(PROPERTIES)}")
        values = item["v"] if isinstance(item["v"], list) else [item["v"]]
        found.append((item["pid"], [str(v.get("id", "")) if isinstance(v, dict) else str(v) for v in values]))
    return found


def _scored(service: Service, resource: Resource, asked: _Asked) -> dict:
    """A candidate (§4.2) with its score and the features it is made of."""
    text = asked.text
    id_ = resource.iri.removeprefix(service.identifiers)
    exact = name_key(text) in {name_key(n) for n in [*resource.names, id_]} or _iri(service, text.strip()) == resource.iri
    similarity = 1.0 if exact else 0.0
    for name in resource.names if not exact else ():
        similarity = _similarity(text, name, similarity)
    features: list[dict] = [{"id": "name_exact", "value": exact}, {"id": "name_similarity", "value": round(similarity, 3)}]
    adjustment, agreeing = _property_features(resource, asked.properties)
    return {
        "id": id_,
        "name": resource.name,
        "description": resource.text(DESCRIPTION, "en") or resource.text(NAME, "ja") or "",
        "score": round(max(0.0, min(100.0 * similarity + adjustment, 100.0)), 1),
        "features": features + agreeing,
        "match": False,
        "type": [{"id": t, "name": type_name(t)} for t in resource.types],
    }


def _property_features(resource: Resource, properties: list[tuple[str, list[str]]]) -> tuple[float, list[dict]]:
    """What the query's properties add to the score, and whether each agrees: one the
    candidate has not says nothing."""
    adjustment, features = 0.0, []
    for pid, values in properties:
        kind, language = PROPERTIES[pid][2]
        held = {fold(t) for k, lang, t in resource.texts if k == kind and (language is None or lang == language)}
        if held:
            agrees = any(fold(v) in held for v in values)
            adjustment += 5.0 if agrees else -10.0
            features.append({"id": f"property:{pid}", "value": agrees})
    return adjustment, features


def _similarity(query: str, name: str, at_least: float = 0.0) -> float:
    """How alike two names are, 0 to 1 (or *at_least*, when no more): as written; with their
    words in order (for "Library, National Diet"); and, a little less, the query against as
    much of the name's beginning (a name cut short: "International Federation of Library
    Associations"). difflib's cheap upper bounds skip what cannot beat the best so far."""
    a, b = name_key(query), name_key(name)
    pairs = [(a, b, 1.0), (" ".join(sorted(a.split())), " ".join(sorted(b.split())), 1.0)]
    if len(a) >= 8:
        pairs.append((a, b[: len(a)], 0.9))
    best = at_least
    for x, y, weight in pairs:
        matcher = difflib.SequenceMatcher(None, x, y)
        if weight * matcher.real_quick_ratio() > best and weight * matcher.quick_ratio() > best:
            best = max(best, weight * matcher.ratio())
    return best


def type_name(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


# -- suggest (§6), properties and data extension (§8) ----------------------------------------
def suggest(index: SearchIndex, service: Service, kind: str, prefix: str, cursor: int) -> dict:
    """Entities, types or properties whose names begin with (or contain) *prefix*."""
    if kind == "entity":
        if not prefix.strip():
            return {"result": []}
        hits = index.search(Query(prefix, limit=10, offset=cursor, deadline=time.monotonic() + 5.0))
        return {
            "result": [
                {
                    "id": h.resource.iri.removeprefix(service.identifiers),
                    "name": h.resource.name,
                    "description": h.resource.text(DESCRIPTION, "en") or h.resource.text(NAME, "ja") or "",
                    "notable": [{"id": t, "name": type_name(t)} for t in h.resource.types],
                }
                for h in hits
            ]
        }
    if kind == "type":
        types = sorted(index.types().items(), key=lambda item: (-item[1], item[0]))
        found = [{"id": t, "name": type_name(t), "description": f"{n:,} in the dataset"} for t, n in types if _begins(type_name(t), prefix)]
        return {"result": found[cursor : cursor + 10]}
    found = [
        {"id": pid, "name": label, "description": text}
        for pid, (label, text, _) in PROPERTIES.items()
        if _begins(label, prefix) or _begins(pid, prefix)
    ]
    return {"result": found[cursor : cursor + 10]}


def _begins(name: str, prefix: str) -> bool:
    return any(word.startswith(name_key(prefix)) for word in [name_key(name), *name_key(name).split()])


def propose_properties(type_: str | None, limit: int | None) -> dict:
    """The properties data extension can fetch (§8.2): the same for every type."""
    proposed = [{"id": pid, "name": label, "description": text} for pid, (label, text, _) in PROPERTIES.items()]
    answer: dict = {"properties": proposed[:limit] if limit else proposed, "type": type_ or ORGANIZATION}
    if limit:
        answer["limit"] = limit
    return answer


def extend(index: SearchIndex, service: Service, query: object) -> dict:
    """The values of the asked properties for the asked ids (§8.3); an id the dataset has
    not gets a row without values."""
    ids, pids = _extension(query)
    resources = index.get(_iri(service, i) for i in ids)
    rows = {id_: {pid: _values(resources.get(_iri(service, id_)), pid) for pid in pids} for id_ in ids}
    return {"meta": [{"id": pid, "name": PROPERTIES[pid][0]} for pid in pids], "rows": rows}


def _extension(query: object) -> tuple[list[str], list[str]]:
    """The ids and property ids of a data extension query, checked."""
    if not isinstance(query, Mapping) or not isinstance(query.get("ids"), list) or not isinstance(query.get("properties"), list):
        raise RequestError("'extend' must be a JSON object with 'ids' and 'properties' lists")
    ids = [str(i) for i in query["ids"]]
    if len(ids) > BATCH_SIZE * 10:
        raise RequestError(f"at most {BATCH_SIZE * 10} ids at once, not {len(ids)}", 413)
    pids = [p.get("id") if isinstance(p, Mapping) else None for p in query["properties"]]
    unknown = [str(p) for p in pids if p not in PROPERTIES]
    if unknown:
        raise RequestError(f"no property {', '.join(unknown)}; there are {', '.join(PROPERTIES)}")
    return ids, [str(p) for p in pids]


def _values(resource: Resource | None, pid: str) -> list[dict]:
    if resource is None:
        return []
    kind, language = PROPERTIES[pid][2]
    return [{"str": t} for k, lang, t in resource.texts if k == kind and (language is None or lang == language)]


# -- preview (§5) ------------------------------------------------------------------------
def preview(index: SearchIndex, service: Service, id_: str) -> dict | None:
    """What the preview of *id_* shows, or None when the dataset has no such resource."""
    resource = index.get([_iri(service, id_)]).get(_iri(service, id_))
    if resource is None:
        return None
    return {
        "iri": resource.iri,
        "name": resource.name,
        "name_ja": resource.text(NAME, "ja") if resource.text(NAME, "en") else None,
        "alternate": ", ".join(resource.all(ALTERNATE)),
        "types": ", ".join(type_name(t) for t in resource.types),
        "description": resource.text(DESCRIPTION, "en"),
        "description_ja": resource.text(DESCRIPTION, "ja"),
        "width": PREVIEW_WIDTH,
        "height": PREVIEW_HEIGHT,
    }
