"""Properties that must hold for every record, not only the ones we thought of (hypothesis).

1. Valid records, generated from the record format with hostile text in every
   text field (right-to-left scripts, emoji, combining characters, quotes,
   backslashes, ``</script>``, newlines, control characters), come out of every
   dump (Turtle, N-Triples, JSON-LD, NDJSON, and their gzip files) as exactly
   the triples the records say, each literal unchanged to the last character.
   Turtle and N-Triples are read back by rdflib, JSON-LD and NDJSON by pyld
   with the project's context from this machine only.
2. Junk (arbitrary bytes, YAML-ish text, arbitrary nested data written as
   YAML, good records with keys deleted or renamed and values of the wrong
   kind) never makes the loader or the checker fail with anything but ndlld's
   own errors, each naming a file and a line; and what the loader accepts is
   well-formed RDF, which the checker checks and every dump carries unchanged.
   A few of them go through the command line, which exits 2 without a traceback.

Example counts come from a hypothesis profile: ``ci`` (the default, quick) or
``thorough`` (``HYPOTHESIS_PROFILE=thorough make test``, or the same with pytest).
"""

from __future__ import annotations

import contextlib
import datetime
import gzip
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import rdflib
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from pyld import jsonld
from pyoxigraph import Literal, RdfFormat

from ndlld.build import build, load_graph
from ndlld.checks import check_with_project_shapes
from ndlld.cli import cli
from ndlld.context import Context
from ndlld.dumps import DATASET_FILES, read_triples, write_dumps
from ndlld.errors import NdlldError
from ndlld.finding import Indexes
from ndlld.graph import CONTROL_CHARACTERS, resource_base
from ndlld.ids import ID_RULE, id_problem
from ndlld.resources import context_path, ontology_path
from ndlld.search import INDEX_FILE, Query, SearchIndex, name_key

from conftest import GOOD, ROOT

settings.register_profile(
    "ci",
    max_examples=50,
    deadline=None,  # no timing asserts: the machine may be busy
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=DirectoryBasedExampleDatabase(ROOT / ".pytest_cache" / "hypothesis"),  # failures replayed first, not committed
)
settings.register_profile("thorough", parent=settings.get_profile("ci"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
EXAMPLES = settings.default.max_examples

CONTEXT = Context.load(context_path())
ONTOLOGY = read_triples(ontology_path(), RdfFormat.TURTLE)
BASE = "https://example.org/ndlld/id/"  # tests/records/good/dataset.yaml's base, and id/
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
SCHEMA = "http://schema.org/"
ALL_DUMPS = [*DATASET_FILES.values(), *(name + ".gz" for name in DATASET_FILES.values())]


# -- data directories ------------------------------------------------------------


@contextlib.contextmanager
def data_with(files: dict[str, bytes]) -> Iterator[Path]:
    """A copy of tests/records/good with *files* (relative path -> content) added or replaced.

    A directory of its own per example (hypothesis runs many examples per test,
    so pytest's tmp_path, one per test, will not do)."""
    with tempfile.TemporaryDirectory(prefix="ndlld-props-") as tmp:
        data = Path(shutil.copytree(GOOD, Path(tmp) / "data"))
        for relative, content in files.items():
            (data / relative).parent.mkdir(parents=True, exist_ok=True)
            (data / relative).write_bytes(content)
        yield data


def yaml_text(data, style: str | None = None, flow: bool | None = False, width: float = 80) -> bytes:
    """*data* as YAML, every string in *style* where YAML allows it (PyYAML falls back to
    double quotes, with escapes, where it does not)."""

    class Dumper(yaml.SafeDumper):
        pass

    def text_in_style(dumper, text):
        # PyYAML writes a NEL, LS or PS outside double quotes as a raw line break, which
        # YAML then reads as a line break (or a space): a writer's bug, not the reader's.
        chosen = '"' if any(c in text for c in "\x85\u2028\u2029") else style
        # In folded style PyYAML may break a line that starts with a space where it is too long,
        # and YAML keeps a break in such a "more-indented" line as it is (' 00000000000000 0' at
        # width 20 came back with a line break): also a writer's bug.
        if chosen == ">" and any(line[:1] in (" ", "\t") for line in text.split("\n")):
            chosen = '"'
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=chosen)

    Dumper.add_representer(str, text_in_style)
    text = yaml.dump(data, Dumper=Dumper, allow_unicode=True, sort_keys=False, default_flow_style=flow, width=width)
    return text.encode("utf-8")


# -- triples as plain tuples, whoever parsed them --------------------------------
# (subject, predicate, ("iri", value) or ("literal", lexical form, datatype, language))


def term_of_oxigraph(term) -> tuple:
    if isinstance(term, Literal):
        return ("literal", term.value, term.datatype.value, term.language or "")
    return ("iri", term.value)


def triples_of_graph(triples) -> set[tuple]:
    return {(t.subject.value, t.predicate.value, term_of_oxigraph(t.object)) for t in triples}


def term_of_rdflib(term) -> tuple:
    assert not isinstance(term, rdflib.BNode), "ndlld makes no blank nodes"
    if isinstance(term, rdflib.Literal):
        datatype = str(term.datatype) if term.datatype else (RDF_LANG_STRING if term.language else XSD + "string")
        return ("literal", str(term), datatype, term.language or "")
    return ("iri", str(term))


@contextlib.contextmanager
def literals_as_written():
    """rdflib rewrites literals into their canonical form by default (``01`` -> ``1``);
    the test is that nothing changes them, so it must not either."""
    saved, rdflib.NORMALIZE_LITERALS = rdflib.NORMALIZE_LITERALS, False
    try:
        yield
    finally:
        rdflib.NORMALIZE_LITERALS = saved


def triples_of_rdflib(content: bytes, rdf_format: str) -> set[tuple]:
    with literals_as_written():
        graph = rdflib.Graph().parse(data=content.decode("utf-8"), format=rdf_format)
    return {(str(s), str(p), term_of_rdflib(o)) for s, p, o in graph}


def _local_context(out: Path):
    """A pyld document loader that knows the context beside the dumps, and nothing else."""

    def load(url, options=None):
        if not url.endswith("/context.jsonld"):
            raise AssertionError(f"pyld tried to load {url}: the dumps must need nothing from the network")
        document = json.loads((out / "context.jsonld").read_text(encoding="utf-8"))
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url, "document": document}

    return load


def triples_of_pyld(document: dict, out: Path) -> set[tuple]:
    dataset = jsonld.to_rdf(document, {"base": (out / "dataset.ndjson").as_uri(), "documentLoader": _local_context(out)})
    found = set()
    for quad in dataset.get("@default", []):
        assert quad["subject"]["type"] == "IRI" and quad["object"]["type"] in {"IRI", "literal"}
        obj = quad["object"]
        if obj["type"] == "IRI":
            term = ("iri", obj["value"])
        else:
            term = ("literal", obj["value"], obj["datatype"], obj.get("language", ""))
        found.add((quad["subject"]["value"], quad["predicate"]["value"], term))
    return found


def read_dump(path: Path) -> set[tuple]:
    """The triples of one dump, read by an independent processor."""
    content = path.read_bytes()
    name = path.name
    if name.endswith(".gz"):
        content, name = gzip.decompress(content), name[: -len(".gz")]
    if name.endswith(".ttl"):
        return triples_of_rdflib(content, "turtle")
    if name.endswith(".nt"):
        return triples_of_rdflib(content, "nt")
    if name.endswith((".trig", ".nq")):  # a dataset: the union of its graphs
        with literals_as_written():
            dataset = rdflib.Dataset()
            dataset.parse(data=content.decode("utf-8"), format="trig" if name.endswith(".trig") else "nquads")
            return {(str(s), str(p), term_of_rdflib(o)) for s, p, o, _ in dataset.quads()}
    if name.endswith(".jsonld"):
        return triples_of_pyld(json.loads(content), path.parent)
    assert name.endswith(".ndjson")
    found = set()
    for line in content.decode("utf-8").splitlines():  # as ndlld harvest splits it
        found |= triples_of_pyld(json.loads(line), path.parent)
    return found


# -- valid records -------------------------------------------------------------------

# Text that has broken a publishing pipeline somewhere: scripts written right to
# left, emoji sequences, combining marks, YAML's and JSON's and HTML's special
# characters, line breaks of every kind, control characters.
NASTY = [
    "مكتبة الكونغرس",
    "הספרייה הלאומית",
    "📚👩🏽‍💻🇯🇵",
    "e\u0301 A\u030a \u1100\u1161\u11a8",
    '"quoted"',
    "it's",
    "back\\slash \\n \\u0041",
    "</script><script>alert(1)</script>",
    "<!-- -->",
    "line\nbreak",
    "crlf\r\nline",
    "tab\there",
    " leading and trailing ",
    "ends with a newline\n",
    "\u2028\u2029",
    "\ufeffbyte order mark",
    "{{ jinja }} {% x %}",
    "# not a comment",
    "- not a list",
    "key: value",
    "null",
    "yes",
    "1966",
    "2003-10-01",
    ".inf",
    "~",
    "&anchor *alias !tag %directive @at `tick` |pipe >gt",
    "\ud7ff\ue000\ufffd\U0010fffd",
    "国立国会図書館",
    "ﾊﾝｶｸ　全角スペース",
]
TEXT = st.one_of(
    st.sampled_from(NASTY),
    st.text(min_size=1, max_size=40),
    st.lists(st.sampled_from(NASTY) | st.text(max_size=10), min_size=2, max_size=4).map("".join),
).filter(lambda text: text.strip() and not CONTROL_CHARACTERS.search(text))
# a name or description is never blank, nor holds control characters pages cannot carry (the loader says so)

ID_PART = r"[a-z0-9](?:[a-z0-9._-]{0,10}[a-z0-9])?"
ID = st.from_regex(rf"{ID_PART}(?:/{ID_PART}){{0,2}}", fullmatch=True).map(lambda s: "org-" + s).filter(lambda s: id_problem(s) is None)

URL = st.one_of(
    st.builds(
        lambda host, path: f"https://{host}.example.org/{quote(path, safe='/')}", st.from_regex(r"\A[a-z0-9]{1,10}\Z"), st.text(max_size=20)
    ),
    st.builds(lambda path: f"http://例え.jp/{path}", st.text(alphabet=st.characters(categories=["Ll", "Lo", "Nd"]), max_size=10)),
)
YEAR = st.integers(min_value=1000, max_value=9999)
DATE = st.dates(min_value=datetime.date(1000, 1, 1))
CATEGORIES = ["AssociateMember", "RegularMember", "Member"]


@st.composite
def organizations(draw) -> list[dict]:
    """One to four organizations as records: names in English (and Japanese), abbreviations,
    descriptions, founding years or dates, parents, the area served, URLs, member counts,
    and the NDL's memberships as roles."""
    ids = draw(st.lists(ID, min_size=1, max_size=4, unique=True))
    records = []
    for i, org_id in enumerate(ids):
        record: dict = {"id": org_id, "type": draw(st.sampled_from(["Organization", "Library", ["Library", "GovernmentOrganization"]]))}
        record["name"] = {"en": draw(TEXT)}
        if draw(st.booleans()):
            record["name"]["ja"] = draw(TEXT)
        if draw(st.booleans()):
            record["alternateName"] = draw(TEXT | st.lists(TEXT, min_size=1, max_size=3, unique=True))
        if draw(st.booleans()):
            record["description"] = {"en": draw(TEXT), "ja": draw(TEXT)}
        founded = draw(st.sampled_from(["year", "date", "text date", None]))
        if founded == "year":
            record["foundingYear"] = draw(YEAR)
        elif founded:
            day = draw(DATE)  # a date object is written unquoted, the text quoted: both are read as text
            record["foundingDate"] = day if founded == "date" else day.isoformat()
        if i and draw(st.booleans()):
            record["parentOrganization"] = draw(st.sampled_from([*ids[:i], "ifla"]))
        if draw(st.booleans()):
            record["areaServed"] = "country/jp"
        if draw(st.booleans()):
            record["url"] = [{"id": draw(URL), "source": "source/page"}]  # a link outward names its source
        if draw(st.booleans()):
            qualifier = draw(st.sampled_from(["About", "Exactly", "MoreThan"]))
            record["memberCount"] = {
                "id": f"{org_id}#member-count",
                "type": "QuantitativeValue",
                "minValue" if qualifier == "MoreThan" else "value": draw(st.integers(min_value=0)),  # "more than": a lower bound
                "countQualifier": qualifier,
                "unitText": draw(TEXT),
            }
        roles = []
        for n, category in enumerate(draw(st.lists(st.sampled_from(CATEGORIES), max_size=2, unique=True))):
            roles.append(
                {
                    "id": f"{org_id}#ndl-{n}",
                    "type": "OrganizationRole",
                    "member": "ndl",
                    "roleName": {"en": draw(TEXT)},
                    "membershipCategory": category,
                    "startYear": draw(YEAR),
                    "source": "source/page",
                }
            )
        if len(roles) == 2:  # the earlier membership ends when the later one begins
            earlier, later = sorted(roles, key=lambda role: role["startYear"])
            earlier["endYear"] = later["startYear"]
        if roles:
            record["member"] = roles if len(roles) > 1 or draw(st.booleans()) else roles[0]
        record["source"] = "source/page"
        records.append(record)
    return records


@st.composite
def record_files(draw, records: list[dict]) -> dict[str, bytes]:
    """The records as files: one file each, or all in one file under 'graph:', in one YAML style."""
    style = draw(st.sampled_from([None, '"', "'", "|", ">"]))
    flow = draw(st.sampled_from([False, None, True]))
    width = draw(st.sampled_from([80, 20, float("inf")]))
    note(f"YAML style {style!r}, flow {flow}, width {width}")
    if draw(st.booleans()):
        files = {"organizations/generated.yaml": {"graph": records}}
    else:
        files = {f"organizations/generated-{i}.yaml": record for i, record in enumerate(records)}
    written = {name: yaml_text(data, style, flow, width) for name, data in files.items()}
    for name, text in written.items():  # the files say what we mean, as PyYAML's own reader has it
        assert yaml.load(text, Loader=yaml.SafeLoader) == files[name]
    return written


def expected_literals(records: list[dict]) -> set[tuple]:
    """What the records say in text, as the literals the dumps must hold unchanged."""
    found = set()
    for record in records:
        subject = BASE + record["id"]
        for key in ("name", "description"):
            for language, text in record.get(key, {}).items():
                found.add((subject, SCHEMA + key, ("literal", text, RDF_LANG_STRING, language)))
        names = record.get("alternateName", [])
        for text in names if isinstance(names, list) else [names]:
            found.add((subject, SCHEMA + "alternateName", ("literal", text, XSD + "string", "")))
        if "foundingYear" in record:
            found.add((subject, SCHEMA + "foundingDate", ("literal", str(record["foundingYear"]), XSD + "gYear", "")))
        if "foundingDate" in record:
            found.add((subject, SCHEMA + "foundingDate", ("literal", str(record["foundingDate"]), XSD + "date", "")))
        if "url" in record:
            found.add((subject, SCHEMA + "url", ("iri", record["url"][0]["id"])))
        if "memberCount" in record:
            count = record["memberCount"]
            number = "minValue" if "minValue" in count else "value"
            found.add((BASE + count["id"], SCHEMA + number, ("literal", str(count[number]), XSD + "integer", "")))
            found.add((BASE + count["id"], SCHEMA + "unitText", ("literal", count["unitText"], XSD + "string", "")))
        roles = record.get("member", [])
        for role in roles if isinstance(roles, list) else [roles]:
            found.add((BASE + role["id"], SCHEMA + "roleName", ("literal", role["roleName"]["en"], RDF_LANG_STRING, "en")))
            found.add((BASE + role["id"], SCHEMA + "memberOf", ("iri", subject)))
    return found


def exact_in_every_json_reader(text: str) -> int:
    assert abs(int(text)) <= 2**53 - 1, f"{text} is a JSON number that readers holding doubles round"
    return int(text)


@st.composite
def valid_cases(draw) -> tuple[list[dict], dict[str, bytes]]:
    """Generated records, and the files that hold them."""
    records = draw(organizations())
    return records, draw(record_files(records))


def case(*records: dict) -> tuple[list[dict], dict[str, bytes]]:
    """An explicit example: *records*, each with an English name and a source, in files of their own."""
    records = [{"type": "Organization", **r, "source": "source/page"} for r in records]
    return records, {f"organizations/generated-{i}.yaml": yaml_text(r) for i, r in enumerate(records)}


@given(valid_cases())
@example(  # JSON-LD reads a JSON number from 10**21 on as a double: such counts are written as text
    case(
        {
            "id": "org-big",
            "name": {"en": "A"},
            "memberCount": {
                "id": "org-big#member-count",
                "type": "QuantitativeValue",
                "value": 10**21,
                "countQualifier": "About",
                "unitText": "members",
            },
        }
    )
)
@example(  # past 2**53 a JavaScript JSON-LD processor loses digits of a JSON number
    case(
        {
            "id": "org-big",
            "name": {"en": "A"},
            "memberCount": {
                "id": "org-big#member-count",
                "type": "QuantitativeValue",
                "value": 2**53 + 1,
                "countQualifier": "About",
                "unitText": "members",
            },
        }
    )
)
@example(  # a NEL, LINE or PARAGRAPH SEPARATOR left raw in JSON ends the line for str.splitlines()
    case({"id": "org-0", "name": {"en": "A", "ja": "0\u2028\u2029"}})
)
@settings(max_examples=max(10, EXAMPLES // 2))
def test_valid_records_come_out_of_every_dump_unchanged(generated):
    records, files = generated
    with data_with(files) as directory:
        graph = load_graph(directory, CONTEXT)
        assert expected_literals(records) <= triples_of_graph(graph.triples)  # the text as written, to the last character
        dumps_read_back_as(graph, directory.parent / "dist")


def dumps_read_back_as(graph, out: Path) -> None:
    """Every dump of *graph*, read back by rdflib or pyld, holds exactly its triples."""
    expected = triples_of_graph(graph.triples)
    out.mkdir()
    write_dumps(graph.triples, ONTOLOGY, CONTEXT, out)
    ndjson_lines = (out / "dataset.ndjson").read_text(encoding="utf-8").splitlines()
    json_documents = [(out / "dataset.jsonld").read_text(encoding="utf-8"), *ndjson_lines]
    for document in json_documents:  # numbers every JSON reader keeps exact
        json.loads(document, parse_int=exact_in_every_json_reader)
    for name in ALL_DUMPS:
        found = read_dump(out / name)
        assert found == expected, f"{name}: missing {expected - found}, extra {found - expected}"


@given(valid_cases())
@settings(max_examples=max(5, EXAMPLES // 10))
def test_valid_records_conform_and_build(generated):
    """The generator makes records the checks accept, so the round trip above is about valid
    data; and the whole build, pages and all, takes them (it stops on a violation). Search
    finds each by its names, as the index the build keeps and one made from the dumps hold them."""
    records, files = generated
    with data_with(files) as directory:
        out, cache = directory.parent / "dist", directory.parent / "cache"
        summary = build(directory, out, cache_dir=cache)
        assert summary.report.conforms
        assert triples_of_rdflib((out / "dataset.nt").read_bytes(), "nt") == triples_of_graph(load_graph(directory, CONTEXT).triples)
        made = Indexes(out, directory.parent / "none", directory.parent / "made")
        for index in (SearchIndex(cache / INDEX_FILE), made.current()):
            found_by_names(index, records)


def found_by_names(index: SearchIndex, records: list[dict]) -> None:
    """Each record is an exact hit of a search for each of its names that has a letter or digit."""
    for record in records:
        names = record.get("alternateName", [])
        for name in [*record["name"].values(), *(names if isinstance(names, list) else [names])]:
            if name_key(name):
                hits = index.search(Query(name, limit=100))
                assert BASE + record["id"] in {h.resource.iri for h in hits if h.exact}, f"{name!r} does not find {record['id']}"


# -- junk ----------------------------------------------------------------------------

TARGETS = ["organizations/junk.yaml", "organizations/ifla.yaml", "dataset.yaml"]  # a new file, or one that was good
KEYS = sorted({*CONTEXT.terms, "id", "type", "graph", "en", "ja", "base", "dataset"})
NAMES = sorted({*CONTEXT.names, "ndl", "ifla", "source/page", "country/jp", "ifla#member-count", "https://example.org/"})
# Values of the wrong kind: anything YAML can say, and text that nearly fits (years and
# dates in other digits or with a line break, ids and IRIs with characters IRIs forbid).
WRONG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(KEYS + NAMES),
    st.from_regex(r"^\d{4}(-\d{2}-\d{2})?$"),
    st.dates(),
    st.tuples(st.sampled_from(NAMES), st.text(max_size=3), st.sampled_from(NAMES)).map("".join),
    st.tuples(st.sampled_from(["", "x:", "http://", "https://[", "a:%", "../", "/", "#"]), st.text(max_size=6)).map("".join),
)


def _lists_and_mappings_of(children):
    return st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=5)


JSONISH = st.recursive(WRONG_VALUES, _lists_and_mappings_of, max_leaves=20)
YAMLISH_PIECES = [
    "id: x",
    "id: ifla",
    "type: Organization",
    "name:",
    "  en: A",
    "  ja: あ",
    "source: source/page",
    "\n",
    "\n  ",
    "  ",
    "- ",
    ": ",
    "? ",
    "---",
    "...",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n",
    "|",
    ">-",
    '"',
    "'",
    "\t",
    "{",
    "}",
    "[",
    "]",
    ",",
    "&a ",
    "*a",
    "<<: *a",
    "!!float ",
    "!!int ",
    "!!binary ",
    "!x ",
    ".inf",
    "-.Inf",
    ".nan",
    "0x1F",
    "0o17",
    "1:20",
    "1_000.5",
    "~",
    "# comment",
    "\\",
    '"\\ud800"',
    '"\\x01"',
    '"\\0"',
    "\u2028",
    "\x85",
    "\ufeff",
]
YAML_VALUES = [
    "",
    "x",
    "ifla",
    "Organization",
    "1966",
    "2003-10-01",
    "2003-02-30",
    "１９６６",
    '"1966\\n"',
    "-5",
    "~",
    "yes",
    "[]",
    "{}",
    "[a, b]",
    "{en: A}",
    "&a [*a]",
    "&b {k: *b}",
    "*nowhere",
    '"\\x01"',
    '"a b"',
    "'<x>'",
    '"%zz"',
    '"http://[::1"',
    "a:%zz",
    '"\\ud800"',
    "|",
    ">-",
    ".inf",
    ".NaN",
    "0x1F",
    "0o17",
    "0b101",
    "1:20",
    "1:20.5",
    "1_000.5",
    "!!int x",
    "!!float x",
    "!!binary AAAA",
    "!local x",
    "&anchor x",
]
PRINTABLE = st.text(st.characters(exclude_categories=["Cc", "Cs", "Cn"]), max_size=8)  # controls: in the bytes test
YAML_LINE = st.tuples(
    st.sampled_from(["", "", "", "", "  ", "    ", "- ", "  - "]),
    st.sampled_from(KEYS) | PRINTABLE,
    st.sampled_from([": ", ": ", ": ", ": ", ":", " "]),
    st.sampled_from(YAML_VALUES) | PRINTABLE,
).map("".join)
YAMLISH = st.lists(
    YAML_LINE | YAML_LINE | YAML_LINE | st.lists(st.sampled_from(YAMLISH_PIECES) | PRINTABLE, max_size=6).map("".join), max_size=15
).map("\n".join)


def every_pointer(data, pointer=()) -> Iterator[tuple]:
    """The path to every value inside *data*, by keys and list indexes."""
    yield pointer
    if isinstance(data, dict):
        for key, value in data.items():
            yield from every_pointer(value, pointer + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from every_pointer(value, pointer + (i,))


GOOD_FILES = sorted(p.relative_to(GOOD).as_posix() for p in GOOD.rglob("*.yaml"))


@st.composite
def mutated_records(draw) -> dict[str, bytes]:
    """A good record with one to three keys deleted or renamed, or values swapped for others."""
    relative = draw(st.sampled_from(GOOD_FILES))
    data = yaml.safe_load((GOOD / relative).read_text(encoding="utf-8"))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        pointers = [p for p in every_pointer(data) if p]
        if not pointers:  # all deleted
            break
        pointer = draw(st.sampled_from(pointers))
        parent = data
        for step in pointer[:-1]:
            parent = parent[step]
        last = pointer[-1]
        action = draw(st.sampled_from(["delete", "rename", "replace", "replace", "replace", "wrap in a list", "wrap in a mapping"]))
        note(f"{relative}: {action} at {pointer}")
        if action == "delete":
            del parent[last]
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS) | st.text(max_size=8))] = parent.pop(last)
        elif action == "wrap in a list":
            parent[last] = [parent[last]]
        elif action == "wrap in a mapping":
            parent[last] = {draw(st.sampled_from(KEYS)): parent[last]}
        else:
            parent[last] = draw(JSONISH)
    return {relative: yaml_text(data, draw(st.sampled_from([None, '"'])))}


def well_formed(graph) -> None:
    """What the loader accepts is RDF a consumer can rely on: typed literals in their
    datatype's form, language tags as BCP 47 has them, every resource described under
    ``<base>id/`` with an id that fits the rule (so it names its page's files)."""
    ids = resource_base(graph.base)
    for iri in graph.nodes:
        assert iri.startswith(ids) and ID_RULE.fullmatch(iri[len(ids) :]) and id_problem(iri[len(ids) :]) is None, iri
    forms = {
        XSD + "gYear": re.compile(r"[0-9]{4}"),
        XSD + "date": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
        XSD + "integer": re.compile(r"-?[0-9]+"),
    }
    for triple in graph.triples:
        obj = triple.object
        if isinstance(obj, Literal) and obj.datatype.value in forms:
            assert forms[obj.datatype.value].fullmatch(obj.value), f"{triple}: not an {obj.datatype.value}"
        if isinstance(obj, Literal) and obj.language:
            assert re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{1,8})*", obj.language), triple


def loads_or_reports(files: dict[str, bytes], check: bool = False) -> None:
    """Loading *files* gives a graph, or ndlld's own errors, each with a file and a line."""
    with data_with(files) as directory:
        try:
            graph = load_graph(directory, CONTEXT)
        except NdlldError as err:
            errors = getattr(err, "errors", [err])
            assert errors
            for error in errors:
                assert error.path and Path(error.path).is_relative_to(directory), str(error)
                assert error.line and error.line >= 1, f"no line: {error}"
                str(error).encode("utf-8")  # printable: the CLI writes it to a terminal
            return
        well_formed(graph)
        if check:  # what the loader accepts, the checker checks and the dumps carry
            report = check_with_project_shapes(graph, CONTEXT)
            report.text().encode("utf-8")
            dumps_read_back_as(graph, directory.parent / "dist")


@given(target=st.sampled_from(TARGETS), content=st.binary(max_size=300))
@example(target="organizations/junk.yaml", content=b"\x00")  # a character YAML forbids: reported with no line
@example(target="organizations/junk.yaml", content="id: é\n\n\x7f".encode())  # its line, counted in characters
def test_arbitrary_bytes_are_reported_with_file_and_line(target, content):
    loads_or_reports({target: content})


@given(target=st.sampled_from(TARGETS), text=YAMLISH)
@example(target="dataset.yaml", text="containedInPlace: &b {k: *b}\nabout: ")  # an alias inside its own value: endless
@example(target="organizations/junk.yaml", text="id: x\nalternateName: &a [a, *a]\n")
@example(target="organizations/junk.yaml", text="id: x\nalternateName: " + "[" * 600 + "]" * 600)  # deeper than Python's stack
@example(target="organizations/junk.yaml", text="id: x\nmember: " + "{id: x, member: " * 500 + "ndl" + "}" * 500)
@example(target="organizations/junk.yaml", text=".inf")  # YAML's infinity: float() took only Python's spelling
@example(target="organizations/junk.yaml", text="id: x\nvalue: 1:20.5\nordinal: -.Inf\nalternateName: !!float x\n")
def test_yaml_ish_text_is_reported_with_file_and_line(target, text):
    loads_or_reports({target: text.encode("utf-8")})


@given(target=st.sampled_from(TARGETS), data=JSONISH, style=st.sampled_from([None, '"', "|"]))
def test_arbitrary_nested_data_is_reported_with_file_and_line(target, data, style):
    loads_or_reports({target: yaml_text(data, style)})


@given(files=mutated_records())
@example(
    files={"events/meetings.yaml": (GOOD / "events/meetings.yaml").read_bytes().replace(b"startYear: 1974", "startYear: 000٠".encode())}
)
@example(
    files={"organizations/ifla.yaml": (GOOD / "organizations/ifla.yaml").read_bytes().replace(b"startYear: 1966", b'startYear: "1966\\n"')}
)
@example(
    files={
        "organizations/ifla.yaml": (GOOD / "organizations/ifla.yaml")
        .read_bytes()
        .replace(b"  en: International", b'  "en\\n": International')
    }
)
@example(files={"events/meetings.yaml": (GOOD / "events/meetings.yaml").read_bytes().replace(b"organizer: ifla", b'organizer: "\\e"')})
@example(
    files={
        "organizations/ifla.yaml": (GOOD / "organizations/ifla.yaml")
        .read_bytes()
        .replace(b"id: ifla\n", b'id: "ifla%zz"\nurl: "http://[::1"\n')
    }
)
@settings(max_examples=max(20, EXAMPLES))
def test_broken_good_records_are_reported_or_checked_and_dumped(files):
    loads_or_reports(files, check=True)


# Text that nearly makes an id: the characters ids are made of, and those that would make a
# page leave id/, miss its IRI, or share its file with another on some file system.
ID_CHARACTERS = st.sampled_from(
    [*"az09-_./#", "..", "//", "%2F", "%00", "%2e", "\\", "?", " ", "A", "Z", "é", "e\u0301", "国", "\u202e", "\x00", ":", "~"]
)
NEAR_IDS = st.lists(ID_CHARACTERS, min_size=1, max_size=8).map("".join) | st.text(max_size=10) | ID


@given(written=NEAR_IDS, base=st.sampled_from(["", "https://example.org/ndlld/id/"]), described=st.booleans())
@example(written="IFLA", base="", described=False)
@example(written="../x", base="https://example.org/ndlld/id/", described=True)
def test_any_text_as_an_id_or_a_reference_fits_the_rule_or_is_reported(written, base, described):
    """An id, or a reference under the base, is refused with its file and line unless it fits
    the rule; what is accepted is checked by :func:`well_formed`."""
    record = {"id": "near", "type": "Organization", "name": {"en": "A"}, "source": "source/page"}
    if described:
        record["id"] = base + written
    else:
        record["parentOrganization"] = base + written
    loads_or_reports({"organizations/near.yaml": yaml_text(record)})


# -- through the command line --------------------------------------------------------

CLI_JUNK = {
    "not UTF-8": b"id: x\n\xff\xfe\n",
    "YAML syntax": b"id: x\nname: [\n",
    "unknown key": b"id: x\ntype: Organization\nnmae: {en: A}\n",
    # each of these was a traceback until hypothesis found it
    "forbidden character": b"id: x\n\x00\n",
    "YAML infinity": b".inf\n",
    "alias inside itself": b"id: x\nalternateName: &a [*a]\n",
    "control character in an id": b'id: "x\\e"\ntype: Organization\n',
    "newline in a language tag": b'id: x\ntype: Organization\nname: {"en\\n": A}\n',
    "nested too deeply": b"id: x\nalternateName: " + b"[" * 600 + b"]" * 600 + b"\n",
}


@pytest.mark.parametrize("content", CLI_JUNK.values(), ids=CLI_JUNK.keys())
def test_command_line_reports_junk_with_exit_code_2(content: bytes):
    with data_with({"organizations/junk.yaml": content}) as directory:
        result = CliRunner().invoke(cli, ["validate", "--data", str(directory)])
        assert result.exit_code == 2, result.output
        assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
        assert re.search(r"junk\.yaml:\d+: ", result.stderr), result.stderr


@given(text=YAMLISH)
@settings(max_examples=max(5, EXAMPLES // 10))
def test_command_line_never_shows_a_traceback(text):
    with data_with({"organizations/junk.yaml": text.encode("utf-8")}) as directory:
        result = CliRunner().invoke(cli, ["validate", "--data", str(directory)])
        assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output, result.output
        assert result.exit_code in (0, 1, 2)
