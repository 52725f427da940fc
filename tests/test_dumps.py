"""Dumps: the same graph in three syntaxes, byte for byte reproducible, and
readable by independent processors (rdflib, pyld) with nothing from the network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib
from pyld import jsonld
from rdflib.compare import isomorphic

from ndlld.build import build
from ndlld.dumps import DATASET_FILES

from conftest import GOLDEN, GOOD, ROOT

FORMATS = {"dataset.ttl": "turtle", "dataset.nt": "nt"}


def _no_network(url, options=None):
    raise AssertionError(f"a JSON-LD processor tried to load {url}: the dumps must be self-contained")


def read_jsonld(path: Path) -> rdflib.Graph:
    """The JSON-LD dump as pyld, an independent processor, understands it."""
    document = json.loads(path.read_text(encoding="utf-8"))
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": _no_network})
    return rdflib.Graph().parse(data=nquads, format="nt")


def read(path: Path) -> rdflib.Graph:
    if path.suffix == ".jsonld":
        return read_jsonld(path)
    return rdflib.Graph().parse(path, format=FORMATS[path.name])


@pytest.fixture(scope="module")
def fixture_dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("good") / "dist"
    build(GOOD, out)
    return out


@pytest.mark.parametrize("name", DATASET_FILES.values())
def test_dump_matches_golden_file(fixture_dist: Path, name: str):
    """Byte for byte; after an intended change run scripts/regen_golden.py and review the diff."""
    assert (fixture_dist / name).read_bytes() == (GOLDEN / name).read_bytes()


@pytest.mark.parametrize("name", DATASET_FILES.values())
def test_golden_file_means_the_fixture_records(fixture_dist: Path, name: str):
    assert isomorphic(read(GOLDEN / name), read(fixture_dist / "dataset.nt"))


def test_the_three_dumps_are_isomorphic(real_dist: Path):
    graphs = [read(real_dist / name) for name in DATASET_FILES.values()]
    assert len(graphs[0]) > 400
    assert isomorphic(graphs[0], graphs[1]) and isomorphic(graphs[1], graphs[2])


def test_builds_are_byte_identical(real_dist: Path, tmp_path: Path):
    build(ROOT / "data", tmp_path / "again")
    for path in sorted(p for p in real_dist.rglob("*") if p.is_file()):
        again = tmp_path / "again" / path.relative_to(real_dist)
        assert again.read_bytes() == path.read_bytes(), path.relative_to(real_dist)


def test_ntriples_lines_are_sorted_and_unique(real_dist: Path):
    lines = (real_dist / "dataset.nt").read_bytes().splitlines()
    assert lines == sorted(set(lines))


def test_turtle_groups_each_subject_once_in_order(real_dist: Path):
    text = (real_dist / "dataset.ttl").read_text(encoding="utf-8")
    subjects = [line.split(" ", 1)[0].strip("<>") for line in text.splitlines() if line.startswith("<")]
    assert subjects == sorted(set(subjects))
    assert text.startswith("@prefix")


def test_jsonld_graph_is_sorted_by_id_with_the_project_context(real_dist: Path):
    document = json.loads((real_dist / "dataset.jsonld").read_text(encoding="utf-8"))
    ids = [node["id"] for node in document["@graph"]]
    assert ids == sorted(set(ids))
    context = json.loads((real_dist / "context.jsonld").read_text(encoding="utf-8"))
    assert document["@context"] == context["@context"]
    assert context == json.loads((ROOT / "ontology" / "context.jsonld").read_text(encoding="utf-8"))


def test_jsonld_uses_the_context_terms(real_dist: Path):
    document = json.loads((real_dist / "dataset.jsonld").read_text(encoding="utf-8"))
    ifla = next(node for node in document["@graph"] if node["id"].endswith("/id/ifla"))
    assert ifla["type"] == "Organization"
    assert ifla["name"] == {"en": "International Federation of Library Associations and Institutions"}
    count = next(node for node in document["@graph"] if node["id"].endswith("/id/ifla#member-count"))
    assert count["value"] == 1700 and count["countQualifier"] == "MoreThan"


def test_ontology_dump_is_the_vocabulary(real_dist: Path):
    published = rdflib.Graph().parse(real_dist / "ontology.ttl", format="turtle")
    source = rdflib.Graph().parse(ROOT / "ontology" / "ndl.ttl", format="turtle")
    assert isomorphic(published, source)
