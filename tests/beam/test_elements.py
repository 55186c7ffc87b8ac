"""The coder of tskew's tagged Beam elements round-trips without pickle."""

from __future__ import annotations

import pyarrow as pa
import pytest

pytest.importorskip("apache_beam")

from tskew.beam.elements import Tagged, TaggedCoder


@pytest.mark.parametrize(
    "item",
    [
        Tagged("row", {"fare": "12,5", "n": 3, "missing": None, "x": 2.5, "big": 2**70}),
        Tagged("row", {"odd": object()}),  # not Arrow, not JSON: its text travels
        Tagged("bad", {"source": "a.csv", "line": 7, "reason": "bad", "raw": "1,2"}),
    ],
)
def test_rows_and_dead_letters_round_trip(item):
    coder = TaggedCoder()
    data = coder.encode(item)
    assert b"pickle" not in data and not data.startswith(b"\x80")
    back = coder.decode(data)
    assert back.kind == item.kind
    if "odd" in item.value:
        assert back.value == {"odd": str(item.value["odd"])}
    else:
        assert back.value == item.value


def test_batches_round_trip_as_arrow():
    batch = pa.record_batch({"x": [1.5, None], "s": ["é", ""]})
    back = TaggedCoder().decode(TaggedCoder().encode(Tagged("batch", batch)))
    assert back.kind == "batch" and back.value.equals(batch)
