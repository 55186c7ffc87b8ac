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

_DSL = [
    "abs", "apply_buckets", "apply_vocabulary", "bucketize", "cast", "clip",
    "clip_by_quantiles", "compute_and_apply_vocabulary", "cross", "exp", "fill_missing",
    "hash_strings", "impute", "is_missing", "log1p", "lower", "max", "mean", "min", "one_hot",
    "quantiles", "scale_by_min_max", "scale_to_0_1", "scale_to_z_score", "sigmoid", "size",
    "sqrt", "strip", "sum", "var", "vocabulary", "where",
]  # fmt: skip
_LAZY = {
    **{name: ("tskew.dsl", name) for name in _DSL},
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

__all__ = [
    "AnalyzeError", "ArtifactError", "ConfigError", "DType", "DataError", "FeatureType",
    "GraphError", "Schema", "SchemaError", "TraceError", "TskewError", "UnsupportedOpError",
    "bool_", "float32", "float64", "int64", "string", *_LAZY,
]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = importlib.import_module(module)
        if attr is not None:
            value = getattr(value, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tskew' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
