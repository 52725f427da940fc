"""SHACL validation of the graph, each result traced back to its record.

The shapes in shapes/ (https://www.w3.org/TR/shacl/) are run by one of two
engines (:mod:`ndlld.checks.engines`): rudof, by default, or pySHACL. A
non-conforming graph is a result, not an exception: :func:`check` returns a
:class:`Report` whose findings carry the file and line of the record that states
(or should state) the fact, taken from the origins the graph stage kept.
Violations make the data non-conforming; Warnings (something recommended is
missing, e.g. a Japanese name) do not.

The package follows its seams: the report model (:mod:`~ndlld.checks.report`),
the engines (:mod:`~ndlld.checks.engines`), what the shapes look at around a
resource (:mod:`~ndlld.checks.scope`) and the partition of large graphs
(:mod:`~ndlld.checks.partition`). :func:`check` knows no cache:
:mod:`ndlld.incremental.findings` keeps results between builds.
"""

from __future__ import annotations

from collections.abc import Iterable

from ndlld import parallel
from ndlld.checks.engines import (
    DEFAULT_ENGINE,
    ENGINES,
    OTHER_ENGINE,
    Rules,
    focus_nodes,
    load_shapes,
    load_turtle,
    read_rules,
    shape_files,
    to_rdflib,
    triples_of,
)
from ndlld.checks.partition import Sizes, Surroundings, is_large, validated
from ndlld.checks.report import Finding, Report, combined, merged_report
from ndlld.checks.scope import MAX_PARENTS, documents_reached_by, incoming_needs, surroundings, touched_documents
from ndlld.context import Context
from ndlld.errors import ConfigError
from ndlld.graph import Graph

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "MAX_PARENTS",
    "OTHER_ENGINE",
    "Finding",
    "Report",
    "Rules",
    "Sizes",
    "check",
    "check_with_project_shapes",
    "focus_nodes",
    "incoming_needs",
    "load_shapes",
    "load_turtle",
    "combined",
    "merged_report",
    "project_rules",
    "read_rules",
    "shape_files",
    "surroundings",
    "to_rdflib",
    "touched_documents",
    "documents_reached_by",
    "triples_of",
]


def check(
    graph: Graph, rules: Rules, documents: Iterable[str] | None = None, context: Context | None = None, sizes: Sizes | None = None
) -> Report:
    """Validate the resources of *documents* (document IRIs; all of the graph's when None)
    with *graph* as the data, which must hold their surroundings
    (:func:`ndlld.checks.scope.surroundings`); the report holds findings about those
    documents only. *context* shortens the paths in the findings; *sizes* says how a
    large graph is cut (:class:`ndlld.checks.partition.Sizes`).
    """
    if rules.engine not in ENGINES:
        raise ConfigError(f"unknown SHACL engine {rules.engine!r}: use one of {', '.join(ENGINES)}")
    sizes = sizes or Sizes()
    # The index is made, used and dropped with the collector paused: millions of small
    # objects, none in a cycle, freed as they go out of use.
    with parallel.collector_paused() as collect:
        index = Surroundings(graph, rules.incoming if is_large(graph, sizes) else None)
        results = validated(graph, index, rules, documents, sizes, collect)
        del index
    return merged_report(results, graph, context)


def project_rules(engine: str = DEFAULT_ENGINE) -> Rules:
    """The shapes of shapes/ and the vocabulary ndlld ships, for *engine*."""
    from ndlld.resources import ontology_path, schemaorg_path, shapes_dir

    return read_rules(shapes_dir(), [ontology_path(), schemaorg_path()], engine)


def check_with_project_shapes(graph: Graph, context: Context, engine: str = DEFAULT_ENGINE) -> Report:
    """:func:`check` of the whole graph with the shapes of shapes/ and the vocabulary ndlld ships."""
    return check(graph, project_rules(engine), context=context)
