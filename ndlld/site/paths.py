"""Links between the site's pages: relative, so that the site works wherever it is served."""

from __future__ import annotations

import posixpath


def relative(target: str, from_path: str) -> str:
    """A link from the page at *from_path* to the site path *target* (both from the site root)."""
    path, hash_, fragment = target.partition("#")
    path = path or from_path
    here = posixpath.dirname(from_path)
    parts, up = path.split("/"), here.split("/") if here else []
    if _ODD_SEGMENTS.isdisjoint(parts) and _ODD_SEGMENTS.isdisjoint(up):
        # What posixpath.relpath gives for plain paths, without its abspath and normpath
        # calls: a page may link to every organization, and normalizing each path cost more than the link.
        common = 0
        for mine, theirs in zip(parts, up):
            if mine != theirs:
                break
            common += 1
        href = "/".join([".."] * (len(up) - common) + parts[common:]) or "."
    else:
        href = posixpath.relpath(path, here or ".")
    return href + (hash_ + fragment if hash_ else "")


_ODD_SEGMENTS = {"", ".", ".."}  # paths with these are left to posixpath.relpath, which normalizes them
