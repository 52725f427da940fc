"""What the site's template environments share."""

from __future__ import annotations

import jinja2


def bytecode_cache() -> jinja2.BytecodeCache | None:
    """Jinja's own cache of compiled templates (in the user's temporary directory, keyed by
    each template's source), as Python keeps __pycache__: compiling them all again would be
    much of a small build's time. None where that directory cannot be made."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None
