"""Source checks: every broken record in tests/records/bad/ is reported with its
file, line and a message a librarian can act on ('# expect:' in each file)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ndlld.build import load_graph
from ndlld.errors import SourceError, SourceErrors
from ndlld.sources import load_sources, read_record

from conftest import DATA, GOOD, TESTS, add_fixture, expectations

BAD = sorted((TESTS / "records" / "bad").glob("*.yaml"))


def _errors(data_dir: Path) -> list[SourceError]:
    with pytest.raises((SourceError, SourceErrors)) as caught:
        load_graph(data_dir)
    err = caught.value
    return err.errors if isinstance(err, SourceErrors) else [err]


@pytest.mark.parametrize("fixture", BAD, ids=[p.stem for p in BAD])
def test_bad_record_is_reported_at_its_line(fixture: Path, good_data: Path):
    target = add_fixture(good_data, fixture)
    errors = _errors(good_data)
    for expected in expectations(fixture):
        matching = [e for e in errors if e.path == str(target) and e.line == expected.line and expected.message in e.message]
        assert matching, f"expected {target.name}:{expected.line}: {expected.message!r}; got {[str(e) for e in errors]}"
    # The error is about the broken file only; the good records stay quiet.
    assert {e.path for e in errors} == {str(target)}


def test_every_error_of_a_run_is_reported_together(good_data: Path):
    add_fixture(good_data, TESTS / "records" / "bad" / "unknown-key.yaml")
    add_fixture(good_data, TESTS / "records" / "bad" / "bad-year.yaml")
    errors = _errors(good_data)
    assert {Path(e.path).name for e in errors} == {"unknown-key.yaml", "bad-year.yaml"}


def test_error_message_names_file_and_line(good_data: Path):
    target = add_fixture(good_data, TESTS / "records" / "bad" / "unknown-key.yaml")
    [error] = _errors(good_data)
    assert str(error) == f"{target}:7: unknown key 'homepage'; see ontology/context.jsonld for the keys"


def test_lines_are_those_of_keys_and_list_items():
    record = read_record(GOOD / "organizations" / "ifla.yaml")
    assert record.line(("member",)) == 15
    assert record.line(("member", 0, "startYear")) == 22
    assert record.line(("memberCount", "minValue")) == 12
    assert record.line(("name", "ja")) == 5


def test_dates_stay_as_written():
    """YAML would turn 2003-10-01 into a date object; the record keeps the text."""
    record = read_record(GOOD / "organizations" / "foundation.yaml")
    assert record.data["legalStatus"][1]["startDate"] == "2003-10-01"
    assert record.data["foundingYear"] == 1972


PLAIN_SCALARS = [
    "",
    "~",
    "null",
    "Null",
    "yes",
    "No",
    "ON",
    "off",
    "y",
    "true",
    "0x1F",
    "0o17",
    "1_000",
    "-3",
    "+4",
    "1.5",
    ".5",
    "6.02e+23",
    ".inf",
    "-.Inf",
    "tokyo",
    "Yes please",
    "nope",
    "0b101",
]


@pytest.mark.parametrize(
    "text", [*PLAIN_SCALARS, "'3'", '"yes"', "!!str 3", "!!int 3", "!!float 3", "!!bool yes", "! 12", "[1, yes, ~]", "{a: 1, b: no}"]
)
def test_values_are_typed_as_yaml_types_them(text: str, tmp_path: Path):
    """Numbers, booleans and null as PyYAML's SafeLoader types them (ndlld finds
    the type of a plain value itself, not by PyYAML's resolver), quoted or tagged
    text as text."""
    import yaml

    path = tmp_path / "record.yaml"
    path.write_text(f"id: x\nvalue: {text}\nlist:\n  - {text}\n")
    expected = yaml.safe_load(path.read_text())["value"]
    record = read_record(path)
    assert record.data["value"] == expected and type(record.data["value"]) is type(expected)
    assert record.data["list"] == [expected]


@pytest.mark.parametrize("text", ["017", "1:30", "190:20:30", "2003-10-01", "<<", "="])
def test_values_yaml_1_1_would_read_oddly_stay_text(text: str, tmp_path: Path):
    """YAML 1.1's octal 017 (15), base 60 (1:30 is 90), dates, merge and value keys: kept as written."""
    path = tmp_path / "record.yaml"
    path.write_text(f"id: x\nvalue: {text}\n")
    assert read_record(path).data["value"] == text


def test_byte_order_mark_is_ignored(good_data: Path):
    add_fixture(good_data, TESTS / "records" / "bom.yaml")
    graph = load_graph(good_data)
    assert "https://example.org/ndlld/id/bom" in graph.nodes


def test_dataset_file_is_required(tmp_path: Path):
    with pytest.raises(Exception) as caught:
        load_sources(tmp_path)
    assert "no dataset.yaml" in str(caught.value)


def test_unreadable_record_is_reported_not_raised(good_data: Path):
    (good_data / "organizations" / "folder.yaml").mkdir()
    [error] = _errors(good_data)
    assert error.path.endswith("folder.yaml") and "cannot read the file" in error.message


def test_record_files_are_those_rglob_finds_in_the_order_sorted_gives(tmp_path: Path, monkeypatch):
    """record_files walks with os.scandir; what it finds, and its order, are those of
    Path.rglob and sorted: '-' sorts before '/' in text, not in paths."""
    import os

    from ndlld.sources import DATASET_FILE, record_files, record_paths

    data = tmp_path / "data"
    for name in (
        "dataset.yaml",
        "a.yaml",
        "a-b.yaml",
        "a/b.yaml",
        "a/c/d.yaml",
        "a-c/e.yaml",
        ".hidden.yaml",
        "b/notes.txt",
        "b/dataset.yaml",
    ):
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        (data / name).write_text("id: x\n", encoding="utf-8")
    (data / "dir.yaml").mkdir()  # a directory whose name matches: rglob gives it too
    (data / "dir.yaml" / "f.yaml").write_text("id: y\n", encoding="utf-8")
    os.symlink(data / "a", data / "linked")  # a link to a directory: not followed
    os.symlink(data / "gone.yaml", data / "broken.yaml")  # a broken link: found, with no stat
    for top in (data, tmp_path / "data/", "data"):
        monkeypatch.chdir(tmp_path)
        expected = [Path(top) / DATASET_FILE] + sorted(p for p in Path(top).rglob("*.yaml") if p != Path(top) / DATASET_FILE)
        assert record_paths(top) == expected
        found = dict(record_files(top))
        assert found[str(Path(top) / "broken.yaml")] is None
        assert found[str(Path(top) / "a" / "b.yaml")].st_ino == (Path(top) / "a" / "b.yaml").stat().st_ino
    monkeypatch.chdir(data)
    assert record_paths(".") == [Path(DATASET_FILE)] + sorted(p for p in Path(".").rglob("*.yaml") if p != Path(DATASET_FILE))


def test_folded_japanese_lines_join_without_spaces(tmp_path: Path):
    """A folded scalar (>) joins its lines with spaces, which Japanese does not put
    between words: between two wide characters the fold adds nothing; next to Latin
    letters, and in English, it stays a space; a blank line stays a line break."""
    path = tmp_path / "folded.yaml"
    path.write_text(
        "id: folded\n"
        "description:\n"
        "  ja: >-\n"
        "    国立国会図書館が国内外で協力している機関（国立図書館長会議、\n"
        "    地域の図書館団体）と、\n"
        "    IFLAの活動\n"
        "    です。\n"
        "\n"
        "    次の段落\n"
        "  en: >-\n"
        "    Linked Open Data\n"
        "    about libraries.\n"
        "source: source/page\n",
        encoding="utf-8",
    )
    description = read_record(path).data["description"]
    assert (
        description["ja"] == "国立国会図書館が国内外で協力している機関（国立図書館長会議、地域の図書館団体）と、 IFLAの活動です。\n次の段落"
    )
    assert description["en"] == "Linked Open Data about libraries."
    assert read_record(path).line(("source",)) == 13


def test_the_real_japanese_texts_have_no_stray_spaces():
    """No Japanese text of the real data has an ASCII space between two Japanese characters."""
    stray = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef] [\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]")
    found = [
        (record.path.name, text)
        for record in [load_sources(DATA).dataset, *load_sources(DATA).records]
        for text in _texts(record.data)
        if stray.search(text)
    ]
    assert found == []


def _texts(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)
