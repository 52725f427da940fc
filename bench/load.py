#!/usr/bin/env python3
"""A bounded load test of `ndlld serve` on loopback.

CLIENTS concurrent clients (asyncio, httpx) send a mix of requests for SECONDS:
pages, resource data by content negotiation, dumps and small SPARQL queries,
while one more client keeps an expensive query (a cross product of the whole
graph) running alongside, which the server must stop at its query timeout.
Every response must have the status expected for its kind; anything else, or
a failed connection, is an error. Throughput and p50/p99 latency per kind, and
the latency of the pages that were served while the expensive query ran, go to
a JSON file and a short Markdown report.

Without --url it starts `ndlld serve` on the built dist/ (building it first if
needed) on a free loopback port, and stops it with SIGTERM afterwards. It gives
that server two query workers a process: the expensive query holds one of its
process's until the timeout, and the mix's queries must not wait behind it
(with one, a query sent to that process waits the whole timeout: a 503).

Then, beside nginx: pages and files only, the same requests sent by wrk (a load
generator in C, HTTP/1.1 keep-alive: a Python client could not keep nginx busy) to
`ndlld serve` and to a real nginx with the server/nginx.conf `ndlld build` wrote, on
the same machine and the same files, one after the other; requests per second of
each, and serve's as a share of nginx's. Only with the server this starts (no --url),
and skipped with --no-nginx or when nginx or wrk is missing (Debian packages nginx, wrk).

    bench/load.py                                   # 64 clients, 30 s: bench/results/load.json, bench/load.md
    bench/load.py --url http://127.0.0.1:8000 --clients 16 --seconds 3 --out /tmp/load.json --report -
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
EXPENSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SCHEMA = "PREFIX schema: <http://schema.org/> "


@dataclass(frozen=True)
class Kind:
    """One kind of request: a weighted share of the mix, the requests it picks from, the status it must get."""

    name: str
    weight: int
    requests: tuple[tuple[str, str, dict, dict | None], ...]  # (method, path, headers, form)
    status: int = 200


HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
MIX = (
    Kind("page", 40, tuple(("GET", path, HTML, None) for path in ("/", "/id/ifla.html", "/id/ndl.html", "/id/cdnlao.html", "/vocab"))),
    Kind(
        "redirect",  # a resource IRI: 303 See Other to its document
        10,
        (
            ("GET", "/id/ifla", HTML, None),
            ("GET", "/id/ifla", {"Accept": "text/turtle"}, None),
            ("GET", "/id/ndl", {"Accept": "application/ld+json"}, None),
        ),
        status=303,
    ),
    Kind(
        "data",
        20,
        (
            ("GET", "/id/ifla.ttl", {"Accept": "text/turtle"}, None),
            ("GET", "/id/ndl.jsonld", {"Accept": "application/ld+json"}, None),
            ("GET", "/id/country/jp.nt", {}, None),
        ),
    ),
    Kind("dump", 10, tuple(("GET", path, {}, None) for path in ("/dataset.nt", "/dataset.jsonld.gz", "/dataset.ttl"))),
    Kind(
        "sparql",
        20,
        (
            ("GET", "/sparql?query=" + "SELECT%20(COUNT(*)%20AS%20%3Fn)%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D", {}, None),
            (
                "POST",
                "/sparql",
                {"Accept": "text/csv"},
                {"query": SCHEMA + "SELECT ?o ?name WHERE { ?o a schema:Organization ; schema:name ?name } ORDER BY ?o"},
            ),
            (
                "POST",
                "/sparql",
                {"Accept": "text/turtle"},
                {"query": SCHEMA + "CONSTRUCT { ?o schema:memberOf ?p } WHERE { ?o schema:memberOf ?p }"},
            ),
            ("GET", "/sparql?query=ASK%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D", {"Accept": "application/sparql-results+json"}, None),
        ),
    ),
)
EXPENSIVE_KIND = Kind("expensive", 0, (("POST", "/sparql", {}, {"query": EXPENSIVE}),), status=503)


class Recorder:
    """Every response's kind, status and latency, and whether the expensive query was running."""

    def __init__(self):
        self.samples: dict[str, list[float]] = {}
        self.statuses: dict[str, dict[str, int]] = {}
        self.errors: list[str] = []
        self.error_count = 0
        self.expensive_running = 0
        self.pages_alongside: list[float] = []

    def record(self, kind: Kind, status: int | None, seconds: float, problem: str | None, alongside: bool) -> None:
        self.samples.setdefault(kind.name, []).append(seconds)
        key = str(status) if status is not None else "failed"
        counts = self.statuses.setdefault(kind.name, {})
        counts[key] = counts.get(key, 0) + 1
        if problem is not None:
            self.error_count += 1
            if len(self.errors) < 20:
                self.errors.append(f"{kind.name}: {problem}")
        elif kind.name == "page" and alongside:
            self.pages_alongside.append(seconds)


async def send(client: httpx.AsyncClient, recorder: Recorder, kind: Kind, request) -> None:
    method, path, headers, form = request
    alongside = recorder.expensive_running > 0
    started = time.perf_counter()
    status, problem = None, None
    try:
        response = await client.request(method, path, headers=headers, data=form)
        await response.aread()
        status = response.status_code
        if status != kind.status:
            problem = f"{method} {path} answered {status}, not {kind.status}: {response.text[:120]!r}"
    except httpx.HTTPError as err:
        problem = f"{method} {path} failed: {type(err).__name__}: {err}"
    recorder.record(kind, status, time.perf_counter() - started, problem, alongside and recorder.expensive_running > 0)


async def mixed_client(client, recorder: Recorder, stop: float, seed: int) -> None:
    chooser = random.Random(seed)
    while time.monotonic() < stop:
        kind = chooser.choices(MIX, weights=[k.weight for k in MIX])[0]
        await send(client, recorder, kind, chooser.choice(kind.requests))


async def expensive_client(client, recorder: Recorder, stop: float) -> None:
    """One expensive query after another, until the run ends (the last one is waited for)."""
    while time.monotonic() < stop:
        recorder.expensive_running += 1
        try:
            await send(client, recorder, EXPENSIVE_KIND, EXPENSIVE_KIND.requests[0])
        finally:
            recorder.expensive_running -= 1


async def load(url: str, clients: int, seconds: float, expensive: bool = True) -> dict:
    """Run the mix against *url*; the figures as a JSON-ready dict."""
    recorder = Recorder()
    limits = httpx.Limits(max_connections=clients + 1, max_keepalive_connections=clients + 1)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        started = time.monotonic()
        stop = started + seconds
        tasks = [mixed_client(client, recorder, stop, seed) for seed in range(clients)]
        if expensive:
            tasks.append(expensive_client(client, recorder, stop))
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - started
    kinds = {}
    for kind in (*MIX, EXPENSIVE_KIND):
        samples = recorder.samples.get(kind.name, [])
        kinds[kind.name] = {
            "expected_status": kind.status,
            "requests": len(samples),
            "statuses": recorder.statuses.get(kind.name, {}),
            "per_second": round(len(samples) / elapsed, 1),
            **latencies(samples),
        }
    total = sum(len(samples) for samples in recorder.samples.values())
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": total,
        "per_second": round(total / elapsed, 1),
        "errors": recorder.error_count,
        "error_examples": recorder.errors,
        "kinds": kinds,
        "pages_while_expensive_query_ran": {"requests": len(recorder.pages_alongside), **latencies(recorder.pages_alongside)},
    }


def latencies(samples: list[float]) -> dict:
    """p50, p99 and max in milliseconds (nearest rank)."""
    if not samples:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(samples)

    def rank(p: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, max(0, int(round(p * len(ordered))) - 1))], 1)

    return {"p50_ms": rank(0.50), "p99_ms": rank(0.99), "max_ms": round(1000 * ordered[-1], 1)}


# -- pages and files beside nginx -----------------------------------------------
# (what, path, Accept): pages and files as a browser and a linked-data client ask for them.
BESIDE = (
    ("a page", "/id/ifla.html", HTML["Accept"]),
    ("a resource IRI: 303", "/id/ifla", "text/turtle"),
    ("a document, Turtle", "/id/ndl.ttl", "text/turtle"),
    ("the index", "/", HTML["Accept"]),
    ("the vocabulary, negotiated", "/vocab", "application/ld+json"),
    ("a missing page: 404", "/id/nothing", HTML["Accept"]),
)
TARGET = 0.25  # serve's requests per second as a share of nginx's, for each row (issue 21)
NGINX_MAIN = """
user root;
worker_processes auto;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    default_type application/octet-stream;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
"""


def wrk(url: str, accept: str, clients: int, seconds: float) -> dict:
    """Requests per second of one path under *clients* keep-alive connections, by wrk."""
    threads = str(min(clients, os.cpu_count() or 1))
    command = [
        "wrk",
        "-t",
        threads,
        "-c",
        str(clients),
        "-d",
        f"{seconds:g}s",
        "-H",
        f"Accept: {accept}",
        "-H",
        "Accept-Encoding: gzip",
        url,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    wrong = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "per_second": float(found[1]) if found else 0.0,
        "not_2xx_3xx": int(wrong[1]) if wrong else 0,
        "socket_errors": sum(map(int, errors.groups())) if errors else 0,
    }


def nginx_serving(dist: Path, tmp: Path) -> tuple[subprocess.Popen, str]:
    """nginx with the generated site configuration on a free port, one worker per core; every
    client here comes from one address, so the per-client cap is lifted."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    site = (dist / "server" / "nginx.conf").read_text(encoding="utf-8")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port} reuseport;").replace("root /var/www/ndlld;", f"root {dist};")
    site = site.replace("limit_conn ndlld_per_client 32;", "limit_conn ndlld_per_client 4096;")
    (tmp / "site.conf").write_text(site, encoding="utf-8")
    (tmp / "nginx.conf").write_text(NGINX_MAIN.format(tmp=tmp), encoding="utf-8")
    process = subprocess.Popen(
        [shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(tmp), "-c", str(tmp / "nginx.conf")], stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    _wait_for(process, url, 30, lambda: f"nginx did not start: {(tmp / 'error.log').read_text() if (tmp / 'error.log').exists() else ''}")
    return process, url


def beside_nginx(serve_url: str, dist: Path, clients: int, seconds: float) -> dict:
    """Each of :data:`BESIDE` sent to `ndlld serve` at *serve_url*, then to nginx."""
    rows = {
        name: {"path": path, "accept": accept, "serve": wrk(serve_url + path, accept, clients, seconds)} for name, path, accept in BESIDE
    }
    with tempfile.TemporaryDirectory(prefix="ndlld-bench-nginx-") as tmp:
        process, url = nginx_serving(dist, Path(tmp))
        try:
            for name, path, accept in BESIDE:
                rows[name]["nginx"] = wrk(url + path, accept, clients, seconds)
        finally:
            os.kill(process.pid, signal.SIGQUIT)
            process.wait(timeout=30)
    for row in rows.values():
        row["share"] = round(row["serve"]["per_second"] / row["nginx"]["per_second"], 3) if row["nginx"]["per_second"] else None
    serve_total = sum(row["serve"]["per_second"] for row in rows.values())
    nginx_total = sum(row["nginx"]["per_second"] for row in rows.values())
    return {"clients": clients, "seconds": seconds, "rows": rows, "share": round(serve_total / nginx_total, 3) if nginx_total else None}


def beside_report(beside: dict, processes: int | None) -> str:
    """The Markdown section of the run beside nginx."""
    rows = [
        f"| {name} | `{row['path']}` | {row['serve']['per_second']:,.0f} | {row['nginx']['per_second']:,.0f} | {row['share']} |"
        for name, row in beside["rows"].items()
    ]
    wrong = sum(
        row[server]["socket_errors"] + (row[server]["not_2xx_3xx"] if row["path"] != "/id/nothing" else 0)
        for row in beside["rows"].values()
        for server in ("serve", "nginx")
    )
    short = [f"{name} ({row['share']})" for name, row in beside["rows"].items() if row["share"] is not None and row["share"] < TARGET]
    target = f"short of it: {', '.join(short)}" if short else "met by every row"
    return f"""
## Pages and files beside nginx

The same requests sent by wrk ({beside["clients"]} keep-alive connections, {beside["seconds"]:g} s each,
`Accept-Encoding: gzip`) to `ndlld serve` ({processes or "?"} processes) and to nginx (one worker
per core) with the `server/nginx.conf` the build wrote, on the same files, one after the other.
wrk shares the cores with the server it loads. Responses not 2xx or 3xx (the 404 row aside) or
failed: {wrong}.

| request | path | serve, per second | nginx, per second | serve ÷ nginx |
| --- | --- | ---: | ---: | ---: |
{chr(10).join(rows)}

**serve answers {beside["share"]} of what nginx answers, over these requests.** The target
(issue 21) is {TARGET} of nginx's for pages and files: {target}.

nginx compresses a text answer each time it sends it (`gzip on` in the generated configuration),
where serve compresses a file once and keeps it: the rows of the larger files (the page, the
index, the vocabulary) weigh nginx's compression as much as either server. The 303, one line of
text that nginx does not compress, measures what each spends on a request alone.
"""


# -- where it ran -------------------------------------------------------------
def environment() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")), platform.machine())
    memory = next((line.split(":", 1)[1].strip() for line in _lines("/proc/meminfo") if line.startswith("MemTotal")), "")
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit + ("-dirty" if dirty.strip() else ""),
        "machine": {
            "cpu": cpu,
            "cores": os.cpu_count(),
            "memory": memory,
            "system": platform.platform(),
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "versions": {
            "python": platform.python_version(),
            **{name: metadata.version(name) for name in ("ndlld", "uvicorn", "httptools", "starlette", "pyoxigraph", "httpx")},
        },
    }


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def report(results: dict) -> str:
    """The short Markdown report of one run."""
    env, limits = results["environment"], results.get("server", {})
    rows = [
        f"| {name} | {k['requests']} | {k['per_second']} | {k['p50_ms']} | {k['p99_ms']} | {k['max_ms']} | "
        + ", ".join(f"{status}: {count}" for status, count in sorted(k["statuses"].items()))
        + " |"
        for name, k in results["kinds"].items()
    ]
    alongside = results["pages_while_expensive_query_ran"]
    versions = ", ".join(f"{name} {version}" for name, version in env["versions"].items())
    beside = results.get("beside_nginx")
    beside_text = beside_report(beside, limits.get("processes")) if beside else ""
    return f"""# `ndlld serve` under load

{results["clients"]} concurrent clients for {results["seconds"]} s on loopback against `ndlld serve`
on the built `dist/` ({limits.get("triples", "?")} triples), with one more client running an expensive
query (a cross product of the whole graph) over and over, which the server stops at its
query timeout ({limits.get("query_timeout", "?")} s) with a 503; its {limits.get("query_workers", "?")} query workers,
two a process, leave the mix's queries one it does not hold. Written by `bench/load.py`;
figures in `bench/results/load.json`.

**{results["requests"]} requests, {results["per_second"]} per second, {results["errors"]} errors.**
{"Every response had the status expected for its kind." if not results["errors"] else "See error_examples in the JSON file."}

| kind | requests | per second | p50 ms | p99 ms | max ms | statuses |
| --- | ---: | ---: | ---: | ---: | ---: | --- |
{chr(10).join(rows)}

Pages served while the expensive query was running: {alongside["requests"]}, p50 {alongside["p50_ms"]} ms,
p99 {alongside["p99_ms"]} ms, max {alongside["max_ms"]} ms: queries run in worker processes, so pages
do not wait for them.

- page: `/`, `/id/….html` and `/vocab` as HTML; redirect: resource IRIs, answered 303 to their
  HTML, Turtle or JSON-LD; data: a resource's `.ttl`, `.jsonld` and `.nt`; dump: `dataset.nt`, `.ttl`, `.jsonld.gz`; sparql: COUNT, SELECT as CSV, CONSTRUCT, ASK.
- The client and the server share the machine's {env["machine"]["cores"]} cores, so the figures are
  a floor for the server alone; the machine was also running other work (load average
  {env["machine"]["load_average_before"][0]} before the run, {env["machine"]["load_average_after"][0]} after).

Machine: {env["machine"]["cpu"]}, {env["machine"]["cores"]} cores, {env["machine"]["memory"]}, {env["machine"]["system"]}.
Versions: {versions}. Run on {env["date"]} at commit `{env["commit"]}`.
{beside_text}"""


# -- a server to load, when none is given -------------------------------------
def start_server(dist: Path, query_timeout: float, processes: int) -> tuple[subprocess.Popen, str]:
    if not (dist / "index.html").is_file():
        subprocess.run([sys.executable, "-m", "ndlld", "build", "--out", str(dist), "--quiet"], cwd=ROOT, check=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "ndlld", "serve", "--out", str(dist), "--port", str(port)),
            *("--query-timeout", str(query_timeout), "--processes", str(processes), "--query-workers", str(2 * processes)),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    _wait_for(
        process,
        url,
        60,
        lambda: f"ndlld serve did not start: {process.stderr.read().decode() if process.poll() is not None else 'timeout'}",
    )
    return process, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="A running ndlld serve (default: start one on --dist).")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--query-timeout", type=float, default=10, help="For the server this starts.")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "load.json")
    parser.add_argument("--report", default=str(ROOT / "bench" / "load.md"), help="Markdown report; - for none.")
    parser.add_argument("--no-nginx", action="store_true", help="Only the mix: not pages and files beside nginx.")
    parser.add_argument("--nginx-seconds", type=float, default=10, help="Per request and server, beside nginx.")
    args = parser.parse_args()

    load_before = [round(x, 2) for x in os.getloadavg()]  # other work on the machine shows here
    processes = os.cpu_count() or 1  # serve's default
    process = None
    url = args.url
    if url is None:
        process, url = start_server(args.dist, args.query_timeout, processes)
    try:
        results = asyncio.run(load(url, args.clients, args.seconds))
        nginx = Path(shutil.which("nginx") or "/usr/sbin/nginx")
        if args.url is None and not args.no_nginx and shutil.which("wrk") and nginx.exists():  # the files of --dist, served by both
            results["beside_nginx"] = beside_nginx(url, args.dist, args.clients, args.nginx_seconds)
    finally:
        if process is not None:
            os.kill(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
    results["environment"] = environment()
    results["environment"]["machine"]["load_average_before"] = load_before
    if args.url is None:
        triples = (args.dist / "dataset.nt").read_bytes().count(b"\n")
        results["server"] = {
            "url": "ndlld serve on 127.0.0.1",
            "query_timeout": args.query_timeout,
            "triples": triples,
            "processes": processes,
            "query_workers": 2 * processes,
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.report != "-":
        Path(args.report).write_text(report(results), encoding="utf-8")
    print(f"{results['requests']} requests, {results['per_second']}/s, {results['errors']} errors -> {args.out}")
    print(*results["error_examples"], sep="\n", file=sys.stderr)
    sys.exit(1 if results["errors"] else 0)


def _wait_for(process: subprocess.Popen, url: str, seconds: float, why: Callable[[], str]) -> None:
    """Until *url* answers; SystemExit with *why* if *process* ends or *seconds* pass first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(why()) from None
            time.sleep(0.2)


if __name__ == "__main__":
    main()
