"""Bad input, one fixture each, through the real command.

Every broken record in tests/records/bad/ (and, generated here, files far too
large, values of half a megabyte, structures nested thousands of levels deep)
is refused by ``ndlld build`` and ``ndlld validate`` with exit code 2, one line
per problem naming the file and line ('# expect:' in each fixture), no
traceback, and a previously built output left exactly as it was. A cycle of
parent organizations, or a chain of them too long to check, is a violation:
exit code 1, the same way. Just under each limit, the input is read.

The records in tests/records/hostile/ are valid data aimed at the outputs
(``</script>``, ``{{ }}``, ``\"\"\"``, ``<!--``, SPARQL fragments, ``javascript:``
IRIs) or at Unicode handling (right-to-left text, emoji sequences, combining
characters): they must come out of every dump and page as written, byte for
byte where the format carries text as is, and do nothing there.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import extruct
import html5lib
import pytest
import rdflib
import yaml
from click.testing import CliRunner
from lxml import html as lxml_html

from ndlld.checks import MAX_PARENTS
from ndlld.cli import cli
from ndlld.errors import printable
from ndlld.ids import MAX_ID_PART
from ndlld.sources import MAX_DEPTH, MAX_FILE_BYTES

from conftest import GOOD, ROOT, TESTS, add_fixture, expectations
from test_dumps import read
from test_site import to_graph

BAD = sorted((TESTS / "records" / "bad").glob("*.yaml"))
HOSTILE = sorted((TESTS / "records" / "hostile").glob("*.yaml"))
PARENT_CYCLE = TESTS / "shapes" / "bad" / "parent-cycle.yaml"
SCHEMA = rdflib.Namespace("http://schema.org/")
ID = "https://example.org/ndlld/id/"


# -- running the command --------------------------------------------------------


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


def ndlld(*args) -> Run:
    """The command in this process (click's runner), as a user runs it."""
    result = CliRunner().invoke(cli, [str(a) for a in args])
    # An exception other than the exit is what a user would see as a traceback.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return Run(result.exit_code, result.stdout, result.stderr)


def ndlld_process(*args) -> Run:
    """The command as a process of its own: what Python itself prints, a crash, a hang."""
    done = subprocess.run([sys.executable, "-m", "ndlld", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    return Run(done.returncode, done.stdout, done.stderr)


# -- a previous build, which a failed one must leave alone ----------------------


@pytest.fixture(scope="module")
def previous_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("previous") / "dist"
    run = ndlld("build", "--data", GOOD, "--out", out)
    assert run.exit_code == 0, run.stderr
    return out


@pytest.fixture
def dist(previous_build: Path, tmp_path: Path) -> Path:
    """A copy of a good build, where each test's failed build tries to publish."""
    return Path(shutil.copytree(previous_build, tmp_path / "dist", symlinks=True))


def snapshot(out: Path) -> dict:
    """Every file (by its SHA-256), symlink (by its target) and directory under *out*,
    the directory's own identity, and what lies beside it (no staging left over)."""
    tree = {}
    for folder, dirs, files in os.walk(out):
        for name in dirs + files:
            path = Path(folder) / name
            key = path.relative_to(out).as_posix()
            if path.is_symlink():
                tree[key] = "-> " + os.readlink(path)
            elif path.is_dir():
                tree[key] = "dir"
            else:
                tree[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    stat = out.stat()
    beside = sorted(p.name for p in out.parent.iterdir() if p.name not in {".dist.lock", ".dist.cache"})  # the build's, by design
    return {"tree": tree, "inode": (stat.st_dev, stat.st_ino), "beside": beside}


def refused(data: Path, dist: Path, process: bool = False) -> tuple[Run, Run]:
    """``build`` then ``validate`` on *data*; the build must leave *dist* as it was."""
    before = snapshot(dist)
    run = ndlld_process if process else ndlld
    build, validate = run("build", "--data", data, "--out", dist), run("validate", "--data", data)
    assert snapshot(dist) == before, "a failed build changed the previous output"
    for result in (build, validate):
        assert "Traceback" not in result.stdout + result.stderr
    return build, validate


def assert_reported(run: Run, target: Path, expected: list[tuple[int, str]]) -> None:
    """Exit 2, nothing on stdout, and on stderr one line per problem, each naming *target* and a line."""
    assert run.exit_code == 2, run.stdout + run.stderr
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert lines and run.stderr.endswith("\n")
    for line in lines:
        assert re.match(re.escape(str(target)) + r":\d+: \S", line), f"not 'FILE:LINE: message': {line!r}"
    for number, message in expected:
        prefix = f"{target}:{number}: "
        assert any(line.startswith(prefix) and message in line for line in lines), f"{prefix}{message} not in {lines}"


# -- the fixtures of tests/records/bad ------------------------------------------


@pytest.mark.parametrize("fixture", BAD, ids=[p.stem for p in BAD])
def test_bad_record_is_refused_with_its_file_and_line(fixture: Path, good_data: Path, dist: Path):
    target = add_fixture(good_data, fixture)
    build, validate = refused(good_data, dist)
    assert_reported(build, target, [(e.line, e.message) for e in expectations(fixture)])
    assert validate.exit_code == 2 and validate.stderr == build.stderr and validate.stdout == ""


def test_duplicate_id_across_files_names_both_places(good_data: Path, dist: Path):
    target = add_fixture(good_data, TESTS / "records" / "bad" / "same-id-as-ifla.yaml")
    build, _ = refused(good_data, dist)
    assert build.stderr == f"{target}:2: duplicate id 'ifla': already described at {good_data / 'organizations' / 'ifla.yaml'}:1\n"


def test_every_broken_file_is_reported_in_one_run(good_data: Path, dist: Path):
    targets = [add_fixture(good_data, TESTS / "records" / "bad" / name) for name in ("tabs.yaml", "not-utf8.yaml", "alias-loop.yaml")]
    build, validate = refused(good_data, dist)
    assert build.exit_code == 2 and validate.stderr == build.stderr
    assert [line.split(":", 1)[0] for line in build.stderr.splitlines()] == sorted(map(str, targets))


def test_parent_cycle_is_a_violation(good_data: Path, dist: Path):
    """The records are readable; the shapes find the cycle: exit 1, each organization at its line."""
    target = add_fixture(good_data, PARENT_CYCLE)
    build, validate = refused(good_data, dist)
    assert build.exit_code == validate.exit_code == 1
    expected = [f"{target}:{e.line}: {e.severity}: {e.message}" for e in expectations(PARENT_CYCLE)]
    # build reports on stderr, validate prints its report on stdout: the same lines.
    for report in (build.stderr, validate.stdout):
        found = [line for line in report.splitlines() if line.startswith(f"{target}:")]
        assert [line.split(" [")[0] for line in found] == expected
        assert report.splitlines()[-1] == "the data does not conform: 2 violation(s), 0 warning(s)"


# -- byte order marks and encodings ---------------------------------------------


def test_utf8_byte_order_mark_is_accepted_silently(good_data: Path, tmp_path: Path):
    """Most YAML tools (and Windows editors) write or accept a UTF-8 BOM: so does ndlld."""
    fixture = TESTS / "records" / "bom.yaml"
    assert fixture.read_bytes().startswith(b"\xef\xbb\xbf")
    add_fixture(good_data, fixture)
    out = tmp_path / "dist"
    for run in (ndlld("validate", "--data", good_data), ndlld("build", "--data", good_data, "--out", out)):
        assert run.exit_code == 0 and run.stderr == ""
    page = (out / "id" / "bom.html").read_bytes()
    assert "バイト順マーク".encode() in page
    assert not any(b"\xef\xbb\xbf" in p.read_bytes() for p in out.rglob("*") if p.is_file() and p.suffix != ".gz")


def test_utf16_file_is_not_utf8(good_data: Path, dist: Path):
    """A file saved as 'Unicode' (UTF-16, with its BOM) by an old editor is refused at once."""
    text = (TESTS / "records" / "bom.yaml").read_text(encoding="utf-8-sig")
    target = good_data / "organizations" / "utf16.yaml"
    target.write_bytes(text.encode("utf-16"))
    build, validate = refused(good_data, dist)
    assert build.stderr == validate.stderr == f"{target}:1: the file is not UTF-8 text; save it as UTF-8\n"


def test_named_pipe_is_refused_not_waited_on(good_data: Path, dist: Path):
    """A .yaml that is a named pipe (or a device) would block a reader forever."""
    target = good_data / "organizations" / "pipe.yaml"
    os.mkfifo(target)
    build, validate = refused(good_data, dist, process=True)
    assert build.stderr == validate.stderr == f"{target}: cannot read the file: it is not a regular file\n"
    assert build.exit_code == validate.exit_code == 2


def _record_named(folder: Path, name: bytes, record_id: str) -> bytes:
    """A record with *record_id* in a file called *name* (bytes: any a file system takes); its path."""
    path = os.fsencode(folder) + b"/" + name
    with open(path, "wb") as file:
        file.write(f"id: {record_id}\ntype: Organization\nname:\n  en: Named {record_id}\nsource: source/page\n".encode())
    return path


@pytest.mark.parametrize("cache", [[], ["--no-cache"]], ids=["cache", "no-cache"])
def test_file_name_that_is_not_utf8_is_refused_by_its_name(cache: list, good_data: Path, dist: Path):
    """Its name shown with Python's escapes of the bytes (\\udcff for 0xff), with the
    cache or without, read anew or from the cache: the same one line."""
    path = _record_named(good_data / "organizations", b"\xff\xfe-latin1-\xe9.yaml", "latin1")
    expected = f"{printable(os.fsdecode(path))}: the name of the file or of a directory above it is not UTF-8 text; rename it\n"
    assert expected.isascii()
    before = snapshot(dist)
    for _ in range(2):  # the second time, what the cache kept
        for run in (
            ndlld("build", "--data", good_data, "--out", dist, *cache),
            ndlld("validate", "--data", good_data, *cache),
            ndlld_process("validate", "--data", good_data, *cache),
        ):
            assert (run.exit_code, run.stdout, run.stderr) == (2, "", expected)
    assert snapshot(dist) == before


def test_file_names_do_not_name_pages(good_data: Path, tmp_path: Path):
    """Ids name the pages, not file names: files whose names are NFD and NFC forms of one
    name, or differ only by case, are records like any other, each page at its id."""
    folder = good_data / "organizations"
    names = {"e\u0301cole.yaml": "ecole-nfd", "\u00e9cole.yaml": "ecole-nfc", "Case.yaml": "case-upper", "case.yaml": "case-lower"}
    for name, record_id in names.items():
        _record_named(folder, name.encode(), record_id)
    assert len({p.name for p in folder.iterdir()} & set(names)) == 4
    out = tmp_path / "dist"
    run = ndlld("build", "--data", good_data, "--out", out)
    assert run.exit_code == 0, run.stderr
    for record_id in names.values():
        assert f"Named {record_id}" in (out / "id" / f"{record_id}.html").read_text(encoding="utf-8")
    written = [p.relative_to(out).as_posix() for p in out.rglob("*")]
    assert not [p for p in written if "cole" in p and "ecole-nf" not in p or "Case" in p or not p.isascii()]


# -- generated: too large, too deep ---------------------------------------------

HEADER = "id: generated\ntype: Organization\nname:\n  en: A generated record\nsource: source/page\n"


def test_file_of_50_megabytes_is_refused(good_data: Path, dist: Path):
    target = good_data / "organizations" / "huge.yaml"
    node = "  - id: generated/{0}\n    type: Organization\n    name: {{en: Organization {0}}}\n    source: source/page\n"
    with open(target, "w", encoding="utf-8") as file:
        file.write("graph:\n")
        i = 0
        while file.tell() < 50_000_000:
            file.write("".join(node.format(i + k) for k in range(1000)))
            i += 1000
    build, validate = refused(good_data, dist, process=True)
    message = "the file is larger than 1 MB, the most a record may be; split it into several files"
    assert build.stderr == validate.stderr == f"{target}:1: {message}\n"
    assert build.exit_code == validate.exit_code == 2


def test_single_string_of_10_megabytes_is_refused(good_data: Path, dist: Path):
    target = good_data / "organizations" / "long-string.yaml"
    target.write_text(HEADER + "description:\n  en: " + "x" * 10_000_000 + "\n", encoding="utf-8")
    build, _ = refused(good_data, dist)
    assert_reported(build, target, [(1, "the file is larger than 1 MB")])


def test_message_about_a_value_of_half_a_megabyte_is_one_short_line(good_data: Path, dist: Path):
    target = good_data / "organizations" / "long-year.yaml"
    target.write_text(HEADER + "foundingYear: " + "9" * 500_000 + "\n", encoding="utf-8")
    build, validate = refused(good_data, dist)
    assert_reported(build, target, [(6, "'foundingYear' must be a year such as 1966, not '9999")])
    [line] = build.stderr.splitlines()
    assert len(line) - len(f"{target}:6: ") <= 300 and " … " in line
    assert validate.stderr == build.stderr


def test_file_just_under_the_limit_is_read(good_data: Path):
    target = good_data / "organizations" / "long-string.yaml"
    text = HEADER + "description:\n  en: "
    target.write_text(text + "x" * (MAX_FILE_BYTES - len(text) - 1) + "\n", encoding="utf-8")
    assert target.stat().st_size == MAX_FILE_BYTES
    run = ndlld("validate", "--data", good_data)
    assert run.exit_code == 0, run.stderr


DEEP = {
    # 10,000 levels: libyaml's own limit (1,000) stops them before anything is built.
    "10000-lists": lambda n: f"sameAs: {'[' * n}{']' * n}\n",
    "10000-mappings": lambda n: "sameAs: " + "{a: " * n + "b" + "}" * n + "\n",
    # Between ndlld's limit and libyaml's: stopped by ndlld (this was a RecursionError).
    "999-lists": lambda n: f"sameAs: {'[' * n}{']' * n}\n",
    "150-block-mappings": lambda n: "sameAs:\n" + "".join(" " * (i + 1) + "a:\n" for i in range(n - 1)) + " " * n + "a: b\n",
}


@pytest.mark.parametrize("shape", list(DEEP))
def test_deep_nesting_is_refused_not_a_crash(shape: str, good_data: Path, dist: Path):
    depth = int(shape.split("-")[0])
    target = good_data / "organizations" / "deep.yaml"
    target.write_text(HEADER + DEEP[shape](depth), encoding="utf-8")
    build, validate = refused(good_data, dist, process=True)
    assert_reported(build, target, [])
    [line] = build.stderr.splitlines()
    assert line.endswith(f": nested more than {MAX_DEPTH} levels deep")
    assert validate.stderr == build.stderr


def test_nesting_up_to_the_limit_is_read_and_reported_as_data(good_data: Path):
    """Just under the limit the record is read, and what is wrong with it is the usual message."""
    target = good_data / "organizations" / "deep.yaml"
    target.write_text(HEADER + f"sameAs: {'[' * (MAX_DEPTH - 1)}x{']' * (MAX_DEPTH - 1)}\n", encoding="utf-8")
    run = ndlld("validate", "--data", good_data)
    assert_reported(run, target, [(6, "'sameAs' takes an id such as 'ifla', not list")])


def test_id_up_to_the_limit_names_its_files(good_data: Path, tmp_path: Path):
    """One byte shorter than id-too-long.yaml's: its page and dumps are written."""
    record = (TESTS / "records" / "bad" / "id-too-long.yaml").read_text(encoding="utf-8")
    long_id = "a" * MAX_ID_PART
    (good_data / "organizations" / "long-id.yaml").write_text(record.replace("a" * (MAX_ID_PART + 1), long_id), encoding="utf-8")
    run = ndlld("build", "--data", good_data, "--out", tmp_path / "dist")
    assert run.exit_code == 0, run.stderr
    assert (tmp_path / "dist" / "id" / f"{long_id}.jsonld").is_file()


# -- versions: each names its release's directory ------------------------------------

BAD_VERSIONS = {
    "parent": "../../escaped",
    "absolute": "{tmp}/abs/path",
    "latest": "latest",
    "feed": "changes.json",
    "stream": "FEED.trig",
    "hidden": ".hidden",
    "climbs-back": "1.0/../x",
    "space": "a b",
    "backslash": "1.0\\..\\x",
    "trailing-dot": "1.0.",
    "65-characters": "1." + "0" * 63,
}


def _with_version(data: Path, version: str) -> tuple[Path, int]:
    """dataset.yaml of *data* with *version*; the file and the version's line."""
    dataset = data / "dataset.yaml"
    lines = dataset.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines, start=1) if line.strip().startswith("version:"))
    lines[number - 1] = f"  version: '{version}'"
    dataset.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dataset, number


@pytest.mark.parametrize("version", BAD_VERSIONS.values(), ids=BAD_VERSIONS.keys())
def test_version_that_cannot_name_its_release_is_refused(version: str, good_data: Path, dist: Path):
    """By release, build and validate, at its line; nothing is written in or around the output."""
    version = version.format(tmp=dist.parent)
    dataset, line = _with_version(good_data, version)
    around = sorted(p for p in dist.parent.rglob("*") if not p.is_relative_to(dist))
    before = snapshot(dist)
    runs = [ndlld(command, "--data", good_data, "--out", dist) for command in ("release", "build")]
    runs.append(ndlld("validate", "--data", good_data))
    assert snapshot(dist) == before
    assert (
        sorted(p for p in dist.parent.rglob("*") if not p.is_relative_to(dist) and ".dist.cache" not in p.parts and p.name != ".dist.lock")
        == around
    )
    for run in runs:
        assert_reported(run, dataset, [(line, "'version' ")])
        assert run.stderr.count("\n") == 1
    assert not (dist / "releases").exists()


def test_version_up_to_the_limit_is_released(good_data: Path, tmp_path: Path):
    version = "1.0.0-rc.1+build_" + "7" * 47
    assert len(version) == 64
    _with_version(good_data, version)
    run = ndlld("release", "--data", good_data, "--out", tmp_path / "dist")
    assert run.exit_code == 0, run.stderr
    assert os.readlink(tmp_path / "dist" / "releases" / "latest") == version
    assert (tmp_path / "dist" / "releases" / version / "SHA256SUMS").is_file()


def _parent_chain(count: int, cycle: bool) -> str:
    """*count* organizations, each the child of the next (and the last the child of the first, for a cycle)."""
    lines = ["graph:"]
    for i in range(count):
        parent = f"c{(i + 1) % count}" if cycle or i + 1 < count else None
        lines += [
            f"  - id: c{i}",
            "    type: Organization",
            f"    name: {{en: Link {i}, ja: 環{i}}}",
            f"    description: {{en: Link {i} of a chain.}}",
            "    source: source/page",
        ]
        lines += [f"    parentOrganization: {parent}"] if parent else []
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("count, cycle", [(3000, False), (1500, True)], ids=["chain-of-3000", "cycle-of-1500"])
def test_parent_chain_too_long_to_check_is_a_violation_not_a_crash(count: int, cycle: bool, good_data: Path, dist: Path):
    """The cycle check follows parentOrganization+ recursively (rdflib): past about a thousand
    organizations above one it would exhaust the stack, so past MAX_PARENTS it is refused."""
    target = good_data / "organizations" / "chain.yaml"
    target.write_text(_parent_chain(count, cycle), encoding="utf-8")
    build, validate = refused(good_data, dist, process=True)
    assert build.exit_code == validate.exit_code == 1
    line = 7  # c0 comes first, and has them all above it
    expected = (
        f"{target}:{line}: Violation: has more than {MAX_PARENTS} parent organizations above it, "
        "directly or through others (a chain or a cycle too long to check)"
    )
    for report in (build.stderr, validate.stdout):
        assert report.splitlines()[0].startswith(expected + " [")
        assert report.splitlines()[1:] == ["the data does not conform: 1 violation(s), 0 warning(s)"]


def test_parent_cycle_up_to_the_limit_is_checked_as_a_cycle(good_data: Path):
    target = good_data / "organizations" / "chain.yaml"
    target.write_text(_parent_chain(MAX_PARENTS, cycle=True), encoding="utf-8")
    run = ndlld("validate", "--data", good_data)
    assert run.exit_code == 1
    assert run.stdout.count(": Violation: is its own parent organization, directly or through others") == MAX_PARENTS


# -- valid, hostile data: intact and harmless in every output -------------------


def _texts(fixture: Path) -> list[str]:
    """Every text of the record, as an independent YAML parser reads it."""
    record = yaml.safe_load(fixture.read_text(encoding="utf-8"))
    texts = [*record["name"].values(), *record["description"].values(), *record.get("alternateName", [])]
    assert len(texts) == len(set(texts))
    return texts


@pytest.fixture(scope="module")
def hostile_dist(tmp_path_factory) -> Path:
    """One build of the good records with every hostile record added, through the command."""
    data = Path(shutil.copytree(GOOD, tmp_path_factory.mktemp("hostile") / "data"))
    for fixture in HOSTILE:
        add_fixture(data, fixture)
    out = data.parent / "dist"
    run = ndlld("build", "--data", data, "--out", out)
    assert run.exit_code == 0 and run.stderr == "", run.stderr
    assert "(0 warning(s))" in run.stdout
    return out


DUMPS = ["dataset.ttl", "dataset.nt", "dataset.jsonld", "dataset.ndjson", "dataset.ttl.gz", "dataset.jsonld.gz"]


@pytest.mark.parametrize("fixture", HOSTILE, ids=[p.stem for p in HOSTILE])
def test_text_comes_back_the_same_from_every_dump(fixture: Path, hostile_dist: Path):
    subject = rdflib.URIRef(ID + fixture.stem)
    for name in [*DUMPS, f"id/{fixture.stem}.ttl", f"id/{fixture.stem}.nt", f"id/{fixture.stem}.jsonld"]:
        path = hostile_dist / name
        graph = read(path) if path.parent == hostile_dist or path.suffix == ".jsonld" else rdflib.Graph().parse(path, format=_format(path))
        found = {str(o) for o in graph.objects(subject, None) if isinstance(o, rdflib.Literal)}
        assert set(_texts(fixture)) <= found, f"{name} changed a text"


def _format(path: Path) -> str:
    return {".ttl": "turtle", ".nt": "nt"}[path.suffix]


@pytest.mark.parametrize("fixture", HOSTILE, ids=[p.stem for p in HOSTILE])
def test_page_shows_the_text_and_embeds_it_intact(fixture: Path, hostile_dist: Path):
    page = hostile_dist / "id" / f"{fixture.stem}.html"
    raw = page.read_text(encoding="utf-8")
    html5lib.HTMLParser(strict=True).parse(raw)  # well-formed HTML5: nothing broke out of its element
    tree = lxml_html.fromstring(raw.encode("utf-8"))
    shown = tree.text_content()
    for text in _texts(fixture):
        assert text in shown, f"the page does not show {text!r} as text"
    # Nothing in the data became markup or ran through the templates.
    assert [s.get("type") for s in tree.iter("script")] == ["application/ld+json"]
    assert not tree.xpath("//img | //*[@onerror] | //a[starts-with(@href, 'javascript:')] | //b")
    # The embedded JSON-LD: found by a real extractor, read by pyld, the same texts.
    [document] = extruct.extract(raw, syntaxes=["json-ld"], uniform=False)["json-ld"]
    literals = {str(o) for o in to_graph(document).objects(rdflib.URIRef(ID + fixture.stem), None)}
    assert set(_texts(fixture)) <= literals


def test_index_lists_the_names_intact(hostile_dist: Path):
    """The home page lists every organization by name (and abbreviation), and draws them."""
    raw = (hostile_dist / "index.html").read_text(encoding="utf-8")
    html5lib.HTMLParser(strict=True).parse(raw)
    tree = lxml_html.fromstring(raw.encode("utf-8"))
    items = [li.text_content() for li in tree.xpath("//li")]
    assert '</script><script>alert("name")</script><!-- {{ 7*7 }} (" } ; DROP ALL ; #)' in items
    titles = [t.text for t in tree.xpath("//*[local-name()='svg']//*[local-name()='title']")]
    assert '</script><script>alert("name")</script><!-- {{ 7*7 }}' in titles
    assert [s.get("type") for s in tree.iter("script")] == ["application/ld+json"]
    assert extruct.extract(raw, syntaxes=["json-ld"], uniform=False)["json-ld"]


def test_iris_that_would_run_code_are_data_not_links(hostile_dist: Path):
    fixture = TESTS / "records" / "hostile" / "hostile-iris.yaml"
    iris = [link["id"] for link in yaml.safe_load(fixture.read_text(encoding="utf-8"))["sameAs"]]
    subject = rdflib.URIRef(ID + "hostile-iris")
    for name in ["dataset.nt", "dataset.ttl", "dataset.jsonld", "id/hostile-iris.jsonld"]:
        graph = read(hostile_dist / name)
        assert {str(o) for o in graph.objects(subject, SCHEMA.sameAs)} == set(iris), name
    tree = lxml_html.fromstring((hostile_dist / "id" / "hostile-iris.html").read_bytes())
    hrefs = [a.get("href") for a in tree.iter("a")]
    assert "https://example.org/safe" in hrefs
    assert not [h for h in hrefs if h.lower().startswith(("javascript:", "vbscript:", "data:"))]
    shown = tree.text_content()
    assert all(iri in shown for iri in iris)


def test_licence_that_would_run_code_is_not_a_link(good_data: Path, tmp_path: Path):
    dataset = good_data / "dataset.yaml"
    dataset.write_text(dataset.read_text(encoding="utf-8").replace("https://creativecommons.org/licenses/by/4.0/", "javascript:alert(1)"))
    run = ndlld("build", "--data", good_data, "--out", tmp_path / "dist")
    assert run.exit_code == 0, run.stderr
    for page in [tmp_path / "dist" / "index.html", *(tmp_path / "dist" / "id").glob("*.html")]:
        tree = lxml_html.fromstring(page.read_bytes())
        assert not [a for a in tree.iter("a") if a.get("href", "").startswith("javascript:")], page.name
        said = "データのライセンス: javascript:alert(1)" if page.name.endswith(".ja.html") else "Data licence: javascript:alert(1)."
        assert said in " ".join(tree.text_content().split()), page.name


def test_template_syntax_in_data_is_not_evaluated(hostile_dist: Path):
    page = (hostile_dist / "id" / "hostile-strings.html").read_text(encoding="utf-8")
    for template in ("{{ 7*7 }}", "{% raw %}{{ site.title }}{% endraw %}", "{{ lipsum() }}", "{# a Jinja comment #}"):
        assert template in lxml_html.fromstring(page).text_content()
    assert "Lorem ipsum" not in page.lower()


def test_embed_snippet_comment_cannot_be_closed_by_a_name(hostile_dist: Path):
    """``ndlld embed`` starts with a comment naming the resource: the name cannot end it early."""
    snippet = (hostile_dist / "embed" / "hostile-strings.html").read_text(encoding="utf-8")
    comment = snippet[snippet.index("<!--") + 4 : snippet.index("-->")]
    # HTML's rules for comment text (https://html.spec.whatwg.org/#comments).
    assert "<!--" not in comment and "--!>" not in comment and not comment.startswith((">", "->"))
    assert snippet[snippet.index("-->") + 3 :].lstrip().startswith('<script type="application/ld+json">')
    fragment = lxml_html.fragment_fromstring(snippet, create_parent="div")
    assert [s.get("type") for s in fragment.iter("script")] == ["application/ld+json"]
    [document] = extruct.extract(snippet, syntaxes=["json-ld"], uniform=False)["json-ld"]
    names = {str(o) for o in to_graph(document).objects(None, SCHEMA.name)}
    assert '</script><script>alert("name")</script><!-- {{ 7*7 }}' in names


def test_sparql_fragments_stay_data_in_the_store(hostile_dist: Path):
    """Loaded into the embedded store and queried, the SPARQL-looking names are plain values."""
    run = ndlld("query", "organization", "--param", "organization=hostile-strings", "--format", "nt", "--out", hostile_dist, "--data", GOOD)
    assert run.exit_code == 0, run.stderr
    graph = rdflib.Graph().parse(data=run.stdout, format="nt")
    names = {str(o) for o in graph.objects(rdflib.URIRef(ID + "hostile-strings"), SCHEMA.alternateName)}
    assert {'" } ; DROP ALL ; #', "' } ; DELETE WHERE { ?s ?p ?o } ; #"} <= names
    assert len(rdflib.Graph().parse(hostile_dist / "dataset.nt", format="nt")) > len(graph) > 0


def test_unicode_text_is_kept_byte_for_byte(hostile_dist: Path):
    """Right-to-left text, emoji sequences, NFD beside NFC: the same bytes in every dump and page,
    not normalized, not escaped."""
    fixture = TESTS / "records" / "hostile" / "unicode-names.yaml"
    texts = _texts(fixture)
    assert any("e\u0300" in t for t in texts) and any("\u00e8" in t for t in texts)  # NFD and NFC
    assert any("\U000e0100" in t for t in texts) and any("\u200d" in t for t in texts)  # a variation selector, a ZWJ
    files = [
        *DUMPS[:4],
        "id/unicode-names.ttl",
        "id/unicode-names.nt",
        "id/unicode-names.jsonld",
        "id/unicode-names.html",
        "embed/unicode-names.html",
    ]
    for name in [*files, "dataset.ttl.gz", "dataset.nt.gz", "dataset.jsonld.gz", "dataset.ndjson.gz"]:
        content = (hostile_dist / name).read_bytes()
        content = gzip.decompress(content) if name.endswith(".gz") else content
        for text in texts:
            assert text.encode("utf-8") in content, f"{name} does not hold {text!r} as written"
    index = (hostile_dist / "index.html").read_bytes()
    assert "Bibliothe\u0300que nationale, Bibliothèque nationale".encode("utf-8") in index


# -- a published store is left alone too -----------------------------------------


@pytest.mark.parametrize("fixture", ["yaml-syntax.yaml", "missing-reference.yaml"])
def test_publishing_bad_records_leaves_the_store_as_it_was(oxigraph: str, good_data: Path, tmp_path: Path, fixture: str):
    """`ndlld publish` builds first when there is nothing built: a broken record stops it
    there, and the graph already in the store keeps every triple."""
    import httpx

    graph = f"https://example.org/graphs/bad-input-{fixture}"
    store = f"{oxigraph}/store"

    def in_store() -> bytes:
        answer = httpx.get(store, params={"graph": graph}, headers={"Accept": "application/n-triples"})
        return b"\n".join(sorted(answer.content.splitlines()))

    first = ndlld("publish", "--store", store, "--graph", graph, "--data", good_data, "--out", tmp_path / "first")
    assert first.exit_code == 0, first.stderr
    before = in_store()
    assert before.count(b"\n") > 10
    add_fixture(good_data, TESTS / "records" / "bad" / fixture)
    run = ndlld("publish", "--store", store, "--graph", graph, "--data", good_data, "--out", tmp_path / "second")
    assert run.exit_code == 2 and run.stderr.count("\n") == 1 and f"{fixture}:" in run.stderr
    assert in_store() == before
    assert not (tmp_path / "second").exists()
