"""Each document's results kept in the build cache, validated again only when its surroundings change.

A document's results depend only on its surroundings (:mod:`ndlld.checks.scope`):
they are kept under a key made of its name and the N-Triples lines of its
surroundings, all in one cache entry (one lookup, not one per document; most
documents conform: their results are empty). The cache's fingerprint covers shapes/
and ontology/, so this is for the project's shapes only. Built on the pure
:func:`ndlld.checks.check` API; the incremental layer will replace it.
"""

from __future__ import annotations

import json

from pyoxigraph import BlankNode, RdfFormat, Triple

from ndlld import parallel
from ndlld.cache import Cache
from ndlld.cache import key as cache_key
from ndlld.checks import DEFAULT_ENGINE, ENGINES, Report, Rules, check, project_rules
from ndlld.checks.engines import engine_for
from ndlld.checks.partition import Sizes, Surroundings, is_large, validated
from ndlld.checks.report import merged_report, parse_ntriples
from ndlld.context import Context
from ndlld.errors import ConfigError, ShapesError
from ndlld.graph import Graph
from ndlld.rdf import serialized


def check_with_project_shapes(graph: Graph, context: Context, cache: Cache | None = None, engine: str = DEFAULT_ENGINE) -> Report:
    """:func:`ndlld.checks.check_with_project_shapes`, each document's results kept in *cache*."""
    return check_cached(graph, project_rules(engine), context, cache)


def check_cached(
    graph: Graph, rules: Rules, context: Context | None = None, cache: Cache | None = None, sizes: Sizes | None = None
) -> Report:
    """:func:`ndlld.checks.check` of the whole graph; with *cache*, only the documents
    whose surroundings changed since it was filled are validated."""
    if cache is None or not cache.enabled:
        return check(graph, rules, context=context, sizes=sizes)
    if rules.engine not in ENGINES:
        raise ConfigError(f"unknown SHACL engine {rules.engine!r}: use one of {', '.join(ENGINES)}")
    sizes = sizes or Sizes()
    with parallel.collector_paused() as collect:
        large = is_large(graph, sizes)
        if large:
            read_rules_cache(rules, cache)
        index = Surroundings(graph, rules.incoming if large else None)
        if index.blank_subjects or index.too_many_parents() is not None:  # no results to keep
            results = validated(graph, index, rules, None, sizes, collect)
        else:
            results = _results(graph, index, engine_for(rules, index.long_integers), cache, sizes, collect)
        del index
    return merged_report(results, graph, context)


def _results(graph: Graph, index: Surroundings, rules: Rules, cache: Cache, sizes: Sizes, collect: bool) -> dict[str, list[Triple]]:
    """Each document's results: kept in *cache* under its key, or validated now (and kept)."""
    names = sorted(index.own)
    salt = cache_key(cache.fingerprint, "checks", rules.engine)
    keys = _keys(graph, index, names, salt, cache)
    kept_key = cache_key(salt, "results by resource")
    kept = _unpack_results(cache.get("checks", kept_key) or b"")
    results = {name: kept[keys[name]] for name in names if keys[name] in kept}
    cache.hits += len(results)
    cache.misses += len(names) - len(results)
    missing = [name for name in names if name not in results]
    if missing:
        fresh = validated(graph, index, rules, missing, sizes, collect)
        results.update((name, serialized(found, RdfFormat.N_TRIPLES) if found else b"") for name, found in fresh.items())
    if missing or len(kept) != len(results):  # what this build found, and only that
        cache.put_many("checks", {kept_key: _pack_results({keys[name]: results[name] for name in names})})
    # Blank node labels are each document's own: made fresh as they are read.
    return {name: parse_ntriples(text, fresh_blank_nodes=True) if text else [] for name, text in results.items()}


def _keys(graph: Graph, index: Surroundings, names: list[str], salt: bytes, cache: Cache) -> dict[str, bytes]:
    """Each document's key; those the graph's delta did not touch as the last build made them."""
    keys_key = cache_key(salt, "keys by resource", "whole" if index.needs is None else "bounded")
    earlier = keys_following(graph, index, _unpack_keys(cache.get("checks", keys_key)))
    if earlier is None:
        # The graph written once, a line per statement (N-Triples escapes line breaks), rather
        # than each surroundings apart: most statements are in the surroundings of several.
        lines = serialized(graph.triples, RdfFormat.N_TRIPLES).split(b"\n")
        if len(lines) != len(graph.triples) + 1:  # not one line per statement: never seen, but the keys would be wrong
            raise ShapesError("the graph's N-Triples are not one line per statement; build with --no-cache")
        keys = {name: resource_key(index, name, lines, salt) for name in names}
    else:  # the keys of the documents the delta touched made again, the others' as they were
        on_demand = Lines(graph.triples)
        keys = {name: earlier.get(name) or resource_key(index, name, on_demand, salt) for name in names}
    if graph.identity is not None:
        cache.put_many("checks", {keys_key: _pack_keys(graph.identity, keys)})
    return keys


def resource_key(index: Surroundings, document: str, lines, salt: bytes) -> bytes:
    """The cache key of *document*'s results: its name and the N-Triples lines (*lines*:
    the graph's, one per statement) of its surroundings, in graph order."""
    return cache_key(salt, document, b"\n".join([lines[position] for position in sorted(index.positions(document))]))


def keys_following(graph: Graph, index: Surroundings, earlier: tuple[bytes, dict[str, bytes]] | None) -> dict[str, bytes] | None:
    """The documents' keys made for the graph before (*earlier*: its identity and the keys),
    when this graph's delta starts from it, but those whose surroundings the delta touched;
    None when the delta does not start from it."""
    delta = graph.delta
    if earlier is None or delta is None or delta.since != earlier[0]:
        return None
    touched = index.touched_by(delta.iris)
    return {name: key for name, key in earlier[1].items() if name not in touched}


class Lines:
    """The graph's N-Triples lines, as :func:`resource_key` takes them, each written
    when asked for: the same bytes as a line of the whole graph written at once."""

    def __init__(self, triples: list[Triple]):
        self.triples = triples

    def __getitem__(self, at: int) -> bytes:
        return serialized([self.triples[at]], RdfFormat.N_TRIPLES)[:-1]


def read_rules_cache(rules: Rules, cache: Cache) -> None:
    """What the checks of a large graph read from the shapes with rdflib (:attr:`Rules.incoming`,
    and for rudof :attr:`Rules.targets` and :attr:`Rules.superclasses`), kept in *cache*: the
    import and the parse took a large share of every build after a one-record edit.
    Keyed by the shapes and vocabulary themselves, as well as by the cache's fingerprint."""
    rudof = rules.engine == "rudof"
    key = cache_key(cache.fingerprint, "rules", rules.engine, _labelled_in_order(rules.shapes), _labelled_in_order(rules.ontology))
    found = cache.get("checks", key)
    if found is not None:
        kept = json.loads(found)
        rules.__dict__["incoming"] = kept["incoming"]  # where functools.cached_property keeps its value
        if rudof:
            # Only the targets: the shapes' text names blank-node shapes by their labels of this reading.
            rules.__dict__["targets"] = None if kept["targets"] is None else (rules.without_targets(), [tuple(t) for t in kept["targets"]])
            rules.__dict__["superclasses"] = {cls: set(above) for cls, above in kept["superclasses"].items()}
        return
    kept = {"incoming": rules.incoming}
    if rudof:
        kept.update(
            targets=rules.targets and rules.targets[1], superclasses={cls: sorted(above) for cls, above in rules.superclasses.items()}
        )
    cache.put_many("checks", {key: json.dumps(kept).encode()})


def _labelled_in_order(triples: list[Triple]) -> bytes:
    """*triples* as N-Triples, blank nodes labelled in order of appearance: the same
    text for the same files, whose blank nodes are given fresh labels at each reading."""
    labels: dict[BlankNode, BlankNode] = {}

    def label(term):
        if isinstance(term, BlankNode):
            return labels.setdefault(term, BlankNode(f"b{len(labels)}"))
        return term

    return serialized([Triple(label(t.subject), t.predicate, label(t.object)) for t in triples], RdfFormat.N_TRIPLES)


def _pack_results(results: dict[bytes, bytes]) -> bytes:
    """*results* (key -> N-Triples) as the bytes of one cache entry: how many, the keys,
    then for each non-empty result its index, its size and itself."""
    found = [len(results).to_bytes(4, "big"), *results]
    for index, value in enumerate(results.values()):
        if value:
            found += [index.to_bytes(4, "big"), len(value).to_bytes(4, "big"), value]
    return b"".join(found)


def _unpack_results(data: bytes) -> dict[bytes, bytes]:
    """What :func:`_pack_results` packed (nothing from no bytes)."""
    if not data:
        return {}
    count = int.from_bytes(data[:4], "big")
    keys = [data[start : start + 32] for start in range(4, 4 + 32 * count, 32)]
    results = dict.fromkeys(keys, b"")
    offset = 4 + 32 * count
    while offset < len(data):
        index, size = int.from_bytes(data[offset : offset + 4], "big"), int.from_bytes(data[offset + 4 : offset + 8], "big")
        results[keys[index]] = data[offset + 8 : offset + 8 + size]
        offset += 8 + size
    return results


def _pack_keys(graph: bytes, keys: dict[str, bytes]) -> bytes:
    """The identity of the graph checked and each document's key, as one cache entry."""
    names = "\n".join(keys).encode("utf-8", "surrogateescape")
    return graph + len(names).to_bytes(8, "big") + names + b"".join(keys.values())


def _unpack_keys(data: bytes | None) -> tuple[bytes, dict[str, bytes]] | None:
    """What :func:`_pack_keys` packed (None from nothing, or if a name held a line break)."""
    if not data:
        return None
    size = int.from_bytes(data[32:40], "big")
    names = data[40 : 40 + size].decode("utf-8", "surrogateescape").split("\n") if size else []
    keys = data[40 + size :]
    if len(keys) != 32 * len(names):
        return None
    return data[:32], {name: keys[32 * i : 32 * (i + 1)] for i, name in enumerate(names)}
