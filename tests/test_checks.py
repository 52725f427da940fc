"""SHACL checks: one failing fixture per constraint in shapes/ (tests/shapes/bad/),
each finding traced back to the file and line of the record."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest
import rdflib

from ndlld.build import validate
from ndlld.checks import load_shapes
from ndlld.resources import shapes_dir

from conftest import DATA, GOOD, TESTS, add_fixture, expectations, shacl_report_problems

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
    """The shapes themselves conform to SHACL-SHACL, the W3C's own shapes for shapes graphs
    (https://www.w3.org/TR/shacl/#shacl-shacl; tests/shacl/ has the W3C's file), and to
    pySHACL's copy of it."""
    import pyshacl

    shapes = load_shapes(shapes_dir())
    shacl_shacl = rdflib.Graph().parse(TESTS / "shacl" / "shacl-shacl.ttl", format="turtle")
    assert len(shacl_shacl) > 400 and (None, rdflib.SH.targetClass, rdflib.SH.NodeShape) in shacl_shacl  # the real thing
    conforms, _graph, text = pyshacl.validate(shapes, shacl_graph=shacl_shacl)
    assert conforms, text
    conforms, _graph, text = pyshacl.validate(shapes, shacl_graph=None, meta_shacl=True)
    assert conforms, text
    # SHACL-SHACL sees a broken shape, as it would see one of ours
    broken = shapes + rdflib.Graph().parse(
        data='<https://w3id.org/ndlld/shapes#Organization> <http://www.w3.org/ns/shacl#minCount> "one" .', format="nt"
    )
    assert not pyshacl.validate(broken, shacl_graph=shacl_shacl)[0]


def _shapes_of(shapes: rdflib.Graph) -> set:
    """Every shape of a shapes graph (https://www.w3.org/TR/shacl/#shapes): declared, targeting,
    or the value of a parameter that takes shapes, alone or in a list."""
    SH = rdflib.SH
    found = set(shapes.subjects(rdflib.RDF.type, SH.NodeShape)) | set(shapes.subjects(rdflib.RDF.type, SH.PropertyShape))
    for target in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.path):
        found |= set(shapes.subjects(target, None))
    for parameter in (SH.property, SH.node, SH.qualifiedValueShape, SH["not"]):
        found |= set(shapes.objects(None, parameter))
    for parameter in (SH["or"], SH["and"], SH.xone):
        for members in shapes.objects(None, parameter):
            found |= set(rdflib.collection.Collection(shapes, members))
    return found


def test_every_shape_is_named():
    """Every node and property shape has an IRI in the shapes' namespace, so that a
    report's sh:sourceShape names something a reader can look up in shapes/."""
    shapes = load_shapes(shapes_dir())
    found = _shapes_of(shapes)
    assert len(found) > 60
    unnamed = [shapes.cbd(s).serialize(format="turtle") for s in found if not str(s).startswith("https://w3id.org/ndlld/shapes#")]
    assert unnamed == []


def test_every_shape_explains_itself():
    """Each shape has an rdfs:comment or a sh:message, and every constraint a node shape
    checks directly a sh:message, for the librarian."""
    shapes = load_shapes(shapes_dir())
    SH = rdflib.SH
    for shape in _shapes_of(shapes):
        assert shapes.value(shape, rdflib.RDFS.comment) or shapes.value(shape, SH.message), f"{shape} says nothing of itself"
    for shape, prop in shapes.subject_objects(SH.property):
        if shapes.value(shape, SH.targetClass):  # the shapes' own constraints, not those of the shapes an sh:or names
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


def _key(report) -> list:
    return sorted((f.severity, f.message, f.focus, f.path or "", f.value or "", str(f.origin)) for f in report.findings)


def test_validation_in_parts_finds_what_one_run_finds(tmp_path: Path):
    """At scale pySHACL and rudof validate the graph in parts, in parallel; the
    findings are those of one pySHACL run over the whole graph."""
    from ndlld.build import load_graph
    from ndlld.checks import Sizes, check, project_rules
    from ndlld.context import Context
    from ndlld.resources import context_path
    from ndlld.synth import synthesize

    summary = synthesize(tmp_path / "synth", 240, seed=5, defects=0.05)
    context = Context.load(context_path())
    rudof, pyshacl = project_rules(), project_rules("pyshacl")

    graph = load_graph(tmp_path / "synth", context)
    whole = check(graph, pyshacl, context=context, sizes=Sizes(chunk=10**9))  # the reference, in one run
    parts = check(graph, pyshacl, context=context, sizes=Sizes(chunk=40, workers=2))
    assert _key(parts) == _key(whole)
    assert len(whole.findings) >= len(summary.defects) > 0
    assert len(list(parts.graph.objects(None, rdflib.SH.result))) == len(whole.findings)
    # A graph too large for one rudof run goes in parts too.
    assert _key(check(graph, rudof, context=context, sizes=Sizes(chunk=40, workers=2, whole_triples=0))) == _key(whole)


ENGINE_CASES = [("good", None), ("data", None), *((p.stem, p) for p in BAD)]


@pytest.mark.parametrize("name, fixture", ENGINE_CASES, ids=[name for name, _ in ENGINE_CASES])
def test_rudof_reports_what_pyshacl_reports(name: str, fixture: Path | None, good_data: Path):
    """rudof, the default engine, is held to pySHACL's report on every fixture:
    the same findings (severity, message, focus, path, value, shape, file and line)."""
    from ndlld.build import load_graph
    from ndlld.checks import Rules, check, load_turtle, triples_of
    from ndlld.context import Context
    from ndlld.resources import context_path, ontology_path, schemaorg_path

    data = DATA if name == "data" else good_data
    if fixture is not None:
        add_fixture(good_data, fixture)
    context = Context.load(context_path())
    graph = load_graph(data, context)
    shapes, ontology = load_shapes(shapes_dir()), load_turtle(ontology_path(), schemaorg_path())
    rules = {engine: Rules(triples_of(shapes), triples_of(ontology), engine) for engine in ("rudof", "pyshacl")}
    reports = {engine: check(graph, rules[engine], context=context) for engine in ("rudof", "pyshacl")}
    assert reports["rudof"].findings == reports["pyshacl"].findings
    assert reports["rudof"].conforms == reports["pyshacl"].conforms
    for report in reports.values():
        assert len(list(report.graph.objects(None, rdflib.SH.result))) == len(report.findings)
        assert shacl_report_problems(report.graph, shapes) == []


def test_integers_of_any_length_are_judged_as_pyshacl_judges_them(good_data: Path):
    """rudof fails sh:minInclusive 0 for a count of 10**30 (the property tests found it);
    such a graph is validated by pySHACL, which compares Python's exact integers."""
    record = good_data / "organizations" / "ifla.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace("minValue: 1700", f"minValue: {10**30}"), encoding="utf-8")
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


def test_rudof_runs_in_a_child_that_reports_its_value_its_error_or_its_death():
    """Each rudof run goes to a child forked for it, without the system's CA certificates
    (set in the child only): its value, or its error, comes back to the parent, and a
    child that dies is one line naming the other engine, not a hang."""
    import signal

    from ndlld.checks import project_rules
    from ndlld.checks.engines import OTHER_ENGINE, run
    from ndlld.errors import ShapesError

    rudof = project_rules("rudof")
    before = dict(os.environ)

    def environment(shared, job):
        return job, shared, os.environ["SSL_CERT_FILE"], os.getpid()

    for jobs in (["one"], ["one", "two", "three"]):  # a bare child, or a pool
        answers = run(environment, jobs, "shared", rudof, 2, collect=True)
        assert [answer[:3] for answer in answers] == [(job, "shared", os.devnull) for job in jobs]
        assert os.getpid() not in {answer[3] for answer in answers}
    assert dict(os.environ) == before  # the children's environment went with them
    assert (
        run(environment, ["here"], None, project_rules("pyshacl"), None, collect=True)[0][3] == os.getpid()
    )  # no child for one pySHACL run

    def fails(shared, job):
        raise ShapesError("rudof cannot validate: no")

    def dies(shared, job):
        os.kill(os.getpid(), signal.SIGKILL)

    for jobs in (["one"], ["one", "two"]):
        with pytest.raises(ShapesError, match="^rudof cannot validate: no$"):
            run(fails, jobs, None, rudof, 2, collect=True)
        with pytest.raises(ShapesError, match=r"^the validation process ended without a report \(.+\); try again$") as died:
            run(dies, jobs, None, rudof, 2, collect=True)
        assert died.value.hint == OTHER_ENGINE
    with pytest.raises(ShapesError, match=r"\(signal 9\)"):
        run(dies, ["one"], None, rudof, None, collect=True)


def _shapes(text: str) -> rdflib.Graph:
    prefixes = "@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .\n"
    return rdflib.Graph().parse(data=prefixes + text, format="turtle")


def test_what_a_resource_needs_of_the_statements_pointing_at_it_is_read_from_the_shapes():
    """Only sh:minCount on an inverse path is bounded; anything else keeps them all."""
    from ndlld.checks import incoming_needs

    assert incoming_needs(load_shapes(shapes_dir())) == {
        "http://purl.org/dc/terms/source": 1,
        "http://schema.org/parentOrganization": None,  # named in the cycle check's SPARQL
        # named in the SPARQL of the superseded states' and the schedule's checks
        **dict.fromkeys(["https://w3id.org/ndlld/vocab#legalStatus", "http://schema.org/memberOf"], None),
        **dict.fromkeys(["http://schema.org/startDate", "http://schema.org/endDate"], None),
        **dict.fromkeys(["https://w3id.org/ndlld/vocab#meetingFrequency", "http://www.w3.org/2004/02/skos/core#notation"], None),
        **dict.fromkeys(["http://schema.org/eventSchedule", "http://schema.org/repeatFrequency"], None),
        # named in the SPARQL of the check of years against the dataset's dateModified
        **dict.fromkeys(["http://schema.org/foundingDate", "http://schema.org/datePublished", "http://schema.org/dateModified"], None),
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": None,
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


def test_which_statements_the_shapes_judge_one_at_a_time_is_read_from_the_shapes():
    """A property judged by each value alone (sh:class, sh:or of such) may be left out of a
    check; one that is counted, only for the resources the counting shape targets; one
    named anywhere else, never; and any shape this cannot read keeps every statement."""
    from pyoxigraph import Literal, NamedNode, Triple

    from ndlld.checks.scope import alone_for, judged_alone

    ex, rdf_type = "http://example.org/", NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    shapes = _shapes(
        "ex:S sh:targetClass ex:C ; sh:property [ sh:path ex:link ; sh:or ( [ sh:class ex:C ] [ sh:class ex:D ] ) ] ,"
        " [ sh:path ex:name ; sh:maxCount 1 ] , [ sh:path ex:ref ; sh:node ex:T ] .\n"
        "ex:T sh:property [ sh:path ex:inner ; sh:datatype ex:x ] .\n"
        "ex:U sh:targetClass ex:Sub ; sh:property [ sh:path ex:link ; sh:minCount 1 ] ."
    )
    alone = judged_alone(shapes, {ex + "Sub": {ex + "Sub", ex + "Top"}, ex + "Top": {ex + "Top"}})
    assert alone is not None
    assert ex + "inner" in alone["never"]  # of a shape applied to values: judged with the others

    def of(*types: str) -> set[str]:
        s = NamedNode(ex + "s")
        statements = [Triple(s, rdf_type, NamedNode(ex + t)) for t in types]
        statements += [Triple(s, NamedNode(ex + p), Literal("v")) for p in ("link", "name", "ref", "other")]
        return alone_for(alone, statements)

    assert of("C") == {ex + "link", ex + "other"}  # ex:name counted and ex:ref applied a shape by ex:S, which targets ex:C
    assert of("Sub") == {ex + "name", ex + "ref", ex + "other"}  # ex:link counted by ex:U, which targets ex:Sub
    assert alone_for(None, []) == set()
    for text in (
        "ex:S sh:targetClass ex:C ; sh:closed true ; sh:property [ sh:path ex:p ; sh:class ex:C ] .",
        'ex:S sh:targetClass ex:C ; sh:sparql [ sh:select "SELECT $this WHERE { $this ?p ?o }" ] .',
        "ex:S sh:targetNode ex:n ; sh:property [ sh:path ex:p ; sh:class ex:C ] .",
        "ex:S sh:targetClass ex:C ; sh:rule [ ] .",
    ):
        assert judged_alone(_shapes(text), {}) is None, text


def test_a_sparql_constraint_judges_what_it_names_together_where_its_shape_targets():
    """The properties a SPARQL constraint names are judged together in the documents of the
    resources its shape targets, whose query may read any resource beside them (the
    publisher's memberships are read by its roles' checks, not by its own); for every
    resource when the constraint's shape is applied to values."""
    from pyoxigraph import Literal, NamedNode, Triple

    from ndlld.checks.scope import alone_for, judged_alone, queried_in

    ex, rdf_type = "http://example.org/", NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    alone = judged_alone(
        _shapes(
            'ex:S sh:targetClass ex:C ; sh:sparql [ sh:select "SELECT $this WHERE { ?x <http://example.org/p> $this , ?y .'
            ' $this <http://example.org/q> ?v }" ] .\n'
            "ex:T sh:targetClass ex:D ; sh:property [ sh:path ex:r ; sh:node ex:U ] .\n"
            'ex:U sh:sparql [ sh:select "SELECT $this WHERE { $this <http://example.org/s> ?v }" ] .'
        ),
        {},
    )
    assert alone is not None

    def of(kind: str, beside: str = "D") -> set[str]:
        """What a resource of *kind* has judged alone, in a document with one of *beside*."""
        s, other = NamedNode(ex + "s"), NamedNode(ex + "s#beside")
        statements = [Triple(s, rdf_type, NamedNode(ex + kind))]
        statements += [Triple(s, NamedNode(ex + p), Literal("v")) for p in ("p", "q", "r", "s", "other")]
        document = [*statements, Triple(other, rdf_type, NamedNode(ex + beside))]
        return alone_for(alone, statements) - queried_in(alone, document)

    assert of("C") == {ex + "r", ex + "other"}  # ex:p and ex:q named by the constraint of ex:S, which targets ex:C
    assert of("D") == {ex + "p", ex + "q", ex + "other"}  # ex:s named by a constraint applied to values: never alone
    assert of("D", beside="C") == {ex + "other"}  # beside a resource the constraint targets: ex:p and ex:q together too


_CITES = "http://purl.org/dc/terms/source"  # the statements citing a source (its passages point at it too)


def test_a_resource_pointed_at_by_many_keeps_what_its_shapes_can_see(tmp_path: Path):
    """The source every synthetic record cites keeps one of the statements citing it."""
    from ndlld.build import load_graph
    from ndlld.checks import project_rules
    from ndlld.checks.partition import Surroundings, parts
    from ndlld.context import Context
    from ndlld.resources import context_path
    from ndlld.synth import synthesize

    synthesize(tmp_path / "synth", 60, seed=3)
    graph = load_graph(tmp_path / "synth", Context.load(context_path()))
    every = Surroundings(graph)  # no needs: every statement pointing at it
    bounded = Surroundings(graph, project_rules().incoming)
    documents = every.own
    hub = next(name for name in documents if name.endswith("/source/synthetic"))
    citing = [t for t in every.of(hub) if t.object.value == hub and t.predicate.value == _CITES]
    assert len(citing) > 60
    assert len([t for t in bounded.of(hub) if t.object.value == hub and t.predicate.value == _CITES]) == 1
    assert set(bounded.of(hub)) <= set(every.of(hub))
    cut = parts(every, sorted(documents), chunk=10**9, most=50)
    assert [hub] in cut  # larger than a part: alone in its own
    assert sorted(name for part in cut for name in part) == sorted(documents)
    assert all(len(part) <= 7 for part in parts(bounded, sorted(documents), chunk=7, most=10**9))


def test_defects_on_a_resource_pointed_at_by_many_are_found_in_parts_as_in_one_run(tmp_path: Path):
    """A hub (the source every record cites) without an English name, and a source no
    record cites, are found by rudof in small parts as pySHACL finds them in one run."""
    from ndlld.build import load_graph
    from ndlld.checks import Sizes, check, project_rules
    from ndlld.context import Context
    from ndlld.resources import context_path
    from ndlld.synth import synthesize

    synthesize(tmp_path / "synth", 120, seed=7, defects=0.05)
    hub = tmp_path / "synth" / "sources" / "synthetic.yaml"
    hub.write_text(hub.read_text(encoding="utf-8").replace("  en: Synthetic", "  ko: Synthetic", 1), encoding="utf-8")
    (tmp_path / "synth" / "sources" / "uncited.yaml").write_text(
        "id: source/uncited\ntype: CreativeWork\nname:\n  en: A document no record cites\n", encoding="utf-8"
    )
    context = Context.load(context_path())
    graph = load_graph(tmp_path / "synth", context)
    rudof, pyshacl = project_rules(), project_rules("pyshacl")

    whole = check(graph, pyshacl, context=context, sizes=Sizes(chunk=10**9))
    focuses = {f.focus for f in whole.findings}
    assert {"source/synthetic", "source/uncited"} <= focuses
    small = {"whole_triples": 0, "part_triples": 300, "workers": 2}  # the hub alone in its part, the rest in many
    assert _key(check(graph, rudof, context=context, sizes=Sizes(**small))) == _key(whole)
    assert _key(check(graph, rudof, context=context, sizes=Sizes(chunk=40, **small))) == _key(whole)
    assert _key(check(graph, pyshacl, context=context, sizes=Sizes(chunk=40, **small))) == _key(whole)


def test_shapes_with_targets_not_resolved_here_keep_them():
    """Targets by name or by SPARQL are left to the engine (the part's own targets)."""
    from ndlld.checks import Rules, read_rules, triples_of

    assert Rules(triples_of(_shapes("ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:message 'm' .")), []).targets is None
    assert Rules(triples_of(_shapes("ex:S a sh:NodeShape ; sh:target [ a ex:T ] ; sh:message 'm' .")), []).targets is None
    assert (
        Rules(triples_of(_shapes("ex:S a sh:NodeShape , <http://www.w3.org/2000/01/rdf-schema#Class> ; sh:message 'm' .")), []).targets
        is None
    )
    assert read_rules(shapes_dir(), []).targets is not None


def test_focus_nodes_are_the_parts_own_resources_each_target_selects():
    """sh:targetClass (classes above through the vocabulary), sh:targetSubjectsOf and
    sh:targetObjectsOf, counting only the part's own resources; a class hierarchy in
    the data itself leaves the targets to the engine."""
    from pyoxigraph import NamedNode, Triple

    from ndlld.checks import Rules, focus_nodes, triples_of

    rules = Rules(
        triples_of(
            _shapes("ex:ByClass sh:targetClass ex:Top . ex:BySubject sh:targetSubjectsOf ex:p . ex:ByObject sh:targetObjectsOf ex:q .")
        ),
        triples_of(_shapes("ex:Low <http://www.w3.org/2000/01/rdf-schema#subClassOf> ex:Top .")),
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
    at them. From the state of the last build, as at scale, the findings are those of a
    run without it."""
    from ndlld.synth import synthesize

    data, cache = tmp_path / "synth", tmp_path / "cache"
    synthesize(data, 120, seed=7)
    organizations = sorted((data / "organizations").rglob("org-*.yaml"))
    (data / "sources" / "once.yaml").write_text(
        "id: source/once\ntype: CreativeWork\nname:\n  en: A document one record cites\n", encoding="utf-8"
    )
    cites_once = organizations[4]
    _replace(cites_once, "source: source/synthetic", "source: source/once")
    child = next(p for p in organizations if "parentOrganization: " in p.read_text(encoding="utf-8"))
    parent_id = re.search(r"parentOrganization: (\S+)", child.read_text(encoding="utf-8")).group(1)
    parent = next(p for p in organizations if p.stem == parent_id)
    dated = next(p for p in organizations[20:] if "\nfoundingYear: " in p.read_text(encoding="utf-8"))
    founded = re.search(r"\nfoundingYear: \d+", dated.read_text(encoding="utf-8")).group(0)
    monkeypatch.setattr("ndlld.checks.partition.RUDOF_WHOLE_TRIPLES", 0)  # the path of a large graph

    def findings(**options) -> list[str]:
        return [str(f) for f in validate(data, engine=engine, **options).findings]

    from ndlld.build import build

    assert build(data, tmp_path / "dist", cache_dir=cache, engine=engine).report.conforms  # the state the edits start from
    before = findings(cache_dir=cache)
    assert before == findings()
    edits = [
        ("a name", organizations[9], "name:\n  en: ", "name:\n  ko: "),  # no English name
        ("a statement pointing at a resource", cites_once, "source: source/once", "source: source/synthetic"),
        ("the type of what every record points at", data / "sources" / "synthetic.yaml", "type: CreativeWork", "type: Place"),
        ("a parent link, making a cycle", parent, "\nsource: ", f"\nparentOrganization: {child.stem}\nsource: "),
        ("a year after the dataset's dateModified, which only dataset.yaml states", dated, founded, "\nfoundingYear: 2099"),
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
    assert any(f"[{dated.stem} schema:foundingDate]" in f and "Warning: falls in a year after" in f for f in before)


def _example_graph():
    """Organizations in a chain of parents, a role, a type pointed at, and one unrelated."""
    from pyoxigraph import Literal, NamedNode, Triple

    from ndlld.graph import Graph
    from ndlld.namespaces import RDF_TYPE, SCHEMA

    def iri(name: str) -> NamedNode:
        return NamedNode(f"https://example.org/id/{name}")

    parent, name, member = NamedNode(str(SCHEMA) + "parentOrganization"), NamedNode(str(SCHEMA) + "name"), NamedNode(str(SCHEMA) + "member")
    triples = [
        Triple(iri("top"), RDF_TYPE, NamedNode(str(SCHEMA) + "Organization")),
        Triple(iri("middle"), parent, iri("top")),
        Triple(iri("bottom"), parent, iri("middle")),
        Triple(iri("bottom#role"), name, Literal("a role")),
        Triple(iri("bottom#role"), member, iri("person")),
        Triple(iri("person"), RDF_TYPE, NamedNode(str(SCHEMA) + "Person")),
        Triple(iri("elsewhere"), name, Literal("unrelated")),
    ]
    return Graph("https://example.org/", triples), iri


def test_a_delta_touches_the_resources_whose_surroundings_hold_what_changed():
    """Those the changed IRIs belong to, those pointing at one (its types), those one points
    at, and those below an organization whose parent links changed (the cycle check follows
    every link above): from a lookup as from the one-pass index of a large graph."""
    from ndlld.checks import touched_documents
    from ndlld.checks.partition import Surroundings
    from ndlld.lookup import TriplesLookup

    graph, iri = _example_graph()
    lookup, index = TriplesLookup(graph.triples), Surroundings(graph)

    def touched(*names: str) -> set[str]:
        iris = {iri(name).value for name in names}
        found = touched_documents(lookup, iris, None)
        assert found == index.touched_by(iris)
        return {document.rpartition("/")[2] for document in found}

    assert touched("top") == {"top", "middle", "bottom"}
    assert touched("bottom#role") == {"bottom", "person"}
    assert touched("person") == {"person", "bottom"}
    assert touched("middle") == {"middle", "bottom", "top"}
    assert touched("nowhere") == set()
    assert touched() == set()
    needs = {"http://schema.org/name": 1}  # the shapes look at no member statement pointing at a person
    assert touched_documents(lookup, {iri("bottom#role").value}, needs) == {iri("bottom").value}
    assert Surroundings(graph, needs).touched_by({iri("bottom#role").value}) == {iri("bottom").value}


def _synthetic(tmp_path: Path, count: int, **options):
    from ndlld.build import load_graph
    from ndlld.context import Context
    from ndlld.resources import context_path
    from ndlld.synth import synthesize

    synthesize(tmp_path / "synth", count, **options)
    context = Context.load(context_path())
    return load_graph(tmp_path / "synth", context), context


@pytest.mark.parametrize("bounded", [False, True], ids=["every statement pointing", "what the shapes see"])
def test_the_one_pass_index_holds_the_surroundings_a_lookup_gives(tmp_path: Path, bounded: bool):
    """The index a large graph is cut by gives each document the surroundings that
    scope.surroundings defines over a Lookup: its statements, those pointing at its
    subjects (of a bounded property, the first in statement order), the types of what it
    points at, the parent links above it."""
    from ndlld.checks import project_rules, surroundings
    from ndlld.checks.partition import Surroundings
    from ndlld.lookup import TriplesLookup, statement_order

    graph, _context = _synthetic(tmp_path, 80, seed=11)
    needs = project_rules().incoming if bounded else None
    index, lookup = Surroundings(graph, needs), TriplesLookup(graph.triples)
    assert sorted(index.own) == list(lookup.documents())
    for document in index.own:
        assert index.of(document) == surroundings(lookup, document, needs), document
    hub = next(name for name in index.own if name.endswith("/source/synthetic"))
    citing = [t for t in surroundings(lookup, hub, needs) if t.object.value == hub and t.predicate.value == _CITES]
    every = sorted((t for t in graph.triples if t.object.value == hub and t.predicate.value == _CITES), key=statement_order)
    assert citing == every[:1] if bounded else sorted(citing, key=statement_order) == every
    parents = [t for t in graph.triples if t.predicate.value == "http://schema.org/parentOrganization"]
    assert parents and all(t in index.of(t.subject.value) for t in parents)


def test_a_changed_statement_reaches_every_document_whose_surroundings_hold_it(tmp_path: Path):
    """Taking any statement away (or adding it back) changes the surroundings of no document
    but those :func:`documents_reached_by` names; but for a type or a parent link, those are
    its subject's and its object's: a record's link to the source every record cites does
    not reach every record."""
    from ndlld.checks import documents_reached_by, project_rules, surroundings
    from ndlld.lookup import TriplesLookup

    graph, _ = _synthetic(tmp_path, 40, seed=3, defects=0.0)
    needs = project_rules().incoming
    whole = TriplesLookup(graph.triples)
    documents = list(whole.documents())
    before = {document: surroundings(whole, document, needs) for document in documents}
    for statement in random.Random(7).sample(graph.triples, 80):
        without = TriplesLookup([t for t in graph.triples if t != statement])
        changed = {document for document in documents if surroundings(without, document, needs) != before[document]}
        reached = documents_reached_by(without, [statement], needs) | documents_reached_by(whole, [statement], needs)
        assert changed <= reached, statement
        if statement.predicate.value not in (str(rdflib.RDF.type), "http://schema.org/parentOrganization"):
            assert len(reached) <= 2, statement  # its subject's document, and its object's


def test_per_document_results_kept_and_fresh_merge_into_the_report_of_one_run(tmp_path: Path):
    """A report holds each document's results; those of the documents an edit did not touch,
    kept from the run before it, merged with fresh results of those it touched (checked with
    only their surroundings as the data), make the report of one run over the edited graph:
    the same findings in the same order, and the same report graph but for blank-node labels."""
    from rdflib.compare import isomorphic

    from ndlld.build import load_graph
    from ndlld.checks import check, merged_report, project_rules, surroundings, touched_documents
    from ndlld.graph import Graph
    from ndlld.lookup import TriplesLookup

    graph, context = _synthetic(tmp_path, 60, seed=5, defects=0.1)
    for engine in ("rudof", "pyshacl"):
        rules = project_rules(engine)
        before = check(graph, rules, context=context)
        assert before.findings and set(before.by_document) >= {_document_of_focus(f, graph) for f in before.findings}
        again = merged_report(before.by_document, graph, context)
        assert again.findings == before.findings and isomorphic(again.graph, before.graph)

    record = sorted((tmp_path / "synth" / "organizations").rglob("org-*.yaml"))[3]
    _replace(record, "name:\n  en: ", "name:\n  ko: ")  # a new violation
    edited = load_graph(tmp_path / "synth", context)
    changed = {t.subject.value for t in set(graph.triples) ^ set(edited.triples)}
    assert changed
    rules = project_rules()
    needs = rules.incoming
    lookup = TriplesLookup(edited.triples)
    touched = touched_documents(TriplesLookup(graph.triples), changed, needs) | touched_documents(lookup, changed, needs)
    assert 0 < len(touched) < len(lookup.documents())
    # The data of the fresh run: the touched documents' surroundings only, with their origins.
    region = set().union(*(surroundings(lookup, document, needs) for document in touched))
    part = Graph(edited.base, [t for t in edited.triples if t in region], {t: edited.origins[t] for t in region if t in edited.origins})
    part.nodes = edited.nodes
    fresh = check(part, rules, documents=touched, context=context)
    assert set(fresh.by_document) == touched
    before = check(graph, rules, context=context)
    kept = {document: results for document, results in before.by_document.items() if document not in touched}
    merged = merged_report({**kept, **fresh.by_document}, edited, context)
    whole = check(edited, rules, context=context)
    assert merged.findings == whole.findings and len(whole.findings) == len(before.findings) + 1
    assert isomorphic(merged.graph, whole.graph)
    assert merged.conforms == whole.conforms is False


def _document_of_focus(finding, graph) -> str:
    return graph.base + "id/" + finding.focus.partition("#")[0] if "://" not in finding.focus else finding.focus.partition("#")[0]


def test_a_check_of_some_documents_finds_what_the_whole_run_finds_about_them(tmp_path: Path):
    """Findings about the documents asked for only, the same whether the graph is cut in parts or not."""
    from ndlld.checks import Sizes, check, project_rules

    graph, context = _synthetic(tmp_path, 60, seed=5, defects=0.1)
    rules = project_rules()
    whole = check(graph, rules, context=context)
    some = sorted({_document_of_focus(f, graph) for f in whole.findings})[::2]
    assert some
    expected = [f for f in whole.findings if _document_of_focus(f, graph) in some]
    for sizes in (Sizes(), Sizes(whole_triples=0, part_triples=300, workers=2)):
        report = check(graph, rules, documents=some, context=context, sizes=sizes)
        assert report.findings == expected
        assert set(report.by_document) == set(some)
    assert check(graph, rules, documents=[], context=context).findings == []


# Where a statement's object may be read for its text: a parent link (followed up, by the
# organization's own document and by those below it), a property a shape checks, one the
# shapes follow backwards (sh:inversePath: memberOf, legalStatus; source, bounded), a type.
TRIPLE_TERM_PROPERTIES = [
    "http://schema.org/parentOrganization",
    "http://schema.org/memberOf",
    "https://w3id.org/ndlld/vocab#legalStatus",
    "http://purl.org/dc/terms/source",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
    "http://schema.org/name",
]


def test_a_triple_term_as_an_object_is_a_finding_whole_or_in_parts(tmp_path: Path):
    """RDF 1.2 lets a triple be an object (pyoxigraph reads one in a stranger's Turtle):
    as the object of any property the checks read, a finding on its subject, the same
    in one run, in parts and for some documents, and the surroundings the one-pass
    index gives are those of a lookup."""
    from pyoxigraph import Literal, NamedNode, Triple

    from ndlld.checks import Sizes, check, project_rules, surroundings, touched_documents
    from ndlld.checks.partition import Surroundings
    from ndlld.graph import Graph
    from ndlld.lookup import TriplesLookup

    graph, context = _synthetic(tmp_path, 40, seed=11)
    parent = "http://schema.org/parentOrganization"
    above = sorted({t.object.value for t in graph.triples if t.predicate.value == parent})
    organization = next(iri for iri in above if "#" not in iri)  # an organization with others below it
    term = Triple(NamedNode("https://partner.example/a"), NamedNode("https://partner.example/said"), Literal("b"))
    subject = NamedNode(organization)
    edited = Graph(graph.base, graph.triples + [Triple(subject, NamedNode(p), term) for p in TRIPLE_TERM_PROPERTIES])
    rules = project_rules()

    whole = check(edited, rules, context=context)
    on_it = {f.path for f in whole.findings if f.severity == "Violation" and f.value == str(term)}
    assert {"schema:parentOrganization", "schema:memberOf", "dcterms:source"} <= on_it, whole.text()
    assert check(edited, rules, context=context, sizes=Sizes(whole_triples=0, part_triples=300, workers=2)).findings == whole.findings
    document = organization.partition("#")[0]
    some = check(edited, rules, documents=[document], context=context, sizes=Sizes(whole_triples=0, part_triples=300))
    assert some.findings == [f for f in whole.findings if _document_of_focus(f, edited) == document]
    lookup = TriplesLookup(edited.triples)
    for needs in (None, rules.incoming):
        index = Surroundings(edited, needs)
        for name in index.own:
            assert index.of(name) == surroundings(lookup, name, needs), name
        assert index.touched_by([organization]) == touched_documents(lookup, [organization], needs)


# -- the report graph is SHACL's (https://www.w3.org/TR/shacl/#results-validation-report) ----

BLANK_SHAPES = """
@prefix schema: <http://schema.org/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://example.org/shapes#Organization> a sh:NodeShape ; sh:targetClass schema:Organization ;
    sh:property [ sh:path schema:name ; sh:minCount 9 ; sh:message "fewer than nine names" ] ,
                [ sh:path schema:name ; sh:maxCount 0 ] ,
                [ sh:path schema:name ; sh:or ( [ sh:datatype xsd:integer ] [ sh:datatype xsd:date ] ) ; sh:message "a name that is no number" ] .
"""


@pytest.mark.parametrize("engine", ["rudof", "pyshacl"])
def test_a_blank_node_shape_is_in_the_report_as_in_the_shapes_graph(engine: str, context):
    """Shapes of others may be blank nodes: a result's sh:sourceShape is then that shape,
    described as in the shapes graph (a bare blank node would name nothing), with either engine."""
    from ndlld.build import load_graph
    from ndlld.checks import Rules, check, load_turtle, triples_of
    from ndlld.resources import ontology_path, schemaorg_path

    shapes = rdflib.Graph().parse(data=BLANK_SHAPES, format="turtle")
    rules = Rules(triples_of(shapes), triples_of(load_turtle(ontology_path(), schemaorg_path())), engine)
    report = check(load_graph(GOOD, context), rules, context=context)
    sources = set(report.graph.objects(None, rdflib.SH.sourceShape))
    assert len(sources) >= 3 and all(isinstance(s, rdflib.BNode) for s in sources)
    assert shacl_report_problems(report.graph, shapes) == []
    assert not report.conforms


def test_sh_conforms_is_false_beside_warnings_while_ndlld_accepts_them(good_data: Path):
    """SHACL's sh:conforms is true only without any result; ndlld's verdict allows Warnings."""
    shapes = load_shapes(shapes_dir())
    assert shacl_report_problems(validate(GOOD).graph, shapes) == []
    assert (None, rdflib.SH.conforms, rdflib.Literal(True)) in validate(GOOD).graph
    add_fixture(good_data, TESTS / "shapes" / "bad" / "no-japanese-name.yaml")
    report = validate(good_data)
    assert report.conforms and [f.severity for f in report.findings] == ["Warning"]
    assert (None, rdflib.SH.conforms, rdflib.Literal(False)) in report.graph
    assert shacl_report_problems(report.graph, shapes) == []


def test_the_result_of_a_parent_chain_too_long_to_check_is_a_shacl_result(good_data: Path):
    """The one result ndlld makes itself, without an engine, names its shape and component too."""
    from ndlld.checks import MAX_PARENTS

    count = MAX_PARENTS + 2
    lines = ["graph:"]
    for i in range(count):
        lines += [f"  - id: c{i}", "    type: Organization", f"    name: {{en: Link {i}, ja: 環{i}}}"]
        lines += [f"    description: {{en: Link {i} of a chain.}}", "    source: source/page"]
        lines += [f"    parentOrganization: c{i + 1}"] if i + 1 < count else []
    (good_data / "organizations" / "chain.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = validate(good_data)
    [finding] = report.findings
    assert f"more than {MAX_PARENTS} parent organizations" in finding.message
    assert finding.shape == "https://w3id.org/ndlld/shapes#NoParentCycle"
    assert shacl_report_problems(report.graph, load_shapes(shapes_dir())) == []
    assert (None, rdflib.SH.sourceConstraintComponent, rdflib.SH.SPARQLConstraintComponent) in report.graph
