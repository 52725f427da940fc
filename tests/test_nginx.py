"""The nginx configuration `ndlld build` writes, run by a real nginx (Debian
package) on a loopback port: it negotiates resource IRIs as `ndlld serve` does,
and sends the same security headers on every response (so does the Apache
.htaccess, checked as text: there is no Apache here)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ndlld.conneg import negotiate
from ndlld.server import SECURITY_HEADERS

from conftest import free_port, wait_until_up

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
if not Path(NGINX).exists():
    if os.environ.get("CI"):
        raise RuntimeError("nginx is not installed: .ci/run installs it (apt-get install nginx)")
    pytest.skip("nginx is not installed here (CI installs it)", allow_module_level=True)

MAIN = """
user root;
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
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


@pytest.fixture(scope="module")
def nginx(real_dist: Path, tmp_path_factory):
    """nginx serving the real build with the generated site configuration, stopped by its pid."""
    tmp = tmp_path_factory.mktemp("nginx")
    port = free_port()
    site = (real_dist / "server" / "nginx.conf").read_text(encoding="utf-8")
    assert "listen 80;" in site and "root /var/www/ndlld;" in site
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};").replace("root /var/www/ndlld;", f"root {real_dist};")
    (tmp / "site.conf").write_text(site, encoding="utf-8")
    (tmp / "nginx.conf").write_text(MAIN.format(tmp=tmp), encoding="utf-8")
    check = subprocess.run([NGINX, "-t", "-p", str(tmp), "-c", str(tmp / "nginx.conf")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf")], stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    log = tmp / "error.log"
    wait_until_up(url + "/", process, lambda: log.read_text() if log.exists() else "nginx did not start")
    yield url
    os.kill(process.pid, signal.SIGQUIT)  # nginx's graceful stop
    process.wait(timeout=15)


def get(url: str, accept: str | None = None):
    request = urllib.request.Request(url, headers={"Accept": accept} if accept is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


COMMON = [
    None,
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "text/turtle",
    "application/ld+json",
    "application/n-triples",
    "application/json",
    "text/turtle, */*;q=0.1",
    "application/ld+json;profile=\"http://www.w3.org/ns/json-ld#compacted\"",
    "text/turtle;q=0.9, application/n-triples;q=0.8",
    "text/turtle;q=0.5, application/ld+json",
    "text/*",
    "application/*",
    "*/*",
    "TEXT/TURTLE",
]


@pytest.mark.parametrize("accept", COMMON)
def test_nginx_negotiates_as_ndlld_serve(nginx: str, real_dist: Path, accept):
    expected = negotiate(accept)
    status, headers, body = get(nginx + "/id/ifla", accept)
    assert status == 200
    assert body == (real_dist / "id" / f"ifla.{expected}").read_bytes()
    assert headers["Vary"] == "Accept"
    media_type = {"html": "text/html", "ttl": "text/turtle", "jsonld": "application/ld+json", "nt": "application/n-triples"}[expected]
    assert headers["Content-Type"] == f"{media_type}; charset=utf-8"


@pytest.mark.parametrize("accept", ["image/png", "application/rdf+xml", "text/turtle;q=0"])
def test_nginx_answers_406_when_nothing_fits(nginx: str, accept: str):
    status, headers, _ = get(nginx + "/id/ifla", accept)
    assert status == 406 and negotiate(accept) is None


def test_nginx_serves_files_pages_and_vocabulary(nginx: str, real_dist: Path):
    status, headers, body = get(nginx + "/id/country/jp.ttl", "text/html")
    assert status == 200 and headers["Content-Type"] == "text/turtle; charset=utf-8"
    assert body == (real_dist / "id" / "country" / "jp.ttl").read_bytes()
    status, headers, body = get(nginx + "/vocab", "text/turtle")
    assert status == 200 and body == (real_dist / "vocab.ttl").read_bytes()
    status, headers, body = get(nginx + "/")
    assert status == 200 and body == (real_dist / "index.html").read_bytes()
    assert get(nginx + "/id/nothing")[0] == 404
    status, headers, body = get(nginx + "/.well-known/void")
    assert status == 200 and headers["Content-Type"] == "text/turtle; charset=utf-8"
    assert body == (real_dist / "void.ttl").read_bytes()
    status, headers, _ = get(nginx + "/dataset.ndjson")
    assert headers["Content-Type"] == "application/x-ndjson; charset=utf-8"


@pytest.mark.parametrize("path, accept, status", [
    ("/", None, 200),
    ("/id/ifla", "text/turtle", 200),
    ("/id/ifla", "image/png", 406),
    ("/id/ifla.jsonld", None, 200),
    ("/vocab", None, 200),
    ("/static/style.css", None, 200),
    ("/.well-known/void", None, 200),
    ("/id/nothing", None, 404),
    ("/nothing", None, 404),
    ("/sparql", None, 404),
])
def test_nginx_sends_the_security_headers_of_ndlld_serve(nginx: str, path: str, accept, status: int):
    got, headers, _ = get(nginx + path, accept)
    assert got == status
    for name, value in SECURITY_HEADERS.items():
        assert headers.get_all(name) == [value], name  # once each, as ndlld serve sends them


def test_htaccess_sets_the_same_security_headers(real_dist: Path):
    text = (real_dist / ".htaccess").read_text(encoding="utf-8")
    found = dict(re.findall(r'^\s*Header always set (\S+) "(.*)"$', text, flags=re.MULTILINE))
    assert {name: found.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
