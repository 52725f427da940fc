"""The dataset described for machines: VoID and DCAT (void.ttl), schema.org Dataset (index).

VoID (https://www.w3.org/TR/void/) and DCAT 3 (https://www.w3.org/TR/vocab-dcat-3/)
are what linked-data crawlers and data portals read; the schema.org ``Dataset``
with its ``distribution`` list is what dataset search engines read
(https://schema.org/Dataset). Both describe the same dumps.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Triple

from ndlld.namespaces import RDF_TYPE, SCHEMA, XSD
from ndlld.site.jsonld import EMBED_CONTEXT, node_objects, schema_org_view

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
IANA = "https://www.iana.org/assignments/media-types/"
VOCABULARY = "https://w3id.org/ndlld/vocab#"


@dataclass(frozen=True)
class Distribution:
    key: str
    title: str
    file: str
    media_type: str
    compressed: bool = False


_PLAIN = [
    Distribution("turtle", "The dataset in Turtle", "dataset.ttl", "text/turtle"),
    Distribution("jsonld", "The dataset in JSON-LD", "dataset.jsonld", "application/ld+json"),
    Distribution("ntriples", "The dataset in N-Triples", "dataset.nt", "application/n-triples"),
    Distribution("ndjson", "The dataset in newline-delimited JSON-LD, a resource a line", "dataset.ndjson", "application/x-ndjson"),
]
DISTRIBUTIONS = _PLAIN + [
    Distribution(d.key + "-gzip", d.title + ", gzip-compressed", d.file + ".gz", d.media_type, compressed=True) for d in _PLAIN
]
SPDX = "http://spdx.org/rdf/terms#"


@dataclass(frozen=True)
class FileFacts:
    """What a harvester checks a download against."""

    size: int
    sha256: str


def file_facts(out_dir: Path) -> dict[str, FileFacts]:
    """Byte size and SHA-256 of each distribution written into *out_dir*: the checksums
    from the ``SHA256SUMS`` written with them (the dumps are not hashed twice), else
    from the files."""
    try:
        lines = (out_dir / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    sums = {name: digest for digest, _, name in (line.partition("  ") for line in lines)}  # sha256sum's "<digest>  <name>"
    facts = {}
    for d in DISTRIBUTIONS:
        path = out_dir / d.file
        if d.file in sums:
            facts[d.file] = FileFacts(path.stat().st_size, sums[d.file])
        else:
            content = path.read_bytes()
            facts[d.file] = FileFacts(len(content), hashlib.sha256(content).hexdigest())
    return facts


def _n(iri: str) -> NamedNode:
    return NamedNode(iri)


def void_triples(view, triples: int, facts: dict[str, FileFacts]) -> list[Triple]:
    """The VoID and DCAT description of the dataset and its dumps (of *triples* statements)."""
    base, dataset = view.base, _n(view.dataset)
    out: list[Triple] = [
        Triple(dataset, RDF_TYPE, _n(VOID + "Dataset")),
        Triple(dataset, RDF_TYPE, _n(DCAT + "Dataset")),
        Triple(dataset, _n(VOID + "triples"), Literal(str(triples), datatype=XSD.integer)),
        Triple(dataset, _n(VOID + "entities"), Literal(str(len(view.documents())), datatype=XSD.integer)),
        Triple(dataset, _n(VOID + "uriSpace"), Literal(base + "id/")),
        Triple(dataset, _n(VOID + "sparqlEndpoint"), _n(base + "sparql")),
        Triple(dataset, _n(VOID + "vocabulary"), _n(str(SCHEMA))),
        Triple(dataset, _n(VOID + "vocabulary"), _n(VOCABULARY)),
        *([Triple(dataset, _n(VOID + "rootResource"), _n(view.publisher))] if view.publisher else []),
        Triple(dataset, _n(FOAF + "homepage"), _n(base)),
    ]
    for example in ("ifla", "ndl"):
        if view.graph.about(base + "id/" + example):
            out.append(Triple(dataset, _n(VOID + "exampleResource"), _n(base + "id/" + example)))
    copied = {
        "name": DCTERMS + "title",
        "description": DCTERMS + "description",
        "publisher": DCTERMS + "publisher",
        "license": DCTERMS + "license",
        "version": DCAT + "version",
        "datePublished": DCTERMS + "issued",
        "dateModified": DCTERMS + "modified",
    }
    for name, predicate in copied.items():
        for value in view.values(view.dataset, str(SCHEMA) + name):
            out.append(Triple(dataset, _n(predicate), value))
    shared = [
        (DCTERMS + "license", str(SCHEMA) + "license"),
        (DCAT + "version", str(SCHEMA) + "version"),
        (DCTERMS + "modified", str(SCHEMA) + "dateModified"),
    ]
    for d in DISTRIBUTIONS:
        distribution = _n(view.dataset + "#" + d.key)
        checksum = _n(view.dataset + "#" + d.key + "-sha256")
        out += [
            Triple(dataset, _n(DCAT + "distribution"), distribution),
            Triple(distribution, RDF_TYPE, _n(DCAT + "Distribution")),
            Triple(distribution, _n(DCTERMS + "title"), Literal(d.title, language="en")),
            Triple(distribution, _n(DCAT + "downloadURL"), _n(base + d.file)),
            Triple(distribution, _n(DCAT + "mediaType"), _n(IANA + d.media_type)),
            Triple(distribution, _n(DCAT + "byteSize"), Literal(str(facts[d.file].size), datatype=XSD.nonNegativeInteger)),
            Triple(distribution, _n(SPDX + "checksum"), checksum),
            Triple(checksum, RDF_TYPE, _n(SPDX + "Checksum")),
            Triple(checksum, _n(SPDX + "algorithm"), _n(SPDX + "checksumAlgorithm_sha256")),
            Triple(checksum, _n(SPDX + "checksumValue"), Literal(facts[d.file].sha256, datatype=XSD.hexBinary)),
            Triple(distribution, _n(VOID + "triples"), Literal(str(triples), datatype=XSD.integer)),
        ]
        if d.compressed:
            out.append(Triple(distribution, _n(DCAT + "compressFormat"), _n(IANA + "application/gzip")))
        else:
            out.append(Triple(dataset, _n(VOID + "dataDump"), _n(base + d.file)))
        for predicate, source in shared:
            out += [Triple(distribution, _n(predicate), value) for value in view.values(view.dataset, source)]
    return out


def dataset_jsonld(view, facts: dict[str, FileFacts]) -> dict:
    """The schema.org ``Dataset`` for the index page, with a ``DataDownload`` per dump."""
    dataset = _n(view.dataset)
    description = schema_org_view(view.graph.about(view.dataset))
    sdo = str(SCHEMA)
    for d in DISTRIBUTIONS:
        download = _n(view.dataset + "#" + d.key)
        description += [
            Triple(dataset, _n(sdo + "distribution"), download),
            Triple(download, RDF_TYPE, _n(sdo + "DataDownload")),
            Triple(download, _n(sdo + "name"), Literal(d.title, language="en")),
            Triple(download, _n(sdo + "contentUrl"), _n(view.base + d.file)),
            Triple(download, _n(sdo + "encodingFormat"), Literal("application/gzip" if d.compressed else d.media_type)),
            Triple(download, _n(sdo + "contentSize"), Literal(f"{facts[d.file].size} B")),
            Triple(download, _n(sdo + "sha256"), Literal(facts[d.file].sha256)),
        ]
        for name in ("license", "version", "dateModified"):
            description += [Triple(download, _n(sdo + name), value) for value in view.values(view.dataset, sdo + name)]
    nodes = node_objects(description)
    return {"@context": EMBED_CONTEXT, "@graph": nodes}
