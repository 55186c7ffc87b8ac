"""tskew: declare feature preprocessing once; analyze, freeze and serve it everywhere.

Public names are loaded on first use, so ``import tskew`` stays light and a
submodule can be imported on its own.

Example:
    >>> import tskew as ts
    >>> ts.Schema({"fare": ts.float32()})
    Schema(fare: float32?)
"""

from __future__ import annotations

import importlib
from typing import Any

from tskew.errors import (
    AnalyzeError,
    ArtifactError,
    ConfigError,
    DataError,
    GraphError,
    SchemaError,
    TraceError,
    TskewError,
    UnsupportedOpError,
)
from tskew.schema import DType, FeatureType, Schema, bool_, float32, float64, int64, string

__version__ = "0.1.0"

# The ``ts.*`` functions (`tskew.dsl.public_names`: the op specs' ``dsl`` names and the
# mappers) are resolved on first use, like these:
_LAZY = {
    "analyze": ("tskew.analysis", "analyze"),
    "analyze_and_transform": ("tskew.analysis", "analyze_and_transform"),
    "load": ("tskew.artifact", "load_transform_fn"),
    "TransformFn": ("tskew.transform_fn", "TransformFn"),
    "DatasetStatistics": ("tskew.statistics", "DatasetStatistics"),
    "FeatureStatistics": ("tskew.statistics", "FeatureStatistics"),
    "Column": ("tskew.tracing", "Column"),
    "trace": ("tskew.tracing", "trace"),
    "policy": ("tskew.policy", None),  # the module: ts.policy.clip(...)
    "skew_report": ("tskew.skew.detect", "skew_report"),
    "SkewReport": ("tskew.skew.report", "SkewReport"),
    "Thresholds": ("tskew.skew.thresholds", "Thresholds"),
    "SkewMonitor": ("tskew.skew.monitor", "SkewMonitor"),
}
_EAGER = [
    "AnalyzeError", "ArtifactError", "ConfigError", "DType", "DataError", "FeatureType",
    "GraphError", "Schema", "SchemaError", "TraceError", "TskewError", "UnsupportedOpError",
    "bool_", "float32", "float64", "int64", "string",
]  # fmt: skip


def _public_names() -> list[str]:
    from tskew.dsl import public_names

    return [*_EAGER, *public_names(), *_LAZY]


def __getattr__(name: str) -> Any:
    if name == "__all__":  # computed on demand: it needs the op catalog
        return _public_names()
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = importlib.import_module(module)
        if attr is not None:
            value = getattr(value, attr)
        globals()[name] = value
        return value
    if not name.startswith("__"):
        from tskew.dsl import public_function

        fn = public_function(name)
        if fn is not None:
            globals()[name] = fn
            return fn
    raise AttributeError(f"module 'tskew' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(_public_names())
