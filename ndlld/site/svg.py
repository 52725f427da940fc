"""The two pictures of the index page, drawn at build time as inline SVG.

The page needs no JavaScript, web font or style sheet from elsewhere, so the
pictures are plain SVG written into the HTML: ``network_svg`` draws the
organizations around the NDL, ``timeline_svg`` the NDL's involvement year by
year. The geometry is computed here (so it can be tested and is the same on
every build: equal input gives byte-identical output, whatever its order); the
markup lives in ``templates/network.svg`` and ``templates/timeline.svg``,
rendered by jinja2 with autoescape, so names with ``&``, ``<`` or quotes stay
text.

Each picture is labelled by its own ``<title>`` and ``<desc>``; every node and
event is a link with its full name as ``<title>`` (the tooltip), so a picture
with links has ``role="group"`` (an ``img`` has no interactive children), an
empty one ``role="img"``. The ``<style>`` inside each picture is scoped by the picture's
``id`` because a ``<style>`` in inline SVG applies to the whole HTML page;
the ids are fixed (``ndlld-network…``, ``ndlld-timeline…``), so each picture
may appear once per page.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import jinja2

from ndlld.site.messages import messages, naming, plural
from ndlld.site.templating import bytecode_cache

CENTER_GROUP = "center"


@dataclass(frozen=True)
class NetworkNode:
    """An organization of the network picture."""

    key: str  # unique, e.g. "ifla"; also the sort key, so the layout does not depend on input order
    label: str  # short, shown in the picture, e.g. "IFLA"
    title: str  # full name, the tooltip
    href: str  # relative link, e.g. "id/ifla"
    group: str  # "center" for the NDL; otherwise a free category that selects the colour


@dataclass(frozen=True)
class NetworkEdge:
    """A relationship of the network picture, drawn as an arrow from source to target."""

    source: str  # NetworkNode.key
    target: str
    label: str  # e.g. "member"


@dataclass(frozen=True)
class TimelineEntry:
    """One dated involvement of the timeline picture."""

    year: int
    label: str  # e.g. "Associate member of the IFLA"
    href: str  # relative link, e.g. "id/ifla#ndl-associate-member"


# --- shared helpers ---------------------------------------------------------------------

_TEMPLATES = Path(__file__).parent / "templates"
# Characters XML 1.0 does not allow; a stray one in a record would make the page unparsable.
# Named rather than the allowed ranges negated, which make a far larger class to compile at every build.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
        bytecode_cache=bytecode_cache(),
    )


def _render(template: str, **context: object) -> str:
    return _environment().get_template(template).render(**context).strip() + "\n"


def _num(value: float) -> str:
    """A coordinate with one decimal at most, so output is short and stable ("-0" never appears)."""
    text = f"{value + 0.0:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def _clean(text: str) -> str:
    """One line of XML-safe text: whitespace runs collapsed, characters XML forbids dropped."""
    return " ".join(_NOT_XML.sub("", text).split())


def _em_width(text: str) -> float:
    """Estimated width of a text in em, rather wide (DejaVu Sans), so estimates err on the safe side."""
    return sum(map(_char_width, text))


@functools.cache  # labels are measured many times over while their wrapping is chosen
def _char_width(char: str) -> float:
    if unicodedata.east_asian_width(char) in "WF":
        return 1.0
    if char == " ":
        return 0.32
    if char in "fijlrtI.,:;'!|()[]-/":
        return 0.36
    if char in "mwMW":
        return 0.92
    if char.isupper() or char.isdigit():
        return 0.72
    return 0.6


# --- the network --------------------------------------------------------------------------

_ONE_RING_MAX = 24  # ring nodes drawn on one ring; more are set alternately on two rings
_EDGE_TEXT_MAX = 30  # more edges than this: edge labels only as tooltips
_EDGE_FONT = 10.0
_LINE_HEIGHT = 1.2  # em between the baselines of a wrapped label
_HALF_HEIGHT = 0.45  # em above and below a line's middle that its glyphs take
_MARGIN = 16.0

# Light fills with dark outlines: dark text stays readable on screen and in print.
_PALETTE = [
    ("#dbe9f6", "#2b6cb0"),
    ("#fde2c8", "#b45309"),
    ("#d9f0d3", "#2f855a"),
    ("#eadcf2", "#6b46c1"),
    ("#fbe3e8", "#b83280"),
    ("#f3efc4", "#8a6d00"),
    ("#d6f0ef", "#2c7a7b"),
    ("#e6e6e6", "#4a5568"),
]
_CENTER_COLOURS = ("#fff3c4", "#8a5a00")


@dataclass(frozen=True)
class _Label:
    lines: tuple[str, ...]
    size: float


def _wrappings(words: list[str]):
    """Every way to break the words into 1 to 4 lines (fewer ways for long labels, to stay fast)."""
    most = 4 if len(words) <= 12 else 3 if len(words) <= 30 else 2
    for count in range(1, min(most, len(words)) + 1):
        for cuts in itertools.combinations(range(1, len(words)), count - 1):
            bounds = (0, *cuts, len(words))
            yield tuple(" ".join(words[a:b]) for a, b in zip(bounds, bounds[1:]))


def _size_for(lines: tuple[str, ...], inner: float, scale: float) -> float:
    """The largest font size at which every line's box lies inside a circle of radius inner."""
    size = math.inf
    middle = (len(lines) - 1) / 2
    for index, line in enumerate(lines):
        half_width = _em_width(line) * scale / 2
        half_height = abs(index - middle) * _LINE_HEIGHT + _HALF_HEIGHT
        size = min(size, inner / math.hypot(half_width, half_height))
    return size


@functools.lru_cache(maxsize=4096)  # the picture is drawn once for each language, with the same labels
def _fit_label(text: str, radius: float, largest: float, smallest: float, scale: float = 1.0) -> _Label:
    """Wrap and size a label to fit inside its circle; below the smallest size, cut it short with '…'."""
    words = text.split()
    if not words:
        return _Label((), largest)
    inner = radius - max(2.0, radius * 0.1)
    best = _Label((), 0.0)
    for lines in _wrappings(words):
        size = min(largest, _size_for(lines, inner, scale))
        # Fewer lines are tried first and kept unless more lines allow a clearly larger font.
        if size > best.size * (1.1 if len(lines) > len(best.lines) else 1.0) + 1e-9:
            best = _Label(lines, size)
    if best.size >= smallest:
        return _Label(best.lines, round(best.size, 1))
    room = 2 * math.sqrt(max(0.0, (inner / smallest) ** 2 - _HALF_HEIGHT**2)) / scale - _em_width("…")
    cut = ""
    for char in text:
        if _em_width(cut + char) > room:
            break
        cut += char
    return _Label((cut.rstrip() + "…",), smallest)


def _css_token(group: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", group.lower()).strip("-") or "other"


def _segment_distance(a, b, c, d) -> float:
    """Shortest distance between segments ab and cd (0 when they cross)."""

    def point_to_segment(p, q, r):
        qx, qy = r[0] - q[0], r[1] - q[1]
        length = qx * qx + qy * qy
        t = 0.0 if length == 0 else max(0.0, min(1.0, ((p[0] - q[0]) * qx + (p[1] - q[1]) * qy) / length))
        return math.hypot(p[0] - q[0] - t * qx, p[1] - q[1] - t * qy)

    def side(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    if side(a, b, c) * side(a, b, d) < 0 and side(c, d, a) * side(c, d, b) < 0:
        return 0.0
    return min(point_to_segment(a, c, d), point_to_segment(b, c, d), point_to_segment(c, a, b), point_to_segment(d, a, b))


def _check_network(nodes: list[NetworkNode], edges: list[NetworkEdge]) -> None:
    keys = Counter(n.key for n in nodes)
    doubled = sorted(k for k, count in keys.items() if count > 1)
    if doubled:
        raise ValueError(f"network nodes with the same key: {', '.join(doubled)}")
    centers = sorted(n.key for n in nodes if n.group == CENTER_GROUP)
    if len(centers) > 1:
        raise ValueError(f"more than one network node in group 'center': {', '.join(centers)}")
    for edge in edges:
        unknown = [k for k in (edge.source, edge.target) if k not in keys]
        if unknown:
            raise ValueError(f"network edge {edge.source} -> {edge.target} names unknown node(s): {', '.join(unknown)}")
        if edge.source == edge.target:
            raise ValueError(f"network edge from {edge.source} to itself")


def _ring_order(ring: list[NetworkNode], edges: list[NetworkEdge]) -> list[NetworkNode]:
    """Sorted by group, then key, except that linked nodes of a group are kept side by side.

    A straight line between two nodes far apart on the ring would pass under the
    nodes between them and seem to end there. So each group's nodes are taken in
    clusters (linked to each other, directly or not), in the order of their first
    key, each walked depth-first from that key, neighbours in key order.
    """
    by_key = {n.key: n for n in ring}
    links: dict[str, set[str]] = {key: set() for key in by_key}
    for edge in edges:
        if edge.source in by_key and edge.target in by_key and by_key[edge.source].group == by_key[edge.target].group:
            links[edge.source].add(edge.target)
            links[edge.target].add(edge.source)
    order: list[NetworkNode] = []
    seen: set[str] = set()
    for first in sorted(ring, key=lambda n: (n.group, n.key)):
        stack = [first.key]
        while stack:
            key = stack.pop()
            if key in seen:
                continue
            seen.add(key)
            order.append(by_key[key])
            stack.extend(sorted(links[key] - seen, reverse=True))
    return order


def network_svg(nodes: list[NetworkNode], edges: list[NetworkEdge], words: Mapping[str, Any] | None = None) -> str:
    """The network as an inline SVG: the "center" node in the middle, the others around it.

    The others go round one ring (two interleaved rings when there are more
    than 24), clockwise from the top, sorted by group then key (linked nodes
    side by side, see ``_ring_order``), so groups sit together. Labels are
    wrapped and sized to fit inside their circles. Edges with the same source
    and target share one line; their labels are written along it when there
    are few edges and room, and are always its tooltip. Raises ValueError for
    duplicate keys, more than one center, or an edge to an unknown node or to
    itself: those are mistakes in the caller, better found at build time.
    """
    _check_network(nodes, edges)
    ids = {"root": "ndlld-network", "title": "ndlld-network-title", "desc": "ndlld-network-desc", "arrow": "ndlld-network-arrow"}
    words = words or naming("en", messages("en")["site"]["unnamed_publisher"])["network"]  # the catalogue's words for this picture
    title = words["title"]
    if not nodes:
        return _render("network.svg", ids=ids, title=title, empty=True, desc=words["empty"], nothing=words["nothing"])

    center = next((n for n in nodes if n.group == CENTER_GROUP), None)
    ring = _ring_order([n for n in nodes if n is not center], edges)
    count = len(ring)
    two_rings = count > _ONE_RING_MAX
    show_edge_text = not two_rings and len(edges) <= _EDGE_TEXT_MAX
    sizes = _sizes(ring, two_rings, center is not None)
    if two_rings:
        positions, outer = _two_rings(count, sizes)
    else:  # room between the center and the ring for the edges' labels, if they are written
        positions, outer = _one_ring(count, sizes, center is not None, 120 if show_edge_text else 50)
    tokens = sorted({_css_token(n.group) for n in ring} - {CENTER_GROUP})
    placed = _place_nodes(center, ring, positions, sizes)
    edge_views = _edge_views(placed, edges, show_edge_text)
    half = (outer + sizes.radius if count else sizes.center_radius) + _MARGIN
    width = 2 * half
    legend, below = _legend(ring, tokens, half)
    height = 2 * half + below
    return _render(
        "network.svg",
        ids=ids,
        title=title,
        desc=_network_desc(center, ring, len(edge_views), words),
        empty=False,
        view_box=" ".join(_num(v) for v in (-half, -half, width, height)),
        width=_num(width),
        height=_num(height),
        styles=_styles(tokens),
        dense=two_rings,
        edges=edge_views,
        nodes=[placed[n.key] for n in ([center] if center else []) + ring],
        legend=legend,
    )


@dataclass(frozen=True)
class _Sizes:
    """The circles of a network picture, and the font sizes of their labels."""

    radius: float  # of each ring node
    smallest: float
    largest: float
    center_radius: float  # 0 without a center
    gap: float  # least space between two ring nodes

    @property
    def spacing(self) -> float:
        return 2 * self.radius + self.gap


def _sizes(ring: list[NetworkNode], two_rings: bool, has_center: bool) -> _Sizes:
    """On one ring, the smallest radius at which every label is at least 10 px (at most
    50); on two rings, smaller as the network grows, and the labels shrink."""
    if two_rings:
        radius = max(14.0, 34.0 * math.sqrt(_ONE_RING_MAX / len(ring)))
        smallest, largest = 5.0, 12.0
    else:
        radius = next((float(r) for r in range(34, 51, 2) if all(_fit_label(_clean(n.label), r, 13, 0).size >= 10 for n in ring)), 50.0)
        smallest, largest = 8.0, 13.0
    center_radius = round(radius * 1.4, 1) if has_center else 0.0
    gap = max(4.0, radius * 0.3) if two_rings else max(16.0, radius * 0.4)
    return _Sizes(radius, smallest, largest, center_radius, gap)


_Positions = list[tuple[float, float, float]]  # x, y and the radius of the ring, clockwise from the top


def _two_rings(count: int, sizes: _Sizes) -> tuple[_Positions, float]:
    """The places of *count* nodes on two rings, and the outer ring's radius: alternate slots
    inner and outer; an odd count leaves the last slot empty, so that no two neighbours on
    one ring are a single slot apart."""
    slots = count + count % 2
    step = 2 * math.pi / slots
    inner_ring = max(sizes.spacing / (2 * math.sin(step)), sizes.center_radius + sizes.radius + 40)
    rings = (inner_ring, inner_ring + sizes.spacing)
    positions = []
    for index in range(count):
        angle = -math.pi / 2 + index * step
        positions.append((rings[index % 2] * math.cos(angle), rings[index % 2] * math.sin(angle), rings[index % 2]))
    return positions, rings[1] if count > 1 else rings[0]


def _one_ring(count: int, sizes: _Sizes, has_center: bool, room: float) -> tuple[_Positions, float]:
    """The places of *count* nodes on one ring, and its radius: at least *room* between
    the ring and the center, if there is one."""
    if not count:
        return [], 0.0
    least = sizes.center_radius + sizes.radius + room if has_center else 0.0
    packed = (sizes.radius + sizes.gap / 2) / math.sin(math.pi / count) if count > 1 else 0.0
    outer = max(least, packed)
    positions = []
    for index in range(count):
        angle = -math.pi / 2 + index * 2 * math.pi / count
        positions.append((outer * math.cos(angle), outer * math.sin(angle), outer))
    return positions, outer


def _styles(tokens: list[str]) -> list[dict]:
    """The fill and outline of each group's circles: the palette's colours in turn, and the center's own."""
    colours = {token: _PALETTE[i % len(_PALETTE)] for i, token in enumerate(tokens)}
    colours[CENTER_GROUP] = _CENTER_COLOURS
    return [{"css": token, "fill": fill, "stroke": stroke} for token, (fill, stroke) in sorted(colours.items())]


def _place_nodes(center: NetworkNode | None, ring: list[NetworkNode], positions: _Positions, sizes: _Sizes) -> dict[str, dict]:
    """Each node's circle and label, by key."""
    placed: dict[str, dict] = {}
    if center:
        label = _fit_label(_clean(center.label), sizes.center_radius, 18, sizes.smallest, scale=1.1)
        placed[center.key] = _node_view(center, 0.0, 0.0, sizes.center_radius, label)
    for node, (x, y, _) in zip(ring, positions):
        label = _fit_label(_clean(node.label), sizes.radius, sizes.largest, sizes.smallest)
        placed[node.key] = _node_view(node, x, y, sizes.radius, label)
    return placed


def _legend(ring: list[NetworkNode], tokens: list[str], half: float) -> tuple[list[dict], float]:
    """The legend below the rings, and the height it adds: one swatch per group when there
    are several (the center needs none: it is the one in the middle)."""
    legend = []
    x, y = -half + _MARGIN, half + 4
    group_counts = Counter(_css_token(n.group) for n in ring)
    for token in tokens if len(tokens) > 1 else ():
        names = sorted({_clean(n.group) for n in ring if _css_token(n.group) == token})
        text = f"{' / '.join(names)} ({group_counts[token]})"
        item_width = 22 + _em_width(text) * 12
        if x + item_width > half - _MARGIN and x > -half + _MARGIN:
            x, y = -half + _MARGIN, y + 22
        legend.append({"css": token, "x": _num(x + 7), "y": _num(y), "tx": _num(x + 20), "ty": _num(y + 4.5), "text": text})
        x += item_width + 18
    return legend, (y + 22 - half) if legend else 0


def _network_desc(center: NetworkNode | None, ring: list[NetworkNode], relationships: int, words: Mapping[str, Any]) -> str:
    """The picture's <desc>: what is in the middle, how many are around it, of which groups."""
    groups = Counter(_clean(n.group) for n in ring)
    described = f" ({', '.join(f'{groups[g]} {g}' for g in sorted(groups))})" if len(groups) > 1 else ""
    relations = plural(words["relationships"], relationships)
    count = plural(words["organizations"], len(ring))
    if center:
        return str(words["centered"].format(center=_clean(center.label), count=count, groups=described, relations=relations))
    return str(words["uncentered"].format(count=count, groups=described, relations=relations))


def _node_view(node: NetworkNode, x: float, y: float, radius: float, label: _Label) -> dict:
    lines = len(label.lines)
    first = y - (lines - 1) / 2 * _LINE_HEIGHT * label.size + 0.35 * label.size  # baseline of the first line
    return {
        "key": node.key,
        "label": _clean(node.label),
        "title": _clean(node.title) or _clean(node.label),
        "href": node.href,
        "css": CENTER_GROUP if node.group == CENTER_GROUP else _css_token(node.group),
        "x": x,
        "y": y,
        "r": radius,
        "cx": _num(x),
        "cy": _num(y),
        "radius": _num(radius),
        "size": _num(label.size),
        "lines": [{"text": t, "y": _num(first + i * _LINE_HEIGHT * label.size)} for i, t in enumerate(label.lines)],
    }


def _edge_views(placed: dict[str, dict], edges: list[NetworkEdge], show_text: bool) -> list[dict]:
    """Lines from circle edge to circle edge; a label along the line where it fits and collides with nothing."""
    views = []
    texts: list[tuple[tuple[float, float], tuple[float, float]]] = []  # the labels written so far, as segments
    for (source, target), labels in sorted((k, sorted(v)) for k, v in _merged_labels(edges).items()):
        a, b = placed[source], placed[target]
        arrow = _arrow(a, b)
        label = ", ".join(labels)
        views.append(
            {
                "x1": _num(arrow.start[0]),
                "y1": _num(arrow.start[1]),
                "x2": _num(arrow.end[0]),
                "y2": _num(arrow.end[1]),
                "title": f"{a['label']} → {b['label']}" + (f": {label}" if label else ""),
                "text": _edge_text(label, arrow, placed, texts) if show_text and label else None,
            }
        )
    return views


def _merged_labels(edges: list[NetworkEdge]) -> dict[tuple[str, str], list[str]]:
    """The labels of the edges from one node to another, each once: they share a line."""
    merged: dict[tuple[str, str], list[str]] = {}
    for edge in edges:
        labels = merged.setdefault((edge.source, edge.target), [])
        if _clean(edge.label) and _clean(edge.label) not in labels:
            labels.append(_clean(edge.label))
    return merged


@dataclass(frozen=True)
class _Arrow:
    """An edge's line between two circles."""

    start: tuple[float, float]  # on the source's outline
    end: tuple[float, float]  # the arrow's tip, on the target's outline
    ux: float  # the direction from centre to centre
    uy: float
    angle: float  # of that direction, in degrees


def _arrow(a: dict, b: dict) -> _Arrow:
    dx, dy = b["x"] - a["x"], b["y"] - a["y"]
    length = math.hypot(dx, dy)
    ux, uy = dx / length, dy / length
    start = (a["x"] + ux * a["r"], a["y"] + uy * a["r"])
    end = (b["x"] - ux * (b["r"] + 1.5), b["y"] - uy * (b["r"] + 1.5))
    return _Arrow(start, end, ux, uy, math.degrees(math.atan2(dy, dx)))


def _edge_text(label: str, arrow: _Arrow, placed: dict[str, dict], texts: list) -> dict | None:
    """*label* upright in the middle of *arrow*, if it fits there and comes near no circle and
    none of the *texts* already written (to which it is then added); else None."""
    start, end, ux, uy = arrow.start, arrow.end, arrow.ux, arrow.uy
    half = _em_width(label) * _EDGE_FONT / 2 + 3
    visible = math.hypot(end[0] - start[0], end[1] - start[1]) - 10  # the arrowhead's length
    middle = ((start[0] + end[0] - ux * 10) / 2, (start[1] + end[1] - uy * 10) / 2)
    box = ((middle[0] - ux * half, middle[1] - uy * half), (middle[0] + ux * half, middle[1] + uy * half))
    clear = (
        2 * half <= visible
        and all(_segment_distance(*box, (n["x"], n["y"]), (n["x"], n["y"])) > n["r"] + _EDGE_FONT * 0.6 for n in placed.values())
        and all(_segment_distance(*box, *other) > _EDGE_FONT * 1.3 for other in texts)
    )
    if not clear:
        return None
    texts.append(box)
    angle = arrow.angle
    if angle > 90 or angle <= -90:  # keep the text upright
        angle += 180 if angle <= -90 else -180
    return {
        "x": _num(middle[0]),
        "y": _num(middle[1] + 0.35 * _EDGE_FONT),
        "cx": _num(middle[0]),
        "cy": _num(middle[1]),
        "angle": _num(angle),
        "label": label,
    }


# --- the timeline -------------------------------------------------------------------------

TIMELINE_FONT = 12.0
TIMELINE_CHAR_WIDTH = 7.0  # px per character at 12 px, the width estimate for label boxes
_ROW_HEIGHT = 24.0
_DOT = 4.5  # marker radius
_TEXT_DX = 9.0  # from the marker's centre to the start of its text
_BOX_GAP = 12.0  # least free space between two label boxes in a row
_LABEL_MAX = 380.0  # px; longer labels are cut short
_WIDTH = 900.0  # the picture is about this wide (the axis within limits on px per year)


def timeline_text(entry: TimelineEntry) -> str:
    """The text written beside a marker: the year, then the label, cut short with '…' when
    longer than about 380 px (the full label is the tooltip), so the picture keeps its scale."""
    words = _clean(entry.label).split(" ")
    text = f"{entry.year} {' '.join(words)}"
    if timeline_label_width(text) <= _LABEL_MAX:
        return text
    while len(words) > 1 and timeline_label_width(f"{entry.year} {' '.join(words)}…") > _LABEL_MAX:
        words.pop()
    text = f"{entry.year} {' '.join(words).rstrip(',;:.')}"
    while timeline_label_width(text + "…") > _LABEL_MAX:  # one very long word
        text = text[:-1]
    return text + "…"


def timeline_label_width(text: str) -> float:
    """A label's estimated width: ~7 px a character at 12 px, more for wide (e.g. CJK) characters."""
    return max(len(text) * TIMELINE_CHAR_WIDTH, _em_width(text) * TIMELINE_FONT * 0.95)


def timeline_svg(entries: list[TimelineEntry], words: Mapping[str, Any] | None = None) -> str:
    """The involvements on a horizontal time axis, with ticks every ten years.

    Each entry is a marker at its year with the year and label beside it (to its
    right, or to its left near the end of the axis, so that the picture stays
    about 900 px wide), in the lowest row where its label box does not touch
    another's (entries taken in (year, label) order), joined to the axis by a
    thin line.
    """
    ids = {"root": "ndlld-timeline", "title": "ndlld-timeline-title", "desc": "ndlld-timeline-desc"}
    words = words or naming("en", messages("en")["site"]["unnamed_publisher"])["timeline"]  # the catalogue's words for this picture
    title = words["title"]
    if not entries:
        return _render("timeline.svg", ids=ids, title=title, empty=True, desc=words["empty"], nothing=words["nothing"])

    entries = sorted(entries, key=lambda e: (e.year, _clean(e.label), e.href))
    first, last = entries[0].year, entries[-1].year
    axis = _Axis.spanning(first, last)
    placed, rows = _place_entries(entries, axis)
    top = 12.0
    axis_y = top + rows * _ROW_HEIGHT + 14
    width = max(axis.x_of(axis.end) + axis.left, max(p.box[1] for p in placed) + 12)
    height = axis_y + 34
    ticks = [{"x": _num(axis.x_of(year)), "year": str(year)} for year in range(axis.start, axis.end + 1, 10)]
    years = (words["one_year"] if first == last else words["years"]).format(first=first, last=last)
    return _render(
        "timeline.svg",
        ids=ids,
        title=title,
        desc=words["described"].format(count=plural(words["involvements"], len(entries)), years=years),
        empty=False,
        view_box=f"0 0 {_num(width)} {_num(height)}",
        width=_num(width),
        height=_num(height),
        axis={
            "x1": _num(axis.x_of(axis.start)),
            "x2": _num(axis.x_of(axis.end)),
            "y": _num(axis_y),
            "tick": _num(axis_y + 6),
            "top": _num(top),
        },
        ticks=ticks,
        entries=[_entry_view(p, axis_y - 14 - _ROW_HEIGHT / 2 - p.row * _ROW_HEIGHT) for p in placed],
        label_y=_num(axis_y + 22),
    )


@dataclass(frozen=True)
class _Axis:
    """The time axis: from *start* to *end* (whole decades), *per_year* px a year."""

    start: int
    end: int
    left: float  # px before the start
    per_year: float

    @classmethod
    def spanning(cls, first: int, last: int) -> _Axis:
        """The decades from *first* to *last*, at most 24 px a year (at least 4), to stay about 900 px wide."""
        start = first // 10 * 10
        end = -(-last // 10) * 10
        if end == start:
            end += 10
        left = 28.0
        return cls(start, end, left, max(4.0, min(24.0, (_WIDTH - 2 * left) / (end - start))))

    def x_of(self, year: int) -> float:
        return self.left + (year - self.start) * self.per_year


class _Placed(NamedTuple):
    """An entry placed on the timeline."""

    entry: TimelineEntry
    x: float  # of its marker
    row: int  # 0 next to the axis
    text: str
    box: tuple[float, float]  # the label box's left and right
    flipped: bool  # the label left of the marker


def _place_entries(entries: list[TimelineEntry], axis: _Axis) -> tuple[list[_Placed], int]:
    """Each entry in the lowest row where its label box touches no other; and how many rows there are."""
    rows: list[list[tuple[float, float]]] = []  # the label boxes (left, right) of each row
    placed = []
    for entry in entries:
        x = axis.x_of(entry.year)
        text = timeline_text(entry)
        label_width = timeline_label_width(text)
        box = (x - _DOT, x + _TEXT_DX + label_width)
        flipped = box[1] > _WIDTH - 12 and x - _TEXT_DX - label_width >= 4
        if flipped:  # near the right end, the label goes left of its marker to keep the picture narrow
            box = (x - _TEXT_DX - label_width, x + _DOT)
        row = next(
            (i for i, boxes in enumerate(rows) if all(box[0] >= right + _BOX_GAP or box[1] + _BOX_GAP <= left for left, right in boxes)),
            len(rows),
        )
        if row == len(rows):
            rows.append([])
        rows[row].append(box)
        placed.append(_Placed(entry, x, row, text, box, flipped))
    return placed, len(rows)


def _entry_view(placed: _Placed, y: float) -> dict:
    """What the template draws of an entry whose row is at *y*."""
    entry, x, _, text, box, flipped = placed
    return {
        "href": entry.href,
        "title": f"{entry.year}: {_clean(entry.label)}",
        "year": str(entry.year),
        "label": text.removeprefix(f"{entry.year} "),
        "x": _num(x),
        "y": _num(y),
        "tx": _num(x - _TEXT_DX if flipped else x + _TEXT_DX),
        "anchor": "end" if flipped else "start",
        "ty": _num(y + 0.35 * TIMELINE_FONT),
        "bx": _num(box[0] - 2),
        "by": _num(y - _ROW_HEIGHT / 2 + 2),
        "bw": _num(box[1] - box[0] + 4),
        "bh": _num(_ROW_HEIGHT - 4),
    }
