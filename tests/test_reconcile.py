"""`ndlld serve`'s /reconcile: the W3C Reconciliation Service API 0.2, every answer checked
against the specification's own JSON schemas (tests/reconciliation/schemas, nothing
fetched), with messy input (abbreviations, Japanese names, typos, "The", full-width
letters), and a session against a real server doing what OpenRefine does: the manifest,
a batch of 50 names, previews and suggestions."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import html5lib
import pytest
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from starlette.testclient import TestClient

from ndlld.server import create_app

SCHEMAS = Path(__file__).parent / "reconciliation" / "schemas"
IDS = "https://w3id.org/ndlld/id/"


def _registry() -> Registry:
    """Every schema of the specification under its $id, and type.json by the relative name
    the manifest refers to it by."""
    resources = []
    for path in sorted(SCHEMAS.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resource = Resource(schema, specification=DRAFT7)
        resources += [(schema["$id"].rstrip("#"), resource), (schema["$id"], resource)]
    return Registry().with_resources(resources)


REGISTRY = _registry()


def check(answer: object, schema: str) -> None:
    """*answer* is valid by the specification's schema *schema* (a file name without .json)."""
    validator = Draft7Validator(json.loads((SCHEMAS / f"{schema}.json").read_text(encoding="utf-8")), registry=REGISTRY)
    validator.validate(answer)


@pytest.fixture(scope="module")
def client(real_dist: Path):
    with TestClient(create_app(real_dist)) as client:
        yield client


def reconcile(client: TestClient, queries: dict) -> dict:
    check(queries, "reconciliation-query-batch")  # the tests ask as the specification says
    answer = client.post("/reconcile", data={"queries": json.dumps(queries)})
    assert answer.status_code == 200, answer.text
    check(answer.json(), "reconciliation-result-batch")
    return answer.json()


def test_the_schemas_are_the_specifications_and_they_bite():
    with pytest.raises(ValidationError):
        check({"q0": {"result": [{"id": "ifla", "name": "IFLA"}]}}, "reconciliation-result-batch")  # no score
    with pytest.raises(ValidationError):
        check({"versions": ["0.1"], "name": "x", "identifierSpace": "x", "schemaSpace": "x"}, "manifest")


def test_the_manifest(client: TestClient):
    answer = client.get("/reconcile")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    manifest = answer.json()
    check(manifest, "manifest")
    assert manifest["versions"] == ["0.2"] and manifest["identifierSpace"] == IDS
    assert manifest["view"]["url"] == IDS + "{{id}}"
    assert manifest["preview"]["url"] == "http://testserver/reconcile/preview?id={{id}}"  # as the client reached it
    assert manifest["defaultTypes"] == [{"id": "http://schema.org/Organization", "name": "Organization"}]


def test_every_endpoint_allows_other_sites_scripts(client: TestClient):
    """The specification's §3.3: CORS on every endpoint."""
    for path in ("/reconcile", "/reconcile/suggest/entity?prefix=if", "/reconcile/preview?id=ifla", "/reconcile/properties?type=x"):
        assert client.get(path, headers={"Origin": "https://openrefine.example"}).headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    "query, expected",
    [
        ("IFLA", "ifla"),  # an abbreviation
        ("国立国会図書館", "ndl"),  # a Japanese name
        ("ＮＤＬ", "ndl"),  # full-width letters
        ("The National Diet Library", "ndl"),
        ("THE JAPAN FOUNDATION", "japan-foundation"),
        ("Internatonal Federaton of Library Asociations and Institutions", "ifla"),  # typos
        ("Congress of South-East Asian Librarians", "consal"),
        ("IFLA PAC", "ifla-pac"),  # punctuation aside
        ("mofa", "mofa"),  # an identifier
        (IDS + "ceal", "ceal"),  # an IRI
        ("Library, National Diet", "ndl"),  # inverted, as library catalogues write names
    ],
)
def test_a_sure_candidate_is_a_match(client: TestClient, query: str, expected: str):
    (first, *others) = reconcile(client, {"q0": {"query": query}})["q0"]["result"]
    assert first["id"] == expected and first["match"] is True
    assert not any(other["match"] for other in others)
    assert all(first["score"] >= other["score"] for other in others)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("IFAL", "ifla"),  # letters swapped
        ("Natonal Diet Libary", "ndl"),
        ("国立国会図書舘", "ndl"),  # a variant kanji
        ("国際交流基金", "japan-foundation"),  # a part of 独立行政法人国際交流基金
        ("Ministry of Foreign Affairs of Japan", "mofa"),
    ],
)
def test_an_unsure_candidate_comes_first_without_a_match(client: TestClient, query: str, expected: str):
    (first, *_) = reconcile(client, {"q0": {"query": query}})["q0"]["result"]
    assert first["id"] == expected and first["score"] < 100


@pytest.mark.parametrize(
    "query", ["British Library", "こくりつこっかいとしょかん", "Library of Congress", "Bibliothèque nationale de France"]
)
def test_what_the_dataset_has_not_is_no_match(client: TestClient, query: str):
    assert not any(c["match"] for c in reconcile(client, {"q0": {"query": query}})["q0"]["result"])


def test_the_type_restricts_the_candidates(client: TestClient):
    answer = reconcile(
        client,
        {
            "any": {"query": "IFLA web site"},
            "organizations": {"query": "IFLA web site", "type": "http://schema.org/Organization", "limit": 10},
            "countries": {"query": "Japan", "type": ["http://schema.org/Country"]},
            "libraries": {"query": "national diet library", "type": "Library"},
        },
    )
    assert answer["any"]["result"][0]["id"] == "ifla-website"
    assert {c["id"] for c in answer["organizations"]["result"]} >= {"ifla"}
    assert all(
        any(t["name"] in ("Organization", "Library", "GovernmentOrganization") for t in c["type"])
        for c in answer["organizations"]["result"]
    )
    assert [c["id"] for c in answer["countries"]["result"]] == ["country/jp"]
    assert answer["libraries"]["result"][0]["id"] == "ndl" and answer["libraries"]["result"][0]["match"]


def test_properties_raise_or_lower_the_score(client: TestClient):
    answer = reconcile(
        client,
        {
            "agrees": {"query": "National Diet Libary", "properties": [{"pid": "name@ja", "v": "国立国会図書館"}]},
            "plain": {"query": "National Diet Libary"},
            "disagrees": {"query": "National Diet Libary", "properties": [{"pid": "alternateName", "v": ["NLA", "NLB"]}]},
            "only properties": {"properties": [{"pid": "alternateName", "v": "CONSAL"}]},
        },
    )
    score = {key: result["result"][0]["score"] for key, result in answer.items()}
    assert score["agrees"] > score["plain"] > score["disagrees"]
    assert {"id": "property:name@ja", "value": True} in answer["agrees"]["result"][0]["features"]
    assert answer["only properties"]["result"][0]["id"] == "consal"


def test_get_answers_as_post_does(client: TestClient):
    queries = json.dumps({"q0": {"query": "CDNL", "limit": 1}})
    by_get = client.get("/reconcile", params={"queries": queries}).json()
    assert by_get == client.post("/reconcile", data={"queries": queries}).json()
    assert [c["id"] for c in by_get["q0"]["result"]] == ["cdnl"]


@pytest.mark.parametrize(
    "form, status, says",
    [
        ({"queries": "{not json"}, 400, "'queries' is not JSON"),
        ({"queries": "[1, 2]"}, 400, "a JSON object of queries"),
        ({"queries": json.dumps({str(n): {"query": "x"} for n in range(101)})}, 413, "at most 100 queries"),
        ({"queries": json.dumps({"q0": {"query": "x" * 201}})}, 400, "at most 200 characters"),
        ({"queries": json.dumps({"q0": {"query": "x", "properties": [{"pid": "founder", "v": "x"}]}})}, 400, "no property 'founder'"),
        ({"queries": json.dumps({"q0": {"query": "x", "limit": 0}})}, 400, "'limit'"),
        ({"nothing": "x"}, 400, "POST 'queries' or 'extend'"),
    ],
)
def test_bad_requests_are_refused_in_one_line(client: TestClient, form: dict, status: int, says: str):
    answer = client.post("/reconcile", data=form)
    assert answer.status_code == status and says in answer.text and answer.text.count("\n") == 1


def test_preview_is_a_page_another_site_may_frame(client: TestClient):
    answer = client.get("/reconcile/preview", params={"id": "ndl"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert "x-frame-options" not in answer.headers and "frame-ancestors *" in answer.headers["content-security-policy"]
    page = html5lib.parse(answer.text)
    texts = "".join(page.itertext())
    assert "National Diet Library" in texts and "国立国会図書館" in texts and "GovernmentOrganization" in texts
    assert client.get("/reconcile/preview", params={"id": "nothing"}).status_code == 404
    assert client.get("/").headers["x-frame-options"] == "DENY"  # every other page may not be framed


@pytest.mark.parametrize(
    "kind, prefix, first",
    [
        ("entity", "ifl", "ifla"),
        ("entity", "国立", "ndl"),
        ("entity", "Japan Found", "japan-foundation"),
        ("type", "lib", "http://schema.org/Library"),
        ("type", "org", "http://schema.org/Organization"),
        ("property", "alt", "alternateName"),
        ("property", "japanese", "name@ja"),
    ],
)
def test_suggest(client: TestClient, kind: str, prefix: str, first: str):
    answer = client.get(f"/reconcile/suggest/{kind}", params={"prefix": prefix})
    assert answer.status_code == 200
    check(
        answer.json(), f"suggest-{kind.replace('entity', 'entities').replace('property', 'properties').replace('type', 'types')}-response"
    )
    assert answer.json()["result"][0]["id"] == first


def test_suggest_pages_on_with_the_cursor(client: TestClient):
    everything = [r["id"] for r in client.get("/reconcile/suggest/entity", params={"prefix": "conf"}).json()["result"]]
    later = [r["id"] for r in client.get("/reconcile/suggest/entity", params={"prefix": "conf", "cursor": 2}).json()["result"]]
    assert len(everything) == 10 and later[:8] == everything[2:]


def test_data_extension(client: TestClient):
    proposed = client.get("/reconcile/properties", params={"type": "http://schema.org/Organization", "limit": 3}).json()
    check(proposed, "data-extension-property-proposal")
    assert [p["id"] for p in proposed["properties"]] == ["name", "name@ja", "alternateName"]
    query = {"ids": ["ndl", "ifla", "nothing"], "properties": [{"id": "name@ja"}, {"id": "alternateName"}]}
    check(query, "data-extension-query")
    answer = client.post("/reconcile", data={"extend": json.dumps(query)}).json()
    check(answer, "data-extension-response")
    assert answer["rows"]["ndl"] == {"name@ja": [{"str": "国立国会図書館"}], "alternateName": [{"str": "NDL"}]}
    assert answer["rows"]["ifla"] == {"name@ja": [], "alternateName": [{"str": "IFLA"}]}
    assert answer["rows"]["nothing"] == {"name@ja": [], "alternateName": []}


# -- what OpenRefine does, against a real server --------------------------------------------

# A column of a spreadsheet: (name as typed, the id it is, or None when the dataset has it not).
COLUMN = [
    ("IFLA", "ifla"),
    ("International Federation of Library Associations and Institutions", "ifla"),
    ("national diet library", "ndl"),
    ("国立国会図書館", "ndl"),
    ("ＮＤＬ", "ndl"),
    ("The National Diet Library", "ndl"),
    ("Japan Foundation", "japan-foundation"),
    ("CONSAL", "consal"),
    ("Congress of South East Asian Librarians", "consal"),
    ("CDNL", "cdnl"),
    ("CDNLAO", "cdnlao"),
    ("Conference of Directors of National Libraries in Asia and Oceania", "cdnlao"),
    ("EAJRS", "eajrs"),
    ("European Association of Japanese Resource Specialist", "eajrs"),
    ("AAS", "aas"),
    ("APLAP", "aplap"),
    ("International House of Japan", "ihj"),
    ("Japan Library Association", "jla"),
    ("JLA", "jla"),
    ("MOFA", "mofa"),
    ("North American Coordinating Council on Japanese Library Resources", "ncc"),
    ("NCC", "ncc"),
    ("Research and Legislative Reference Bureau", "ndl-rlrb"),
    ("IFLA-PAC", "ifla-pac"),
    ("Committee on Japanese Materials", "ceal-cjm"),
    ("Internatonal Federaton of Library Asociations and Institutions", "ifla"),
    ("THE JAPAN FOUNDATION", "japan-foundation"),
    ("japan foundation ", "japan-foundation"),
    ("Ｊａｐａｎ Ｌｉｂｒａｒｙ Ａｓｓｏｃｉａｔｉｏｎ", "jla"),
    ("Committee on International Relations", "jla-cir"),
    ("CEAL", "ceal"),
    ("Council on East Asian Libraries", "ceal"),
    ("Association for Asian Studies", "aas"),
    ("独立行政法人国際交流基金", "japan-foundation"),
    ("Association of Parliamentary Librarians of Asia and the Pacific", "aplap"),
    ("International House of Japan ", "ihj"),
    ("Conference of Directors of National Libraries", "cdnl"),
    ("ifla", "ifla"),
    ("ceal", "ceal"),
    ("ＣＯＮＳＡＬ", "consal"),
    ("British Library", None),
    ("Library of Congress", None),
    ("Smithsonian Institution", None),
    ("Bibliothèque nationale de France", None),
    ("National Library of Australia", None),
    ("こくりつこっかいとしょかん", None),  # the reading, in hiragana: kana are matched as written
    ("Japan", None),  # a country, not an organization
    ("IFLA annual conference", None),  # a meeting series, not an organization
    ("Staatsbibliothek zu Berlin", None),
    ("", None),  # an empty cell
]


def post_form(url: str, form: dict) -> dict:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def get(url: str) -> tuple[int, bytes, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def test_an_openrefine_session(served: str):
    """The manifest; a column of 50 names reconciled in one batch against the type the
    manifest proposes; the preview of each match; then a name typed into the suggest box."""
    assert len(COLUMN) == 50
    status, body, _ = get(served + "/reconcile")
    manifest = json.loads(body)
    check(manifest, "manifest")
    (organization,) = manifest["defaultTypes"]

    queries = {f"q{n}": {"query": name, "type": organization["id"], "type_strict": "should"} for n, (name, _) in enumerate(COLUMN)}
    check(queries, "reconciliation-query-batch")
    results = post_form(served + "/reconcile", {"queries": json.dumps(queries)})
    check(results, "reconciliation-result-batch")
    for n, (name, expected) in enumerate(COLUMN):
        matches = [c["id"] for c in results[f"q{n}"]["result"] if c["match"]]
        assert matches == ([expected] if expected else []), name

    for id_ in sorted({expected for _, expected in COLUMN if expected}):
        url = manifest["preview"]["url"].replace("{{id}}", urllib.parse.quote(id_, safe=""))
        status, body, headers = get(url)
        assert status == 200 and "frame-ancestors *" in headers["content-security-policy"], id_

    suggest = manifest["suggest"]["entity"]
    for typed in ("I", "IF", "IFL", "IFLA"):
        status, body, _ = get(suggest["service_url"] + suggest["service_path"] + "?" + urllib.parse.urlencode({"prefix": typed}))
        check(json.loads(body), "suggest-entities-response")
    assert json.loads(body)["result"][0]["id"] == "ifla"
    assert manifest["view"]["url"].replace("{{id}}", "ifla") == IDS + "ifla"  # the IRI the column gets
