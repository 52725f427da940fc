"""The dataset's DCAT description meets DCAT-AP 3.0.1 as the profile's own SHACL shapes judge
it (tests/dcat-ap/, run with pyshacl): void.ttl as ``ndlld build`` writes it, for the real data
and for synthetic data, and the description of the distributions that ``/id/dataset`` serves."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import extruct
import pyshacl
import pytest
import rdflib
from lxml import html as lxml_html
from rdflib import RDF, URIRef

from ndlld.build import build
from ndlld.synth import synthesize

from conftest import http_get
from test_site import to_graph

SHAPES = Path(__file__).parent / "dcat-ap"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.DCTERMS
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
# The mandatory constraints, and the class of every linked resource: no violation at all.
STRICT = ["shapes.ttl", "range.ttl", "dcat-ap-SHACL.ttl"]
# What the recommended shapes may still miss: nothing in the records says it (no keywords,
# themes, places, period, contact point or publisher type in dataset.yaml).
NOT_IN_THE_DATA = {DCAT.keyword, DCAT.theme, DCAT.themeTaxonomy, DCT.spatial, DCT.temporal, DCAT.contactPoint, DCT.type}


@dataclass(frozen=True)
class Result:
    severity: str
    focus: str
    path: str
    value: str
    components: frozenset[str]  # its own and those of its details (a failed sh:node says why)


def _components(report: rdflib.Graph, result) -> frozenset[str]:
    found = {str(report.value(result, SH.sourceConstraintComponent)).rsplit("#", 1)[1]}
    for detail in report.objects(result, SH.detail):
        found |= _components(report, detail)
    return frozenset(found)


def results(data: rdflib.Graph, *names: str) -> list[Result]:
    """The top-level results of the DCAT-AP shapes *names* on *data* (pyshacl, no inference)."""
    shapes = rdflib.Graph()
    for name in names:
        shapes.parse(SHAPES / name, format="turtle")
    _conforms, report, _text = pyshacl.validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    found = []
    for result in report.objects(None, SH.result):
        severity = str(report.value(result, SH.resultSeverity)).rsplit("#", 1)[1]
        focus, path, value = (str(report.value(result, p)) for p in (SH.focusNode, SH.resultPath, SH.value))
        found.append(Result(severity, focus, path, value, _components(report, result)))
    return found


def violations(data: rdflib.Graph, *names: str) -> list[Result]:
    return [r for r in results(data, *names) if r.severity == "Violation"]


def _synthetic(tmp_path_factory, name: str, edit=None) -> Path:
    data = tmp_path_factory.mktemp(name) / "data"
    synthesize(data, orgs=30, seed=11)
    if edit:
        dataset = data / "dataset.yaml"
        dataset.write_text(edit(dataset.read_text(encoding="utf-8")), encoding="utf-8")
    out = data.parent / "dist"
    build(data, out)
    return out


def _unlisted(text: str) -> str:
    """A licence and languages dcat-ap.ttl does not know."""
    text = text.replace("https://creativecommons.org/licenses/by/4.0/", "https://example.org/licence")
    return text.replace("inLanguage: [en, ja]", "inLanguage: [en, tlh, nl]")


@pytest.fixture(scope="module", params=["real", "synthetic", "unlisted"])
def void(request, real_dist: Path, tmp_path_factory) -> rdflib.Graph:
    """void.ttl as built from the real data, from synthetic data, and from synthetic data
    whose licence and languages are none dcat-ap.ttl describes."""
    if request.param == "real":
        out = real_dist
    else:
        out = _synthetic(tmp_path_factory, request.param, _unlisted if request.param == "unlisted" else None)
    return rdflib.Graph().parse(out / "void.ttl", format="turtle")


@pytest.mark.parametrize("shapes", STRICT)
def test_void_meets_the_mandatory_and_range_shapes(void: rdflib.Graph, shapes: str):
    assert violations(void, shapes) == []


def test_void_takes_values_from_the_controlled_vocabularies(void: rdflib.Graph):
    """mdr-vocabularies.shape.ttl: no violation but one the shapes make of SPDX's own IRIs
    (their pattern asks for https://spdx.org/rdf/terms while the SPDX namespace, and DCAT-AP's
    own shapes, use http://spdx.org/rdf/terms#)."""
    found = results(void, "mdr-vocabularies.shape.ttl")
    for result in found:
        if result.severity != "Violation":
            continue
        assert result.path == str(SPDX.algorithm) and result.components == {"NodeConstraintComponent", "PatternConstraintComponent"}, result
        assert result.value.startswith(str(SPDX) + "checksumAlgorithm_"), result
    # Warnings: the publisher is no EU body (a warning by design), and no theme is given.
    assert {r.path for r in found if r.severity == "Warning"} <= {str(DCT.publisher), str(DCAT.themeTaxonomy)}


def test_void_has_the_recommended_properties_the_data_allows(void: rdflib.Graph):
    warned = results(void, "shapes_recommended.ttl")
    assert {r.path for r in warned} <= {str(p) for p in NOT_IN_THE_DATA}, warned
    distributions = {str(d) for d in void.objects(None, DCAT.distribution)}
    assert len(distributions) == 8 and not [r for r in warned if r.focus in distributions]


def test_shapes_find_what_is_missing(real_dist: Path):
    """The same checks fail on a description that lacks what the profile asks for, so their
    passing above means something: each statement removed is one violation or more."""
    void = rdflib.Graph().parse(real_dist / "void.ttl", format="turtle")
    distribution = next(void.objects(None, DCAT.distribution))
    for removed in [
        (distribution, DCAT.accessURL, None),
        (None, RDF.type, DCT.MediaType),
        (None, RDF.type, DCT.LicenseDocument),
        (None, rdflib.FOAF.name, None),
        (None, RDF.type, rdflib.FOAF.Agent),
    ]:
        damaged = rdflib.Graph()
        for triple in void:
            damaged.add(triple)
        damaged.remove(removed)
        assert violations(damaged, *STRICT[:2]), f"nothing found without {removed}"


def _page(url: str, accept: str) -> rdflib.Graph:
    status, headers, body = http_get(url, accept)
    assert status == 200, (url, accept)
    if accept == "text/html":  # the description embedded in the page, as extruct finds it
        [document] = extruct.extract(body.decode("utf-8"), syntaxes=["json-ld"], uniform=False)["json-ld"]
        return to_graph(document)
    if accept == "application/ld+json":  # as pyld, an independent processor, reads it
        return to_graph(json.loads(body))
    return rdflib.Graph().parse(data=body, format="turtle" if accept == "text/turtle" else "nt")


@pytest.mark.parametrize("accept", ["text/turtle", "application/ld+json", "application/n-triples", "text/html"])
def test_the_dataset_page_describes_its_distributions(served: str, real_dist: Path, accept: str):
    """Every distribution is a hash IRI of /id/dataset: dereferenced, in each of its forms,
    it says what void.ttl says of them (but their sizes and checksums, which void.ttl has)."""
    void = rdflib.Graph().parse(real_dist / "void.ttl", format="turtle")
    page = _page(served + "/id/dataset", accept)
    distributions = set(void.objects(None, DCAT.distribution))
    assert distributions and set(page.objects(URIRef("https://w3id.org/ndlld/id/dataset"), DCAT.distribution)) == distributions
    for distribution in distributions:
        said = set(page.triples((distribution, None, None)))
        assert {p for _, p, _ in said} >= {RDF.type, DCAT.accessURL, DCAT.downloadURL, DCAT.mediaType, DCT.format, DCT.license}
        assert said <= set(void.triples((distribution, None, None)))
    assert violations(page, *STRICT[:2]) == []
    if accept == "text/html":
        _, _, body = http_get(served + "/id/dataset", accept)
        anchors = set(lxml_html.fromstring(body).xpath("//@id"))
        assert {str(d).rsplit("#", 1)[1] for d in distributions} <= anchors


def test_every_iri_of_void_leads_to_its_description(served: str, real_dist: Path):
    """Whatever void.ttl names with a hash IRI of this site is described where that IRI
    leads: void.ttl itself, or the page of a resource."""
    void = rdflib.Graph().parse(real_dist / "void.ttl", format="turtle")
    base = "https://w3id.org/ndlld/"
    hashed = {str(s) for s in void.subjects() if str(s).startswith(base) and "#" in str(s)}
    assert any("/id/dataset#" in iri for iri in hashed) and any("/void.ttl#" in iri for iri in hashed)
    for iri in sorted(hashed):
        document = iri.split("#", 1)[0]
        status, _, body = http_get(served + "/" + document.removeprefix(base), "text/turtle")
        assert status == 200, document
        described = rdflib.Graph().parse(data=body, format="turtle", publicID=document)
        assert (URIRef(iri), None, None) in described, iri


def test_the_shapes_are_the_official_ones_with_their_licence():
    note = (SHAPES / "README.md").read_text(encoding="utf-8")
    assert re.search(r"\b[0-9a-f]{40}\b", note) and "CC-BY 4.0" in note
    for name in STRICT + ["mdr-vocabularies.shape.ttl", "shapes_recommended.ttl"]:
        assert f"`{name}`" in note
        assert any(True for _ in rdflib.Graph().parse(SHAPES / name, format="turtle").subjects(RDF.type, SH.NodeShape))
