"""The network and timeline pictures: well-formed SVG whose geometry says what the data says."""

from __future__ import annotations

import math
import random

import pytest
from lxml import etree

from ndlld.site.svg import NetworkEdge, NetworkNode, TimelineEntry, network_svg, timeline_svg

SVG = "http://www.w3.org/2000/svg"
NS = {"s": SVG}


def parse(text: str) -> etree._Element:
    """Parse as XML (so it must be well-formed) and check what every picture's root has."""
    assert text.startswith("<svg")
    root = etree.fromstring(text.encode())
    assert root.tag == f"{{{SVG}}}svg"
    # A picture with links is a group (role="img" would make its links children a reader
    # cannot reach: axe's nested-interactive); one without links is an image.
    assert root.get("role") == ("group" if root.find(".//s:a", NS) is not None else "img") and root.get("viewBox")
    labelled = root.get("aria-labelledby").split()
    assert [root.find(f"s:*[@id='{i}']", NS).tag for i in labelled] == [f"{{{SVG}}}title", f"{{{SVG}}}desc"]
    return root


def network(count: int) -> tuple[list[NetworkNode], list[NetworkEdge]]:
    """The NDL and `count` organizations in two groups; the NDL links to each, every third to its neighbour."""
    nodes = [NetworkNode("ndl", "NDL", "National Diet Library", "id/ndl", "center")]
    nodes += [
        NetworkNode(f"org{i:03}", f"Org {i}", f"Organization number {i}", f"id/org{i:03}", ("domestic", "international")[i % 2])
        for i in range(count)
    ]
    edges = [NetworkEdge("ndl", f"org{i:03}", "member") for i in range(count)]
    edges += [NetworkEdge(f"org{i:03}", f"org{i + 1:03}", "part of") for i in range(0, count - 1, 3)]
    return nodes, edges


def circles(root: etree._Element) -> dict[str, tuple[float, float, float]]:
    """Each node's circle (cx, cy, r), by its link's href."""
    found = {}
    for link in root.iterfind(".//s:a", NS):
        circle = link.find("s:circle", NS)
        found[link.get("href")] = tuple(float(circle.get(a)) for a in ("cx", "cy", "r"))
    return found


def test_every_node_is_one_link_with_its_full_name():
    nodes, edges = network(15)
    root = parse(network_svg(nodes, edges))
    for node in nodes:
        [link] = root.xpath(".//s:a[@href=$href]", namespaces=NS, href=node.href)
        assert link.findtext("s:title", namespaces=NS) == node.title
        assert "".join(link.find("s:text", NS).itertext()).replace(" ", "") == node.label.replace(" ", "")
        assert f"node-{node.group}" in link.get("class").split()


def test_every_edge_is_a_line_between_its_nodes():
    nodes, edges = network(15)
    root = parse(network_svg(nodes, edges))
    centres = circles(root)
    lines = [tuple(float(line.get(a)) for a in ("x1", "y1", "x2", "y2")) for line in root.iterfind(".//s:line", NS)]
    assert len(lines) == len(edges)
    for edge in edges:
        (sx, sy, sr), (tx, ty, tr) = centres[f"id/{edge.source}"], centres[f"id/{edge.target}"]
        length = math.dist((sx, sy), (tx, ty))
        ux, uy = (tx - sx) / length, (ty - sy) / length
        # From the source's outline to the target's (where the arrow's tip touches it).
        start, end = (sx + ux * sr, sy + uy * sr), (tx - ux * tr, ty - uy * tr)
        assert any(math.dist(start, line[:2]) < 1 and math.dist(end, line[2:]) < 3 for line in lines), edge


@pytest.mark.parametrize("count", [15, 200])
def test_nodes_do_not_overlap(count):
    root = parse(network_svg(*network(count)))
    placed = list(circles(root).values())
    assert len(placed) == count + 1
    for i, (x1, y1, r1) in enumerate(placed):
        for x2, y2, r2 in placed[i + 1 :]:
            assert math.dist((x1, y1), (x2, y2)) > r1 + r2


def test_output_does_not_depend_on_input_order():
    nodes, edges = network(40)
    shuffled_nodes, shuffled_edges = nodes[:], edges[:]
    random.Random(7).shuffle(shuffled_nodes)
    random.Random(8).shuffle(shuffled_edges)
    assert network_svg(nodes, edges) == network_svg(shuffled_nodes, shuffled_edges)


def test_size_grows_linearly():
    small, large = (len(network_svg(*network(count))) for count in (100, 300))
    assert large < 3.5 * small


NASTY = "Tom & Jerry </svg><script>alert(\"x\")</script> 'quoted'"


def test_names_stay_text():
    nodes = [
        NetworkNode("ndl", "NDL", "National Diet Library", "id/ndl", "center"),
        NetworkNode("x", "A & <B>", NASTY, "id/x?a=1&b=2", "<odd group>"),
    ]
    root = parse(network_svg(nodes, [NetworkEdge("ndl", "x", NASTY)]))
    assert not root.xpath("//*[local-name()='script']")
    [link] = root.xpath(".//s:a[@href='id/x?a=1&b=2']", namespaces=NS)
    assert link.findtext("s:title", namespaces=NS) == NASTY
    assert "".join(link.find("s:text", NS).itertext()) == "A & <B>"

    timeline = parse(timeline_svg([TimelineEntry(1990, NASTY, "id/x#y")]))
    assert not timeline.xpath("//*[local-name()='script']")
    assert timeline.find(".//s:a/s:title", NS).text == f"1990: {NASTY}"


def test_bad_edges_are_refused():
    nodes, _ = network(3)
    with pytest.raises(ValueError, match="unknown"):
        network_svg(nodes, [NetworkEdge("ndl", "nowhere", "member")])


def test_empty_pictures_say_so():
    for text in (network_svg([], []), timeline_svg([])):
        root = parse(text)
        assert "Nothing to show" in "".join(root.itertext())


ENTRIES = [
    TimelineEntry(1966, "Associate member of the IFLA", "id/ifla#ndl-associate-member"),
    TimelineEntry(1976, "Regular member of the IFLA", "id/ifla#ndl-member"),
    TimelineEntry(1979, "First CDNLAO meeting attended", "id/cdnlao#1979"),
    TimelineEntry(1981, "CONSAL delegates from the 5th conference", "id/consal#5"),
    TimelineEntry(1982, "Hosted the 2nd CDNLAO meeting", "id/cdnlao#2"),
    TimelineEntry(1989, "IFLA-PAC Regional Centre for Asia", "id/ifla-pac#centre"),
    TimelineEntry(1989, "EAJRS reports since its inception", "id/eajrs#reports"),
    TimelineEntry(1990, "APLAP member", "id/aplap#member"),
    TimelineEntry(2008, "Hosted the 16th CDNLAO meeting", "id/cdnlao#16"),
]


def markers(root: etree._Element) -> list[dict]:
    """Each entry's link, marker and label box (the width estimate: 7 px a character).

    A label is right of its marker, or left of it (text-anchor="end") near the axis's end."""
    found = []
    for link in root.iterfind(".//s:a", NS):
        circle, text = link.find("s:circle", NS), link.find("s:text", NS)
        x, r, width = float(circle.get("cx")), float(circle.get("r")), 7 * len("".join(text.itertext()))
        if text.get("text-anchor") == "end":
            box = (float(text.get("x")) - width, x + r)
        else:
            box = (x - r, float(text.get("x")) + width)
        found.append({"href": link.get("href"), "x": x, "row": circle.get("cy"), "box": box})
    return found


def test_timeline_markers_in_year_order():
    shuffled = ENTRIES[::-1]
    root = parse(timeline_svg(shuffled))
    found = markers(root)
    expected = sorted(ENTRIES, key=lambda e: (e.year, e.label))
    assert [m["href"] for m in found] == [e.href for e in expected]
    per_year = {(m["x"] - found[0]["x"]) / (e.year - 1966) for m, e in zip(found, expected) if e.year != 1966}
    assert max(per_year) - min(per_year) < 0.1 and min(per_year) > 0  # x grows in proportion to the year


def test_timeline_labels_do_not_overlap():
    found = markers(parse(timeline_svg(ENTRIES)))
    assert len({m["row"] for m in found}) > 1  # crowded years need more than one row
    for row in {m["row"] for m in found}:
        boxes = sorted(m["box"] for m in found if m["row"] == row)
        assert all(left >= previous_right for (_, previous_right), (left, _) in zip(boxes, boxes[1:]))


def test_timeline_ticks_every_decade():
    root = parse(timeline_svg(ENTRIES))
    ticks = root.xpath(".//s:text[@class='tick-label']", namespaces=NS)
    assert [t.text for t in ticks] == ["1960", "1970", "1980", "1990", "2000", "2010"]
    xs = [float(t.get("x")) for t in ticks]
    assert len({round(b - a, 1) for a, b in zip(xs, xs[1:])}) == 1


def test_long_timeline_labels_are_cut_short_with_the_full_text_as_tooltip():
    label = "presenter of reports, " + "Annual conference of the European Association of Japanese Resource Specialists " * 3
    link = parse(timeline_svg([TimelineEntry(1989, label, "id/eajrs")])).find(".//s:a", NS)
    shown = "".join(link.find("s:text", NS).itertext())
    assert shown.startswith("1989 presenter of reports") and shown.endswith("…") and 7 * len(shown) <= 400
    assert link.findtext("s:title", namespaces=NS) == f"1989: {label.strip()}"
