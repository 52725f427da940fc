"""The web site: a page for every resource, the index, the vocabulary page.

``render_site`` writes, beside the dumps:

* ``id/<slug>.html`` for every resource (its hash resources on the same
  page), in English, and ``id/<slug>.ja.html`` in Japanese (each language of
  :data:`ndlld.conneg.LANGUAGES`, worded by :mod:`ndlld.site.messages`), with
  its description embedded as JSON-LD, and its RDF as
  ``id/<slug>.ttl``, ``.jsonld`` and ``.nt``: that description, the statements
  pointing at it that its page lists (the first :data:`LIST_SHOWN`) and the names
  of what it links to or from (:meth:`SiteView.description`);
* ``index.html`` with the network and timeline pictures and the dataset's
  schema.org ``Dataset`` description; ``vocab.html`` (and ``vocab.ttl`` …), each
  page in every language, as the resources' are,
  documenting the NDL vocabulary; ``embed/<slug>.html`` snippets;
* ``sitemap.xml`` and ``void.ttl`` (VoID and DCAT);
* ``server/nginx.conf`` and ``.htaccess``: the same content negotiation on a
  static nginx or Apache server;
* ``static/style.css``, the only style sheet: nothing is loaded from
  elsewhere, and no page needs JavaScript.

Templates are jinja2 with autoescape; the pages link to each other by
relative URLs, so the site works under any host name.

Each part is made by a function from the view (:class:`ndlld.site.view.SiteView`)
to its files, by site-relative path, that knows nothing of caches or processes:
:func:`render_page` for a resource (with what it looked up, :class:`Page`),
:func:`render_index`, :func:`render_vocabulary`, :func:`render_sitemaps`,
:func:`render_void` and :func:`render_server_rules`. :func:`render_site` writes
them all; an incremental build renders only the pages a change touched
(:mod:`ndlld.incremental.pages`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup, escape
from pyoxigraph import NamedNode, RdfFormat, Triple

from ndlld.changes import FEED_MEDIA_TYPE
from ndlld.conneg import (
    COMPRESSIBLE,
    CONTENT_TYPES,
    DOCUMENT_LINKS,
    EXPOSED,
    LANGUAGES,
    NOT_FOUND_PAGE,
    language_suffix,
    static_language_rules,
    static_server_rules,
)
from ndlld.context import Context
from ndlld.dumps import Ordered, ntriples, turtle
from ndlld.dumps import jsonld as jsonld_dump
from ndlld.lookup import Read, Reads, document_of
from ndlld.namespaces import NDL, PREFIXES, SCHEMA
from ndlld.output import Writer
from ndlld.parallel import fork_each
from ndlld.provenance import Provenance
from ndlld.queries import load_queries
from ndlld.rdf import serialized, subject_value
from ndlld.releases import IMMUTABLE, IMMUTABLE_PATH
from ndlld.search import MAX_QUERY_CHARS, Resource
from ndlld.site import svg
from ndlld.site.cited import Citations
from ndlld.site.header import site_header, texts
from ndlld.site.involvements import involvements_on
from ndlld.site.jsonld import embedded_document, schema_org_view, script_element
from ndlld.site.listing import (
    GROUPS,
    LISTED_TYPES,
    ORGANIZATIONS,
    EntriesListing,
    Entry,
    Listed,
    Listing,
    given_involvements,
    network_edges,
)
from ndlld.site.messages import document_href, fill, messages, naming, plural
from ndlld.site.outward import outward_links
from ndlld.site.parts import Involvement, Link, Text, involvement_order
from ndlld.site.paths import relative
from ndlld.site.search import render_search_page, search_entry
from ndlld.site.templating import bytecode_cache
from ndlld.site.view import ORGANIZATION_TYPES, SiteView
from ndlld.site.void import DISTRIBUTIONS, FileFacts, dataset_jsonld, dataset_page_triples, file_facts, void_triples

_HERE = Path(__file__).parent
VOCABULARY_PATH = "vocab"
NETWORK_SIZE = 60  # organizations drawn at most; the index lists them (up to LIST_SHOWN)
TIMELINE_SIZE = 120  # involvements drawn at most (spread over the years); the list below the picture has more
# Entries of a list on a page at most, the first in its order (the page says how many more):
# the index, the NDL's page and the page of the source every record cites would otherwise
# list the whole dataset, megabytes each. The dumps and SPARQL have them all.
LIST_SHOWN = 1_000
SITEMAP_URLS = 50_000  # the most one sitemap may list (https://www.sitemaps.org/protocol.html)
# The files of a resource's description, by extension (ndlld.conneg.CONTENT_TYPES): the page,
# then the RDF formats, in the server's order of preference.
DESCRIPTIONS = tuple(CONTENT_TYPES)


@dataclass(frozen=True)
class Download:
    name: str
    href: str
    media_type: str


def environment() -> jinja2.Environment:
    """The templates' environment. A page is rendered once in each language, with ``lang``
    and its catalogue ``t`` (:func:`language_context`); the macros are imported with context."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html", "xml", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,  # one build, one set of templates: no stat of the file at every page
        bytecode_cache=bytecode_cache(),
    )
    env.filters["fill"] = fill
    env.filters["plural"] = plural
    env.filters["doc"] = jinja2.pass_context(lambda context, href: document_href(href, context["lang"]))
    env.filters["lang_attr"] = jinja2.pass_context(lambda context, language: _lang_attribute(language, context["lang"]))
    env.filters["shown"] = jinja2.pass_context(lambda context, value: shown(value, context["lang"]))
    env.globals["languages"] = LANGUAGES
    env.globals["max_query_chars"] = MAX_QUERY_CHARS  # the search form's
    env.globals["language_names"] = {language: messages(language)["language_name"] for language in LANGUAGES}
    return env


def _lang_attribute(language: str | None, page_language: str) -> Markup:
    """`` lang="en"`` for a text in another language than the page's; nothing otherwise."""
    return Markup(f' lang="{escape(language)}"') if language and language != page_language else Markup("")


_SAFE_SCHEMES = ("http://", "https://", "mailto:")


def shown(value: Text | Link | Mapping, page_language: str) -> Markup:
    """A value of a page (a :class:`Text`, a :class:`Link`, or a mapping of their fields) as
    HTML, in a page in *page_language*: a link inside the site leads to the page in that
    language; a link from the records only when following it is safe (http, https, mailto:
    a javascript: or data: IRI is valid RDF, and shown as text); a text in another language
    than the page's says so. (A filter, not a macro: pages show thousands of values.)"""
    get = value.get if isinstance(value, Mapping) else lambda name, default=None: getattr(value, name, default)
    text, language, href = escape(get("text")), get("language"), get("href")
    attribute = _lang_attribute(language, page_language)
    if href is not None and not get("external", False):
        return Markup(f'<a href="{escape(document_href(href, page_language))}"{attribute}>{text}</a>')
    if href is not None and href.lower().startswith(_SAFE_SCHEMES):
        return Markup(f'<a href="{escape(href)}" rel="external"{attribute}>{text}</a>')
    return Markup(f"<span{attribute}>{text}</span>") if attribute and href is None else text


def language_context(language: str, alternates: dict[str, str]) -> dict:
    """What a template needs to be rendered in *language*: its catalogue, and where the same
    page is in each language (*alternates*, by language), for the switch and ``hreflang``."""
    return {"lang": language, "t": messages(language), "alternates": alternates}


def alternates(stem: str) -> dict[str, str]:
    """The file names of a page of *stem* (``ifla``, ``index``) in each language."""
    return {language: f"{stem}{language_suffix(language)}.html" for language in LANGUAGES}


PARALLEL_PAGES = 2_000  # from this many pages on, they are written by forked children, one per core at a time
PAGES_AT_ONCE = 1_000  # a part of the pages: made by one child, which ends (and the memory it grew goes)


@dataclass(frozen=True)
class Written:
    """What a page's files are, and what it was made from, once written."""

    files: list[str]
    reads: Reads
    entry: Entry
    searched: Resource | None  # what the search index holds of it (ndlld.incremental.search)


def render_site(
    view: SiteView,
    vocabulary: list[Triple],
    writer: Writer,
    triples: int,
    dumps_written: Callable[[], object] | None = None,
    keep: Callable[[dict[str, Written]], None] | None = None,
) -> dict[str, list[str]]:
    """Write every page and its companions with *writer*; return the files of each group of
    companions (:func:`render_companions`). What each part of the pages wrote and read is
    handed to *keep* as it is made, and let go: the site's pages are never all held at once.

    The index and the VoID description give the dumps' sizes and checksums: when the
    dumps are being written meanwhile, *dumps_written* waits for them, and is called
    only once the resource pages are made. *triples*: how many the dataset has."""
    entries: dict[str, Entry] = {}
    for part in render_pages_in_parts(view, list(view.documents()), writer):
        entries.update((document, page.entry) for document, page in part.items())
        if keep is not None:
            keep(part)
    if dumps_written is not None:
        dumps_written()
    return render_companions(view, vocabulary, writer, triples, EntriesListing(entries))


def render_pages(
    view: SiteView, documents: list[str], writer: Writer, parallel_from: int = PARALLEL_PAGES, entries: Mapping[str, Entry] | None = None
) -> dict[str, Written]:
    """The pages of *documents*, made by :func:`render_pages_in_parts`, all together."""
    return {
        document: page for part in render_pages_in_parts(view, documents, writer, parallel_from, entries) for document, page in part.items()
    }


def render_pages_in_parts(
    view: SiteView, documents: list[str], writer: Writer, parallel_from: int = PARALLEL_PAGES, entries: Mapping[str, Entry] | None = None
) -> Iterator[dict[str, Written]]:
    """The pages of *documents*, a part at a time (in processes from *parallel_from* pages
    on), in their order; the publisher's last, with what the others give it: theirs, and
    *entries* of the pages not made here."""
    shared = (view, site_header(view), writer.out_dir, writer.previous)
    publisher = view.publisher
    others = [document for document in documents if document != publisher]
    given = dict(entries or {})
    for part in _pages_in_parts((*shared, {}), others, parallel_from):
        given.update((document, page.entry) for document, page in part.items())
        writer.written += [name for page in part.values() for name in page.files]
        yield part
    if publisher is not None and len(others) < len(documents):
        part = _pages_of((*shared, given), [publisher])
        writer.written += [name for page in part.values() for name in page.files]
        yield part


def _pages_in_parts(shared: tuple, documents: list[str], parallel_from: int) -> Iterator[dict[str, Written]]:
    chunks = [documents[start : start + PAGES_AT_ONCE] for start in range(0, len(documents), PAGES_AT_ONCE)]
    if len(documents) < parallel_from or (os.cpu_count() or 1) < 2:
        return (_pages_of(shared, chunk) for chunk in chunks)
    return fork_each(_pages_of, chunks, shared)


def _pages_of(shared: tuple, documents: list[str]) -> dict[str, Written]:
    view, site, out_dir, previous, entries = shared
    writer, env, pages = Writer(out_dir, previous), environment(), {}
    for document in documents:
        page = render_page(view, env, site, document, entries)
        writer.files(page.files)
        pages[document] = Written(list(page.files), Reads(page.reads), page.entry, page.searched)
    return pages


# The site's companions in groups, by what they are made of besides ndlld's code, templates
# and vocabulary: "graph", the index and VoID (every page's entry, the dumps' sizes and
# checksums, the number of statements); "documents", the sitemaps (the documents, and the
# header's date); "header", the rest (what every page's header shows).
COMPANIONS = ("graph", "documents", "header")


def render_companions(
    view: SiteView,
    vocabulary: list[Triple],
    writer: Writer,
    triples: int,
    listing: Listing,
    groups: Iterable[str] = COMPANIONS,
) -> dict[str, list[str]]:
    """What the site has beside the pages, the files of each of *groups* (:data:`COMPANIONS`):
    the index (made of what the pages give it, as *listing* reads it), the vocabulary, the
    sitemaps, VoID, the static servers' configuration and the style sheet."""
    env = environment()
    site = site_header(view)
    base = view.base

    def graph() -> dict[str, bytes]:
        facts = file_facts(writer.out_dir)
        releases = writer.previous is not None and (writer.previous / "releases" / "changes.json").is_file()
        return {**render_index(view, env, site, facts, listing, releases), **render_void(view, triples, facts)}

    def documents() -> dict[str, bytes]:
        urls = [base, base + VOCABULARY_PATH, *view.documents(), base + "void.ttl", *(base + d.file for d in DISTRIBUTIONS)]
        return render_sitemaps(env, base, urls, site["modified"])

    def header() -> dict[str, bytes]:
        return {
            **render_sparql_page(site),
            **render_search_page(env, site),
            **render_vocabulary(view, env, site, vocabulary),
            **render_server_rules(env, base),
            "static/style.css": (_HERE / "static" / "style.css").read_bytes(),
        }

    made = {}
    for group in groups:
        files = {"graph": graph, "documents": documents, "header": header}[group]()
        writer.files(files)
        made[group] = list(files)
    return made


def page_files(path: str) -> list[str]:
    """The files of the page at site path *path* (``id/ifla``), as the site writes them: the
    page in each language, its RDF in each format, its embed snippet."""
    pages = [f"{path}{language_suffix(language)}.html" for language in LANGUAGES]
    return [*pages, *(f"{path}.{extension}" for extension in DESCRIPTIONS[1:]), "embed/" + path.removeprefix("id/") + ".html"]


def _root(path: str) -> str:
    """The relative way up from the page at *path* to the site root: '../' for id/ifla."""
    return "../" * path.count("/")


@dataclass(frozen=True)
class Page:
    """A resource's page: its files by site-relative path (:func:`page_files`), and what
    was looked up to make them (:meth:`ndlld.lookup.Recording.reads`)."""

    files: dict[str, bytes]
    reads: set[Read]
    entry: Entry
    searched: Resource | None


def render_page(view: SiteView, env: jinja2.Environment, site: dict, document: str, entries: Mapping[str, Entry] | None = None) -> Page:
    """The page of *document* with its description as Turtle, N-Triples and JSON-LD and
    its embed snippet, and what it gives the index (:func:`index_entry`). *site* is
    :func:`site_header`'s, and not among the reads. The publisher's page lists every
    involvement: its own and those the other pages give (*entries*, by document), which
    are not among its reads either (:func:`ndlld.site.listing.given_involvements`)."""
    with view.graph.reads() as reads:
        entry = index_entry(view, document)
        searched = search_entry(view, document)
        if document == view.publisher:
            involvements = given_involvements({**(entries or {}), document: entry})
        else:
            involvements = involvements_on(view, document)
        files = _resource_files(view, env, site, document, involvements)
    return Page(files, reads, entry, searched)


def _resource_files(view: SiteView, env: jinja2.Environment, site: dict, document: str, involved: list[Involvement]) -> dict[str, bytes]:
    path = view.path(document)
    own = view.graph.in_document(document)
    # What links here, in each language: the RDF holds the statements of the rows the English page lists.
    listed = {language: view.linked_from(document, LIST_SHOWN, language) for language in LANGUAGES}
    description = view.description(document, listed["en"][0])
    if document == view.dataset:  # the dumps' descriptions have the dataset's hash IRIs: here is where they lead
        distributions = dataset_page_triples(view)
        own, description = [*own, *distributions], [*description, *distributions]
    involvements, involvements_more = _first(involved)
    file = path.rsplit("/", 1)[-1]
    shared = {
        "iri": document,
        "file": file,
        "abbreviation": ", ".join(sorted(o.value for o in view.values(document, str(SCHEMA) + "alternateName"))),
        "descriptions": texts(view, document, str(SCHEMA) + "description"),
        "involvements_more": involvements_more,
        "jsonld": script_element(embedded_document(own)),
        "distributions": _distributions(path) if document == view.dataset else [],
    }
    template = env.get_template("resource.html")
    pages = []
    provenance = Provenance(view.graph, view.base)  # one a page, reading through its Recording
    for language in LANGUAGES:
        rows, linked_from = listed[language]
        cite = Citations(view, provenance, path, language)
        sections = view.sections(document, LIST_SHOWN, language, cite)
        page = {
            **shared,
            "name": view.named(document, language),
            "name_ja": view.text(document, str(SCHEMA) + "name", "ja"),
            "name_en": view.text(document, str(SCHEMA) + "name", "en"),
            "types": [view.named(t, language) for t in view.types(document)],
            "sections": [(section, outward_links(view, section.iri, path, cite, language)) for section in sections],
            "cited": sections[0].sources if sections and sections[0].iri == document else [],  # shown under its names
            "links_here": [(view.link(source, path, language), how) for source, how in rows],  # links made for the rows shown
            "links_here_more": linked_from - len(rows),
            "sources": [view.link(source, path, language) for source in view.sources(document)],
            "involvements": [_timeline_row(view, i, path, language) for i in involvements],
        }
        context = language_context(language, alternates(file))
        pages.append(template.render(site=site, page=page, root=_root(path), **context).encode("utf-8"))
    snippet = env.get_template("embed.html").render(
        site=site, name=view.name(document), iri=document, jsonld=script_element(embedded_document(schema_org_view(own)), indent=2)
    )
    *variants, embed = page_files(path)
    return {
        **dict(zip(variants, [*pages, *descriptions(description, view.context, first=document)], strict=True)),
        embed: snippet.encode("utf-8"),
    }


def _distributions(path: str) -> list[dict]:
    """The dumps, on the page of the dataset: each under the fragment of its IRI."""
    root = _root(path)
    return [
        {"anchor": d.key, "title": d.title, "href": root + d.file, "media_type": d.media_type, "compressed": d.compressed}
        for d in DISTRIBUTIONS
    ]


def descriptions(triples: Sequence[Triple], context: Context, first: str | None = None) -> list[bytes]:
    """*triples* in each RDF format of :data:`DESCRIPTIONS` after the HTML, in that order.

    N-Quads of one graph, the default graph, is N-Triples: the same bytes, for clients
    that ask for quads. The Turtle starts with *first*, the resource described."""
    ordered = Ordered(triples)
    nt = ntriples(triples, ordered)
    return [
        turtle(triples, ordered, first=first),
        jsonld_dump(triples, context),
        nt,
        serialized(ordered.triples, RdfFormat.RDF_XML, PREFIXES),
        nt,
    ]


def last_involvement_shown(entries: Mapping[str, Entry]) -> tuple[int, str, str, str] | None:
    """Where the publisher's page cuts the involvements *entries* give (:func:`given_involvements`,
    the publisher's own entry among them): the order of the last it shows
    (:func:`~ndlld.site.parts.involvement_order`); None when it shows them all (:func:`_first`)."""
    shown, more = _first(given_involvements(entries))
    return involvement_order(shown[-1]) if more else None


def _first(items: list) -> tuple[list, int]:
    """The first :data:`LIST_SHOWN` of *items*, and how many more there are."""
    return items[:LIST_SHOWN], max(len(items) - LIST_SHOWN, 0)


def render_sitemaps(env: jinja2.Environment, base: str, urls: list[str], modified: str) -> dict[str, bytes]:
    """``sitemap.xml`` listing *urls*; past :data:`SITEMAP_URLS` of them, the protocol's way:
    ``sitemap.xml`` is then an index of ``sitemap-1.xml``, ``sitemap-2.xml`` … that list them."""
    template = env.get_template("sitemap.xml")
    if len(urls) <= SITEMAP_URLS:
        return {"sitemap.xml": template.render(urls=urls, modified=modified).encode("utf-8")}
    files = {}
    for number, start in enumerate(range(0, len(urls), SITEMAP_URLS), start=1):
        files[f"sitemap-{number}.xml"] = template.render(urls=urls[start : start + SITEMAP_URLS], modified=modified).encode("utf-8")
    sitemaps = [f"{base}{name}" for name in files]
    files["sitemap.xml"] = env.get_template("sitemap-index.xml").render(sitemaps=sitemaps, modified=modified).encode("utf-8")
    return files


def _timeline_row(view: SiteView, involvement: Involvement, path: str, language: str) -> dict:
    return {"year": involvement.year, "item": involvement, "href": relative(view.path(involvement.iri), path)}


def involvement_label(involvement: Involvement, language: str) -> str:
    """'attended the 1st meeting of the CDNLAO', '1st meeting of the CDNLAO に参加': as the
    catalogue of *language* words it."""
    words = messages(language)["involvement"]
    kind = involvement.kind if involvement.kind != "role" or involvement.held else "role_alone"
    return str(words[kind].format(name=involvement.name, held=involvement.held))


def render_index(
    view: SiteView, env: jinja2.Environment, site: dict, facts: dict[str, FileFacts], listing: Listing, releases: bool = False
) -> dict[str, bytes]:
    """``index.html``: the network and timeline pictures, the lists of resources, the
    downloads and services (the releases and their feed when the output has *releases*);
    made of what the pages give the index, as *listing* reads it (:mod:`ndlld.site.listing`),
    so that an incremental build need not look the whole graph up again."""
    nodes, edges = _network(view, listing)
    involved = listing.timeline(LIST_SHOWN, TIMELINE_SIZE)
    groups = _groups(view, listing)
    shown_organizations, organizations_more = listing.first(ORGANIZATIONS, LIST_SHOWN)
    shared = {
        "site": site,
        "root": "",
        "involvements": [_timeline_row(view, i, "", "") for i in involved.first],
        "involvements_more": involved.more,
        "organizations": [
            {"href": view.path(o.iri), "text": o.name, "ja": o.name_ja, "abbreviation": o.short_name if o.short_name != o.name else ""}
            for o in shown_organizations
        ],
        "organizations_more": organizations_more,
        "groups": groups,
        "downloads": _downloads(releases),
        "jsonld": script_element(dataset_jsonld(view, facts)),
    }
    files = {}
    for language in LANGUAGES:
        words = naming(language, site["publisher_short"][language])
        suffix = language_suffix(language)
        timeline = [
            svg.TimelineEntry(i.year, involvement_label(i, language), document_href(view.path(i.iri), language)) for i in involved.drawn
        ]
        local_nodes = [replace(node, href=document_href(node.href, language)) for node in nodes]
        local_edges = [replace(edge, label=", ".join(words["edges"].get(w, w) for w in edge.label.split(", "))) for edge in edges]
        html = env.get_template("index.html").render(
            network=svg.network_svg(local_nodes, local_edges, words["network"]),
            timeline=svg.timeline_svg(timeline, words["timeline"]),
            **shared,
            **language_context(language, alternates("index")),
        )
        files[f"index{suffix}.html"] = html.encode("utf-8")
    return files


def _groups(view: SiteView, listing: Listing) -> list[dict]:
    """The index's lists of resources by kind: the first of each by name."""
    groups = []
    for key, _ in GROUPS:
        shown, more = listing.first(f"group {key}", LIST_SHOWN)
        if shown:
            groups.append({"key": key, "links": [(_link(view, item), item.name_ja) for item in shown], "more": more})
    return groups


def render_sparql_page(site: dict) -> dict[str, bytes]:
    """``sparql.html``: the SPARQL page as a copy of the site without an endpoint shows it,
    so that the index's link to ``sparql`` leads somewhere on any static server: the
    named queries, to run with ``ndlld query`` or on a store loaded with the dumps.
    ``ndlld serve`` answers ``/sparql`` itself, with the form that runs them."""
    from ndlld.resources import resource_dir
    from ndlld.service import Form, form_page  # it renders with this module's templates

    queries = load_queries(resource_dir("queries"))
    return {
        f"sparql{language_suffix(language)}.html": form_page(
            Form(site["titles"], static=True, language=language), queries, alternates("sparql")
        ).encode("utf-8")
        for language in LANGUAGES
    }


def _downloads(releases: bool = False) -> list[Download]:
    """The dumps (named by their titles, in English), and the site's other files and services
    (named by a key of the catalogue's ``downloads``)."""
    downloads = [Download(d.title, d.file, "application/gzip" if d.compressed else d.media_type) for d in DISTRIBUTIONS]
    downloads.append(Download("checksums", "SHA256SUMS", "text/plain"))
    downloads.append(Download("void", "void.ttl", "text/turtle"))
    downloads.append(Download("sitemap", "sitemap.xml", "application/xml"))
    # The services: the endpoint void.ttl names as its void:sparqlEndpoint (at /sparql of
    # `ndlld serve`, or of a store behind the same path), and what `ndlld release` keeps.
    downloads.append(Download("sparql", "sparql", "application/sparql-query"))
    if releases:
        downloads.append(Download("feed", "releases/changes.json", "application/activity+json"))
        downloads.append(Download("latest", "releases/latest/SHA256SUMS", "text/plain"))
    return downloads


def _link(view: SiteView, item: Listed) -> Link:
    """A link from the index to a listed resource."""
    if item.iri.startswith(view.base):
        return Link(relative(view.path(item.iri), ""), item.name)
    return Link(item.iri, item.name, external=True)


# How the publisher takes part, by the property that links it, for the network picture.
_EDGE_LABELS = {
    str(SCHEMA) + "memberOf": "member",
    str(SCHEMA) + "attendee": "attends",
    str(SCHEMA) + "organizer": "hosts",
    str(SCHEMA) + "sponsor": "co-sponsors",
    str(SCHEMA) + "funder": "funds",
    str(SCHEMA) + "publisher": "publishes",
    str(NDL) + "editor": "edits",
    str(NDL) + "cooperatesWith": "cooperates",
}
# The links that lead from a role, meeting or publication to the organization it belongs to.
_FORWARD = {str(SCHEMA) + p for p in ("memberOf", "organizer", "sponsor", "about", "superEvent")}
_BACKWARD = {str(SCHEMA) + p for p in ("attendee", "funder", "subEvent")}


def _network(view: SiteView, listing: Listing) -> tuple[list[svg.NetworkNode], list[svg.NetworkEdge]]:
    """Organizations as nodes; parent links and the publisher's part in each as edges."""
    network = listing.network(view.publisher, NETWORK_SIZE, lambda iri: _network_key(view, iri))
    parents = {item.iri: item.parents for item in network.organizations}
    center = view.publisher if view.publisher in parents else None  # the publisher, if it is drawn
    nodes = [
        svg.NetworkNode(
            key=_network_key(view, item.iri),
            label=item.short_name,
            title=item.name,
            href=view.path(item.iri),
            group="center" if item.iri == center else "organization",
        )
        for item in network.organizations
    ]
    edges = sorted(
        (
            ((_network_key(view, source), _network_key(view, target)), labels)
            for (source, target), labels in network_edges(parents, center, network.links).items()
        ),
        key=lambda edge: edge[0],
    )
    return nodes, [svg.NetworkEdge(source, target, ", ".join(sorted(labels))) for (source, target), labels in edges]


def _network_key(view: SiteView, iri: str) -> str:
    """An organization's key in the network picture: its path, without ``id/``."""
    return view.path(iri).removeprefix("id/")


def _organizations_of(view: SiteView, iri: str) -> set[str]:
    """The organizations a resource belongs to: itself, or those its role, meeting or
    publication leads to within two links."""
    found: set[str] = set()
    frontier = [iri]
    for _ in range(3):
        following = []
        for node in frontier:
            if ORGANIZATION_TYPES.intersection(view.types(node)):
                found.add(node)
                continue
            following += [
                t.object.value for t in view.graph.about(node) if t.predicate.value in _FORWARD and isinstance(t.object, NamedNode)
            ]
            following += [subject_value(t) for t in view.graph.pointing_at(node) if t.predicate.value in _BACKWARD]
        frontier = following
    return found


# -- what each page gives the index ---------------------------------------------------------


def index_entry(view: SiteView, document: str) -> Entry:
    """What the page of *document* gives the index, looked up through its view: the
    resources it lists and, of the publisher's links and involvements, those of the
    resources it describes (on the publisher's page, also those of resources without a
    page), so that no page reads all the publisher's."""
    listed = []
    for subject in sorted({subject_value(t) for t in view.graph.in_document(document)}):
        types = view.types(subject)
        if LISTED_TYPES.intersection(types):
            parents = tuple(o.value for o in view.values(subject, str(SCHEMA) + "parentOrganization") if isinstance(o, NamedNode))
            name_ja = view.text(subject, str(SCHEMA) + "name", "ja") or ""
            listed.append(Listed(subject, view.name(subject), view.short_name(subject), tuple(types), parents, name_ja))
    publisher = view.publisher
    if publisher is None:
        return Entry(tuple(listed))
    own = [i for i in involvements_on(view, document) if document_of(i.iri) == document]
    return Entry(tuple(listed), tuple(_publisher_links(view, document, publisher)), tuple(own))


def _publisher_links(view: SiteView, document: str, publisher: str) -> list[tuple[str, str]]:
    """How the publisher takes part in each organization through a role, meeting or
    publication described on *document*'s page (a statement between it and the publisher)."""
    links = []
    for subject in view.described(document):
        links += [(t.predicate.value, subject) for t in view.graph.between(publisher, subject)]
        links += [(t.predicate.value, subject) for t in view.graph.about(subject) if t.object == NamedNode(publisher)]
    if document == publisher:  # what it links with that no page describes (outside the site)
        links += [
            (t.predicate.value, t.object.value)
            for t in view.graph.about(publisher)
            if isinstance(t.object, NamedNode) and _outside(view, t.object)
        ]
        links += [(t.predicate.value, subject_value(t)) for t in view.graph.pointing_at(publisher) if _outside(view, t.subject)]
    found = []
    for predicate, other in links:
        label = _EDGE_LABELS.get(predicate)
        if label:
            found += [(label, organization) for organization in sorted(_organizations_of(view, other))]
    return found


def _outside(view: SiteView, term) -> bool:
    """Whether *term* is a resource no page describes: not an IRI under the site's id/."""
    return not (isinstance(term, NamedNode) and term.value.startswith(view.base + "id/"))


def render_vocabulary(view: SiteView, env: jinja2.Environment, site: dict, vocabulary: list[Triple]) -> dict[str, bytes]:
    """``vocab.html`` documenting the NDL vocabulary, and the vocabulary in each format."""
    from ndlld.site.vocab import vocabulary_page

    page = vocabulary_page(vocabulary, view.context)
    jsonld = script_element(embedded_document(vocabulary))
    files = {
        f"{VOCABULARY_PATH}{language_suffix(language)}.html": env.get_template("vocab.html")
        .render(site=site, vocab=page, root="", jsonld=jsonld, **language_context(language, alternates(VOCABULARY_PATH)))
        .encode("utf-8")
        for language in LANGUAGES
    }
    rdf = zip(DESCRIPTIONS[1:], descriptions(vocabulary, view.context), strict=True)
    return {**files, **{f"{VOCABULARY_PATH}.{extension}": body for extension, body in rdf}}


def render_void(view: SiteView, triples: int, facts: dict[str, FileFacts]) -> dict[str, bytes]:
    """The VoID and DCAT description of a dataset of *triples* statements, where VoID says to
    look for it too (https://www.w3.org/TR/void/#well-known)."""
    void = turtle(void_triples(view, triples, facts))
    return {"void.ttl": void, ".well-known/void": void}


def render_server_rules(env: jinja2.Environment, base: str) -> dict[str, bytes]:
    """What ``ndlld serve`` does over HTTP (:mod:`ndlld.web`), for a static nginx or Apache
    server; the 404 page the three send, and ``robots.txt`` naming the sitemap."""
    rules = static_server_rules()
    host = urlsplit(base).hostname or "_"
    names = {
        "rules": rules,
        "language_rules": static_language_rules(),
        "page_languages": [(language_suffix(language), language) for language in reversed(LANGUAGES)],
        "language_suffixes": "|".join(language_suffix(language).replace(".", "\\.") for language in LANGUAGES[1:]),
        "document_links": DOCUMENT_LINKS,
        "host": host,
        "documents": DESCRIPTIONS,
        "content_types": CONTENT_TYPES,
        "compressible": sorted(COMPRESSIBLE),
        "exposed": ", ".join(EXPOSED),
        "sparql": base + "sparql",
        "feed_type": FEED_MEDIA_TYPE,
        "immutable": IMMUTABLE,
        "immutable_path": IMMUTABLE_PATH.pattern,
    }
    return {
        "server/nginx.conf": env.get_template("nginx.conf").render(**names).encode("utf-8"),
        ".htaccess": env.get_template("htaccess").render(**names).encode("utf-8"),
        **{
            f"404{language_suffix(language)}.html": env.get_template(NOT_FOUND_PAGE)
            .render(**language_context(language, {other: "/" + name for other, name in alternates("404").items()}))
            .encode("utf-8")
            for language in LANGUAGES
        },
        "robots.txt": env.get_template("robots.txt").render(sitemap=base + "sitemap.xml").encode("utf-8"),
    }


def embed_snippet(triples: Iterable[Triple], vocabulary: list[Triple], context: Context, base: str, iri: str) -> str:
    """The ``<script type="application/ld+json">`` block for one resource, as ``ndlld embed`` prints it."""
    view = SiteView.of(triples, vocabulary, base, context)
    description = view.graph.in_document(iri)
    if not description:
        raise KeyError(iri)
    return (
        environment()
        .get_template("embed.html")
        .render(
            site=site_header(view),
            name=view.name(iri),
            iri=iri,
            jsonld=script_element(embedded_document(schema_org_view(description)), indent=2),
        )
    )
