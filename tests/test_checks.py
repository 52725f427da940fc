"""SHACL checks: one failing fixture per constraint in shapes/ (tests/shapes/bad/),
each finding traced back to the file and line of the record."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import rdflib

from ndlld.build import validate
from ndlld.checks import load_shapes
from ndlld.resources import shapes_dir

from conftest import DATA, GOOD, TESTS, add_fixture, expectations

BAD = sorted((TESTS / "shapes" / "bad").glob("*.yaml"))


def test_good_fixture_conforms_without_warnings():
    report = validate(GOOD)
    assert report.conforms, report.text()
    assert report.findings == []


def test_real_data_conforms():
    report = validate(DATA)
    assert report.conforms, report.text()


@pytest.mark.parametrize("fixture", BAD, ids=[p.stem for p in BAD])
def test_constraint_is_reported_at_its_line(fixture: Path, good_data: Path):
    target = add_fixture(good_data, fixture)
    report = validate(good_data)
    expected = expectations(fixture)
    for expectation in expected:
        matching = [
            f
            for f in report.findings
            if f.origin
            and f.origin.path == str(target)
            and f.origin.line == expectation.line
            and f.severity == expectation.severity
            and f.message == expectation.message
        ]
        assert matching, f"expected {expectation}; got:\n{report.text()}"
    # Nothing else is reported: the fixture breaks one rule, and only there.
    assert {(f.origin.line, f.severity, f.message) for f in report.findings} == {(e.line, e.severity, e.message) for e in expected}, (
        report.text()
    )
    assert report.conforms == all(e.severity != "Violation" for e in expected)


def test_every_constraint_has_a_failing_fixture():
    shapes = load_shapes(shapes_dir())
    messages = {str(m) for m in shapes.objects(None, rdflib.SH.message)}
    covered = {e.message for fixture in BAD for e in expectations(fixture)}
    assert messages - covered == set(), "constraints without a fixture in tests/shapes/bad/"


def test_shapes_are_valid_shacl():
    """The shapes themselves conform to SHACL-SHACL (https://www.w3.org/TR/shacl/#shacl-shacl)."""
    import pyshacl

    shapes = load_shapes(shapes_dir())
    conforms, _graph, text = pyshacl.validate(shapes, shacl_graph=None, meta_shacl=True)
    assert conforms, text


def test_every_shape_explains_itself():
    """Each shape has an rdfs:comment and every constraint a sh:message, for the librarian."""
    shapes = load_shapes(shapes_dir())
    SH = rdflib.SH
    for shape in set(shapes.subjects(rdflib.RDF.type, SH.NodeShape)) | set(shapes.subjects(rdflib.RDF.type, SH.PropertyShape)):
        assert shapes.value(shape, rdflib.RDFS.comment), f"{shape} has no rdfs:comment"
    for shape, prop in shapes.subject_objects(SH.property):
        if isinstance(shape, rdflib.URIRef):  # the shapes' own constraints, not those nested in sh:or
            assert shapes.value(prop, SH.message), f"a property shape of {shape} has no sh:message"


def test_report_formats(good_data: Path):
    add_fixture(good_data, TESTS / "shapes" / "bad" / "no-english-name.yaml")
    report = validate(good_data)
    text = report.text()
    assert re.search(r"no-english-name\.yaml:2: Violation: has no English name", text)
    assert text.endswith("the data does not conform: 1 violation(s), 0 warning(s)")
    import json

    [finding] = json.loads(report.json())["findings"]
    assert finding["line"] == 2 and finding["file"].endswith("no-english-name.yaml")
    assert finding["focus"] == "no-english-name" and finding["severity"] == "Violation"
    parsed = rdflib.Graph().parse(data=report.turtle(), format="turtle")
    assert (None, rdflib.SH.conforms, rdflib.Literal(False)) in parsed


def test_validation_in_parts_finds_what_one_run_finds(tmp_path: Path, monkeypatch):
    """At scale pySHACL validates the graph in parts, in parallel, and rudof
    validates only the resources whose surroundings changed since the cache was
    filled; the findings are those of one pySHACL run over the whole graph."""
    from ndlld.build import load_graph
    from ndlld.cache import Cache
    from ndlld.checks import check, load_turtle
    from ndlld.context import Context
    from ndlld.resources import context_path, ontology_path, schemaorg_path
    from ndlld.synth import synthesize

    summary = synthesize(tmp_path / "synth", 240, seed=5, defects=0.05)
    context = Context.load(context_path())
    shapes, ontology = load_shapes(shapes_dir()), load_turtle(ontology_path(), schemaorg_path())

    def key(report):
        return sorted((f.severity, f.message, f.focus, f.path or "", f.value or "", str(f.origin)) for f in report.findings)

    graph = load_graph(tmp_path / "synth", context)
    whole = check(graph, shapes, ontology, context, chunk=10**9, engine="pyshacl")  # the reference, in one run
    parts = check(graph, shapes, ontology, context, chunk=40, workers=2, engine="pyshacl")
    assert key(parts) == key(whole)
    assert len(whole.findings) >= len(summary.defects) > 0
    assert len(list(parts.graph.objects(None, rdflib.SH.result))) == len(whole.findings)

    with monkeypatch.context() as large:  # a graph too large for one rudof run goes in parts too
        large.setattr("ndlld.checks.RUDOF_WHOLE_TRIPLES", 0)
        assert key(check(graph, shapes, ontology, context, chunk=40, workers=2)) == key(whole)

    with Cache(tmp_path / "cache") as cache:
        assert key(check(graph, shapes, ontology, context, chunk=40, cache=cache)) == key(whole)  # fills the cache
    record = sorted((tmp_path / "synth" / "organizations").rglob("org-*.yaml"))[7]
    record.write_text(record.read_text(encoding="utf-8").replace("en: ", "ko: ", 1), encoding="utf-8")  # no English name
    edited = load_graph(tmp_path / "synth", context)
    with Cache(tmp_path / "cache") as cache:
        again = check(edited, shapes, ontology, context, chunk=40, cache=cache)  # rudof on the few resources around the edit
    assert key(again) == key(check(edited, shapes, ontology, context, chunk=10**9, engine="pyshacl"))
    assert len(again.findings) == len(whole.findings) + 1


ENGINE_CASES = [("good", None), ("data", None), *((p.stem, p) for p in BAD)]


@pytest.mark.parametrize("name, fixture", ENGINE_CASES, ids=[name for name, _ in ENGINE_CASES])
def test_rudof_reports_what_pyshacl_reports(name: str, fixture: Path | None, good_data: Path):
    """rudof, the default engine, is held to pySHACL's report on every fixture:
    the same findings (severity, message, focus, path, value, shape, file and line)."""
    from ndlld.build import load_graph
    from ndlld.checks import check, load_turtle
    from ndlld.context import Context
    from ndlld.resources import context_path, ontology_path, schemaorg_path

    data = DATA if name == "data" else good_data
    if fixture is not None:
        add_fixture(good_data, fixture)
    context = Context.load(context_path())
    graph = load_graph(data, context)
    shapes, ontology = load_shapes(shapes_dir()), load_turtle(ontology_path(), schemaorg_path())
    reports = {engine: check(graph, shapes, ontology, context, engine=engine) for engine in ("rudof", "pyshacl")}
    assert reports["rudof"].findings == reports["pyshacl"].findings
    assert reports["rudof"].conforms == reports["pyshacl"].conforms
    for report in reports.values():
        assert len(list(report.graph.objects(None, rdflib.SH.result))) == len(report.findings)


def test_integers_of_any_length_are_judged_as_pyshacl_judges_them(good_data: Path):
    """rudof fails sh:minInclusive 0 for a count of 10**30 (the property tests found it);
    such a graph is validated by pySHACL, which compares Python's exact integers."""
    record = good_data / "organizations" / "ifla.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace("value: 1700", f"value: {10**30}"), encoding="utf-8")
    assert f"{10**30}" in record.read_text(encoding="utf-8")
    default, reference = validate(good_data), validate(good_data, engine="pyshacl")
    assert default.conforms and default.findings == reference.findings == []


def test_rudof_validates_without_rdflib(tmp_path: Path):
    """`ndlld validate` with rudof, the default, reads the shapes and the report with
    pyoxigraph: rdflib (slow to import) and pySHACL are loaded only for pySHACL, and
    rudof only in the process forked for it. With and without the cache."""
    import subprocess
    import sys

    script = (
        "import sys; from ndlld.build import validate\n"
        f"for cache in (None, {str(tmp_path / 'cache')!r}, {str(tmp_path / 'cache')!r}):\n"
        f"    assert validate({str(GOOD)!r}, cache_dir=cache).findings == []\n"
        "print(sorted(m for m in ('rdflib', 'pyshacl', 'pyrudof') if m in sys.modules))\n"
        f"assert validate({str(GOOD)!r}, engine='pyshacl').findings == []\n"
        "print(sorted(m for m in ('rdflib', 'pyshacl', 'pyrudof') if m in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.splitlines() == ["[]", "['pyshacl', 'rdflib']"]


def test_broken_shapes_file_is_named_with_its_line(tmp_path: Path):
    from ndlld.checks import read_rules
    from ndlld.errors import ShapesError
    from ndlld.resources import ontology_path, schemaorg_path

    broken = tmp_path / "broken.ttl"
    broken.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n\n<http://example.org/S> a sh:NodeShape ;\n    sh:message .\n", encoding="utf-8"
    )
    with pytest.raises(ShapesError) as raised:
        read_rules(tmp_path, [ontology_path(), schemaorg_path()])
    assert str(raised.value).startswith(f"{broken}:4: cannot read shapes: ")
    assert "\n" not in str(raised.value)
    with pytest.raises(ShapesError, match="no shapes"):
        read_rules(tmp_path / "empty", [ontology_path(), schemaorg_path()])


def test_rudof_child_process_returns_values_and_errors():
    """One rudof run goes to one child forked for it: its value, or its error,
    comes back to the parent, and a child that dies is one line, not a hang."""
    import signal

    from ndlld.checks import _in_child
    from ndlld.errors import ShapesError

    before = dict(os.environ)
    assert _in_child(lambda job, rules: (job, os.environ["SSL_CERT_FILE"], os.getpid()), "job", None)[:2] == ("job", os.devnull)
    assert dict(os.environ) == before  # the child's environment went with it

    def fails(job, rules):
        raise ShapesError("rudof cannot validate: no")

    with pytest.raises(ShapesError, match="^rudof cannot validate: no$"):
        _in_child(fails, None, None)

    def dies(job, rules):
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(ShapesError, match=r"ended without a report \(signal 9\)"):
        _in_child(dies, None, None)


def _shapes(text: str) -> rdflib.Graph:
    prefixes = "@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .\n"
    return rdflib.Graph().parse(data=prefixes + text, format="turtle")


def test_what_a_resource_needs_of_the_statements_pointing_at_it_is_read_from_the_shapes():
    """Only sh:minCount on an inverse path is bounded; anything else keeps them all."""
    from ndlld.checks import incoming_needs

    assert incoming_needs(load_shapes(shapes_dir())) == {
        "http://purl.org/dc/terms/source": 1,
        "https://w3id.org/ndlld/vocab#legalStatus": 1,
        "http://schema.org/memberOf": 1,
        "http://schema.org/parentOrganization": None,  # named in the cycle check's SPARQL
    }
    assert incoming_needs(_shapes("ex:S sh:path [ sh:inversePath ex:p ] ; sh:minCount 2 .")) == {"http://example.org/p": 2}
    assert incoming_needs(_shapes("ex:S sh:path [ sh:inversePath ex:p ] ; sh:minCount 1 ; sh:class ex:C .")) == {
        "http://example.org/p": None
    }
    assert incoming_needs(_shapes("ex:S sh:path [ sh:inversePath ex:p ] ; sh:maxCount 1 .")) == {"http://example.org/p": None}
    assert incoming_needs(_shapes("ex:S sh:targetObjectsOf ex:p .")) == {"http://example.org/p": None}
    assert incoming_needs(_shapes("ex:S sh:path ( ex:p ex:q ) .")) is None  # a sequence path: not handled
    assert incoming_needs(_shapes("ex:S sh:path [ sh:zeroOrMorePath ex:p ] .")) is None
    assert incoming_needs(_shapes('ex:S sh:sparql [ sh:select "SELECT $this WHERE { ?x ?p $this }" ] .')) is None


def test_a_resource_pointed_at_by_many_keeps_what_its_shapes_can_see(tmp_path: Path):
    """The source every synthetic record cites keeps one of the statements citing it."""
    from ndlld.build import load_graph
    from ndlld.checks import _parts, _Surroundings, read_rules
    from ndlld.context import Context
    from ndlld.resources import context_path, ontology_path, schemaorg_path
    from ndlld.synth import synthesize

    synthesize(tmp_path / "synth", 60, seed=3)
    graph = load_graph(tmp_path / "synth", Context.load(context_path()))
    rules = read_rules(shapes_dir(), [ontology_path(), schemaorg_path()])
    every = _Surroundings(graph)  # no needs: every statement pointing at it
    bounded = _Surroundings(graph, rules.incoming)
    documents = every.own
    hub = next(name for name in documents if name.endswith("/source/synthetic"))
    citing = [t for t in every.of(hub) if t.object.value == hub]
    assert len(citing) > 60
    assert len([t for t in bounded.of(hub) if t.object.value == hub]) == 1
    assert set(bounded.of(hub)) <= set(every.of(hub))
    parts = _parts(every, sorted(documents), chunk=10**9, most=50)
    assert [hub] in parts  # larger than a part: alone in its own
    assert sorted(name for part in parts for name in part) == sorted(documents)
    assert all(len(part) <= 7 for part in _parts(bounded, sorted(documents), chunk=7, most=10**9))


def test_defects_on_a_resource_pointed_at_by_many_are_found_in_parts_as_in_one_run(tmp_path: Path, monkeypatch):
    """A hub (the source every record cites) without an English name, and a source no
    record cites, are found by rudof in small parts as pySHACL finds them in one run."""
    from ndlld.build import load_graph
    from ndlld.checks import check, load_turtle
    from ndlld.context import Context
    from ndlld.resources import context_path, ontology_path, schemaorg_path
    from ndlld.synth import synthesize

    synthesize(tmp_path / "synth", 120, seed=7, defects=0.05)
    hub = tmp_path / "synth" / "sources" / "synthetic.yaml"
    hub.write_text(hub.read_text(encoding="utf-8").replace("  en: Synthetic", "  ko: Synthetic", 1), encoding="utf-8")
    (tmp_path / "synth" / "sources" / "uncited.yaml").write_text(
        "id: source/uncited\ntype: CreativeWork\nname:\n  en: A document no record cites\n", encoding="utf-8"
    )
    context = Context.load(context_path())
    graph = load_graph(tmp_path / "synth", context)
    shapes, ontology = load_shapes(shapes_dir()), load_turtle(ontology_path(), schemaorg_path())

    def key(report):
        return sorted((f.severity, f.message, f.focus, f.path or "", f.value or "", str(f.origin)) for f in report.findings)

    whole = check(graph, shapes, ontology, context, chunk=10**9, engine="pyshacl")
    focuses = {f.focus for f in whole.findings}
    assert {"source/synthetic", "source/uncited"} <= focuses
    monkeypatch.setattr("ndlld.checks.RUDOF_WHOLE_TRIPLES", 0)
    monkeypatch.setattr("ndlld.checks.PART_TRIPLES", 300)  # the hub alone in its part, the rest in many
    assert key(check(graph, shapes, ontology, context, workers=2)) == key(whole)
    assert key(check(graph, shapes, ontology, context, chunk=40, workers=2)) == key(whole)
    assert key(check(graph, shapes, ontology, context, chunk=40, workers=2, engine="pyshacl")) == key(whole)


def test_shapes_with_targets_not_resolved_here_keep_them():
    """Targets by name or by SPARQL are left to the engine (the part's own targets)."""
    from ndlld.checks import Rules, _triples_of, read_rules

    assert Rules(_triples_of(_shapes("ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:message 'm' .")), []).targets is None
    assert Rules(_triples_of(_shapes("ex:S a sh:NodeShape ; sh:target [ a ex:T ] ; sh:message 'm' .")), []).targets is None
    assert (
        Rules(_triples_of(_shapes("ex:S a sh:NodeShape , <http://www.w3.org/2000/01/rdf-schema#Class> ; sh:message 'm' .")), []).targets
        is None
    )
    assert read_rules(shapes_dir(), []).targets is not None


def test_focus_nodes_are_the_parts_own_resources_each_target_selects():
    """sh:targetClass (classes above through the vocabulary), sh:targetSubjectsOf and
    sh:targetObjectsOf, counting only the part's own resources; a class hierarchy in
    the data itself leaves the targets to the engine."""
    from pyoxigraph import NamedNode, Triple

    from ndlld.checks import Rules, _triples_of, focus_nodes

    rules = Rules(
        _triples_of(
            _shapes("ex:ByClass sh:targetClass ex:Top . ex:BySubject sh:targetSubjectsOf ex:p . ex:ByObject sh:targetObjectsOf ex:q .")
        ),
        _triples_of(_shapes("ex:Low <http://www.w3.org/2000/01/rdf-schema#subClassOf> ex:Top .")),
    )
    ex = "http://example.org/".__add__
    a, b, c = NamedNode(ex("a")), NamedNode(ex("b")), NamedNode(ex("c"))
    rdf_type = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    triples = {
        Triple(a, rdf_type, NamedNode(ex("Low"))),  # Top through the vocabulary
        Triple(b, rdf_type, NamedNode(ex("Top"))),  # not the part's own
        Triple(a, NamedNode(ex("p")), b),
        Triple(b, NamedNode(ex("p")), a),
        Triple(c, NamedNode(ex("q")), a),
        Triple(a, NamedNode(ex("q")), b),
    }
    assert focus_nodes(triples, {ex("a")}, rules) == {ex("ByClass"): {ex("a")}, ex("BySubject"): {ex("a")}, ex("ByObject"): {ex("a")}}
    assert focus_nodes(triples, {ex("b"), ex("c")}, rules) == {
        ex("ByClass"): {ex("b")},
        ex("BySubject"): {ex("b")},
        ex("ByObject"): {ex("b")},
    }
    hierarchy = Triple(NamedNode(ex("Low")), NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf"), NamedNode(ex("Top")))
    assert focus_nodes(triples | {hierarchy}, {ex("a")}, rules) is None


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("engine", ["rudof", "pyshacl"])
def test_after_edits_that_change_what_other_resources_see_the_cached_report_is_the_uncached_one(tmp_path: Path, monkeypatch, engine: str):
    """Each edit changes the surroundings of resources whose records did not change:
    the type of what they point at, a parent link above them, a statement pointing
    at them. With the cache, as at scale (the shapes' needs and targets kept in it),
    the findings are those of a run without it."""
    from ndlld.synth import synthesize

    data, cache = tmp_path / "synth", tmp_path / "cache"
    synthesize(data, 120, seed=7, defects=0.05)
    organizations = sorted((data / "organizations").rglob("org-*.yaml"))
    (data / "sources" / "once.yaml").write_text(
        "id: source/once\ntype: CreativeWork\nname:\n  en: A document one record cites\n", encoding="utf-8"
    )
    cites_once = organizations[4]
    _replace(cites_once, "source: source/synthetic", "source: source/once")
    child = next(p for p in organizations if "parentOrganization: " in p.read_text(encoding="utf-8"))
    parent_id = re.search(r"parentOrganization: (\S+)", child.read_text(encoding="utf-8")).group(1)
    parent = next(p for p in organizations if p.stem == parent_id)
    monkeypatch.setattr("ndlld.checks.RUDOF_WHOLE_TRIPLES", 0)  # the path of a large graph

    def findings(**options) -> list[str]:
        return [str(f) for f in validate(data, engine=engine, **options).findings]

    before = findings(cache_dir=cache)
    assert before == findings()
    edits = [
        ("a name", organizations[9], "name:\n  en: ", "name:\n  ko: "),  # no English name
        ("a statement pointing at a resource", cites_once, "source: source/once", "source: source/synthetic"),
        ("the type of what every record points at", data / "sources" / "synthetic.yaml", "type: CreativeWork", "type: Place"),
        ("a parent link, making a cycle", parent, "\nsource: ", f"\nparentOrganization: {child.stem}\nsource: "),
    ]
    for what, path, old, new in edits:
        _replace(path, old, new)
        warm = findings(cache_dir=cache)
        assert warm == findings(), f"after an edit of {what}"
        assert warm != before, f"an edit of {what} changes the findings"
        assert findings(cache_dir=cache) == warm  # and again, all from the cache
        before = warm
    assert any("source/once" in f and "where its facts come from" in f for f in before)
    assert sum(f"[{child.stem} " in f or f"[{parent.stem} " in f for f in before if "Violation" in f) >= 2


def test_results_by_resource_are_kept_as_they_were():
    from ndlld.checks import _pack_results, _unpack_results

    results = {bytes([n]) * 32: (b"" if n % 3 else b'<a> <b> "' + bytes([48 + n]) + b'" .\n') for n in range(10)}
    assert _unpack_results(_pack_results(results)) == results
    assert _unpack_results(_pack_results({})) == {} == _unpack_results(b"")


def test_what_the_shapes_need_is_read_from_the_cache_as_it_was_made(tmp_path: Path):
    from ndlld.cache import Cache
    from ndlld.checks import _read_rules_cache, read_rules
    from ndlld.resources import ontology_path, schemaorg_path

    def rules():
        return read_rules(shapes_dir(), [ontology_path(), schemaorg_path()])

    with Cache(tmp_path / "cache") as cache:
        _read_rules_cache(rules(), cache)
    kept, made = rules(), rules()
    with Cache(tmp_path / "cache") as cache:
        _read_rules_cache(kept, cache)
        assert cache.get_many("checks", []) == {}
    assert {"incoming", "targets", "superclasses"} <= set(kept.__dict__)  # read, not made
    assert (kept.incoming, kept.targets[1], kept.superclasses) == (made.incoming, made.targets[1], made.superclasses)
    # The blank-node shapes named as this reading names them, so that rudof's results map back to them.
    skolems = set(re.findall(r"<(https://w3id.org/ndlld/.well-known/genid/[^>]+)>", kept.targets[0]))
    assert skolems and skolems <= set(kept.rudof_shapes[1])


def test_a_resources_cache_key_is_the_same_in_every_process():
    """Made from the graph alone: not from the order of Python's sets of strings, which
    changes from one process to the next (PYTHONHASHSEED). Each resource's statements
    are the runs of the graph its key reads whole."""
    import subprocess
    import sys

    script = (
        "from pyoxigraph import RdfFormat, serialize\n"
        "from ndlld.build import load_graph\n"
        "from ndlld.checks import _Surroundings, read_rules\n"
        "from ndlld.resources import ontology_path, schemaorg_path, shapes_dir\n"
        f"graph = load_graph({str(DATA)!r})\n"
        "surroundings = _Surroundings(graph, read_rules(shapes_dir(), [ontology_path(), schemaorg_path()]).incoming)\n"
        "lines = serialize(graph.triples, format=RdfFormat.N_TRIPLES).split(b'\\n')\n"
        "for name, own in surroundings.own.items():\n"
        "    assert [p for start, end in surroundings.runs[name] for p in range(start, end)] == own\n"
        "print(len(surroundings.own), b''.join(surroundings.key(name, lines, b'salt') for name in sorted(surroundings.own)).hex())\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed}
        )
        for seed in ("1", "2")
    ]
    assert runs[0].stdout == runs[1].stdout
    assert int(runs[0].stdout.split()[0]) > 50


def test_a_delta_touches_the_resources_whose_surroundings_hold_what_changed():
    """Those the changed IRIs belong to, those pointing at one (its types), and those below an
    organization whose parent links changed (the cycle check follows every link above)."""
    from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, serialize

    from ndlld.checks import _Lines, _Surroundings
    from ndlld.graph import Graph
    from ndlld.namespaces import RDF_TYPE, SCHEMA

    def iri(name: str) -> NamedNode:
        return NamedNode(f"https://example.org/id/{name}")

    parent, name = NamedNode(str(SCHEMA) + "parentOrganization"), NamedNode(str(SCHEMA) + "name")
    triples = [
        Triple(iri("top"), RDF_TYPE, NamedNode(str(SCHEMA) + "Organization")),
        Triple(iri("middle"), parent, iri("top")),
        Triple(iri("bottom"), parent, iri("middle")),
        Triple(iri("bottom#role"), name, Literal("a role")),
        Triple(iri("elsewhere"), name, Literal("unrelated")),
    ]
    surroundings = _Surroundings(Graph("https://example.org/", triples))
    touched = surroundings.touched_by(frozenset({iri("top").value}))
    assert touched == {iri("top").value, iri("middle").value, iri("bottom").value}
    assert surroundings.touched_by(frozenset({iri("bottom#role").value})) == {iri("bottom").value}
    assert surroundings.touched_by(frozenset()) == set()

    lines, whole = _Lines(triples), serialize(triples, format=RdfFormat.N_TRIPLES)
    assert lines[0:5] == whole.split(b"\n")[:-1] == [lines[i] for i in range(5)], "each line as in the whole graph's N-Triples"


def test_an_edit_makes_the_keys_of_the_resources_it_touched_only(tmp_path: Path, monkeypatch):
    from ndlld.checks import _Surroundings
    from ndlld.synth import synthesize

    data, cache = tmp_path / "synth", tmp_path / "cache"
    synthesize(data, 60, seed=3)
    validate(data, cache_dir=cache)
    record = sorted((data / "organizations").rglob("org-*.yaml"))[9]
    _replace(record, "en: ", "en: Renamed ")
    made, real = [], _Surroundings.key
    monkeypatch.setattr(
        _Surroundings, "key", lambda self, document, lines, salt: made.append(document) or real(self, document, lines, salt)
    )
    report = validate(data, cache_dir=cache)
    assert made and len(made) < 10, "the renamed organization and those pointing at it, not all 60 and their parts"
    assert [str(f) for f in report.findings] == [str(f) for f in validate(data).findings]
