"""`Source`: what a tskew Beam reader returns, and what the analysis transforms take.

A `Source` carries the RecordBatches, the schema they conform to, the dead letters
(malformed records) and a way to read the same batches again. The analysis reads
its input once per pass; reading the files again, rather than sharing one
collection, lets a runner stream every pass (flat memory) instead of holding all
rows until the analysis ends.

The user's own transforms of the batches go through `Source.apply`, which records
them: every re-read applies the same chain, so ``AnalyzeDataset`` sees the same
rows in every pass. A transform applied to ``source.batches`` directly gives a plain
PCollection, which ``AnalyzeDataset`` takes too (with ``schema=``), but then every
pass shares that one collection and the runner keeps it until the last pass.

Example (not run here)::

    raw = p | tsb.ReadParquet("train-*.parquet")
    paid = raw.apply(beam.Map(lambda b: b.filter(pc.greater(b["fare"], 0))), "Paid")
    transform_fn = paid | tsb.AnalyzeDataset(preprocessing_fn)
    raw.dead_letters | tsb.WriteDeadLetters("dead.jsonl")
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import apache_beam as beam

from tskew.errors import ConfigError
from tskew.io.schemas import SchemaLike, as_schema
from tskew.schema import Schema

# (pipeline, label, plan, project) -> RecordBatches: the reader's own steps, labelled
# ``label``; ``plan`` (a one-element PCollection of a PassPlan or None) lets an unneeded
# pass read nothing, ``project`` lets it read only the columns the pass evaluates.
Reread = Callable[[beam.Pipeline, str, Any, bool], beam.PCollection]


@dataclasses.dataclass(frozen=True)
class Source:
    """RecordBatches with their schema, dead letters and a re-read handle.

    Attributes:
        batches: the RecordBatches (after every transform given to `apply`).
        schema: the raw feature types the batches conform to.
        dead_letters: malformed records (dicts with source, line, reason, raw), or
            None when the batches came in already conformed.
        description: what was read, for error messages and the artifact's metadata.
        max_bad_fraction: malformed records tolerated before the analysis fails.
        reread: the reader's steps, applied again for each later pass (None: every
            pass reads ``batches`` itself).
        steps: the user's transforms (label, PTransform), in the order applied.
    """

    batches: beam.PCollection
    schema: Schema
    dead_letters: beam.PCollection | None
    description: str
    max_bad_fraction: float = 0.0
    reread: Reread | None = dataclasses.field(default=None, repr=False)
    steps: tuple[tuple[str, beam.PTransform], ...] = ()

    @property
    def pipeline(self) -> beam.Pipeline:
        return self.batches.pipeline

    def apply(
        self, transform: beam.PTransform, label: str | None = None, schema: SchemaLike | None = None
    ) -> Source:
        """This source with ``transform`` applied to its batches, now and on every re-read.

        Args:
            transform: RecordBatches -> RecordBatches (e.g. ``beam.Filter`` or ``beam.Map``
                over batches). It runs once per analysis pass, so it must give the same
                rows every time (no random sampling without a fixed seed).
            label: a label unique among this source's steps (default: the transform's).
            schema: the batches' schema after ``transform``, if it changes the columns.
        """
        label = label or transform.label
        if any(label == used for used, _ in self.steps):
            raise ConfigError(
                f"Source.apply: the label {label!r} is already used by a step of "
                f"{self.description}; pass label=... to name this step"
            )
        batches = self.batches | label >> transform
        return dataclasses.replace(
            self,
            batches=batches,
            schema=self.schema if schema is None else as_schema(schema),
            steps=(*self.steps, (label, transform)),
        )

    def read_again(self, label: str, plan: Any = None) -> beam.PCollection:
        """The same batches from a new read (the reader's steps, then the user's), or
        ``batches`` itself when the source cannot be read again."""
        if self.reread is None:
            return self.batches
        # The user's steps may read any column: project only when there are none.
        batches = self.reread(self.pipeline, label, plan, not self.steps)
        for name, transform in self.steps:
            batches = batches | f"{label}{name}" >> transform
        return batches


class TakesSource(beam.PTransform):
    """A PTransform whose input may be a `Source` (or hold one, in a tuple)."""

    def _extract_input_pvalues(self, pvalueish):
        if isinstance(pvalueish, Source):
            return pvalueish, {"batches": pvalueish.batches}
        if isinstance(pvalueish, tuple) and any(isinstance(v, Source) for v in pvalueish):
            plain = tuple(v.batches if isinstance(v, Source) else v for v in pvalueish)
            return pvalueish, super()._extract_input_pvalues(plain)[1]
        return super()._extract_input_pvalues(pvalueish)


def batches_of(value: Any) -> Any:
    """``value.batches`` for a `Source`, else ``value`` itself."""
    return value.batches if isinstance(value, Source) else value


__all__ = ["Source"]
