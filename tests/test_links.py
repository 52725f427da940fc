"""Links outward: the authorities' forms and check digits, the country links, the links
of the real and the synthetic data, and ``ndlld links check`` against a loopback server
standing in for the authorities."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner

from ndlld import links
from ndlld.build import load_graph, validate
from ndlld.cli import cli
from ndlld.errors import SourceErrors
from ndlld.resources import shapes_dir
from ndlld.synth import synthesize

from conftest import DATA, free_port

SCHEMA = "http://schema.org/"
NDLSH = rdflib.Namespace("https://w3id.org/ndlld/shapes#")
RDF_STATEMENT = "http://www.w3.org/1999/02/22-rdf-syntax-ns#Statement"

# Identifiers published by the authorities themselves, and the same with one character changed.
VALID = {
    "isni": ["000000012146438X", "000000012281955X", "0000000121032683"],
    "ror": ["03yrm5c26", "02mhbdp94", "05gq02987", "013meh722"],
}
INVALID = {
    "isni": ["0000000121464381", "0000000122819550", "0000000121032684"],
    "ror": ["03yrm5c27", "02mhbdp49", "05gq02988", "013meh723"],
}


@pytest.mark.parametrize("key", list(VALID))
def test_check_digits_of_published_identifiers_pass_and_of_altered_ones_fail(key: str):
    authority = links.authority(key)
    for identifier in VALID[key]:
        assert authority.identifier_of(authority.iri_of(identifier)) == identifier
        assert authority.check_problem(identifier) is None, identifier
    for identifier in INVALID[key]:
        assert authority.check_problem(identifier) is not None, identifier


def test_authorities_without_check_digits_accept_any_identifier_of_their_form():
    for authority in links.authorities():
        if authority.check == "none":
            assert authority.check_problem("anything") is None, authority.key


def test_the_shapes_check_the_forms_the_authorities_file_gives():
    """shapes/links.ttl and ontology/authorities.yaml say the same of each authority."""
    shapes = rdflib.Graph().parse(shapes_dir() / "links.ttl")
    for authority in links.authorities():
        name = "".join(part.capitalize() for part in authority.key.split("-"))
        assert str(shapes.value(NDLSH[name + "Form"], rdflib.SH.pattern)) == authority.pattern, authority.key
        assert str(shapes.value(NDLSH["At" + name], rdflib.SH.pattern)) == authority.place, authority.key


def test_the_country_table_maps_every_iso_code_once():
    table = links.alpha3()
    assert len(table) == 249 and len(set(table.values())) == 249
    assert (table["JP"], table["VN"], table["LA"], table["MM"]) == ("JPN", "VNM", "LAO", "MMR")
    assert links.country_link("JP") == "http://publications.europa.eu/resource/authority/country/JPN"
    assert links.country_link("XX") is None


def test_every_real_country_links_to_the_country_table_by_its_code_with_sources(real_graph):
    graph = rdflib.Graph().parse(data="\n".join(str(t) + " ." for t in real_graph.triples), format="nt")
    countries = set(graph.subjects(rdflib.RDF.type, rdflib.URIRef(SCHEMA + "Country")))
    assert len(countries) == 13
    for country in countries:
        code = str(graph.value(country, rdflib.URIRef("https://w3id.org/ndlld/vocab#countryCode")))
        [link] = graph.objects(country, rdflib.URIRef(SCHEMA + "sameAs"))
        assert str(link) == links.country_link(code)
        [statement] = graph.subjects(rdflib.RDF.object, link)
        assert graph.value(statement, rdflib.RDF.subject) == country
        assert {str(s).rsplit("/", 1)[1] for s in graph.objects(statement, rdflib.DCTERMS.source)} == {"iso-3166-1", "eu-countries"}


def test_the_real_data_links_only_where_a_source_gives_the_link(real_graph):
    """The source page gives no addresses: the only links are the countries' (from their
    ISO codes) and the country table's own IRI."""
    linked = {
        (t.subject.value.rsplit("/id/", 1)[1], t.predicate.value.rsplit("/", 1)[1])
        for t in real_graph.triples
        if t.predicate.value in (SCHEMA + "sameAs", SCHEMA + "url")
    }
    assert {subject for subject, _ in linked} == {f"country/{c}" for c in "bn kh id la my mm ph sg th vn au ca jp".split()} | {
        "source/eu-countries"
    }


def test_synthetic_data_links_to_every_authority_with_valid_check_digits(tmp_path: Path):
    synthesize(tmp_path, 45, seed=3)
    report = validate(tmp_path)
    assert report.conforms and report.findings == [], report.text()
    graph = load_graph(tmp_path)
    targets = [t.object.value for t in graph.triples if t.predicate.value == SCHEMA + "sameAs"]
    found = {links.identify(target)[0].key for target in targets if links.identify(target)}
    assert found == {a.key for a in links.authorities()}
    assert all(links.link_problem(target) is None for target in targets)
    assert any(t.predicate.value == SCHEMA + "url" for t in graph.triples)
    statements = {t.subject for t in graph.triples if t.object.value == RDF_STATEMENT}
    assert len(statements) == len(targets) + sum(t.predicate.value == SCHEMA + "url" for t in graph.triples)


def test_a_link_written_twice_with_two_sources_is_one_link_with_both(good_data: Path):
    record = good_data / "organizations" / "ifla.yaml"
    link = "  - id: http://www.wikidata.org/entity/Q46166\n    source: {}\n"
    record.write_text(record.read_text() + "sameAs:\n" + link.format("source/page") + link.format("ifla"))
    graph = load_graph(good_data)
    statement = "https://example.org/ndlld/id/ifla#sameas-wikidata-q46166"
    sources = {t.object.value for t in graph.triples if t.subject.value == statement and t.predicate.value.endswith("/source")}
    assert sources == {"https://example.org/ndlld/id/source/page", "https://example.org/ndlld/id/ifla"}


def test_a_link_with_bad_check_digits_is_refused_at_its_line(good_data: Path):
    record = good_data / "organizations" / "ifla.yaml"
    lines = len(record.read_text().splitlines())
    record.write_text(record.read_text() + "sameAs:\n  - id: https://ror.org/03yrm5c27\n    source: source/page\n")
    with pytest.raises(SourceErrors) as err:
        load_graph(good_data)
    [error] = err.value.errors
    assert (error.line, error.message) == (
        lines + 2,
        "ROR 03yrm5c27 fails its check digits (ROR's ISO/IEC 7064 MOD 97-10): it would end in 26",
    )


# -- ndlld links check, against a loopback server standing in for the authorities ---------------

ANSWERS = {
    # Wikidata: exists, and names IFLA as the record does.
    "/wikidata/Q46166.ttl": (
        200,
        "text/turtle",
        '<http://www.wikidata.org/entity/Q46166> <http://www.w3.org/2000/01/rdf-schema#label> "International Federation of Library'
        ' Associations and Institutions"@en .\n',
    ),
    # ROR: renamed, its names none of the record's.
    "/ror/03yrm5c26": (200, "application/json", json.dumps({"names": [{"value": "California Digital Library", "types": ["ror_display"]}]})),
    # The country table: exists, named as the record names Japan (its case aside).
    "/eu/JPN": (
        200,
        "application/rdf+xml",
        '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns:skos="http://www.w3.org/2004/02/skos/core#">'
        '<rdf:Description rdf:about="http://publications.europa.eu/resource/authority/country/JPN">'
        '<skos:prefLabel xml:lang="en">JAPAN</skos:prefLabel></rdf:Description></rdf:RDF>',
    ),
    # VIAF: gone (404 for anything not listed above).
}


class _Authorities(BaseHTTPRequestHandler):
    asked: list[tuple[str, str]] = []

    def do_GET(self):
        type(self).asked.append((self.path, self.headers.get("Accept", "")))
        status, media, body = ANSWERS.get(self.path, (404, "text/plain", "not found"))
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def authorities_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Authorities)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Authorities.asked = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _linked(good_data: Path, *iris: str) -> Path:
    record = good_data / "organizations" / "ifla.yaml"
    record.write_text(record.read_text() + "sameAs:\n" + "".join(f"  - id: {iri}\n    source: source/page\n" for iri in iris))
    return record


def test_links_check_tells_exists_gone_renamed_and_unreachable(good_data: Path, authorities_server: str):
    record = _linked(
        good_data,
        "http://www.wikidata.org/entity/Q46166",
        "http://viaf.org/viaf/123456",
        "https://ror.org/03yrm5c26",
        "https://isni.org/isni/000000012146438X",
    )
    start = len(record.read_text().splitlines()) - 8
    closed = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    bases = {"wikidata": "/wikidata/", "viaf": "/viaf/", "ror": "/ror/", "eu-country": "/eu/"}
    options = [arg for key, path in bases.items() for arg in ("--base", f"{key}={authorities_server}{path}")]
    result = CliRunner().invoke(cli, ["links", "check", "--data", str(good_data), "--timeout", "5", *options, "--base", f"isni={closed}"])
    lines = result.stdout.splitlines()
    assert lines == [
        f"{good_data}/organizations/ifla.yaml:{start + 1}: Wikidata Q46166: exists",
        f"{good_data}/organizations/ifla.yaml:{start + 3}: VIAF 123456: gone: {authorities_server}/viaf/123456/rdf.xml: HTTP 404",
        f"{good_data}/organizations/ifla.yaml:{start + 5}: ROR 03yrm5c26: renamed: it names 'California Digital Library', which the record does not",
        f"{good_data}/organizations/ifla.yaml:{start + 7}: ISNI 000000012146438X: unreachable: {closed}000000012146438X: cannot fetch it"
        " ([Errno 111] Connection refused)",
        f"{good_data}/places/countries.yaml:8: EU Publications Office, Countries and territories JPN: exists",
    ], result.output
    assert result.stderr.strip() == "checked 5 link(s): 2 exists, 1 gone, 1 renamed, 1 unreachable"
    assert result.exit_code == 2  # an authority could not be asked: the check is incomplete
    assert ("/wikidata/Q46166.ttl", "text/turtle") in _Authorities.asked and ("/eu/JPN", "application/rdf+xml") in _Authorities.asked


def test_links_check_exit_code_is_1_for_a_gone_link_and_0_when_all_exist(good_data: Path, authorities_server: str):
    _linked(good_data, "http://viaf.org/viaf/123456")
    base = ["--base", f"viaf={authorities_server}/viaf/", "--base", f"eu-country={authorities_server}/eu/"]
    gone = CliRunner().invoke(cli, ["links", "check", "--data", str(good_data), *base])
    assert gone.exit_code == 1 and gone.stderr.strip() == "checked 2 link(s): 1 exists, 1 gone, 0 renamed, 0 unreachable"
    record = good_data / "organizations" / "ifla.yaml"
    record.write_text(record.read_text().replace("http://viaf.org/viaf/123456", "http://www.wikidata.org/entity/Q46166"))
    fine = CliRunner().invoke(
        cli, ["links", "check", "--data", str(good_data), "--base", f"wikidata={authorities_server}/wikidata/", *base]
    )
    assert fine.exit_code == 0 and fine.stdout.endswith("checked 2 link(s): 2 exists, 0 gone, 0 renamed, 0 unreachable\n"), fine.output


def test_links_check_refuses_an_unknown_authority_in_one_line(good_data: Path):
    result = CliRunner().invoke(cli, ["links", "check", "--data", str(good_data), "--base", "dbpedia=http://127.0.0.1:1/"])
    assert result.exit_code == 2
    assert (
        result.stderr.startswith("--base dbpedia=http://127.0.0.1:1/: give KEY=URL, KEY one of eu-country, geonames")
        and result.stderr.count("\n") == 1
    )


def test_the_build_never_asks_the_authorities():
    """links check is a command of its own: no other module imports it."""
    package = Path(links.__file__).parent
    importers = [
        p for p in package.rglob("*.py") if "linkcheck" in p.read_text(encoding="utf-8") and p.name not in ("linkcheck.py", "cli.py")
    ]
    assert importers == []
    assert DATA.is_dir()
