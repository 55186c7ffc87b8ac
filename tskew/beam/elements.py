"""What flows between tskew's Beam steps: RecordBatches, `Tagged` values, dead letters.

Coders: a runner samples the encoded size of the first elements of every PCollection for
its metrics. Left to the default pickle coder, that copies each sampled
RecordBatch (tens of MB) only to count its bytes, about 0.3 s per million rows
per pass on the DirectRunner. These coders report Arrow's buffer size instead and
encode only when an element really crosses a process boundary.
"""

from __future__ import annotations

import json
from typing import Any

import apache_beam as beam
import pyarrow as pa

from tskew.io.bad_records import BadRecord


def _ipc(batch: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def _from_ipc(data: bytes) -> pa.RecordBatch:
    return pa.ipc.open_stream(data).read_next_batch()


class RecordBatchCoder(beam.coders.Coder):
    """A RecordBatch as one Arrow IPC stream (schema + batch)."""

    def encode(self, batch: pa.RecordBatch) -> bytes:
        return _ipc(batch)

    def decode(self, data: bytes) -> pa.RecordBatch:
        return _from_ipc(data)

    def estimate_size(self, batch: pa.RecordBatch) -> int:
        return batch.get_total_buffer_size()

    def is_deterministic(self) -> bool:
        return False

    def to_type_hint(self):
        return pa.RecordBatch


class Tagged:
    """One output of a step that emits two kinds of values (e.g. batches and dead letters).

    Tagged outputs are lost on the DaskRunner, so such steps emit ``Tagged``
    values and later steps select a kind.
    """

    __slots__ = ("kind", "value")

    def __init__(self, kind: str, value: Any):
        self.kind, self.value = kind, value

    def __reduce__(self):
        return Tagged, (self.kind, self.value)


class TaggedCoder(beam.coders.Coder):
    """A `Tagged` value without pickle: one kind byte, then Arrow IPC or JSON.

    Batches travel as Arrow IPC; dead letters (JSON-safe dicts) as JSON; a user's dict
    row as a one-row Arrow table, which keeps each value's type (an int stays an int,
    text in a numeric field stays text), or as JSON when Arrow cannot hold a value.
    Decoding never runs code from the bytes.
    """

    def encode(self, item: Tagged) -> bytes:
        kind = _KINDS[item.kind]
        if item.kind == "batch":
            return kind + _ipc(item.value)
        if item.kind == "row":
            try:
                return kind + b"A" + _ipc(pa.RecordBatch.from_pylist([item.value]))
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                return kind + b"J" + json.dumps(item.value, default=str).encode()
        return kind + json.dumps(item.value).encode()

    def decode(self, data: bytes) -> Tagged:
        kind, payload = _NAMES[data[:1]], data[1:]
        if kind == "batch":
            return Tagged(kind, _from_ipc(payload))
        if kind == "row":
            if payload[:1] == b"A":
                return Tagged(kind, _from_ipc(payload[1:]).to_pylist()[0])
            return Tagged(kind, json.loads(payload[1:]))
        return Tagged(kind, json.loads(payload))

    def estimate_size(self, item: Tagged) -> int:
        if isinstance(item.value, pa.RecordBatch):
            return item.value.get_total_buffer_size()
        return len(self.encode(item))

    def is_deterministic(self) -> bool:
        return False

    def to_type_hint(self):
        return Tagged


_KINDS = {"batch": b"B", "row": b"R", "bad": b"D"}
_NAMES = {code: kind for kind, code in _KINDS.items()}

beam.coders.registry.register_coder(pa.RecordBatch, RecordBatchCoder)
beam.coders.registry.register_coder(Tagged, TaggedCoder)


def select(tagged, kind: str, label: str):
    """The values of ``kind`` in a collection of `Tagged` values."""
    out_type = pa.RecordBatch if kind == "batch" else Any
    return tagged | f"{label}Select" >> beam.FlatMap(
        lambda t: [t.value] if t.kind == kind else []
    ).with_output_types(out_type)


def dead_letter(record: BadRecord) -> dict:
    """A bad record as a dead-letter element (JSON-safe)."""
    return {
        "source": record.source,
        "line": record.line,
        "reason": record.reason,
        "raw": record.raw,
        "row": record.row,
    }
