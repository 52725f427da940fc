"""The records' parts as the build cache keeps them, many records to an entry: merged,
they make the graph, origins and errors of the records read one by one, whatever
changed since the last build (an edit, a new, removed or renamed record, a broken one)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ndlld import cache as cache_module
from ndlld.build import inverse_properties, load_graph
from ndlld.cache import Cache, pack_records, record_groups, unpack_each_record, unpack_records
from ndlld.errors import SourceErrors
from ndlld.graph import merge_parts, read_each
from ndlld.resources import schemaorg_path
from ndlld.sources import read_dataset, record_paths
from ndlld.synth import synthesize

from conftest import TESTS, add_fixture


def _as_compared(graph):
    return (
        list(graph.triples),
        {t: (o.path, o.line) for t, o in graph.origins.items()},
        {iri: (o.path, o.line) for iri, o in graph.nodes.items()},
    )


@pytest.fixture
def synthetic(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    synthesize(data, orgs=60, seed=5)
    return data


@pytest.fixture
def small_groups(monkeypatch) -> None:
    """About eight records to an entry, so that a few dozen records make many entries."""
    monkeypatch.setattr(cache_module, "RECORDS_PER_ENTRY", 8)


def _merged(data: Path, context, parts):
    base, dataset = read_dataset(data)
    return merge_parts(dataset, parts, base, context, inverse_properties(schemaorg_path()))


def test_an_entry_merges_as_its_records_one_by_one(synthetic: Path, context):
    base, _ = read_dataset(synthetic)
    files = [str(p) for p in record_paths(synthetic)[1:]]
    one_by_one = read_each(files, base, context.document)
    keys = [bytes([i % 256]) * 32 for i in range(len(files))]
    inverses = inverse_properties(schemaorg_path())
    entries = [pack_records(keys[:20], one_by_one[:20], inverses), pack_records(keys[20:], one_by_one[20:], inverses)]

    grouped = _merged(synthetic, context, [unpack_records(entry) for entry in entries])
    assert _as_compared(grouped) == _as_compared(_merged(synthetic, context, one_by_one))
    assert _as_compared(grouped) == _as_compared(load_graph(synthetic, context, parallel_from=10**9))
    assert len(grouped) > 1000


def test_an_entry_gives_back_each_record_as_it_was_packed(synthetic: Path, context):
    base, _ = read_dataset(synthetic)
    files = [str(p) for p in record_paths(synthetic)[1:]][:30]
    parts = read_each(files, base, context.document)
    keys = [bytes([i]) * 32 for i in range(len(files))]
    assert unpack_each_record(pack_records(keys, parts, inverse_properties(schemaorg_path()))) == {
        (path, key): part for path, key, part in zip(files, keys, parts)
    }


def test_a_new_file_changes_its_own_group_only():
    files = [f"data/organizations/org-{i:06d}.yaml" for i in range(0, 2000, 2)]
    before = record_groups(files, 16)
    added = sorted([*files, "data/organizations/org-000999.yaml"])
    after = record_groups(added, 16)
    assert len(before) > 20
    changed = [run for run in after if run not in before]
    assert len(changed) == 1 and "data/organizations/org-000999.yaml" in changed[0]
    assert sum(len(run) for run in after) == len(added)


def _warm(data: Path, cache_dir: Path, context):
    with Cache(cache_dir) as cache:
        graph = load_graph(data, context, cache=cache)
    return graph, cache


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _edited(data: Path) -> None:
    _edit(sorted((data / "organizations").rglob("org-*.yaml"))[9], "en: ", "en: Renamed ")


def _added(data: Path) -> None:
    shutil.copy(TESTS / "records" / "good" / "organizations" / "ifla.yaml", data / "organizations" / "zz-ifla.yaml")


def _removed(data: Path) -> None:
    sorted((data / "organizations").rglob("org-*.yaml"))[-1].unlink()


def _renamed(data: Path) -> None:
    record = sorted((data / "organizations").rglob("org-*.yaml"))[4]
    record.rename(record.with_name("a-" + record.name))


@pytest.mark.parametrize("change", [_edited, _added, _removed, _renamed])
def test_a_change_with_a_warm_cache_makes_the_graph_of_a_cold_read(synthetic: Path, tmp_path: Path, context, small_groups, change):
    _warm(synthetic, tmp_path / "cache", context)
    change(synthetic)
    try:
        cold = _as_compared(load_graph(synthetic, context, parallel_from=10**9))
    except SourceErrors as err:
        cold = str(err)
    try:
        warm, cache = _warm(synthetic, tmp_path / "cache", context)
        warm = _as_compared(warm)
    except SourceErrors as err:
        warm = str(err)
    assert warm == cold


def test_only_the_changed_records_are_read_again_across_many_entries(synthetic: Path, tmp_path: Path, context, small_groups):
    _, first = _warm(synthetic, tmp_path / "cache", context)
    records = first.misses
    _edited(synthetic)
    _renamed(synthetic)
    graph, cache = _warm(synthetic, tmp_path / "cache", context)
    assert (cache.hits, cache.misses) == (records - 2, 2)
    assert any("Renamed " in t.object.value for t in graph.triples)


def _errors_cold_and_warm(data: Path, cache_dir: Path, context) -> tuple[SourceErrors, SourceErrors]:
    with pytest.raises(SourceErrors) as cold:
        load_graph(data, context, parallel_from=10**9)
    with pytest.raises(SourceErrors) as warm:
        _warm(data, cache_dir, context)
    return cold.value, warm.value


def test_a_record_broken_with_a_warm_cache_is_reported_as_without(good_data: Path, tmp_path: Path, context, small_groups):
    from conftest import GOOD

    cache = tmp_path / "cache"
    _warm(good_data, cache, context)
    (good_data / "organizations" / "ifla.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    for name in ("missing-reference.yaml", "same-id-as-ifla.yaml"):
        add_fixture(good_data, TESTS / "records" / "bad" / name)
    cold, warm = _errors_cold_and_warm(good_data, cache, context)
    assert str(warm) == str(cold) and "ifla.yaml:2: YAML syntax" in str(warm)
    assert [(e.path, e.line) for e in warm.errors] == [(e.path, e.line) for e in cold.errors]

    shutil.copy(GOOD / "organizations" / "ifla.yaml", good_data / "organizations" / "ifla.yaml")  # mended: the graph's errors
    cold, warm = _errors_cold_and_warm(good_data, cache, context)
    assert str(warm) == str(cold) and "is not described by any record" in str(warm) and "duplicate id 'ifla'" in str(warm)
    assert [(e.path, e.line) for e in warm.errors] == [(e.path, e.line) for e in cold.errors]

    (good_data / "organizations" / "missing-reference.yaml").unlink()
    (good_data / "organizations" / "same-id-as-ifla.yaml").unlink()
    assert _as_compared(_warm(good_data, cache, context)[0]) == _as_compared(load_graph(good_data, context, parallel_from=10**9))


def test_a_triple_stated_twice_keeps_the_place_and_origin_it_was_first_stated_at(synthetic: Path, context):
    """merge_parts adds all triples at once when none repeats, else one by one: both ways
    give the first statement of each triple its place and its origin."""
    from pyoxigraph import RdfFormat, parse

    from ndlld.graph import Part, _Reader

    base, dataset = read_dataset(synthetic)
    files = [str(p) for p in record_paths(synthetic)[1:]]
    parts = read_each(files, base, context.document)
    again = Part(paths=[str(synthetic / "elsewhere.yaml")], ntriples=parts[5].ntriples, origins=parts[5].origins)
    merged = _merged(synthetic, context, [*parts[:3], again, *parts[3:]])

    reader = _Reader(context, base)
    reader.read(dataset)
    expected = {t: (o.path, o.line) for t, o in reader.graph.origins.items()}  # the dataset's own come first
    for part in [*parts[:3], again, *parts[3:]]:
        for quad, (index, line) in zip(parse(part.ntriples, format=RdfFormat.N_TRIPLES), zip(part.origins[0::2], part.origins[1::2])):
            expected.setdefault(quad.triple, (part.paths[index], line))
    assert [t for t in merged.triples[: len(expected)]] == list(expected)  # the inverses come after
    assert {t: (o.path, o.line) for t, o in merged.origins.items() if t in expected} == expected
    assert any(o.path.endswith("elsewhere.yaml") for o in merged.origins.values())
    assert _as_compared(_merged(synthetic, context, parts))[2] == _as_compared(merged)[2]


def _reordered(data: Path) -> None:
    """The same statements, in another order: a page may show the first of them."""
    record = sorted((data / "organizations").rglob("org-*.yaml"))[11]
    text = record.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("  en: "))
    lines[at], lines[at + 1] = lines[at + 1], lines[at]
    record.write_text("".join(lines), encoding="utf-8")


def _lookups(graph) -> dict[tuple[str, str], list]:
    """What the site's view finds for every IRI: by subject, by object and by document, in graph order."""
    from pyoxigraph import NamedNode

    from ndlld.graph import document_of

    found: dict[tuple[str, str], list] = {}
    for triple in graph.triples:
        found.setdefault(("subject", triple.subject.value), []).append(triple)
        found.setdefault(("document", document_of(triple.subject.value)), []).append(triple)
        if isinstance(triple.object, NamedNode):
            found.setdefault(("object", triple.object.value), []).append(triple)
    return found


def _copied(data: Path) -> None:
    """A new record: another organization like one of the others."""
    record = sorted((data / "organizations").rglob("org-*.yaml"))[2]
    copy = record.with_name("zz-copy.yaml")
    copy.write_text(record.read_text(encoding="utf-8").replace(f"id: {record.stem}", "id: zz-copy"), encoding="utf-8")


def _copy_removed(data: Path) -> None:
    next((data / "organizations").rglob("zz-copy.yaml")).unlink()


def _linked_across(data: Path) -> None:
    """A link to a hash resource of another page, by a property with an inverse: the inverse
    statement is that other page's."""
    meeting = sorted((data / "events").rglob("*-meetings.yaml"))[0]
    record = next(
        r for r in sorted((data / "organizations").rglob("org-*.yaml")) if "parentOrganization" not in r.read_text(encoding="utf-8")
    )
    with record.open("a", encoding="utf-8") as text:
        text.write(f"parentOrganization: {meeting.stem}#{_first_ordinal(meeting)}\n")


def _first_ordinal(meeting: Path) -> str:
    return next(
        line.split("#")[1].strip()
        for line in meeting.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith(f"- id: {meeting.stem}#") and line.split("#")[1].strip().isdigit()
    )


@pytest.mark.parametrize("changes", [[_edited], [_copied], [_copied, _copy_removed], [_renamed], [_reordered], [_linked_across]])
def test_the_delta_names_every_iri_looked_up_differently_after_a_change(synthetic: Path, tmp_path: Path, context, small_groups, changes):
    for change in changes[:-1]:
        change(synthetic)
    before, _ = _warm(synthetic, tmp_path / "cache", context)
    changes[-1](synthetic)
    after, _ = _warm(synthetic, tmp_path / "cache", context)

    old, new = _lookups(before), _lookups(after)
    differ = {iri for key in old.keys() | new.keys() if old.get(key) != new.get(key) for iri in [key[1]]}
    assert differ, "the change shows in the graph"
    assert after.delta is not None and after.delta.since == before.identity
    assert differ <= after.delta.iris
    assert len(after.delta.iris) <= 3 * len(differ) + 40, "the edited records' IRIs only, not the whole graph's"


def test_no_change_makes_an_empty_delta_and_the_same_identity(synthetic: Path, tmp_path: Path, context, small_groups):
    first, _ = _warm(synthetic, tmp_path / "cache", context)
    assert first.identity is not None and first.delta is None  # nothing to compare with yet
    again, _ = _warm(synthetic, tmp_path / "cache", context)
    assert again.identity == first.identity and again.delta.since == first.identity and not again.delta.iris


def test_an_edit_of_the_dataset_record_makes_no_delta(synthetic: Path, tmp_path: Path, context):
    """Every page shows the dataset's name and licence: no delta, so every page is looked at."""
    _warm(synthetic, tmp_path / "cache", context)
    _edit(synthetic / "dataset.yaml", "en: ", "en: Renamed ")
    graph, _ = _warm(synthetic, tmp_path / "cache", context)
    assert graph.delta is None and graph.identity is not None


def test_a_graph_made_without_the_cache_has_no_identity(synthetic: Path, context):
    graph = load_graph(synthetic, context, parallel_from=10**9)
    assert graph.identity is None and graph.delta is None


def test_after_a_record_broke_the_graph_the_delta_is_from_the_records_read_then(synthetic: Path, tmp_path: Path, context, small_groups):
    """The failed read kept the broken record's part, which the next delta compares with: it
    must not claim to start from the graph before (whose pages would then be trusted)."""
    first, _ = _warm(synthetic, tmp_path / "cache", context)
    record = sorted((synthetic / "organizations").rglob("org-*.yaml"))[9]
    right = record.read_text(encoding="utf-8")
    record.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(SourceErrors):
        _warm(synthetic, tmp_path / "cache", context)
    record.write_text(right.replace("en: ", "en: Renamed ", 1), encoding="utf-8")
    mended, _ = _warm(synthetic, tmp_path / "cache", context)
    assert mended.delta is not None and mended.delta.since != first.identity
