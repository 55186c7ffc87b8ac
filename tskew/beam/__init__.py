"""Apache Beam PTransforms: analyze and transform on any Beam runner.

The same accumulators as ``ts.analyze`` run inside Beam: one fused pass per
analysis phase, merged with ``CombineGlobally``; statistics and transformed
outputs are bit-identical to the in-process path. Needs the ``beam`` extra.

Example (not run here)::

    with beam.Pipeline() as p:
        raw = p | tsb.ReadCsv("train-*.csv")  # a tsb.Source: batches, schema, dead letters
        paid = raw.apply(beam.Map(lambda b: b.filter(pc.greater(b["fare"], 0))), "Paid")
        transformed, transform_fn = paid | tsb.AnalyzeAndTransformDataset(preprocessing_fn)
        raw.dead_letters | tsb.WriteDeadLetters("artifacts/taxi.dead_letters.jsonl")
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
from tskew.beam.source import Source

__all__ = [
    "AnalyzeAndTransformDataset",
    "AnalyzeDataset",
    "BatchRows",
    "DetectSkew",
    "ReadCsv",
    "ReadJsonl",
    "ReadParquet",
    "ReadTransformFn",
    "Source",
    "TransformDataset",
    "WriteDeadLetters",
    "WriteParquet",
    "WriteTransformFn",
    "seal",
]
