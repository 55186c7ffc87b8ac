"""Hashing long strings: one documented maximum on every backend (issue 13, item 14).

The SavedModel's MurmurHash3 is a ``tf.while_loop`` over 4-byte blocks (TF has no hash op
that matches ONNX), so ``hash_strings`` and the hashed OOV buckets of ``apply_vocabulary``
refuse a string longer than `MAX_HASH_BYTES` bytes, on numpy, TensorFlow and ONNX alike.
Up to the limit every backend gives the same buckets (mmh3 is the oracle); null rows and
rows found in the vocabulary are not hashed, so they are not checked either.
"""

from __future__ import annotations

import mmh3
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tskew as ts
from tskew.errors import DataError
from tskew.hashing import MAX_HASH_BYTES

tf = pytest.importorskip("tensorflow")
pytest.importorskip("onnxruntime")

from tskew.exporters.onnx import run_onnx, transform_model  # noqa: E402
from tskew.exporters.saved_model import run_transform  # noqa: E402
from tskew.exporters.tf_strings import murmur3_32  # noqa: E402

BUCKETS = 1000


LONG_KNOWN = "é" * (MAX_HASH_BYTES // 2) + "x"  # one byte over the limit, in the vocabulary


def fn(i):
    return {
        "h": ts.fill_missing(ts.hash_strings(i["s"], BUCKETS), -1),
        "v": ts.fill_missing(
            ts.apply_vocabulary(i["s"], ["known", LONG_KNOWN], num_oov_buckets=3), -1
        ),
    }


@pytest.fixture(scope="module")
def hashed():
    return ts.analyze(fn, {"s": ["a", None]})


def _text(n_bytes: int, unit: str = "é") -> str:
    """A string of exactly ``n_bytes`` UTF-8 bytes (multi-byte characters, then ASCII)."""
    body = unit * (n_bytes // len(unit.encode()))
    return body + "x" * (n_bytes - len(body.encode()))


def _columns(strings: list[str | None]) -> dict[str, np.ndarray]:
    return {
        "s": np.array(["" if s is None else s for s in strings], dtype=object),
        "s__missing": np.array([s is None for s in strings]),
    }


def _all_backends(tfn, strings):
    numpy = tfn.transform({"s": strings})
    tf_out = run_transform(tfn, _columns(strings))
    onnx_out = run_onnx(transform_model(tfn.graph), _columns(strings))
    return numpy, tf_out, onnx_out


def test_strings_up_to_the_limit_hash_identically(hashed):
    strings = [_text(MAX_HASH_BYTES), _text(MAX_HASH_BYTES - 1, "😀"), _text(33), "a", "", None]
    numpy, tf_out, onnx_out = _all_backends(hashed, strings)
    expected = [-1 if s is None else mmh3.hash(s.encode(), 0, signed=False) % BUCKETS
                for s in strings]  # fmt: skip
    assert numpy["h"].tolist() == tf_out["h"].tolist() == onnx_out["h"].tolist() == expected
    assert numpy["v"].tolist() == tf_out["v"].tolist() == onnx_out["v"].tolist()


@pytest.mark.parametrize("unit", ["x", "é", "😀"])
def test_one_byte_over_the_limit_fails_on_every_backend(hashed, unit):
    strings = ["a", _text(MAX_HASH_BYTES + 1, unit)]
    with pytest.raises(DataError, match=f"longer than {MAX_HASH_BYTES} bytes"):
        hashed.transform({"s": strings})
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"longer than {MAX_HASH_BYTES}"):
        run_transform(hashed, _columns(strings))
    with pytest.raises(Exception, match=f"longer than {MAX_HASH_BYTES} bytes") as err:
        run_onnx(transform_model(hashed.graph), _columns(strings))
    assert "onnxruntime" in type(err.value).__module__


def test_in_vocabulary_and_missing_rows_are_not_checked():
    tfn = ts.analyze(lambda i: {"v": fn(i)["v"]}, {"s": ["a", None]})
    strings = [LONG_KNOWN, "known", "new", None]
    numpy, tf_out, onnx_out = _all_backends(tfn, strings)
    assert numpy["v"].tolist()[:2] == [1, 0] and numpy["v"].tolist()[3] == -1
    assert numpy["v"].tolist() == tf_out["v"].tolist() == onnx_out["v"].tolist()
    # A long value under the missing mask is never read (ONNX gets it as it is).
    columns = {"s": np.array(["x" * (MAX_HASH_BYTES + 5), "new"], object),
               "s__missing": np.array([True, False])}  # fmt: skip
    assert run_onnx(transform_model(tfn.graph), columns)["v"].tolist() == [-1, numpy["v"][2]]
    assert run_transform(tfn, columns)["v"].tolist() == [-1, numpy["v"][2]]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, MAX_HASH_BYTES), min_size=1, max_size=4), st.randoms())
def test_tf_murmur_matches_mmh3_at_any_length_up_to_the_limit(lengths, rng):
    strings = [bytes(rng.randrange(256) for _ in range(n)) for n in lengths]
    got = murmur3_32(tf.constant(strings)).numpy().tolist()
    assert got == [mmh3.hash(s, 0, signed=False) for s in strings]
