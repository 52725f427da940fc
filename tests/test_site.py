"""The web pages: one per resource, with its description embedded as JSON-LD that
independent tools (extruct, pyld) read back as exactly that description."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import extruct
import html5lib
import pytest
import rdflib
from lxml import etree
from lxml import html as lxml_html
from pyld import jsonld
from rdflib.compare import isomorphic

from ndlld.build import build

from conftest import DATA, ROOT, WIDELY_CITED
from test_dumps import read_jsonld

PAGES_OF = lambda dist: sorted(p for p in (dist / "id").rglob("*.html") if not p.name.endswith(".ja.html"))  # noqa: E731
JAPANESE_PAGES_OF = lambda dist: sorted((dist / "id").rglob("*.ja.html"))  # noqa: E731


def _no_network(url, options=None):
    raise AssertionError(f"tried to load {url}: pages must be self-contained")


def embedded(page: Path) -> list[dict]:
    """The JSON-LD blocks of a page, as extruct (a real extractor) finds them."""
    return extruct.extract(page.read_text(encoding="utf-8"), syntaxes=["json-ld"], uniform=False)["json-ld"]


def to_graph(document: dict) -> rdflib.Graph:
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": _no_network})
    return rdflib.Graph().parse(data=nquads, format="nt")


def test_every_resource_has_a_page(real_dist: Path):
    pages = {p.relative_to(real_dist).with_suffix("").as_posix() for p in PAGES_OF(real_dist)}
    dataset = rdflib.Graph().parse(real_dist / "dataset.nt", format="nt")
    described = {str(s).split("/ndlld/", 1)[1].split("#")[0] for s in dataset.subjects()}
    assert pages == described
    for page in pages:
        for extension in ("ttl", "jsonld", "nt"):
            assert (real_dist / f"{page}.{extension}").is_file()


def test_embedded_jsonld_is_the_resources_description(real_dist: Path):
    """The page embeds the resource's own statements; its RDF files say the same and more
    (:func:`test_resource_rdf_has_its_incoming_links_and_names`), each the same graph."""
    for page in PAGES_OF(real_dist):
        [document] = embedded(page)
        described = rdflib.Graph().parse(page.with_suffix(".nt"), format="nt")
        iri = BASE + page.relative_to(real_dist).with_suffix("").as_posix()
        own = rdflib.Graph()
        for triple in described:  # not what points at it, nor the names of others (under the base)
            if str(triple[0]).partition("#")[0] == iri or not str(triple[0]).startswith(BASE):
                own.add(triple)
        assert len(own) > 0
        assert isomorphic(to_graph(document), own), page.name
        assert isomorphic(read_jsonld(page.with_suffix(".jsonld")), described), page.name
        assert isomorphic(rdflib.Graph().parse(page.with_suffix(".ttl"), format="turtle"), described), page.name


BASE = "https://w3id.org/ndlld/"
NAMED_BY = [rdflib.URIRef("http://schema.org/" + p) for p in ("name", "roleName")]


def test_resource_rdf_has_its_incoming_links_and_names(real_dist: Path):
    """Each resource's RDF holds, as LodView and Pubby's do, its own statements, every
    statement of another resource pointing at it or its hash resources (the real records
    have fewer than a page lists: :func:`test_a_description_holds_the_statements_pointing_at_it_that_its_page_lists`),
    and the names (in every language) of what it links to and what links to it."""
    dataset = rdflib.Graph().parse(real_dist / "dataset.nt", format="nt")
    checked_incoming = 0
    for page in PAGES_OF(real_dist):
        document = BASE + page.relative_to(real_dist).with_suffix("").as_posix()
        described = set(rdflib.Graph().parse(page.with_suffix(".nt"), format="nt"))
        ours = partial(_in_document, document)
        incoming = {t for t in dataset if ours(t[2]) and not ours(t[0])}
        assert incoming <= described, page.name
        checked_incoming += len(incoming)
        linked = {t[2] for t in described if ours(t[0]) and t[1] != rdflib.RDF.type} | {t[0] for t in incoming}
        for other in linked - {term for term in linked if ours(term)}:
            names = {(other, p, o) for p in NAMED_BY for o in dataset.objects(other, p)}
            first = next((p for p in NAMED_BY if (other, p, None) in dataset), None)
            assert {t for t in names if t[1] == first} <= described, (page.name, other)
    assert checked_incoming > 100


def _in_document(document: str, term) -> bool:
    return str(term).partition("#")[0] == document


def test_resource_rdf_has_every_link_its_page_lists(real_dist: Path):
    """What the page lists under 'Linked from', read from its HTML, is in its RDF: a
    statement of that resource (or of a hash resource of it) pointing at this one (or a hash
    resource of it), and its name."""
    listed = 0
    for page in PAGES_OF(real_dist):
        document = BASE + page.relative_to(real_dist).with_suffix("").as_posix()
        graph = rdflib.Graph().parse(page.with_suffix(".nt"), format="nt")
        tree = lxml_html.fromstring(page.read_bytes())
        for anchor in tree.xpath("//section[@class='links-here']//li/a"):
            source = rdflib.URIRef(_absolute(anchor.get("href"), page.relative_to(real_dist).as_posix()))
            pointing = [  # a statement of it, or of one of its hash resources (a link's sourcing statement)
                o
                for s, o in graph.subject_objects()
                if str(source) in (str(s), str(s).partition("#")[0]) and str(o).partition("#")[0] == document
            ]
            assert pointing, (page.name, source)
            shown = anchor.text_content().strip()
            # Its name, and for a role what holds it ('associate member, IFLA'); what has no
            # name is named by its type ('Legal status').
            names = {str(o) for o in graph.objects(source) if isinstance(o, rdflib.Literal) and o.language == "en"}
            if names:
                assert any(shown == name or shown.startswith(f"{name}, ") for name in names), (page.name, source)
            listed += 1
    assert listed > 50


def test_a_description_holds_the_statements_pointing_at_it_that_its_page_lists(widely_cited):
    """Past the first rows of 'Linked from' (ndlld.site.LIST_SHOWN), a resource's RDF holds
    the statements pointing at it of the rows its page lists, not all: the source every
    record cites would otherwise hold the whole dataset. The dumps have every one."""
    from ndlld.site import LIST_SHOWN
    from ndlld.synth import BASE as SYNTH

    _, dist = widely_cited
    document, page = SYNTH + WIDELY_CITED, dist / f"{WIDELY_CITED}.html"
    section = lxml_html.fromstring(page.read_bytes()).xpath("//section[@class='links-here']")[0]
    listed = [_absolute(a.get("href"), f"{WIDELY_CITED}.html", SYNTH) for a in section.xpath(".//li/a")]
    assert len(listed) == LIST_SHOWN and section.xpath(".//p[@class='more']")
    dataset = rdflib.Graph().parse(dist / "dataset.nt", format="nt")
    ours = partial(_in_document, document)
    pointing = {t for t in dataset if ours(t[2]) and not ours(t[0])}
    for extension, syntax in (("nt", "nt"), ("ttl", "turtle")):
        described = rdflib.Graph().parse(page.with_suffix(f".{extension}"), format=syntax)
        incoming = {t for t in described if ours(t[2]) and not ours(t[0])}
        assert incoming < pointing
        # Who each statement says links here: its subject, or for a link's source the resource that links.
        linking = {str(dataset.value(s, rdflib.RDF.subject) or s) for s, _, _ in incoming}
        assert linking == set(listed)


def _absolute(href: str, page: str, base: str = BASE) -> str:
    """A relative link of the page at *page* (``id/ndl.html``) as the IRI it names."""
    from urllib.parse import urljoin

    path, hash_, fragment = urljoin(base + page.removesuffix(".html"), href).partition("#")
    return path.removesuffix(".html").removesuffix(".ja") + hash_ + fragment  # a link to a page names its resource


def test_resource_turtle_starts_with_the_resource(real_dist: Path):
    for page in PAGES_OF(real_dist):
        document = BASE + page.relative_to(real_dist).with_suffix("").as_posix()
        text = page.with_suffix(".ttl").read_text(encoding="utf-8")
        first = next(line for line in text.splitlines() if line and not line.startswith("@prefix"))
        assert first.startswith(f"<{document}> "), page.name


def test_descriptions_together_are_the_dataset(real_dist: Path):
    """Every statement of the dataset is on a page; beyond them, a page says only what
    void.ttl says (the page of the dataset: its distributions, whose IRIs lead there)."""
    union = rdflib.Graph()
    for page in PAGES_OF(real_dist):
        union.parse(page.with_suffix(".nt"), format="nt")
    dataset = rdflib.Graph().parse(real_dist / "dataset.nt", format="nt")
    void = rdflib.Graph().parse(real_dist / "void.ttl", format="turtle")
    assert all(triple in union for triple in dataset)
    beyond = [triple for triple in union if triple not in dataset]
    assert beyond and all(triple in void for triple in beyond)


def test_pages_are_html5_with_languages_and_nothing_external(real_dist: Path):
    parser = html5lib.HTMLParser(strict=True)
    for page in [real_dist / "index.html", real_dist / "vocab.html", *PAGES_OF(real_dist)]:
        text = page.read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>")
        parser.parse(text)  # raises on any parse error
        tree = lxml_html.fromstring(text.encode("utf-8"))
        assert tree.get("lang") == "en"
        for element in tree.iter("script"):
            assert element.get("type") == "application/ld+json" and element.get("src") is None
        for element in tree.xpath("//link[@href] | //img[@src] | //iframe"):
            url = element.get("href") or element.get("src") or ""
            assert not urlsplit(url).scheme and not url.startswith("//"), f"{page.name} loads {url}"
        for element in tree.xpath("//*[@lang]"):
            assert element.get("lang") in {"en", "ja"}
    ja = lxml_html.fromstring((real_dist / "id" / "ndl.html").read_bytes())
    assert ja.xpath("//p[@class='name-ja'][@lang='ja']/text()")[0] == "国立国会図書館"


def test_every_link_between_pages_resolves(real_dist: Path):
    for page in [real_dist / "index.html", real_dist / "vocab.html", *PAGES_OF(real_dist)]:
        tree = lxml_html.fromstring(page.read_bytes())
        ids = set(tree.xpath("//@id"))
        for href in tree.xpath("//a/@href | //link/@href | //*[local-name()='a']/@href"):
            parts = urlsplit(href)
            if parts.scheme:
                continue
            if not parts.path:
                assert parts.fragment in ids, f"{page.name}: no #{parts.fragment}"
                continue
            target = (page.parent / parts.path).resolve()
            candidates = [target, target.with_name(target.name + ".html"), target / "index.html"]
            assert any(c.is_file() for c in candidates), f"{page.relative_to(real_dist)} links to {href}"
            if parts.fragment and candidates[1].is_file():
                target_ids = set(lxml_html.fromstring(candidates[1].read_bytes()).xpath("//@id"))
                assert parts.fragment in target_ids, f"{href} has no anchor"


def test_page_shows_names_counts_involvement_and_source(real_dist: Path):
    tree = lxml_html.fromstring((real_dist / "id" / "ifla.html").read_bytes())
    text = " ".join(tree.text_content().split())
    assert tree.xpath("//h1/text()") == ["International Federation of Library Associations and Institutions"]
    assert "more than 1,700 members" in text and "about 150 countries" in text
    timeline = [" ".join(li.text_content().split()) for li in tree.xpath("//section[@class='timeline']//li")]
    assert timeline == ["1966 associate member, IFLA", "1976 regular member, IFLA"]
    assert tree.xpath("//section[@class='sources']//a/text()") == ["International Cooperation > Links"]
    assert tree.xpath("//section[@id='ndl-regular-member']")


def cited_in_row(tree, label: str) -> list[tuple[str, str]]:
    """The (text, href) of what a page's row names as the source of its values."""
    return [(a.text_content(), a.get("href")) for a in tree.xpath(f"//dt[.='{label}']/following-sibling::dd[1]/span[@class='cited']/a")]


def cited_above(tree) -> list[tuple[str, str]]:
    return [(a.text_content(), a.get("href")) for a in tree.xpath("//article/p[@class='cited-above']//a")]


def test_each_statement_names_its_source_as_the_quads_do(real_dist: Path):
    jp = lxml_html.fromstring((real_dist / "id" / "country" / "jp.html").read_bytes())
    iso = "ISO 3166-1: Codes for the representation of names of countries and their subdivisions, Part 1: Country code"
    assert cited_in_row(jp, "country code") == [(iso, "../source/iso-3166-1.html")]
    # Its name is the NDL page's, in the passages about Japan (each an anchor of the source's page).
    page = "International Cooperation > Links"
    assert cited_above(jp) == [(f"{page} § {part}", f"../source/ndl-links.html#{part}") for part in ("ifla", "ihj", "japan-foundation")]
    # The NDL's Japanese name is the Act's; its English name the page's introduction.
    ndl = lxml_html.fromstring((real_dist / "id" / "ndl.html").read_bytes())
    assert {text for text, _ in cited_above(ndl)} == {f"{page} § introduction", "National Diet Library Law (Act No. 5 of 1948)"}
    # A role's statements are the passage's about the organization it is held in.
    ifla = lxml_html.fromstring((real_dist / "id" / "ifla.html").read_bytes())
    assert cited_in_row(ifla, "member count") == [(f"{page} § ifla", "source/ndl-links.html#ifla")]
    # A source's own description is the project's, linked to the dataset's page.
    links = lxml_html.fromstring((real_dist / "id" / "source" / "ndl-links.html").read_bytes())
    assert cited_in_row(links, "publisher") == [("the project's own", "../dataset.html")]


def test_the_japanese_page_words_its_sources_in_japanese(real_dist: Path):
    jp = lxml_html.fromstring((real_dist / "id" / "country" / "jp.ja.html").read_bytes())
    [above] = jp.xpath("//article/p[@class='cited-above']/span[@class='cited']")
    assert above.text == "名称・種別の出典: " and [a.get("lang") for a in above.xpath("./a")] == ["en", "en", "en"]
    assert [a.get("href") for a in above.xpath("./a")][0] == "../source/ndl-links.ja.html#ifla"
    links = lxml_html.fromstring((real_dist / "id" / "source" / "ndl-links.ja.html").read_bytes())
    own = links.xpath("//dd/span[@class='cited']/a[@href='../dataset.ja.html']")
    assert own and {a.text_content() for a in own} == {"本プロジェクト自身の記述"} and not own[0].get("lang")


def test_script_content_cannot_break_out(good_data: Path, tmp_path: Path):
    hostile = '</script><script>alert(1)</script> <!-- ]]> {{ 7*7 }} """ & é'
    fixture = good_data / "organizations" / "hostile.yaml"
    fixture.write_text(
        json.dumps(
            {
                "id": "hostile",
                "type": "Organization",
                "name": {"en": hostile, "ja": "テスト"},
                "description": {"en": hostile},
                "source": "source/page",
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    build(good_data, tmp_path / "dist")
    page = tmp_path / "dist" / "id" / "hostile.html"
    raw = page.read_text(encoding="utf-8")
    script = raw[raw.index('<script type="application/ld+json">') :]
    body = script[len('<script type="application/ld+json">') : script.index("</script>")]
    for dangerous in ("</script", "<!--", "]]>", "<script"):
        assert dangerous not in body
    tree = lxml_html.fromstring(raw.encode("utf-8"))
    assert tree.xpath("//h1/text()") == [hostile]
    assert not tree.xpath("//script[not(@type='application/ld+json')]")
    [document] = embedded(page)
    names = {str(o) for o in to_graph(document).objects(None, rdflib.URIRef("http://schema.org/name"))}
    assert hostile in names


def test_index_embeds_the_dataset_for_dataset_search(real_dist: Path):
    [document] = embedded(real_dist / "index.html")
    graph = to_graph(document)
    SDO = rdflib.Namespace("http://schema.org/")
    [dataset] = graph.subjects(rdflib.RDF.type, SDO.Dataset)
    assert graph.value(dataset, SDO.license) == rdflib.URIRef("https://creativecommons.org/licenses/by/4.0/")
    downloads = list(graph.objects(dataset, SDO.distribution))
    formats = {str(graph.value(d, SDO.encodingFormat)) for d in downloads}
    assert formats == {"text/turtle", "application/ld+json", "application/n-triples", "application/x-ndjson", "application/gzip"}
    import hashlib

    for download in downloads:
        name = str(graph.value(download, SDO.contentUrl)).rsplit("/", 1)[1]
        content = (real_dist / name).read_bytes()
        assert str(graph.value(download, SDO.sha256)) == hashlib.sha256(content).hexdigest()
        assert str(graph.value(download, SDO.contentSize)) == f"{len(content)} B"
        assert graph.value(download, SDO.license) == rdflib.URIRef("https://creativecommons.org/licenses/by/4.0/")
        assert graph.value(download, SDO.version) is not None and graph.value(download, SDO.dateModified) is not None
    assert {name.language for name in graph.objects(dataset, SDO.name)} == {"en", "ja"}


def test_index_draws_the_network_and_timeline(real_dist: Path):
    tree = lxml_html.fromstring((real_dist / "index.html").read_bytes())
    svgs = tree.xpath("//*[local-name()='svg']")
    assert len(svgs) == 2
    network_links = {a.get("href") for a in svgs[0].xpath(".//*[local-name()='a']")}
    assert {"id/ifla.html", "id/ndl.html", "id/cdnlao.html"} <= network_links
    years = [" ".join(li.text_content().split())[:4] for li in tree.xpath("//section[@class='timeline']//li")]
    assert years == sorted(years) and years[0] == "1966" and years[-1] == "2008"


def test_vocabulary_page_documents_every_term_in_both_languages(real_dist: Path):
    vocabulary = rdflib.Graph().parse(ROOT / "ontology" / "ndl.ttl", format="turtle")
    terms = {str(s).split("#", 1)[1] for s in vocabulary.subjects() if "#" in str(s) and str(s).startswith("https://w3id.org/ndlld/vocab#")}
    tree = lxml_html.fromstring((real_dist / "vocab.html").read_bytes())
    for term in terms:
        [entry] = tree.xpath(f"//article[@id='{term}']")
        assert entry.xpath(".//h3/span[@lang='ja']/text()"), term
        assert entry.xpath(".//p[@lang='en']") and entry.xpath(".//p[@lang='ja']"), term


def test_sitemap_lists_every_page(real_dist: Path):
    tree = etree.parse(str(real_dist / "sitemap.xml"))
    urls = set(tree.xpath("//s:loc/text()", namespaces={"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}))
    pages = {"https://w3id.org/ndlld/" + p.relative_to(real_dist).with_suffix("").as_posix() for p in PAGES_OF(real_dist)}
    dumps = {f"https://w3id.org/ndlld/{name}" for name in ("void.ttl", "dataset.ttl", "dataset.jsonld", "dataset.nt", "dataset.ndjson")}
    dumps |= {url + ".gz" for url in dumps if "dataset" in url}
    assert urls == pages | {"https://w3id.org/ndlld/", "https://w3id.org/ndlld/vocab"} | dumps


def test_void_describes_the_dumps(real_dist: Path):
    void = rdflib.Graph().parse(real_dist / "void.ttl", format="turtle")
    VOID, DCAT = rdflib.Namespace("http://rdfs.org/ns/void#"), rdflib.Namespace("http://www.w3.org/ns/dcat#")
    dataset = rdflib.URIRef("https://w3id.org/ndlld/id/dataset")
    lines = (real_dist / "dataset.nt").read_bytes().count(b"\n")
    assert int(void.value(dataset, VOID.triples)) == lines
    assert void.value(dataset, VOID.sparqlEndpoint) == rdflib.URIRef("https://w3id.org/ndlld/sparql")
    dumps = {str(d).rsplit("/", 1)[1] for d in void.objects(dataset, VOID.dataDump)}
    assert dumps == {"dataset.ttl", "dataset.jsonld", "dataset.nt", "dataset.ndjson"}
    media = {str(void.value(d, DCAT.mediaType)).rsplit("/media-types/", 1)[1] for d in void.objects(dataset, DCAT.distribution)}
    assert media == {"text/turtle", "application/ld+json", "application/n-triples", "application/x-ndjson"}
    SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
    import hashlib

    for distribution in void.objects(dataset, DCAT.distribution):
        name = str(void.value(distribution, DCAT.downloadURL)).rsplit("/", 1)[1]
        content = (real_dist / name).read_bytes()
        assert int(void.value(distribution, DCAT.byteSize)) == len(content)
        checksum = void.value(distribution, SPDX.checksum)
        assert str(void.value(checksum, SPDX.checksumValue)) == hashlib.sha256(content).hexdigest()
        assert int(void.value(distribution, VOID.triples)) == lines
        assert void.value(distribution, rdflib.DCTERMS.license) is not None
    assert (real_dist / ".well-known" / "void").read_bytes() == (real_dist / "void.ttl").read_bytes()
    examples = set(void.objects(dataset, VOID.exampleResource))
    assert examples == {rdflib.URIRef("https://w3id.org/ndlld/id/ifla"), rdflib.URIRef("https://w3id.org/ndlld/id/ndl")}


def test_embed_snippet_is_schema_org_only(real_dist: Path):
    from click.testing import CliRunner

    from ndlld.cli import cli

    result = CliRunner().invoke(cli, ["embed", "ifla", "--data", str(DATA)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (real_dist / "embed" / "ifla.html").read_text(encoding="utf-8")
    [document] = extruct.extract(result.stdout, syntaxes=["json-ld"], uniform=False)["json-ld"]
    graph = to_graph(document)
    assert all(str(p).startswith("http://schema.org/") or p == rdflib.RDF.type for p in graph.predicates())
    described = rdflib.Graph().parse(real_dist / "id" / "ifla.nt", format="nt")
    assert set(graph) <= set(described) and len(graph) > 10


def test_embed_of_unknown_id_is_a_clear_error():
    from click.testing import CliRunner

    from ndlld.cli import cli

    result = CliRunner().invoke(cli, ["embed", "iflaa", "--data", str(DATA)])
    assert result.exit_code == 2
    assert result.stderr == "no record with id 'iflaa'; did you mean 'ifla'?\n"


def test_pages_written_in_parallel_are_the_same(good_data: Path, tmp_path: Path):
    """Above a size the pages are written by several processes; the files must not change."""
    from pyoxigraph import RdfFormat

    from ndlld.build import load_graph
    from ndlld.context import Context
    from ndlld.dumps import read_triples, write_dumps
    from ndlld.output import Writer
    from ndlld.resources import context_path, ontology_path
    from ndlld.site import SiteView, render_companions, render_pages
    from ndlld.site.listing import EntriesListing

    context = Context.load(context_path())
    graph = load_graph(good_data, context)
    vocabulary = read_triples(ontology_path(), RdfFormat.TURTLE)
    outputs = {}
    for name, parallel_from in (("serial", 10**9), ("parallel", 1)):
        out = tmp_path / name
        out.mkdir()
        write_dumps(graph.triples, vocabulary, context, out)
        view, writer = SiteView.of(graph.triples, vocabulary, graph.base, context), Writer(out)
        pages = render_pages(view, list(view.documents()), writer, parallel_from=parallel_from)
        render_companions(view, vocabulary, writer, len(graph), EntriesListing({document: page.entry for document, page in pages.items()}))
        outputs[name] = {path: (out / path).read_bytes() for path in writer.written}
    assert outputs["parallel"] == outputs["serial"] and len(outputs["serial"]) > 40


def test_the_first_output_leaves_its_pages_as_the_spare_the_next_build_starts_from(good_data: Path, tmp_path: Path):
    """The first build with the cache has no output to keep as the spare: it links its own
    pages there, so that the first edit starts from them rather than linking every page.
    A build without the cache keeps no spare."""
    out = tmp_path / "dist"
    build(good_data, out, cache_dir=tmp_path / "cache")
    spare = tmp_path / ".dist.spare"
    pages = PAGES_OF(out)
    assert pages and all((spare / page.relative_to(out)).stat().st_ino == page.stat().st_ino for page in pages)
    assert not (spare / "index.html").exists()  # only the pages: everything else is written anew
    plain = tmp_path / "plain"
    build(good_data, plain)
    assert not (tmp_path / ".plain.spare").exists()


def test_unchanged_pages_are_linked_from_the_output_they_replace(good_data: Path, tmp_path: Path):
    """Creating a file is the slow part of writing pages; a rebuild after an edit links the
    pages whose bytes did not change (same inode) and writes only the others."""
    out = tmp_path / "dist"
    build(good_data, out)
    inodes = {p: p.stat().st_ino for p in PAGES_OF(out)}
    foundation = good_data / "organizations" / "foundation.yaml"
    text = foundation.read_text(encoding="utf-8")
    foundation.write_text(text.replace("en: A foundation", "en: Renamed A foundation", 1), encoding="utf-8")
    build(good_data, out)
    kept = {p.name for p, inode in inodes.items() if p.exists() and p.stat().st_ino == inode}
    assert "ifla.html" in kept, "an unchanged page was written again"
    assert "foundation.html" not in kept and "Renamed " in (out / "id" / "foundation.html").read_text(encoding="utf-8")


def test_the_timeline_picture_is_spread_over_the_years_when_long():
    """Thousands of involvements: the picture draws a spread of them, in order and from the
    first to near the last; the list below it keeps them all."""
    from ndlld.site import TIMELINE_SIZE
    from ndlld.site.listing import spread

    items = list(range(5000))
    drawn = spread(items, TIMELINE_SIZE)
    assert len(drawn) == TIMELINE_SIZE and drawn == sorted(drawn)
    step = -(-5000 // TIMELINE_SIZE)  # no gap wider than this, at the end either
    assert drawn[0] == 0 and drawn[-1] >= 5000 - step
    assert all(b - a <= step for a, b in zip(drawn, drawn[1:]))
    assert spread(items[:10], TIMELINE_SIZE) == items[:10]


@pytest.mark.parametrize("target", ["id/ifla", "id/ifla#role", "id/a/b", "id/a/../b", "id//c", "./id/x", "#top", "vocab", "id/a/b#x"])
@pytest.mark.parametrize("from_path", ["", "index", "id/ndl", "id/a/b", "id/./c", "embed/x"])
def test_relative_links_are_those_of_posixpath_relpath(target: str, from_path: str):
    """relative() computes plain paths itself (relpath was most of linking); the same hrefs."""
    import posixpath

    from ndlld.site.paths import relative

    path, hash_, fragment = target.partition("#")
    if not (path or from_path):
        return
    expected = posixpath.relpath(path or from_path, posixpath.dirname(from_path) or ".") + (hash_ + fragment if hash_ else "")
    assert relative(target, from_path) == expected


def test_a_page_linked_from_many_lists_the_first_and_counts_the_rest(tmp_path: Path, monkeypatch):
    """The source every record cites would list every resource: the list stops, and says how many more."""
    import ndlld.site

    def linked_from(dist: Path) -> tuple[list[str], str]:
        tree = lxml_html.fromstring((dist / "id" / "source" / "ndl-links.html").read_bytes())
        section = tree.xpath("//section[@class='links-here']")[0]
        rows = [" ".join(li.text_content().split()) for li in section.xpath(".//li")]
        return rows, " ".join(" ".join(section.xpath(".//p[@class='more']//text()")).split())

    every, more = linked_from(build(DATA, tmp_path / "all").out_dir)
    assert len(every) > 3 and more == ""
    monkeypatch.setattr(ndlld.site, "LIST_SHOWN", 3)
    dist = build(DATA, tmp_path / "few").out_dir
    shown, more = linked_from(dist)
    assert shown == every[:3]
    assert more == f"… and {len(every) - 3:,} more, in the dumps and through SPARQL."
    tree = lxml_html.fromstring((dist / "id" / "source" / "ndl-links.html").read_bytes())
    [href] = tree.xpath("//section[@class='links-here']//p[@class='more']/a/@href")
    assert href == "../../index.html#downloads" and lxml_html.fromstring((dist / "index.html").read_bytes()).xpath("//*[@id='downloads']")


def test_past_the_protocols_limit_the_sitemap_is_an_index_of_sitemaps(real_dist: Path, tmp_path: Path, monkeypatch):
    """A sitemap lists at most 50,000 URLs (sitemaps.org); 100,000 organizations have more pages."""
    import ndlld.site

    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    every = etree.parse(str(real_dist / "sitemap.xml")).xpath("//s:url/s:loc/text()", namespaces=namespace)
    monkeypatch.setattr(ndlld.site, "SITEMAP_URLS", 7)
    dist = build(DATA, tmp_path / "dist").out_dir
    index = etree.parse(str(dist / "sitemap.xml"))
    assert index.getroot().tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    sitemaps = index.xpath("//s:sitemap/s:loc/text()", namespaces=namespace)
    assert sitemaps == [f"https://w3id.org/ndlld/sitemap-{n}.xml" for n in range(1, -(-len(every) // 7) + 1)]
    listed = []
    for url in sitemaps:
        urls = etree.parse(str(dist / url.rsplit("/", 1)[1])).xpath("//s:url/s:loc/text()", namespaces=namespace)
        assert 0 < len(urls) <= 7
        listed += urls
    assert listed == every


def test_the_index_lists_the_first_of_each_list_and_counts_the_rest(real_dist: Path, tmp_path: Path, monkeypatch):
    """100,000 organizations would make an index page of tens of megabytes, made again at every build."""
    import ndlld.site

    def lists(dist: Path) -> dict[str, tuple[list[str], str]]:
        tree = lxml_html.fromstring((dist / "index.html").read_bytes())
        found = {}
        for name, items, more in (
            ("involvements", "//section[@class='timeline']/ol/li", "//section[@class='timeline']/p[@class='more']"),
            ("organizations", "//section[@class='organizations']//li", "//section[@class='organizations']/p[@class='more']"),
            ("groups", "//section[@class='resources']/ul[1]/li", "//section[@class='resources']/p[@class='more'][1]"),
        ):
            found[name] = (
                [" ".join(li.text_content().split()) for li in tree.xpath(items)],
                " ".join(" ".join(p.text_content() for p in tree.xpath(more)).split()),
            )
        return found

    every = lists(real_dist)
    assert all(len(items) > 3 and more == "" for items, more in every.values())
    monkeypatch.setattr(ndlld.site, "LIST_SHOWN", 3)
    few = lists(build(DATA, tmp_path / "dist").out_dir)
    for name, (items, _) in every.items():
        assert few[name][0] == items[:3]
        assert few[name][1].startswith(f"… and {len(items) - 3:,} more, in the dumps")


def test_a_page_lists_the_first_values_and_involvements_and_counts_the_rest(real_dist: Path, tmp_path: Path, monkeypatch):
    """The NDL holds thousands of roles at scale: its page shows the first of each list, and how many more."""
    import ndlld.site

    def lists(dist: Path) -> dict[str, tuple[list[str], str]]:
        tree = lxml_html.fromstring((dist / "id" / "ndl.html").read_bytes())
        found = {}
        for dt in tree.xpath("//section[@class='node'][1]//dt"):
            dd = dt.getnext()
            values = [" ".join(v.split()) for v in dd.xpath("./text()|./a/text()|./span[not(@class='cited')]/text()") if v.strip()]
            found[dt.text] = (values, " ".join(" ".join(dd.xpath("./p[@class='more']//text()")).split()))
        timeline = [" ".join(li.text_content().split()) for li in tree.xpath("//section[@class='timeline']//li")]
        found["involvements"] = (timeline, " ".join(" ".join(tree.xpath("//section[@class='timeline']/p[@class='more']//text()")).split()))
        return found

    every = lists(real_dist)
    long = {name: items for name, (items, more) in every.items() if len(items) > 3}
    assert "involvements" in long and len(long) >= 2 and all(more == "" for _, more in every.values())
    monkeypatch.setattr(ndlld.site, "LIST_SHOWN", 3)
    few = lists(build(DATA, tmp_path / "dist").out_dir)
    for name, (items, _) in every.items():
        assert few[name][0] == items[:3]
        expected = f"… and {len(items) - 3:,} more, in the dumps and through SPARQL." if name in long else ""
        assert few[name][1] == expected


def test_a_name_given_again_is_noted_as_read_by_the_page_that_asks(context):
    """Names are kept once made; a page that asks for one again still records that it read
    the resource's name, or the page would not be made again when the name changes."""
    from pyoxigraph import Literal, NamedNode, Triple

    from ndlld.site.view import SiteView

    ifla = "https://example.org/id/ifla"
    name = Triple(NamedNode(ifla), NamedNode("http://schema.org/name"), Literal("IFLA", language="en"))
    view = SiteView.of([name], [], "https://example.org/", context)
    assert view.name(ifla) == "IFLA"  # made, while no page records
    with view.graph.reads() as reads:
        assert view.name(ifla) == "IFLA"
    assert reads == {("stated", f"{ifla} http://schema.org/name")}


# -- the pages in Japanese -------------------------------------------------------------------
_LATIN_WORDS = re.compile(r"[A-Za-z]{2,}(?:[ ’'-]+[A-Za-z]+){2,}")  # three words or more: a phrase, not a name like 'CC BY'


def _language_of(element) -> str:
    while element is not None:
        if element.get("lang") is not None:
            return element.get("lang")
        element = element.getparent()
    return ""


def test_the_catalogues_have_the_same_words():
    import yaml

    def keys(tree: dict, prefix: str = "") -> set[str]:
        found = set()
        for key, value in tree.items():
            found.add(prefix + key)
            # the names of terms and authorities: only where a language has its own
            if isinstance(value, dict) and key not in ("terms", "authorities"):
                found |= keys(value, f"{prefix}{key}.")
        return found

    catalogues = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in (ROOT / "ndlld" / "site" / "locales").glob("*.yaml")}
    assert set(catalogues) == {"en", "ja"}
    assert keys(catalogues["en"]) == keys(catalogues["ja"])


def test_every_page_is_built_in_japanese_too(real_dist: Path):
    for page in [
        *PAGES_OF(real_dist),
        real_dist / "index.html",
        real_dist / "vocab.html",
        real_dist / "404.html",
        real_dist / "sparql.html",
    ]:
        japanese = page.with_name(page.name.removesuffix(".html") + ".ja.html")
        tree = lxml_html.fromstring(japanese.read_bytes())
        assert tree.get("lang") == "ja", japanese
        [switch] = tree.xpath("//nav[@class='languages']/a")  # back to the English page
        assert (switch.get("href").lstrip("/"), switch.get("hreflang"), switch.get("lang"), switch.text) == (
            page.name,
            "en",
            "en",
            "English",
        )
        [english_switch] = lxml_html.fromstring(page.read_bytes()).xpath("//nav[@class='languages']/a")
        assert (english_switch.get("href").lstrip("/"), english_switch.get("lang"), english_switch.text) == (japanese.name, "ja", "日本語")


def test_japanese_pages_mark_every_english_phrase(real_dist: Path):
    """Whatever the records say only in English is shown as English (lang="en") on a
    Japanese page, so that a browser and a screen reader read it as such; the rest is the
    catalogue's Japanese. Code, IRIs and the pictures' labels are left out."""
    pages = [
        *JAPANESE_PAGES_OF(real_dist),
        *(real_dist / name for name in ("index.ja.html", "vocab.ja.html", "404.ja.html", "sparql.ja.html")),
    ]
    unmarked = []
    for page in pages:
        tree = lxml_html.fromstring(page.read_bytes())
        for element in tree.iter():
            if not isinstance(element.tag, str) or element.tag in ("code", "pre", "script", "style", "title", "textarea", "option"):
                continue
            if any(ancestor.tag in ("code", "pre", "svg", "textarea") for ancestor in element.iterancestors()) or element.tag == "svg":
                continue
            for text in (element.text, *(child.tail for child in element)):
                if text and _LATIN_WORDS.search(text) and _language_of(element) == "ja":
                    unmarked.append((page.name, text.strip()[:60]))
    assert unmarked == []
    ndl = lxml_html.fromstring((real_dist / "id" / "ndl.ja.html").read_bytes())
    assert ndl.xpath("//h1/text()") == ["国立国会図書館"] and ndl.xpath("//p[@class='name-ja'][@lang='en']/text()") == [
        "National Diet Library"
    ]
    assert "国立国会図書館の関わり" in ndl.xpath("//h2/text()") and "出典" in ndl.xpath("//h2/text()")


def test_labels_say_what_they_are_about(real_dist: Path):
    """The labels issue 23 found meaningless out of context: a role without its organization,
    two like roles without their series, a raw path for a legal status, 'Source' twice."""
    ndl = lxml_html.fromstring((real_dist / "id" / "ndl.html").read_bytes())
    member_of = ndl.xpath("//dt[.='member of']/following-sibling::dd[1]//a/text()")
    assert "associate member, IFLA" in member_of and "regular member, IFLA" in member_of
    # A role whose name names its organization already is not named again with it.
    funders = [" ".join(li.text_content().split()) for li in ndl.xpath("//section[@class='links-here']//li")]
    assert "donor to core activities of the IFLA (funder)" in funders, funders
    assert "contributor to part of Japan's national association membership fee, IFLA (funder)" in funders
    linked = [" ".join(li.text_content().split()) for li in ndl.xpath("//section[@class='links-here']//li")]
    presenters = [text for text in linked if text.startswith("presenter of reports")]
    assert len(presenters) == 2 and len(set(presenters)) == 2 and all(", " in text for text in presenters)
    for page in PAGES_OF(real_dist):
        tree = lxml_html.fromstring(page.read_bytes())
        text = " ".join(tree.xpath("//body//text()[not(ancestor::script)][not(ancestor::code)]"))
        assert not re.search(r"\bid/[a-z0-9/_.-]+#", text), page.name  # a resource is named, never shown as its path
        assert len(tree.xpath("//h2[.='Sources'] | //dt[.='source']")) <= 1 + len(tree.xpath("//section[@id]//dt[.='source']")), page.name
        assert not tree.xpath("//section[@class='node'][not(@id)]//dt[.='source']"), page.name


# -- the Nu HTML Checker: the W3C validator's engine, from npm's vnu-jar (tests/nu/) ---------
NU_JAR = Path(__file__).parent / "nu" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def nu_checker(pages: list[Path]) -> list[dict]:
    """The messages of the Nu HTML Checker on *pages*, errors only: missing (Java or the jar),
    the test is skipped, or fails under CI, where .ci/run installs both."""
    java = shutil.which("java")
    if java is None or not NU_JAR.is_file():
        if os.environ.get("CI"):
            raise RuntimeError("the Nu HTML Checker needs Java and tests/nu (make test installs it; .ci/run, Java)")
        pytest.skip("the Nu HTML Checker is not installed here (npm ci --prefix tests/nu, and Java)")
    checked = subprocess.run(
        [java, "-jar", str(NU_JAR), "--errors-only", "--format", "json", *map(str, pages)], capture_output=True, text=True, timeout=300
    )
    return json.loads(checked.stderr)["messages"]


def test_every_page_passes_the_nu_html_checker(released_and_deleted: Path):
    """Every HTML document of the site, in both languages: the index, resources, vocabulary,
    SPARQL form, search, 404 and 410 pages, releases. The embed/ files are not documents but
    snippets to paste into one."""
    pages = sorted(p for p in released_and_deleted.rglob("*.html") if "embed" not in p.relative_to(released_and_deleted).parts)
    kinds = {p.relative_to(released_and_deleted).parts[0] for p in pages}
    assert {"index.html", "index.ja.html", "vocab.html", "404.html", "sparql.html", "id", "gone"} <= kinds
    assert nu_checker(pages) == []


def test_the_nu_html_checker_finds_what_it_is_asked_to_find(real_dist: Path, tmp_path: Path):
    """The check above can fail: a page with an element where it may not be, and one without
    its title, are each reported."""
    page = (real_dist / "id" / "ifla.html").read_text(encoding="utf-8")
    broken = [tmp_path / "nested.html", tmp_path / "untitled.html"]
    broken[0].write_text(page.replace("<main", "<main><main></main", 1), encoding="utf-8")
    broken[1].write_text(re.sub(r"<title>.*?</title>", "", page, count=1, flags=re.S), encoding="utf-8")
    messages = nu_checker(broken)
    assert {Path(urlsplit(m["url"]).path).name for m in messages if m["type"] == "error"} == {"nested.html", "untitled.html"}
