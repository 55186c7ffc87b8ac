"""What the TensorFlow and ONNX exporters share: input conventions and lazy imports.

Their lowering tables and graph walker are `tskew.lowering` (numpy uses them too).

Example:
    >>> "fare" + MISSING_SUFFIX
    'fare__missing'
"""

from __future__ import annotations

import importlib
from typing import Any

# A nullable feature ``x`` is served as ``x`` plus a bool ``x__missing`` (True = missing).
MISSING_SUFFIX = "__missing"


def optional_import(module: str, purpose: str, extra: str) -> Any:
    """``import module`` with an error naming the extra that installs it."""
    try:
        if module == "tensorflow":  # without its start-up lines on stderr
            from tskew.tf_logging import import_tensorflow

            return import_tensorflow()
        return importlib.import_module(module)
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"{purpose} needs the '{module}' package: pip install 'tskew[{extra}]'"
        ) from err
