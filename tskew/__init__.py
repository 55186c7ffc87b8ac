"""tskew: declare feature preprocessing once; analyze, freeze and serve it everywhere."""

from tskew.errors import (
    AnalyzeError,
    ArtifactError,
    DataError,
    GraphError,
    SchemaError,
    TraceError,
    TskewError,
    UnsupportedOpError,
)
from tskew.schema import DType, FeatureType, Schema, bool_, float32, float64, int64, string

__version__ = "0.1.0"
from tskew.analyze import analyze, analyze_and_transform
from tskew.artifact import load_transform_fn as load
from tskew.dsl import (
    abs,
    apply_buckets,
    apply_vocabulary,
    bucketize,
    cast,
    clip,
    clip_by_quantiles,
    compute_and_apply_vocabulary,
    cross,
    exp,
    fill_missing,
    hash_strings,
    impute,
    is_missing,
    log1p,
    lower,
    max,
    mean,
    min,
    one_hot,
    quantiles,
    scale_by_min_max,
    scale_to_0_1,
    scale_to_z_score,
    sigmoid,
    size,
    sqrt,
    strip,
    sum,
    var,
    vocabulary,
    where,
)
from tskew.statistics import DatasetStatistics, FeatureStatistics
from tskew.trace import Column, trace
from tskew.transform_fn import TransformFn
