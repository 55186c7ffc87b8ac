"""String kernels for the TensorFlow lowering that TF has no bit-identical op for.

* `murmur3_32`: MurmurHash3_x86_32 (seed 0) of each string's UTF-8 bytes, built
  from TF integer ops so a SavedModel needs no custom op. The arithmetic is
  uint32, which wraps modulo 2**32 as MurmurHash3 needs. The block loop is a
  ``tf.while_loop`` (each block depends on the previous hash state), so its cost
  is a few TF ops per 4-byte block: the callers refuse strings longer than
  `tskew.hashing.MAX_HASH_BYTES` (as the numpy and ONNX backends do).
* `lower_table`: the code point -> lower-case code point pairs that Arrow's
  ``utf8_lower`` (the numpy executor's semantics) changes. ``tf.strings.lower``
  uses ICU's context-sensitive full mapping ("İ" -> "i̇", final sigma), so the
  TF lowering maps code points through this table instead.

TensorFlow is imported lazily: it is an optional dependency.

Example:
    >>> import tensorflow as tf
    >>> murmur3_32(tf.constant(["", "hello"])).numpy().tolist()
    [0, 613153351]
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

_C1, _C2, _N = 0xCC9E2D51, 0x1B873593, 0xE6546B64
# Strings up to this many bytes are hashed one block per loop step; longer ones (at most
# `tskew.hashing.MAX_HASH_BYTES`) apart from them, `_UNROLL` blocks per step, so a batch
# of short strings is never padded to the length of one long string.
_SHORT = 32
_UNROLL = 16


def _c(value: int) -> Any:
    import tensorflow as tf

    return tf.constant(value, tf.uint32)


def _rotl32(x: Any, r: int) -> Any:
    import tensorflow as tf

    return tf.bitwise.bitwise_or(
        tf.bitwise.left_shift(x, _c(r)), tf.bitwise.right_shift(x, _c(32 - r))
    )


def _mix_k(k: Any) -> Any:
    return _rotl32(k * _c(_C1), 15) * _c(_C2)


def _fmix(h: Any) -> Any:
    import tensorflow as tf

    def shift_xor(v: Any, s: int) -> Any:
        return tf.bitwise.bitwise_xor(v, tf.bitwise.right_shift(v, _c(s)))

    h = shift_xor(h, 16) * _c(0x85EBCA6B)
    h = shift_xor(h, 13) * _c(0xC2B2AE35)
    return shift_xor(h, 16)


def murmur3_32(strings: Any) -> Any:
    """MurmurHash3_x86_32(utf-8 bytes, seed 0) of a 1-D string tensor, as int64 in [0, 2**32).

    Every string is zero-padded to the longest of its group: when a batch holds a string
    longer than `_SHORT` bytes, the short and the long ones are hashed apart
    (``dynamic_partition``), so a batch of short strings is never padded to one long
    string's length. The caller bounds the length (see `tskew.hashing.MAX_HASH_BYTES`):
    every 4-byte block costs a few TF ops in a ``while_loop``.

    Args:
        strings: a 1-D ``tf.string`` tensor.

    Returns:
        A 1-D ``tf.int64`` tensor, equal to `tskew.hashing.murmur3_32`.
    """
    import tensorflow as tf

    lengths = tf.strings.length(strings, unit="BYTE")

    def mixed_lengths() -> Any:
        long = tf.cast(lengths > _SHORT, tf.int32)
        parts = tf.dynamic_partition(strings, long, 2)
        where = tf.dynamic_partition(tf.range(tf.size(strings)), long, 2)
        hashes = [_murmur_padded(parts[0], 1), _murmur_padded(parts[1], _UNROLL)]
        return tf.dynamic_stitch(where, hashes)

    # Usually every string is short: then one loop, no partition.
    any_long = tf.reduce_any(lengths > _SHORT)
    hashes = tf.cond(any_long, mixed_lengths, lambda: _murmur_padded(strings, 1))
    return tf.cast(hashes, tf.int64)


def _murmur_padded(strings: Any, unroll: int) -> Any:
    """murmur3 of ``strings`` padded to the longest, ``unroll`` blocks per loop step (uint32)."""
    import tensorflow as tf

    lengths = tf.strings.length(strings, unit="BYTE")
    n = tf.shape(strings)[0]
    blocks = (tf.reduce_max(tf.concat([lengths, [0]], 0)) + 3) // 4
    steps = (blocks + unroll - 1) // unroll
    # Little-endian words, every string zero-padded to fixed_length bytes (which must be
    # > 0): one spare word, so the tail gather below never reads past the end.
    padded = tf.io.decode_raw(
        strings, tf.int32, little_endian=True, fixed_length=(steps * unroll + 1) * 4
    )
    padded = tf.bitcast(padded, tf.uint32)  # decode_raw has no uint32
    full = lengths // 4
    mixed = tf.reshape(tf.transpose(_mix_k(padded[:, : steps * unroll])), [steps, unroll, n])

    def body(i: Any, h: Any) -> tuple[Any, Any]:
        step = mixed[i]
        for j in range(unroll):
            update = _rotl32(tf.bitwise.bitwise_xor(h, step[j]), 13) * _c(5) + _c(_N)
            h = tf.where(i * unroll + j < full, update, h)
        return i + 1, h

    _, h = tf.while_loop(lambda i, h: i < steps, body, (tf.constant(0), tf.zeros([n], tf.uint32)))
    # Tail: the 1-3 bytes after the last full block, read as one little-endian word.
    tail_len = lengths % 4
    tail_word = tf.gather(padded, full, batch_dims=1)
    tail = tf.bitwise.bitwise_and(
        tail_word, tf.gather(tf.constant([0, 0xFF, 0xFFFF, 0xFFFFFF], tf.uint32), tail_len)
    )
    h = tf.where(tail_len > 0, tf.bitwise.bitwise_xor(h, _mix_k(tail)), h)
    return _fmix(tf.bitwise.bitwise_xor(h, tf.cast(lengths, tf.uint32)))


@cache
def lower_table() -> tuple[np.ndarray, np.ndarray]:
    """(code points, their lower case) for every code point Arrow's ``utf8_lower`` changes.

    Example:
        >>> keys, values = lower_table()
        >>> int(values[keys.tolist().index(ord("A"))]) == ord("a")
        True
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    points = np.concatenate([np.arange(0, 0xD800), np.arange(0xE000, 0x110000)])
    chars = pa.array([chr(p) for p in points], pa.string())
    lowered = pc.utf8_lower(chars).to_pylist()
    keys, values = [], []
    for p, low in zip(points.tolist(), lowered, strict=True):
        if len(low) != 1:
            raise AssertionError(f"utf8_lower maps U+{p:04X} to {len(low)} code points")
        if ord(low) != p:
            keys.append(p)
            values.append(ord(low))
    return np.array(keys, np.int32), np.array(values, np.int32)
