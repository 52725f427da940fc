"""ndlld: the National Diet Library's international cooperation network as Linked Open Data.

The pipeline, one module a stage::

    sources.load_sources  YAML records -> Records that remember file:line
    graph.build_graph     Records -> triples, through ontology/context.jsonld
    checks.check          triples -> SHACL Report traced back to file:line
    dumps.write_dumps     triples -> dataset.ttl / .jsonld / .nt
    build.build           all of the above, published atomically

>>> import ndlld
>>> report = ndlld.validate("data")
>>> report.conforms
True
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# Imported on first use, so that `ndlld --help` does not load rdflib and pySHACL.
_EXPORTS = {
    "load_sources": "ndlld.sources",
    "build_graph": "ndlld.graph",
    "check": "ndlld.checks",
    "write_dumps": "ndlld.dumps",
    "build": "ndlld.build",
    "validate": "ndlld.build",
    "load_graph": "ndlld.build",
    "NdlldError": "ndlld.errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ndlld' has no attribute {name!r}")
