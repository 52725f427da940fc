"""The dataset described for machines: VoID and DCAT (void.ttl), schema.org Dataset (index).

VoID (https://www.w3.org/TR/void/) and DCAT 3 (https://www.w3.org/TR/vocab-dcat-3/)
are what linked-data crawlers and data portals read; the DCAT part follows the
DCAT-AP 3 profile that European portals check (with its shapes, in tests/dcat-ap/).
The schema.org ``Dataset`` with its ``distribution`` list is what dataset search
engines read (https://schema.org/Dataset). Both describe the same dumps, and the
page of the dataset describes them too (:func:`dataset_page_triples`): their IRIs
are its hash IRIs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from pyoxigraph import Literal, NamedNode, RdfFormat, Triple

from ndlld.dumps import read_triples
from ndlld.namespaces import RDF_TYPE, SCHEMA, XSD
from ndlld.rdf import subject_value
from ndlld.site.jsonld import EMBED_CONTEXT, node_objects, schema_org_view

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SPDX = "http://spdx.org/rdf/terms#"
ADMS = "http://www.w3.org/ns/adms#"
DCATAP = "http://data.europa.eu/r5r/"
IANA = "http://www.iana.org/assignments/media-types/"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
VOCABULARY = "https://w3id.org/ndlld/vocab#"
PROFILE = "https://semiceu.github.io/DCAT-AP/releases/3.0.1"  # DCAT-AP 3, which void.ttl follows
STABLE = "http://publications.europa.eu/resource/authority/planned-availability/STABLE"
COMPLETED = "http://purl.org/adms/status/Completed"
TURTLE, NTRIPLES, JSONLD = "https://www.w3.org/TR/turtle/", "https://www.w3.org/TR/n-triples/", "https://www.w3.org/TR/json-ld11/"
NDJSON = "https://github.com/ndjson/ndjson-spec"
_LINKED = Path(__file__).parent / "dcat-ap.ttl"


@dataclass(frozen=True)
class Distribution:
    key: str
    title: str
    file: str
    media_type: str
    file_type: str  # in the EU Publications Office's file types (FILE_TYPE)
    standards: tuple[str, ...]
    description: str
    compressed: bool = False


_PLAIN = [
    Distribution(
        "turtle",
        "The dataset in Turtle",
        "dataset.ttl",
        "text/turtle",
        "RDF_TURTLE",
        (TURTLE,),
        "Every statement of the dataset in one Turtle file.",
    ),
    Distribution(
        "jsonld",
        "The dataset in JSON-LD",
        "dataset.jsonld",
        "application/ld+json",
        "JSON_LD",
        (JSONLD,),
        "Every statement of the dataset in one JSON-LD document, its context inline.",
    ),
    Distribution(
        "ntriples",
        "The dataset in N-Triples",
        "dataset.nt",
        "application/n-triples",
        "RDF_N_TRIPLES",
        (NTRIPLES,),
        "Every statement of the dataset in N-Triples, one a line.",
    ),
    Distribution(
        "ndjson",
        "The dataset in newline-delimited JSON-LD, a resource a line",
        "dataset.ndjson",
        "application/x-ndjson",
        "JSON_LD",
        (NDJSON, JSONLD),
        "Every statement of the dataset, a resource a line, each line a JSON-LD document with the context context.jsonld.",
    ),
]
DISTRIBUTIONS = _PLAIN + [
    replace(
        d,
        key=d.key + "-gzip",
        title=d.title + ", gzip-compressed",
        file=d.file + ".gz",
        description=d.description + " Compressed with gzip.",
        compressed=True,
    )
    for d in _PLAIN
]


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


@cache
def _linked() -> dict[str, list[Triple]]:
    """What dcat-ap.ttl says, by subject."""
    by_subject: dict[str, list[Triple]] = {}
    for triple in read_triples(_LINKED, RdfFormat.TURTLE):
        by_subject.setdefault(subject_value(triple), []).append(triple)
    return by_subject


def linked_descriptions(triples: list[Triple]) -> list[Triple]:
    """What dcat-ap.ttl says of the resources *triples* link to, and of those these link to."""
    known, found, seen = _linked(), [], set()
    frontier = [t.object.value for t in triples if isinstance(t.object, NamedNode)]
    while frontier:
        iri = frontier.pop()
        if iri in seen or iri not in known:
            continue
        seen.add(iri)
        found += known[iri]
        frontier += [t.object.value for t in known[iri] if isinstance(t.object, NamedNode)]
    return found


def _languages(view) -> list[NamedNode]:
    """The dataset's languages (``inLanguage``) as the EU's language IRIs that dcat-ap.ttl names."""
    notations = (t for ts in _linked().values() for t in ts if t.predicate.value == SKOS + "notation")
    by_tag = {t.object.value: subject_value(t) for t in notations if isinstance(t.object, Literal)}
    tags = [o.value for o in view.values(view.dataset, str(SCHEMA) + "inLanguage")]
    return [_n(by_tag[tag]) for tag in sorted(tags) if tag in by_tag]


_COPIED = {
    "name": DCTERMS + "title",
    "description": DCTERMS + "description",
    "publisher": DCTERMS + "publisher",
    "license": DCTERMS + "license",
    "version": DCAT + "version",
    "datePublished": DCTERMS + "issued",
    "dateModified": DCTERMS + "modified",
}


def _copied(view, subject: NamedNode, names: list[str]) -> list[Triple]:
    """The dataset's schema.org *names* (keys of :data:`_COPIED`) as DCAT statements of *subject*."""
    return [Triple(subject, _n(_COPIED[name]), value) for name in names for value in view.values(view.dataset, str(SCHEMA) + name)]


def distribution_triples(view) -> list[Triple]:
    """The dataset's DCAT distributions: what they are, not the files' sizes and checksums
    (the page of the dataset gives these too, and is made before the dumps)."""
    dataset, base, out = _n(view.dataset), view.base, []
    licences = [o for o in view.values(view.dataset, str(SCHEMA) + "license") if isinstance(o, NamedNode)]
    out += [Triple(licence, RDF_TYPE, _n(DCTERMS + "LicenseDocument")) for licence in licences]
    for d in DISTRIBUTIONS:
        distribution = _n(view.dataset + "#" + d.key)
        out += [
            Triple(dataset, _n(DCAT + "distribution"), distribution),
            Triple(distribution, RDF_TYPE, _n(DCAT + "Distribution")),
            Triple(distribution, _n(DCTERMS + "title"), Literal(d.title, language="en")),
            Triple(distribution, _n(DCTERMS + "description"), Literal(d.description, language="en")),
            Triple(distribution, _n(DCAT + "accessURL"), _n(base + d.file)),
            Triple(distribution, _n(DCAT + "downloadURL"), _n(base + d.file)),
            Triple(distribution, _n(DCAT + "mediaType"), _n(IANA + d.media_type)),
            Triple(distribution, _n(DCTERMS + "format"), _n(FILE_TYPE + d.file_type)),
            Triple(distribution, _n(DCATAP + "availability"), _n(STABLE)),
            *(Triple(distribution, _n(DCTERMS + "conformsTo"), _n(standard)) for standard in d.standards),
            *([Triple(distribution, _n(DCAT + "compressFormat"), _n(IANA + "application/gzip"))] if d.compressed else []),
        ]
        out += _copied(view, distribution, ["license", "version", "dateModified"])
    return out


def dataset_page_triples(view) -> list[Triple]:
    """What the page of the dataset adds to its description: the distributions, and what
    they link to, as :func:`void_triples` gives them."""
    distributions = distribution_triples(view)
    return distributions + linked_descriptions(distributions)


def _file_triples(view, triples: int, facts: dict[str, FileFacts]) -> list[Triple]:
    """Each distribution's size, checksum and number of statements, once the dumps are written."""
    out: list[Triple] = []
    for d in DISTRIBUTIONS:
        distribution = _n(view.dataset + "#" + d.key)
        checksum = _n(view.base + "void.ttl#" + d.key + "-sha256")  # described where its IRI leads, as a build's fact
        out += [
            Triple(distribution, _n(DCAT + "byteSize"), Literal(str(facts[d.file].size), datatype=XSD.nonNegativeInteger)),
            Triple(distribution, _n(SPDX + "checksum"), checksum),
            Triple(checksum, RDF_TYPE, _n(SPDX + "Checksum")),
            Triple(checksum, _n(SPDX + "algorithm"), _n(SPDX + "checksumAlgorithm_sha256")),
            Triple(checksum, _n(SPDX + "checksumValue"), Literal(facts[d.file].sha256, datatype=XSD.hexBinary)),
            Triple(distribution, _n(VOID + "triples"), Literal(str(triples), datatype=XSD.integer)),
        ]
        if not d.compressed:
            out.append(Triple(_n(view.dataset), _n(VOID + "dataDump"), _n(view.base + d.file)))
    return out


def _void(view, triples: int) -> list[Triple]:
    """The VoID description of the dataset (https://www.w3.org/TR/void/)."""
    base, dataset = view.base, _n(view.dataset)
    out = [
        Triple(dataset, RDF_TYPE, _n(VOID + "Dataset")),
        Triple(dataset, _n(VOID + "triples"), Literal(str(triples), datatype=XSD.integer)),
        Triple(dataset, _n(VOID + "entities"), Literal(str(view.page_count()), datatype=XSD.integer)),
        Triple(dataset, _n(VOID + "uriSpace"), Literal(base + "id/")),
        Triple(dataset, _n(VOID + "sparqlEndpoint"), _n(base + "sparql")),
        Triple(dataset, _n(VOID + "vocabulary"), _n(str(SCHEMA))),
        Triple(dataset, _n(VOID + "vocabulary"), _n(VOCABULARY)),
        *([Triple(dataset, _n(VOID + "rootResource"), _n(view.publisher))] if view.publisher else []),
        Triple(dataset, _n(FOAF + "homepage"), _n(base)),
    ]
    for example in ("ifla", "ndl"):
        # Described, as every record's resource is, with a type: all that is said about the
        # publisher would be each of its memberships.
        if view.graph.stated(base + "id/" + example, RDF_TYPE.value):
            out.append(Triple(dataset, _n(VOID + "exampleResource"), _n(base + "id/" + example)))
    return out


def _catalog(view) -> list[Triple]:
    """The DCAT-AP catalogue of the dataset (the site), its record of the dataset, and the
    publisher as the agent DCAT-AP asks for: all in void.ttl, where their IRIs lead."""
    base, dataset = view.base, _n(view.dataset)
    catalog, record, home = _n(base + "void.ttl#catalog"), _n(base + "void.ttl#record"), _n(base)
    languages = _languages(view)
    out = [
        Triple(dataset, RDF_TYPE, _n(DCAT + "Dataset")),
        Triple(dataset, RDF_TYPE, _n(DCAT + "Resource")),  # what a record's primaryTopic is; no reasoner infers it
        *_copied(view, dataset, list(_COPIED)),
        *(Triple(dataset, _n(DCTERMS + "language"), language) for language in languages),
        Triple(dataset, _n(DCAT + "landingPage"), home),
        Triple(home, RDF_TYPE, _n(FOAF + "Document")),
        Triple(catalog, RDF_TYPE, _n(DCAT + "Catalog")),
        *_copied(view, catalog, ["name", "description", "publisher", "license", "datePublished", "dateModified"]),
        *(Triple(catalog, _n(DCTERMS + "language"), language) for language in languages),
        Triple(catalog, _n(FOAF + "homepage"), home),
        Triple(catalog, _n(DCAT + "dataset"), dataset),
        Triple(catalog, _n(DCAT + "record"), record),
        Triple(record, RDF_TYPE, _n(DCAT + "CatalogRecord")),
        Triple(record, _n(FOAF + "primaryTopic"), dataset),
        Triple(record, _n(DCTERMS + "conformsTo"), _n(PROFILE)),
        Triple(record, _n(ADMS + "status"), _n(COMPLETED)),
        *_copied(view, record, ["datePublished", "dateModified"]),
    ]
    if view.publisher:
        agent = _n(view.publisher)
        out += [Triple(agent, RDF_TYPE, _n(FOAF + "Agent"))]
        out += [Triple(agent, _n(FOAF + "name"), name) for name in view.values(view.publisher, str(SCHEMA) + "name")]
    return out


def void_triples(view, triples: int, facts: dict[str, FileFacts]) -> list[Triple]:
    """The VoID and DCAT description of the dataset and its dumps (of *triples* statements):
    DCAT as the DCAT-AP 3 profile asks (tests/dcat-ap/ holds its shapes)."""
    described = _void(view, triples) + _catalog(view) + distribution_triples(view) + _file_triples(view, triples, facts)
    return described + linked_descriptions(described)


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
