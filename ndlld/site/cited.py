"""What states the statements a page shows: the sources, or the passages of them, whose
named graphs hold each statement in the quads dumps (:mod:`ndlld.provenance`), as links
of a page in one language. So a page and ``dataset.trig`` say the same of each statement.

A passage is named by its source and its anchor ('International Cooperation > Links §
ifla') and leads to its place on the source's page; the project's own statements (the
source records', the dataset's) lead to the dataset's page, worded by the catalogue.
"""

from __future__ import annotations

from pyoxigraph import Triple

from ndlld.provenance import HAS_SOURCE, Provenance
from ndlld.site.messages import messages
from ndlld.site.parts import Link
from ndlld.site.paths import relative
from ndlld.site.view import SiteView


class Citations:
    """The links to what states some statements (:meth:`__call__`), on the page at *page* in
    *language*; one :class:`~ndlld.provenance.Provenance` serves every language of a page."""

    def __init__(self, view: SiteView, provenance: Provenance, page: str, language: str):
        self.view, self.provenance, self.page, self.language = view, provenance, page, language

    def __call__(self, triples: list[Triple]) -> list[Link]:
        """Links to the graphs the quads put *triples* in, by their text."""
        graphs = {graph for triple in triples for graph in self.provenance.graphs(triple)}
        return sorted((self.citation(graph) for graph in graphs), key=lambda link: (link.text.lower(), link.href))

    def citation(self, graph: str) -> Link:
        """A link to one graph of the quads: a passage, a source, or the project's own."""
        view = self.view
        if graph == self.provenance.project:
            own = messages(self.language)["cited"]["project"]
            return Link(relative(view.path(view.dataset), self.page), own, language=self.language)
        link = view.link(graph, self.page, self.language)
        source = view.value(graph, HAS_SOURCE) if "#" in graph else None
        if source:
            name = view.link_text(source, self.language)
            return Link(link.href, f"{name.text} § {graph.partition('#')[2]}", link.external, name.language)
        return link
