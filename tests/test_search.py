"""`ndlld serve`'s /search: the index a build with the cache keeps beside its state
(search.sqlite), or that the server makes from the output's dumps, searched in English and
Japanese (no spaces between words; full-width and half-width forms; kana and kanji as
written), ranked exact names and abbreviations first, as HTML and JSON, within its limits,
and following rebuilds. In-process through Starlette's test client, and `ndlld serve`."""

from __future__ import annotations

import html
import json
import shutil
import sqlite3
import sys
import threading
import time
import urllib.request
from pathlib import Path

import html5lib
import pytest
from starlette.testclient import TestClient

from ndlld.build import build
from ndlld.errors import LimitError
from ndlld.finding import Indexes, index_of_output
from ndlld.search import INDEX_FILE, MAX_QUERY_CHARS, Query, SearchIndex
from ndlld.server import create_app

from conftest import DATA, free_port, server_process

BASE = "https://w3id.org/ndlld/"
XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture(scope="module")
def kept(tmp_path_factory) -> tuple[Path, Path]:
    """An output built with the cache, and the cache."""
    out = tmp_path_factory.mktemp("kept") / "dist"
    build(DATA, out, cache_dir=out.parent / "cache")
    return out, out.parent / "cache"


@pytest.fixture(scope="module", params=["kept", "made"])
def client(request, real_dist: Path):
    """A server on the index a build kept, and one on the index it made from the dumps of
    an output built without the cache: the same answers."""
    if request.param == "kept":
        out, cache = request.getfixturevalue("kept")
        app = create_app(out, indexes=Indexes(out, cache))
    else:
        app = create_app(real_dist)
    with TestClient(app) as client:
        yield client


def ids(client: TestClient, q: str, **params) -> list[str]:
    answer = client.get("/search", params={"q": q, "format": "json", **params})
    assert answer.status_code == 200, answer.text
    return [result["path"].removeprefix("id/") for result in answer.json()["results"]]


def test_the_build_keeps_the_index_beside_its_state_not_in_the_output(kept: tuple[Path, Path]):
    out, cache = kept
    assert not (out / INDEX_FILE).exists() and (out / "search.html").is_file()  # the page for static servers
    with sqlite3.connect(f"file:{cache / INDEX_FILE}?mode=ro", uri=True) as connection:
        (organizations,) = connection.execute("SELECT COUNT(*) FROM resource WHERE types LIKE '%Organization%'").fetchone()
    assert organizations == 18  # every organization of data/, and nothing else of its kind


def test_the_index_made_from_the_dumps_holds_what_the_build_kept(kept: tuple[Path, Path]):
    out, cache = kept
    resources, _ = index_of_output(out)
    index = SearchIndex(cache / INDEX_FILE)
    assert index.get(r.iri for r in resources) == {r.iri: r for r in resources}
    assert sum(index.types().values()) == sum(len(r.types) for r in resources)


@pytest.mark.parametrize(
    "q, first",
    [
        ("IFLA", "ifla"),  # an abbreviation, before IFLA-PAC and the IFLA's web site
        ("ifla", "ifla"),
        ("IFLA-PAC", "ifla-pac"),
        ("ifla pac", "ifla-pac"),
        ("NDL", "ndl"),  # before the many resources whose names or descriptions say NDL
        ("ＮＤＬ", "ndl"),  # full-width Latin letters
        ("The National Diet Library", "ndl"),
        ("national diet", "ndl"),  # a name that begins so, before the bulletin
        ("国立国会図書館", "ndl"),  # the Japanese name, exactly
        ("国際交流基金", "japan-foundation"),  # a part of 独立行政法人国際交流基金, no spaces
        ("Japan Foundation", "japan-foundation"),  # "The Japan Foundation" without its "The"
        ("worldwide federation", "ifla"),  # words of a description
        ("Congress of Southeast", "consal"),  # the last word typed so far: a prefix
        ("jla", "jla"),  # an id
    ],
)
def test_the_best_match_comes_first(client: TestClient, q: str, first: str):
    assert ids(client, q)[0] == first


def test_a_part_of_a_japanese_name_finds_it(client: TestClient):
    assert "ndl" in ids(client, "国会")
    assert "ndl" in ids(client, "図書館")
    assert "ndl" in ids(client, "館")  # one character


def test_every_word_must_match(client: TestClient):
    assert ids(client, "national diet bureau") == ["ndl-rlrb"]  # "Research and Legislative Reference Bureau", of the NDL
    assert ids(client, "national zebra") == []


def test_json_says_what_each_result_is(client: TestClient):
    answer = client.get("/search", params={"q": "国立国会図書館"}, headers={"Accept": "application/json"})
    assert answer.headers["content-type"] == "application/json"
    assert "Accept" in answer.headers["vary"]
    (ndl, law) = answer.json()["results"]
    assert ndl["id"] == BASE + "id/ndl" and ndl["exact"] is True
    assert ndl["name"] == "National Diet Library" and ndl["name_ja"] == "国立国会図書館" and ndl["alternateName"] == ["NDL"]
    assert set(ndl["types"]) == {"http://schema.org/Library", "http://schema.org/GovernmentOrganization"}
    assert law["id"] == BASE + "id/source/ndl-law" and law["exact"] is False


def test_a_browser_gets_a_page_of_links(client: TestClient):
    answer = client.get("/search?q=IFLA", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    page = html5lib.parse(answer.text)
    links = [a.get("href") for a in page.iter(f"{XHTML}a") if a.get("href", "").startswith("id/")]
    assert links[0] == "id/ifla.html" and "id/ifla-pac.html" in links  # the pages, in the page's language
    assert page.find(f".//{XHTML}input[@name='q']").get("value") == "IFLA"
    assert page.get("lang") == "en" and {"Accept", "Accept-Language"} <= {v.strip() for v in answer.headers["vary"].split(",")}


def test_a_browser_set_to_japanese_gets_the_page_in_japanese(client: TestClient):
    answer = client.get("/search?q=NDL", headers={"Accept": "text/html", "Accept-Language": "ja-JP,ja;q=0.9,en;q=0.8"})
    page = html5lib.parse(answer.text)
    assert page.get("lang") == "ja" and "Accept-Language" in answer.headers["vary"]
    assert page.find(f".//{XHTML}h1").text == "検索" and "の検索結果" in answer.text
    first = page.find(f".//{XHTML}ol/{XHTML}li/{XHTML}a")
    assert (first.get("href"), first.text, first.get("lang")) == ("id/ndl.ja.html", "国立国会図書館", None)
    english = page.find(f".//{XHTML}ol/{XHTML}li/{XHTML}span[@lang='en']")
    assert english.text == "National Diet Library"
    assert "図書館" in {t.strip() for t in page.find(f".//{XHTML}ol/{XHTML}li/{XHTML}span[@class='types']").text.split(",")}
    switch = [a.get("href") for a in page.iter(f"{XHTML}a") if a.get("hreflang") == "en"]
    assert switch == ["search?q=NDL&lang=en"]
    # the switch and the form's hidden field name the language, over the browser's
    named = client.get("/search?q=NDL&lang=en", headers={"Accept": "text/html", "Accept-Language": "ja"})
    assert html5lib.parse(named.text).get("lang") == "en"
    japanese = client.get("/search?q=NDL&lang=ja", headers={"Accept": "text/html"})
    assert html5lib.parse(japanese.text).find(f".//{XHTML}input[@name='lang']").get("value") == "ja"
    # JSON is the same in any language
    asked = {"q": "NDL", "format": "json"}
    assert client.get("/search", params=asked, headers={"Accept-Language": "ja"}).json() == client.get("/search", params=asked).json()


def test_format_outweighs_accept(client: TestClient):
    assert client.get("/search?q=IFLA&format=html", headers={"Accept": "application/json"}).headers["content-type"].startswith("text/html")
    assert client.get("/search?q=IFLA&format=json", headers={"Accept": "text/html"}).headers["content-type"] == "application/json"
    assert client.get("/search?q=IFLA", headers={"Accept": "text/turtle"}).status_code == 406


def test_without_a_query_a_browser_gets_the_form_and_a_program_a_400(client: TestClient):
    page = client.get("/search", headers={"Accept": "text/html"})
    assert page.status_code == 200 and 'name="q"' in page.text
    refused = client.get("/search", headers={"Accept": "application/json"})
    assert refused.status_code == 400 and "'q'" in refused.text


def test_results_come_in_pages(client: TestClient):
    everything = ids(client, "library", limit=100)
    assert len(everything) > 4
    first = client.get("/search", params={"q": "library", "format": "json", "limit": 2}).json()
    assert [r["path"].removeprefix("id/") for r in first["results"]] == everything[:2]
    following = client.get(first["next"]).json()
    assert [r["path"].removeprefix("id/") for r in following["results"]] == everything[2:4]


@pytest.mark.parametrize(
    "params, status, says",
    [
        ({"q": "x" * (MAX_QUERY_CHARS + 1)}, 400, f"at most {MAX_QUERY_CHARS} characters"),
        ({"q": "ifla", "limit": "101"}, 400, "from 1 to 100"),
        ({"q": "ifla", "limit": "0"}, 400, "from 1 to 100"),
        ({"q": "ifla", "offset": "-1"}, 400, "from 0 to 10000"),
        ({"q": "   "}, 400, "'q'"),
    ],
)
def test_limits_are_refused_in_one_line(client: TestClient, params: dict, status: int, says: str):
    answer = client.get("/search", params={**params, "format": "json"})
    assert answer.status_code == status and says in answer.text and answer.text.count("\n") == 1
    page = client.get("/search", params={**params, "format": "html"})
    assert page.status_code == status and says in html.unescape(page.text)  # the form, saying why


def test_a_query_past_its_time_is_stopped(kept: tuple[Path, Path]):
    with pytest.raises(LimitError) as stopped:
        SearchIndex(kept[1] / INDEX_FILE).search(Query("library", deadline=time.monotonic() - 1))
    assert stopped.value.status == 503


def test_search_follows_rebuilds_and_reads_japanese_as_written(tmp_path: Path):
    data, out, cache = tmp_path / "data", tmp_path / "dist", tmp_path / "cache"
    shutil.copytree(DATA, data)
    record = data / "organizations" / "kana.yaml"
    record.write_text(
        "id: kana\ntype: Organization\nname:\n  en: Kana Test Library\n  ja: カナテスト図書館\n"
        "description:\n  en: A record of the test.\nsource: source/ndl-links\n",
        encoding="utf-8",
    )

    def rename(old: str, new: str) -> None:
        record.write_text(record.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")

    build(data, out, cache_dir=cache)
    indexes = Indexes(out, cache)
    with TestClient(create_app(out, indexes=indexes)) as client:
        assert ids(client, "ｶﾅﾃｽﾄ") == ["kana"]  # half-width katakana, folded to full-width
        assert ids(client, "テスト図書") == ["kana"]
        assert ids(client, "かなてすと") == []  # hiragana is not katakana: no reading is guessed
        rename("Kana Test Library", "Renamed Library")
        assert any("changed record" in line for line in _built(data, out, cache))  # the kept index's rows changed
        assert ids(client, "renamed") == ["kana"] and ids(client, "Kana Test") == []  # the same server, the new output
        assert indexes.current().path == cache / INDEX_FILE
        rename("Renamed Library", "Unkept Library")
        build(data, out)  # without the cache: the kept index is not that of this output
        assert ids(client, "unkept") == ["kana"] and ids(client, "renamed") == []
        assert indexes.current().path.parent == indexes.made_dir
        build(data, out, cache_dir=cache)  # from scratch: the state does not describe the output
        assert ids(client, "unkept") == ["kana"] and indexes.current().path == cache / INDEX_FILE


def _built(data: Path, out: Path, cache: Path) -> list[str]:
    said: list[str] = []
    build(data, out, cache_dir=cache, progress=said.append)
    return said


def test_serve_without_a_kept_index_makes_one_and_says_so(real_dist: Path, tmp_path: Path):
    port, log = free_port(), tmp_path / "serve.log"
    command = [sys.executable, "-m", "ndlld", "serve", "--out", str(real_dist), "--port", str(port), "--processes", "2"]
    with server_process(command, "/", port, log=log) as (url, _):
        for _ in range(6):  # on new connections, which the kernel spreads over the processes
            with urllib.request.urlopen(url + "/search?q=IFLA&format=json") as answer:
                assert json.load(answer)["results"][0]["path"] == "id/ifla"
    said = log.read_text(encoding="utf-8")
    assert said.count("made one from its dumps") == 1, said  # once, before the processes started


def test_an_index_that_cannot_be_made_is_a_503_in_one_line(real_dist: Path, tmp_path: Path):
    out = Path(shutil.copytree(real_dist, tmp_path / "dist"))
    with TestClient(create_app(out)) as client:
        assert ids(client, "IFLA")[0] == "ifla"
        (out / "dataset.nt").unlink()  # an output broken by hand under the server
        (out / "SHA256SUMS").write_text("another output\n", encoding="utf-8")
        answer = client.get("/search", params={"q": "IFLA", "format": "json"})
        assert answer.status_code == 503 and answer.text.count("\n") == 1, answer.text
        assert answer.text.startswith(f"no search index of {out.resolve()} can be made now: ")


def test_server_processes_read_the_kept_index_while_a_build_changes_it(tmp_path: Path):
    """Two `ndlld serve` processes on an output built with the cache, asked in a loop while a
    build with the cache renames the IFLA: every answer is the old name or the new, and every
    answer asked after the build returned is the new one; no index is made from the dumps."""
    data, out, cache = tmp_path / "data", tmp_path / "dist", tmp_path / "cache"
    shutil.copytree(DATA, data)
    build(data, out, cache_dir=cache)
    old, new = "International Federation of Library Associations and Institutions", "Renamed Federation"
    port, log = free_port(), tmp_path / "serve.log"
    command = [
        sys.executable,
        "-m",
        "ndlld",
        "serve",
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
        "--port",
        str(port),
        "--processes",
        "2",
    ]
    answers: list[tuple[float, int, str]] = []
    stop = threading.Event()

    def ask(url: str) -> None:
        while not stop.is_set():
            asked = time.monotonic()
            with urllib.request.urlopen(url + "/search?q=IFLA&format=json") as answer:  # a connection each: both processes
                answers.append((asked, answer.status, json.load(answer)["results"][0]["name"]))

    with server_process(command, "/", port, log=log) as (url, _):
        asking = threading.Thread(target=ask, args=(url,))
        asking.start()
        try:
            record = data / "organizations" / "ifla.yaml"
            record.write_text(record.read_text(encoding="utf-8").replace(f"en: {old}", f"en: {new}", 1), encoding="utf-8")
            build(data, out, cache_dir=cache)
            built = time.monotonic()
            while len([a for a in answers if a[0] > built]) < 10:
                time.sleep(0.05)
        finally:
            stop.set()
            asking.join()
    assert {status for _, status, _ in answers} == {200}
    assert {name for _, _, name in answers} <= {old, new}
    assert {name for asked, _, name in answers if asked > built} == {new}
    assert "made one from its dumps" not in log.read_text(encoding="utf-8")
