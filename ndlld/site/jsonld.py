"""JSON-LD for embedding in web pages, in the schema.org form search engines read.

The page of a resource embeds its whole description (the same triples as its
``.ttl`` file) as ``<script type="application/ld+json">``. The context is
inline and schema.org is its vocabulary (``"@vocab": "http://schema.org/"``),
so a search engine sees plain schema.org names (``name``, ``memberOf``) and a
JSON-LD processor gets exactly the triples of the dataset: every value is
written out explicitly (``{"@id": …}``, ``{"@value": …, "@type": …}``), so
no term definition can change its meaning. ndl: and dcterms: statements keep
their prefixes.

Escaping follows the HTML Standard's advice for script data
(https://html.spec.whatwg.org/#restrictions-for-contents-of-script-elements):
``<``, ``>`` and ``&`` are written as JSON ``\\u`` escapes, so no string can
close the element (``</script>``) or open a comment (``<!--``), and ``]]>``
cannot appear either.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from pyoxigraph import NamedNode, Triple

from ndlld.namespaces import RDF_TYPE, SCHEMA, XSD
from ndlld.rdf import subject_value

EMBED_CONTEXT = {
    "@vocab": str(SCHEMA),
    "dcterms": "http://purl.org/dc/terms/",
    "ndl": "https://w3id.org/ndlld/vocab#",
    "xsd": str(XSD),
}
_XSD_STRING = str(XSD) + "string"


def _key(iri: str) -> str:
    if iri.startswith(str(SCHEMA)):
        return iri[len(str(SCHEMA)) :]
    for prefix, namespace in EMBED_CONTEXT.items():
        if prefix != "@vocab" and iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def _value(obj) -> dict | str:
    if isinstance(obj, NamedNode):
        return {"@id": obj.value}
    if obj.language:
        return {"@value": obj.value, "@language": obj.language}
    if obj.datatype.value == _XSD_STRING:
        return obj.value  # a plain string means the same under any schema.org context
    return {"@value": obj.value, "@type": _key(obj.datatype.value)}


def node_objects(triples: Iterable[Triple]) -> list[dict]:
    """One flat node object per subject, subjects and values in a stable order."""
    by_subject: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for triple in triples:
        properties = by_subject[subject_value(triple)]
        if triple.predicate == RDF_TYPE and isinstance(triple.object, NamedNode):
            properties["@type"].append(_key(triple.object.value))
        else:
            properties[_key(triple.predicate.value)].append(_value(triple.object))
    nodes = []
    for subject in sorted(by_subject):
        node: dict[str, Any] = {"@id": subject}
        properties = by_subject[subject]
        for key in sorted(properties, key=lambda k: (k != "@type", k)):
            values = sorted(properties[key], key=_value_key)
            node[key] = values[0] if len(values) == 1 else values
        nodes.append(node)
    return nodes


def _value_key(value) -> tuple:
    if isinstance(value, str):
        return (0, value, "")
    return (1, value.get("@id") or value.get("@value", ""), value.get("@language") or value.get("@type") or "")


def embedded_document(triples: Iterable[Triple]) -> dict:
    """The JSON-LD document for a page: the inline context and every node of the description."""
    nodes = node_objects(triples)
    if len(nodes) == 1:
        return {"@context": EMBED_CONTEXT, **nodes[0]}
    return {"@context": EMBED_CONTEXT, "@graph": nodes}


def script_element(document: dict, indent: int | None = None) -> str:
    """``<script type="application/ld+json">`` holding *document*, safe inside HTML; with
    *indent*, laid out for a person to read (the snippets to paste into other pages)."""
    text = json.dumps(document, ensure_ascii=False, indent=indent)  # compact by default: the C encoder, fast on large pages
    text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return f'<script type="application/ld+json">\n{text}\n</script>'


def schema_org_view(triples: Iterable[Triple]) -> list[Triple]:
    """Only the schema.org statements: what a search engine understands, for ``ndlld embed``."""
    schema = str(SCHEMA)
    return [
        t
        for t in triples
        if (
            t.predicate.value.startswith(schema)
            or (t.predicate == RDF_TYPE and isinstance(t.object, NamedNode) and t.object.value.startswith(schema))
        )
        and not (isinstance(t.object, NamedNode) and t.predicate != RDF_TYPE and t.object.value.startswith("https://w3id.org/ndlld/vocab#"))
    ]
