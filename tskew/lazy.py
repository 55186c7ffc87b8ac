"""Package attributes imported on first use (PEP 562), so a package stays cheap to import.

Example:
    >>> get, names = lazy_exports("demo_pkg", {"sqrt": "math"}, {})
    >>> get("sqrt")(9.0)
    3.0
    >>> names()
    ['sqrt']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(
    package: str, public: dict[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: each name in ``public`` comes from the
    module it maps to, imported when the name is first read and then cached in ``namespace``
    (the package's ``globals()``)."""

    def get(name: str) -> Any:
        if name in public:
            value = getattr(importlib.import_module(public[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def names() -> list[str]:
        return sorted({*public, *(n for n in namespace if not n.startswith("_"))})

    return get, names
