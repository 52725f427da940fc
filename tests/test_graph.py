"""Records -> graph: the triples are those a JSON-LD processor makes of the
records, and each remembers where it was written."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
import rdflib
import yaml
from pyld import jsonld
from pyoxigraph import Literal, NamedNode, Triple

from ndlld.build import load_graph
from ndlld.dumps import ntriples
from ndlld.graph import build_graph, resource_base
from ndlld.sources import load_sources

from conftest import DATA, GOOD

SCHEMA = "http://schema.org/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
ID = "https://example.org/ndlld/id/"


def _as_json(value):
    """YAML's own dates as the text they were written as (as ndlld reads them)."""
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _pyld_graph(data_dir: Path, context: dict) -> rdflib.Graph:
    """Every record through pyld, an independent JSON-LD processor."""
    sources = load_sources(data_dir)
    graph = rdflib.Graph()
    for record in [sources.dataset, *sources.records]:
        document = _as_json(yaml.safe_load(record.path.read_text(encoding="utf-8")))
        if record is sources.dataset:
            document = document["dataset"]
        ours = record.data.get("dataset", record.data) if record is sources.dataset else record.data
        _unfold_as_ndlld_does(document, ours)
        document["@context"] = [context["@context"], {"@base": resource_base(sources.base)}]
        graph.parse(data=jsonld.to_rdf(document, {"format": "application/n-quads"}), format="nt")
    return graph


def _unfold_as_ndlld_does(document, ours) -> None:
    """Where YAML folded lines of Japanese with a space, the text as ndlld reads it
    (test_sources.py checks that reading): the rest stays YAML's own."""
    for key, value in document.items() if isinstance(document, dict) else enumerate(document):
        theirs = ours.get(key) if isinstance(ours, dict) else ours[key] if isinstance(ours, list) and key < len(ours) else None
        if isinstance(value, str) and isinstance(theirs, str) and value.replace(" ", "") == theirs.replace(" ", ""):
            document[key] = theirs
        elif isinstance(value, (dict, list)) and isinstance(theirs, type(value)):
            _unfold_as_ndlld_does(value, theirs)


@pytest.mark.parametrize("data_dir", [GOOD, DATA], ids=["fixture", "real"])
def test_same_triples_as_an_independent_json_ld_processor(data_dir: Path, context):
    graph = build_graph(load_sources(data_dir), context)  # as written: no inverses added
    ours = rdflib.Graph().parse(data=ntriples(graph.triples), format="nt")
    theirs = _pyld_graph(data_dir, context.document)
    assert set(_as_json_ld_reads_links(ours)) == set(theirs)


def _as_json_ld_reads_links(graph: rdflib.Graph) -> rdflib.Graph:
    """*graph* with each link's statement as JSON-LD reads ``{id: T, source: S}``: a
    statement about T (the one way ndlld reads records otherwise, graph.py's docstring)."""
    statements = set(graph.subjects(rdflib.RDF.type, rdflib.RDF.Statement))
    read = rdflib.Graph()
    for triple in graph:
        if triple[0] not in statements:
            read.add(triple)
    for statement in statements:
        for source in graph.objects(statement, rdflib.DCTERMS.source):
            read.add((graph.value(statement, rdflib.RDF.object), rdflib.DCTERMS.source, source))
    assert statements or not list(graph.triples((None, rdflib.URIRef(SCHEMA + "sameAs"), None)))
    return read


def test_role_pattern_links_member_role_and_organization(context):
    graph = set(load_graph(GOOD, context).triples)
    role = NamedNode(ID + "ifla#ndl-associate-member")
    assert Triple(NamedNode(ID + "ndl"), NamedNode(SCHEMA + "memberOf"), role) in graph
    assert Triple(role, NamedNode(SCHEMA + "memberOf"), NamedNode(ID + "ifla")) in graph
    year = Literal("1966", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#gYear"))
    assert Triple(role, NamedNode(SCHEMA + "startDate"), year) in graph


def test_every_triple_knows_its_file_and_line(context):
    graph = load_graph(GOOD, context)
    assert set(graph.origins) == set(graph.triples)
    start = Triple(
        NamedNode(ID + "ifla#ndl-associate-member"),
        NamedNode(SCHEMA + "startDate"),
        Literal("1966", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#gYear")),
    )
    origin = graph.origins[start]
    assert Path(origin.path) == GOOD / "organizations" / "ifla.yaml" and origin.line == 22
    assert graph.nodes[ID + "ifla"].line == 1


def test_no_blank_nodes(real_graph):
    for triple in real_graph.triples:
        assert isinstance(triple.subject, NamedNode)
        assert not type(triple.object).__name__ == "BlankNode"


def test_ids_resolve_against_the_configured_base(good_data: Path, context):
    dataset = good_data / "dataset.yaml"
    dataset.write_text(dataset.read_text().replace("https://example.org/ndlld/", "https://data.example.jp/"))
    graph = load_graph(good_data, context)
    assert "https://data.example.jp/id/ifla" in graph.nodes
    assert not any(iri.startswith("https://example.org/") for iri in graph.nodes)


def test_external_iris_are_kept_with_their_source(good_data: Path, context):
    record = good_data / "organizations" / "ifla.yaml"
    record.write_text(record.read_text() + "sameAs:\n  - id: http://www.wikidata.org/entity/Q46207\n    source: source/page\n")
    graph = set(load_graph(good_data, context).triples)
    target = NamedNode("http://www.wikidata.org/entity/Q46207")
    assert Triple(NamedNode(ID + "ifla"), NamedNode(SCHEMA + "sameAs"), target) in graph
    statement = NamedNode(ID + "ifla#sameas-wikidata-q46207")  # RDF reification: the link and its source
    assert Triple(statement, NamedNode(RDF + "object"), target) in graph
    assert Triple(statement, NamedNode("http://purl.org/dc/terms/source"), NamedNode(ID + "source/page")) in graph


def test_unicode_survives_unchanged(good_data: Path, context):
    names = ["مكتبة", "Bibliothe\u0300que", "図書館 📚"]
    record = good_data / "organizations" / "unicode.yaml"
    record.write_text(
        json.dumps({"id": "unicode", "type": "Organization", "name": {"en": names[1], "ar": names[0], "ja": names[2]}}, ensure_ascii=False),
        encoding="utf-8",
    )
    graph = load_graph(good_data, context)
    written = {t.object.value for t in graph.triples if t.subject.value == ID + "unicode" and isinstance(t.object, Literal)}
    assert written == set(names)


def test_links_are_stated_both_ways(context):
    """A record states a series' subEvent; the graph also has the event's superEvent."""
    graph = load_graph(GOOD, context)
    sub = Triple(NamedNode(ID + "meetings"), NamedNode(SCHEMA + "subEvent"), NamedNode(ID + "meetings#1"))
    sup = Triple(NamedNode(ID + "meetings#1"), NamedNode(SCHEMA + "superEvent"), NamedNode(ID + "meetings"))
    assert sub in graph.origins and sup in graph.origins
    assert graph.origins[sup] == graph.origins[sub]


def test_branches_are_listed_under_their_parent(real_graph):
    triples = set(real_graph.triples)
    assert (
        Triple(NamedNode(real_graph.base + "id/ifla"), NamedNode(SCHEMA + "subOrganization"), NamedNode(real_graph.base + "id/ifla-pac"))
        in triples
    )


def _as_compared(graph):
    return (
        list(graph.triples),
        {t: (Path(o.path).name, o.line) for t, o in graph.origins.items()},
        {iri: (Path(o.path).name, o.line) for iri, o in graph.nodes.items()},
    )


def test_reading_in_parallel_makes_the_same_graph(tmp_path: Path, context):
    """Many records are read by several processes; the graph and its origins must not change."""
    from ndlld.synth import synthesize

    synthesize(tmp_path / "synth", 120, seed=2)
    serial = load_graph(tmp_path / "synth", context, parallel_from=10**9)
    parallel = load_graph(tmp_path / "synth", context, parallel_from=1)
    assert _as_compared(parallel) == _as_compared(serial)
    assert len(serial) > 2000


def test_reading_in_parallel_reports_the_same_errors(good_data: Path, context):
    from ndlld.errors import SourceErrors

    from conftest import TESTS, add_fixture

    for name in ("same-id-as-ifla.yaml", "missing-reference.yaml", "unknown-key.yaml", "yaml-syntax.yaml"):
        add_fixture(good_data, TESTS / "records" / "bad" / name)
    reports = []
    for parallel_from in (10**9, 1):
        with pytest.raises(SourceErrors) as caught:
            load_graph(good_data, context, parallel_from=parallel_from)
        reports.append(str(caught.value))
    assert reports[0] == reports[1] and "YAML syntax" in reports[0]
    (good_data / "organizations" / "yaml-syntax.yaml").unlink()  # past the read errors: the graph errors
    reports = []
    for parallel_from in (10**9, 1):
        with pytest.raises(SourceErrors) as caught:
            load_graph(good_data, context, parallel_from=parallel_from)
        reports.append(str(caught.value))
    assert reports[0] == reports[1]
    assert "duplicate id 'ifla'" in reports[0] and "'iflaa' is not described" in reports[0] and "unknown key" in reports[0]


# -- schema.org's own domains and ranges ------------------------------------------
# schema.org's vocabulary file, release 30.0 (tests/schemaorg/README.md): read from
# the checkout, never fetched.
SCHEMAORG_FILE = Path(__file__).parent / "schemaorg" / "schemaorg-current-http.ttl.gz"
XSD_NS, RDF_NS, RDFS_NS = (
    "http://www.w3.org/2001/XMLSchema#",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://www.w3.org/2000/01/rdf-schema#",
)
NDL_NS = "https://w3id.org/ndlld/vocab#"
# What schema.org calls each datatype of a literal (https://schema.org/DataType): a
# year such as "1966" is an ISO 8601 date of reduced precision, as schema:Date allows.
DATATYPES = {
    XSD_NS + "string": "Text",
    RDF_NS + "langString": "Text",
    XSD_NS + "integer": "Integer",
    XSD_NS + "date": "Date",
    XSD_NS + "gYear": "Date",
    XSD_NS + "dateTime": "DateTime",
    XSD_NS + "duration": "Duration",
    XSD_NS + "boolean": "Boolean",
    XSD_NS + "anyURI": "URL",
}
# The domains the NDL vocabulary adds to schema.org's terms, as a schema.org extension
# does (ontology/ndl.ttl says what they mean there): listed, so that none is added unseen.
DECLARED_EXTENSIONS = {(SCHEMA + "startDate", NDL_NS + "LegalStatus"), (SCHEMA + "endDate", NDL_NS + "LegalStatus")}


class Vocabularies:
    """schema.org's classes, properties, domains and ranges, with the NDL vocabulary's."""

    def __init__(self):
        import gzip

        from ndlld.resources import ontology_path

        self.graph = rdflib.Graph()
        self.graph.parse(data=gzip.decompress(SCHEMAORG_FILE.read_bytes()).decode("utf-8"), format="turtle")
        self.ndl = rdflib.Graph().parse(ontology_path(), format="turtle")
        self.graph += self.ndl

    def above(self, cls: str) -> set[str]:
        return {str(c) for c in self.graph.transitive_objects(rdflib.URIRef(cls), rdflib.RDFS.subClassOf)}

    def expected(self, predicate: str, what: str) -> set[str]:
        """A property's domain or range: schema.org's domainIncludes or rangeIncludes, the NDL vocabulary's rdfs:domain or range."""
        term = rdflib.URIRef(predicate)
        schema_term, rdfs_term = (rdflib.URIRef(SCHEMA + f"{what}Includes"), rdflib.URIRef(RDFS_NS + what))
        return {str(o) for o in self.graph.objects(term, schema_term)} | {str(o) for o in self.graph.objects(term, rdfs_term)}


def domain_and_range_problems(triples, vocabularies: Vocabularies) -> list[str]:
    """Every statement whose property is used outside its documented domain or range.

    A schema:Role stands where its property's value would (the Role pattern,
    https://schema.org/Role): ``NDL memberOf role . role memberOf IFLA``, so a role is
    a fit subject and value of the property it is reached by."""
    types: dict[str, set[str]] = {}
    by_predicate: dict[str, set[tuple[str, str]]] = {}
    for t in triples:
        if t.predicate.value == RDF_NS + "type":
            types.setdefault(t.subject.value, set()).update(vocabularies.above(t.object.value))
        if isinstance(t.object, NamedNode):
            by_predicate.setdefault(t.predicate.value, set()).add((t.subject.value, t.object.value))
    for concept in vocabularies.ndl.subjects(rdflib.RDF.type, rdflib.URIRef("http://www.w3.org/2004/02/skos/core#Concept")):
        types.setdefault(str(concept), set()).add("http://www.w3.org/2004/02/skos/core#Concept")
    for kind in (rdflib.RDF.Property, rdflib.OWL.ObjectProperty, rdflib.OWL.DatatypeProperty):  # what ndl:citedFor names
        for term in vocabularies.graph.subjects(rdflib.RDF.type, kind):
            types.setdefault(str(term), set()).add(RDF_NS + "Property")
    problems = []
    for t in triples:
        predicate = t.predicate.value
        if not predicate.startswith((SCHEMA, NDL_NS)):
            continue
        subject, links = t.subject.value, by_predicate.get(predicate, set())
        role = SCHEMA + "Role" in types.get(subject, set())
        if not (types.get(subject, set()) & vocabularies.expected(predicate, "domain") or role and any(o == subject for _, o in links)):
            problems.append(f"{predicate} on {subject}, a {sorted(types.get(subject, set()))}")
        if not _fits_range(t, types, links, vocabularies):
            problems.append(f"{predicate} of {subject}: {t.object}")
    return problems


def _fits_range(t, types: dict[str, set[str]], links: set[tuple[str, str]], vocabularies: Vocabularies) -> bool:
    expected = vocabularies.expected(t.predicate.value, "range")
    if isinstance(t.object, Literal):
        datatype = t.object.datatype.value
        if datatype.startswith(XSD_NS) and datatype in expected:  # an NDL datatype property
            return True
        return bool(vocabularies.above(SCHEMA + DATATYPES.get(datatype, "?")) & expected)
    value = t.object.value
    if types.get(value, set()) & expected or SCHEMA + "URL" in expected:
        return True
    return SCHEMA + "Role" in types.get(value, set()) and any(s == value for s, _ in links)


@pytest.fixture(scope="module")
def vocabularies() -> Vocabularies:
    return Vocabularies()


@pytest.mark.parametrize("data_dir", [GOOD, DATA], ids=["fixture", "real"])
def test_every_term_is_used_within_its_domain_and_range(data_dir: Path, context, vocabularies: Vocabularies):
    """Checked against schema.org's own vocabulary file and ontology/ndl.ttl."""
    graph = load_graph(data_dir, context)
    assert domain_and_range_problems(graph.triples, vocabularies) == []


def test_synthetic_data_uses_every_term_within_its_domain_and_range(tmp_path: Path, context, vocabularies: Vocabularies):
    from ndlld.synth import synthesize

    synthesize(tmp_path / "synth", 60, seed=7)
    assert domain_and_range_problems(load_graph(tmp_path / "synth", context).triples, vocabularies) == []


def test_every_schema_org_term_exists_and_only_declared_domains_are_added(real_graph, vocabularies: Vocabularies):
    used = {t.predicate.value for t in real_graph.triples} | {
        t.object.value for t in real_graph.triples if t.predicate.value == RDF_NS + "type"
    }
    for term in sorted(u for u in used if u.startswith(SCHEMA)):
        assert (rdflib.URIRef(term), None, None) in vocabularies.graph, f"{term} is not in schema.org"
    added = {(str(p), str(c)) for p, c in vocabularies.ndl.subject_objects(rdflib.URIRef(SCHEMA + "domainIncludes"))}
    assert added == DECLARED_EXTENSIONS


def test_a_term_outside_its_domain_or_range_is_found(real_graph, vocabularies: Vocabularies):
    """The check can fail: schema:startDate on an organization, a place as a publisher."""
    base = resource_base(real_graph.base)
    wrong = [
        Triple(NamedNode(base + "ifla"), NamedNode(SCHEMA + "startDate"), Literal("1927", datatype=NamedNode(XSD_NS + "gYear"))),
        Triple(NamedNode(base + "ifla-website"), NamedNode(SCHEMA + "publisher"), NamedNode(base + "country/jp")),
        Triple(NamedNode(base + "ifla#member-count"), NamedNode(SCHEMA + "minValue"), Literal("many")),
    ]
    assert len(domain_and_range_problems([*real_graph.triples, *wrong], vocabularies)) == 3
