"""`ndlld serve --watch`: an edit of a record is built and served, pages and SPARQL
alike, without a restart; a broken edit leaves the last good build served.

A real `ndlld serve` process on a loopback port, records edited on disk as an editor
would."""

from __future__ import annotations

import json
import re
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from watchfiles import Change

from ndlld.errors import ConfigError
from ndlld.watch import RecordFilter, watching

from conftest import free_port, server_process

IFLA_NAME = "International Federation of Library Associations and Institutions"
IFLA = "https://example.org/ndlld/id/ifla"


def _eventually(check, what: str, log: Path, seconds: float = 90) -> None:
    """Wait until *check()* holds (a build runs between); fail naming *what*, with serve's output."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"never {what}; serve said:\n{log.read_text(errors='replace')}"
        time.sleep(0.3)


def _page(url: str) -> str:
    with urllib.request.urlopen(url + "/id/ifla.html", timeout=10) as response:
        return response.read().decode()


def _names(url: str) -> set[str]:
    query = f"SELECT ?name WHERE {{ <{IFLA}> <http://schema.org/name> ?name }}"
    request = urllib.request.Request(
        url + "/sparql?" + urllib.parse.urlencode({"query": query}), headers={"Accept": "application/sparql-results+json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return {row["name"]["value"] for row in json.load(response)["results"]["bindings"]}


def test_an_edited_record_is_served_without_a_restart(good_data: Path, tmp_path: Path):
    port, log, out = free_port(), tmp_path / "serve.log", tmp_path / "dist"
    command = [sys.executable, "-m", "ndlld", "serve", "--watch", "--data", str(good_data), "--out", str(out), "--port", str(port)]
    record = good_data / "organizations" / "ifla.yaml"
    with server_process([*command, "--processes", "1"], "/", port, log=log) as (url, _process):
        assert IFLA_NAME in _page(url)
        _eventually(lambda: "watching" in log.read_text(), "watched the records", log)

        record.write_text(record.read_text(encoding="utf-8").replace(IFLA_NAME, "World Library Federation"), encoding="utf-8")
        _eventually(lambda: "World Library Federation" in _page(url), "served the edited page", log)
        assert "World Library Federation" in _names(url)
        assert "changed: organizations/ifla.yaml; building again" in log.read_text()

        good = record.read_text(encoding="utf-8")
        record.write_text(good + "alternateName: [IFLA\n", encoding="utf-8")
        _eventually(lambda: re.search(r"ifla\.yaml:\d+: YAML syntax", log.read_text()), "reported the broken record", log)
        assert "World Library Federation" in _page(url), "a failed build must leave the last good one served"

        record.write_text(good.replace("World Library Federation", "Federation of Libraries"), encoding="utf-8")
        _eventually(lambda: "Federation of Libraries" in _page(url), "followed the mended record", log)
        assert _names(url) >= {"Federation of Libraries"}
    # server_process: SIGTERM stops the servers and the watching, exit code 0


def test_only_record_files_outside_the_output_start_a_build(tmp_path: Path):
    data, out = tmp_path / "data", tmp_path / "data" / "dist"
    watched = RecordFilter([out, tmp_path / "data" / ".dist.cache"])
    for name in ("organizations/ifla.yaml", "organizations/new.yml", "dataset.yaml"):
        assert watched(Change.modified, str(data / name)), name
    for name in ("dist/id/ifla.jsonld", "dist/sitemap.yaml", ".dist.cache/state.yaml", "organizations/.ifla.yaml.swp", "notes.txt"):
        assert not watched(Change.modified, str(data / name)), name


def test_the_builds_of_the_watch_keep_the_search_index_in_serves_cache(good_data: Path, tmp_path: Path):
    port, log, out, cache = free_port(), tmp_path / "serve.log", tmp_path / "dist", tmp_path / "kept"
    command = [sys.executable, "-m", "ndlld", "serve", "--watch", "--data", str(good_data), "--out", str(out)]
    command += ["--cache-dir", str(cache), "--port", str(port), "--processes", "1"]
    record = good_data / "organizations" / "ifla.yaml"

    def found(q: str) -> list[str]:
        with urllib.request.urlopen(url + "/search?" + urllib.parse.urlencode({"q": q, "format": "json"}), timeout=30) as response:
            return [result["id"] for result in json.load(response)["results"]]

    with server_process(command, "/", port, log=log) as (url, _process):
        _eventually(lambda: "watching" in log.read_text(), "watched the records", log)
        record.write_text(record.read_text(encoding="utf-8").replace(IFLA_NAME, "Federation of Zebra Librarians"), encoding="utf-8")
        _eventually(lambda: found("zebra librarians") == [IFLA], "found the edited name", log)
    assert (cache / "search.sqlite").is_file() and not (tmp_path / ".dist.cache").exists()
    assert "made one from its dumps" not in log.read_text(), "the server must read the index the watch's builds kept"


def test_a_directory_the_system_will_not_watch_is_one_clear_error(tmp_path: Path):
    """Not a silent wait, then "watching" said of nothing: the reason, naming the directory."""
    gone = tmp_path / "data"
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        watching(gone, tmp_path / "dist", [tmp_path / "dist"], lambda paths: None)
    assert str(caught.value).startswith(f"{gone}: this directory cannot be watched for changes: ")
    assert time.monotonic() - started < 30
