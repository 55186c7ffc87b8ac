"""String kernels for the TensorFlow lowering that TF has no bit-identical op for.

* `murmur3_32`: MurmurHash3_x86_32 (seed 0) of each string's UTF-8 bytes, built
  from TF integer ops so a SavedModel needs no custom op. 32-bit arithmetic
  runs in int64 and is masked back to 32 bits: the low 32 bits of an int64
  product are those of the uint32 product, whatever the overflow.
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

_MASK32 = 0xFFFFFFFF
_C1, _C2 = 0xCC9E2D51, 0x1B873593


def _u32(x: Any) -> Any:
    import tensorflow as tf

    return tf.bitwise.bitwise_and(x, tf.constant(_MASK32, tf.int64))


def _rotl32(x: Any, r: int) -> Any:
    import tensorflow as tf

    left = tf.bitwise.left_shift(x, tf.constant(r, tf.int64))
    right = tf.bitwise.right_shift(x, tf.constant(32 - r, tf.int64))
    return _u32(tf.bitwise.bitwise_or(left, right))


def _mix_k(k: Any) -> Any:
    import tensorflow as tf

    k = _u32(k * tf.constant(_C1, tf.int64))
    k = _rotl32(k, 15)
    return _u32(k * tf.constant(_C2, tf.int64))


def _fmix(h: Any) -> Any:
    import tensorflow as tf

    def shift_xor(v: Any, s: int) -> Any:
        return tf.bitwise.bitwise_xor(v, tf.bitwise.right_shift(v, tf.constant(s, tf.int64)))

    h = _u32(shift_xor(h, 16) * tf.constant(0x85EBCA6B, tf.int64))
    h = _u32(shift_xor(h, 13) * tf.constant(0xC2B2AE35, tf.int64))
    return shift_xor(h, 16)


def murmur3_32(strings: Any) -> Any:
    """MurmurHash3_x86_32(utf-8 bytes, seed 0) of a 1-D string tensor, as int64 in [0, 2**32).

    Args:
        strings: a 1-D ``tf.string`` tensor.

    Returns:
        A 1-D ``tf.int64`` tensor, equal to `tskew.hashing.murmur3_32`.
    """
    import tensorflow as tf

    lengths = tf.cast(tf.strings.length(strings, unit="BYTE"), tf.int64)
    width = tf.reduce_max(tf.concat([lengths, tf.zeros([1], tf.int64)], 0))
    width = (width + 3) // 4 * 4
    # decode_raw zero-pads every string to fixed_length (which must be > 0).
    raw = tf.io.decode_raw(strings, tf.uint8, fixed_length=tf.cast(width, tf.int32) + 4)
    raw = tf.cast(raw[:, : tf.cast(width, tf.int32)], tf.int64)
    n = tf.shape(strings, out_type=tf.int64)[0]
    blocks = tf.reshape(raw, [n, -1, 4])
    words = (
        blocks[:, :, 0]
        + tf.bitwise.left_shift(blocks[:, :, 1], tf.constant(8, tf.int64))
        + tf.bitwise.left_shift(blocks[:, :, 2], tf.constant(16, tf.int64))
        + tf.bitwise.left_shift(blocks[:, :, 3], tf.constant(24, tf.int64))
    )
    full_blocks = lengths // 4
    num_blocks = tf.shape(words, out_type=tf.int64)[1]

    def body(i: Any, h: Any) -> tuple[Any, Any]:
        mixed = _rotl32(tf.bitwise.bitwise_xor(h, _mix_k(words[:, i])), 13)
        mixed = _u32(mixed * tf.constant(5, tf.int64) + tf.constant(0xE6546B64, tf.int64))
        return i + 1, tf.where(i < full_blocks, mixed, h)

    _, h = tf.while_loop(
        lambda i, h: i < num_blocks,
        body,
        (tf.constant(0, tf.int64), tf.zeros([n], tf.int64)),
    )
    # Tail: the 1-3 bytes after the last full block, read as one little-endian word.
    tail_len = lengths % 4
    tail_block = tf.minimum(full_blocks, tf.maximum(num_blocks - 1, 0))
    tail_word = tf.gather(
        tf.concat([words, tf.zeros([n, 1], tf.int64)], 1),
        tf.where(num_blocks > 0, tail_block, tf.zeros_like(tail_block)),
        batch_dims=1,
    )
    tail_mask = tf.gather(tf.constant([0, 0xFF, 0xFFFF, 0xFFFFFF], tf.int64), tail_len)
    tail = tf.bitwise.bitwise_and(tail_word, tail_mask)
    h = tf.where(tail_len > 0, tf.bitwise.bitwise_xor(h, _mix_k(tail)), h)
    return _fmix(tf.bitwise.bitwise_xor(h, _u32(lengths)))


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
