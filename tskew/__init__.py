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
