"""Apache Beam PTransforms: analyze and transform on any Beam runner.

The same accumulators as ``ts.analyze`` run inside Beam: one fused pass per
analysis phase, merged with ``CombineGlobally``; statistics and transformed
outputs are bit-identical to the in-process path. Needs the ``beam`` extra.

Example (not run here)::

    with beam.Pipeline() as p:
        raw = p | tsb.ReadCsv("train-*.csv")
        transformed, transform_fn = raw | tsb.AnalyzeAndTransformDataset(preprocessing_fn)
        transform_fn | tsb.WriteTransformFn("artifacts/taxi")
        transformed | tsb.WriteParquet("out/transformed")
        tsb.seal(p)  # needed by the DaskRunner, harmless elsewhere
"""

from tskew.beam.analyze import AnalyzeAndTransformDataset, AnalyzeDataset, TransformDataset
from tskew.beam.io import (
    ReadCsv,
    ReadJsonl,
    ReadParquet,
    ReadTransformFn,
    WriteDeadLetters,
    WriteParquet,
    WriteTransformFn,
)
from tskew.beam.rows import BatchRows
from tskew.beam.runner import seal
from tskew.beam.skew import DetectSkew

__all__ = [
    "AnalyzeAndTransformDataset",
    "AnalyzeDataset",
    "BatchRows",
    "DetectSkew",
    "ReadCsv",
    "ReadJsonl",
    "ReadParquet",
    "ReadTransformFn",
    "TransformDataset",
    "WriteDeadLetters",
    "WriteParquet",
    "WriteTransformFn",
    "seal",
]
