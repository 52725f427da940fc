"""ndlld: the National Diet Library's international cooperation network as Linked Open Data.

The pipeline, one module a stage::

    sources.load_sources  YAML records -> Records that remember file:line
    graph.build_graph     Records -> triples, through ontology/context.jsonld
    checks.check          triples -> SHACL Report traced back to file:line
    dumps.write_dumps     triples -> dataset.ttl / .jsonld / .nt
    build.build           all of the above, published atomically
"""

__version__ = "0.1.0"
