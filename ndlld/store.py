"""The embedded SPARQL store: the published dumps loaded into pyoxigraph.

The dataset goes into the default graph and the vocabulary into a named graph
of its own (``https://w3id.org/ndlld/vocab``), the same layout ``ndlld
publish`` gives a remote store, so a query means the same thing on both.
"""

from __future__ import annotations

from pathlib import Path

from pyoxigraph import DefaultGraph, NamedNode, RdfFormat, Store

from ndlld.dumps import DATASET_FILES
from ndlld.errors import ConfigError

VOCABULARY_GRAPH = NamedNode("https://w3id.org/ndlld/vocab")


def open_store(dist_dir: str | Path) -> Store:
    """An in-memory store holding the dataset and the vocabulary published in *dist_dir*."""
    dist_dir = Path(dist_dir)
    dataset, ontology = dist_dir / DATASET_FILES["ntriples"], dist_dir / "ontology.ttl"
    for path in (dataset, ontology):
        if not path.is_file():
            raise ConfigError(f"no {path.name} in {dist_dir}: run 'ndlld build' first", path=dist_dir)
    store = Store()
    store.bulk_load(path=str(dataset), format=RdfFormat.N_TRIPLES, to_graph=DefaultGraph())
    store.bulk_load(path=str(ontology), format=RdfFormat.TURTLE, to_graph=VOCABULARY_GRAPH)
    return store
