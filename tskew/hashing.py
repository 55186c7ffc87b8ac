"""String hashing shared by every backend: MurmurHash3_x86_32 over UTF-8 bytes.

``hash_strings(x, hash_buckets)`` and the hashed out-of-vocabulary buckets of
``apply_vocabulary`` must put a string into the *same* bucket on the numpy
executor, in the TensorFlow SavedModel and in the ONNX graph. tskew therefore
fixes one hash for all of them:

    ``h = MurmurHash3_x86_32(utf8_bytes(s), seed=0)`` as an unsigned 32-bit int,
    ``bucket = h % num_buckets`` (as int64).

Why this hash and not another:

* Standard ONNX has no string-hash operator at all. onnxruntime ships the
  contrib op ``com.microsoft.MurmurHash3`` (domain ``com.microsoft``, version 1,
  attributes ``seed`` and ``positive``). For a string tensor it computes
  MurmurHash3_x86_32 of the raw (UTF-8) bytes of each element; with
  ``positive=1`` the output is ``uint32``, with ``positive=0`` the same bits as
  ``int32``. The ``seed`` attribute is an int64 that is cast to uint32. This was
  checked against this module on onnxruntime 1.32, including empty strings
  (hash 0 at seed 0), embedded NUL, non-ASCII and 10 kB strings
  (``tests/unit/test_hashing.py``).
* TensorFlow's built-in string hashes are FarmHash-based
  (``tf.strings.to_hash_bucket`` uses the Fingerprint64 of the string,
  ``to_hash_bucket_fast`` FarmHash's Hash64) or a keyed hash
  (``to_hash_bucket_strong``). FarmHash cannot be expressed with standard ONNX
  operators, so an ONNX export could never match TensorFlow's buckets.
  TensorFlow has no MurmurHash op, but MurmurHash3_x86_32 needs only 32-bit
  multiply, xor, shift and rotate on little-endian words, all of which can be
  written with plain TF ops on the bytes (``tf.io.decode_raw`` /
  ``tf.strings.bytes_split`` plus ``tf.bitwise``), so the TF lowering can match
  bit for bit.
* MurmurHash3_x86_32 is a well-known, well-distributed 32-bit hash with an
  independent reference implementation (``mmh3.hash(s.encode(), 0,
  signed=False)``), which the tests use as the oracle. Note that Spark's
  ``hash()`` is *not* a drop-in reference: it uses seed 42 and mixes tail
  bytes differently.

Maximum length: the hash ops (``hash_strings`` and the hashed OOV buckets of
``apply_vocabulary``) refuse a string longer than `MAX_HASH_BYTES` UTF-8 bytes,
identically on every backend (numpy: `DataError`; SavedModel: an
``InvalidArgumentError`` from an assertion; ONNX: an onnxruntime error from a
check node), with the message of `hash_length_message`. TensorFlow has no
MurmurHash op, so the SavedModel runs one ``while_loop`` step per 4-byte block:
a 1 MB string would take seconds there (the numpy and ONNX kernels are fast).
Rows that are null, or already in the vocabulary, are not hashed and not checked.
This module's `murmur3_32` itself hashes any length.

Nulls: a null entry is hashed as the empty string (``murmur3_32([""])`` is 0 at
seed 0). Callers are expected to mask nulls beforehand; the executor does, so
this only defines what happens to values that are masked out anyway.

Implementation: every input is turned into Arrow string/binary arrays, whose
value bytes are read in place (zero-copy) together with per-string start
offsets and lengths (slices and nulls honoured). Strings are ordered by their
number of 4-byte blocks, so the strings that still have a ``j``-th block are
always a contiguous suffix; the loop runs over the block index ``j`` (not over
strings) and updates that suffix with whole-array uint32 operations, the block
words being gathered from an unaligned stride-1 view of the bytes. When fewer
than `PY_FOLD_BELOW` (long) strings remain, their remaining blocks are mixed
in one vectorised step and only the cheap sequential fold of the hash state
runs in Python, so one 10 kB string costs well under a millisecond. Tail
bytes, the length and the finalisation mix are then applied to all strings at
once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["MAX_HASH_BYTES", "hash_length_message", "hash_to_buckets", "murmur3_32"]

# The longest string (UTF-8 bytes) the hash ops accept, on every backend.
MAX_HASH_BYTES = 8192


def hash_length_message(op: str) -> str:
    """The error every backend gives for a string the hash ops refuse.

    Example:
        >>> hash_length_message("hash_strings")[:60]
        'hash_strings: a string longer than 8192 bytes (UTF-8) cannot'
    """
    return (
        f"{op}: a string longer than {MAX_HASH_BYTES} bytes (UTF-8) cannot be hashed; tskew "
        "refuses it on every backend (numpy, TensorFlow, ONNX) alike. Shorten or fingerprint "
        "such values before the transform"
    )


_C1 = np.uint32(0xCC9E2D51)
_C2 = np.uint32(0x1B873593)
_N = np.uint32(0xE6546B64)
_F1 = np.uint32(0x85EBCA6B)
_F2 = np.uint32(0xC2B2AE35)
_MASK32 = 0xFFFFFFFF
# Below this many strings still having a j-th block, the sequential fold of
# the remaining blocks runs as a plain Python loop (cheaper than ~15 numpy
# calls per block on tiny arrays).
PY_FOLD_BELOW = 32
# Byte masks of the 0..3 tail bytes, indexed by len % 4.
_TAIL_MASK = np.array([0, 0xFF, 0xFFFF, 0xFFFFFF], dtype=np.uint32)


def murmur3_32(values: Any, seed: int = 0) -> np.ndarray:
    """MurmurHash3_x86_32 of the UTF-8 bytes of each string, as uint32.

    Args:
        values: the strings. One of: a ``pyarrow`` string / large_string /
            string_view / binary (and large, view) array, a ``ChunkedArray`` or
            dictionary array of those; a numpy array of ``str`` objects
            (``object`` dtype), ``StringDType``, ``<U`` or ``S`` dtype (any
            shape; fixed-width ``<U``/``S`` values lose trailing NULs, as
            numpy itself stores them); a list or other iterable of ``str`` (or of ``bytes``, which
            are hashed as they are). A single ``str``, ``bytes`` or Arrow scalar
            gives a 0-d result. Nulls (``None``, NaN in object arrays, Arrow
            nulls) are hashed as the empty string; mask them beforehand.
        seed: the MurmurHash3 seed. Reduced modulo 2**32, the same cast that
            onnxruntime applies to the op's int64 ``seed`` attribute.

    Returns:
        A ``uint32`` array with one hash per string: the shape of a numpy
        input, 1-D for Arrow arrays and iterables, 0-d for a scalar.

    Raises:
        TypeError: ``values`` does not hold strings or bytes.

    Examples:
        >>> murmur3_32(["", "hello", "héllo", "a\\x00b"]).tolist()
        [0, 613153351, 3164577896, 1871496870]
        >>> import pyarrow as pa
        >>> murmur3_32(pa.array(["x", None, "hello"]).slice(1)).tolist()
        [0, 613153351]
        >>> murmur3_32(["hello"], seed=42).tolist()
        [3806057185]
        >>> murmur3_32("hello")
        array(613153351, dtype=uint32)
    """
    seed32 = int(seed) & _MASK32
    arrow, shape = _to_arrow(values)
    if isinstance(arrow, pa.ChunkedArray):
        parts = [_hash_array(chunk, seed32) for chunk in arrow.chunks]
        out = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint32)
    else:
        out = _hash_array(arrow, seed32)
    return out.reshape(shape) if shape is not None else out


def hash_to_buckets(values: Any, num_buckets: int, seed: int = 0) -> np.ndarray:
    """Bucket index ``murmur3_32(s, seed) % num_buckets`` of each string, as int64.

    This is the bucket rule of ``hash_strings`` and of hashed OOV buckets; the
    TensorFlow and ONNX lowerings compute the same numbers.

    Args:
        values: the strings, in any form `murmur3_32` accepts.
        num_buckets: the number of buckets, an int >= 1.
        seed: the MurmurHash3 seed (0 in every tskew op).

    Returns:
        An ``int64`` array of values in ``[0, num_buckets)``, shaped like the
        result of `murmur3_32`.

    Raises:
        ValueError: ``num_buckets`` is not a positive int.
        TypeError: ``values`` does not hold strings or bytes.

    Examples:
        >>> hash_to_buckets(["", "hello", "héllo"], 10).tolist()
        [0, 1, 6]
        >>> hash_to_buckets(["hello"], 1).tolist()
        [0]
    """
    if (
        isinstance(num_buckets, bool)
        or not isinstance(num_buckets, int | np.integer)
        or num_buckets < 1
    ):
        raise ValueError(f"num_buckets must be a positive int, got {num_buckets!r}")
    h = murmur3_32(values, seed)
    n = int(num_buckets)
    if n <= _MASK32:
        return (h % np.uint32(n)).astype(np.int64)
    return h.astype(np.int64)  # every uint32 is already < n


# --------------------------------------------------------------- input forms

_ARROW_CASTS = {
    pa.string_view(): pa.large_string(),
    pa.binary_view(): pa.large_binary(),
    pa.null(): pa.large_string(),
}


def _to_arrow(values: Any) -> tuple[pa.Array | pa.ChunkedArray, tuple[int, ...] | None]:
    """``values`` as an Arrow array of a string/binary type, plus the output shape
    (None: 1-D, the array's length)."""
    if isinstance(values, str | bytes | pa.Scalar):
        if isinstance(values, pa.Scalar):
            arr = pa.array([values.as_py()], type=values.type)
        else:
            arr = pa.array([values])
        return _check_arrow(arr), ()
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return _check_arrow(values), None
    if isinstance(values, np.ndarray):
        if values.dtype.kind not in "OUST":
            raise TypeError(f"murmur3_32 hashes strings, got a numpy array of {values.dtype}")
        flat = values.reshape(-1)
        if flat.dtype.kind != "O":
            # Via Python objects: pyarrow's direct conversion of "<U"/"S" arrays
            # cuts each value at its first NUL (and is no faster); StringDType
            # is not accepted by every pyarrow version.
            flat = flat.astype(object)
        return _check_arrow(_from_python(flat)), values.shape
    if isinstance(values, Iterable):
        seq = values if isinstance(values, list | tuple) else list(values)
        return _check_arrow(_from_python(seq)), None
    raise TypeError(f"murmur3_32 hashes strings, got {type(values).__name__}")


def _from_python(seq: Any) -> pa.Array:
    try:
        return pa.array(seq, from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid) as exc:
        raise TypeError(f"murmur3_32 hashes str or bytes values: {exc}") from exc


def _check_arrow(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    typ = arr.type
    if typ in _ARROW_CASTS:
        return arr.cast(_ARROW_CASTS[typ])
    if pa.types.is_dictionary(typ) and _is_bytes_type(typ.value_type):
        return arr
    if _is_bytes_type(typ):
        return arr
    raise TypeError(f"murmur3_32 hashes strings, got an Arrow array of {typ}")


def _is_bytes_type(typ: pa.DataType) -> bool:
    return (
        pa.types.is_string(typ)
        or pa.types.is_large_string(typ)
        or pa.types.is_binary(typ)
        or pa.types.is_large_binary(typ)
    )


# ------------------------------------------------------------------- hashing


_SAMPLE = 4096  # values looked at to decide whether dictionary-encoding first pays


def _hash_array(arr: pa.Array, seed: int) -> np.ndarray:
    """Hash one (non-chunked) Arrow array of a string/binary/dictionary type."""
    if isinstance(arr, pa.DictionaryArray):
        # Hash each dictionary entry once, then expand by the indices.
        dict_hashes = _hash_array(_check_arrow(arr.dictionary), seed)
        table = np.append(dict_hashes, _empty_hash(seed))  # last entry: for nulls
        idx = arr.indices.fill_null(len(dict_hashes)).to_numpy(zero_copy_only=False)
        return table[idx.astype(np.intp, copy=False)]
    if len(arr) > _SAMPLE and pc.count_distinct(arr.slice(0, _SAMPLE)).as_py() < _SAMPLE // 4:
        # Mostly repeated values (carriers, routes, OOV keys): hash each distinct one once.
        return _hash_array(pc.dictionary_encode(arr), seed)
    data, starts, lengths = _flat_buffers(arr)
    return _murmur3_flat(data, starts, lengths, seed)


def _empty_hash(seed: int) -> np.uint32:
    """The hash of the empty string (and of nulls) for ``seed``."""
    zero = np.zeros(1, np.int64)
    return _murmur3_flat(np.zeros(0, np.uint8), zero, zero, seed)[0]


def _flat_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The value bytes of ``arr`` (a zero-copy uint8 view) and int64 start offsets
    into them and lengths; nulls get length 0. Honours ``arr.offset`` (slices)."""
    n = len(arr)
    large = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    validity, offsets_buf, data_buf = arr.buffers()[:3]
    if n == 0 or offsets_buf is None:
        return np.zeros(0, np.uint8), np.zeros(n, np.int64), np.zeros(n, np.int64)
    off_type = np.int64 if large else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=off_type, count=arr.offset + n + 1)
    offsets = offsets[arr.offset :].astype(np.int64)
    first, last = int(offsets[0]), int(offsets[-1])
    lengths = np.diff(offsets)
    starts = offsets[:-1]
    starts -= first  # offsets is our own copy
    if validity is not None and arr.null_count:
        # Arrow allows a null slot to span non-empty bytes: force length 0.
        lengths[arr.is_null().to_numpy(zero_copy_only=False)] = 0
    if last > first and data_buf is not None:
        data = np.frombuffer(data_buf, dtype=np.uint8, count=last - first, offset=first)
    else:
        data = np.zeros(0, np.uint8)
    return data, starts, lengths


def _word_view(data: np.ndarray) -> np.ndarray:
    """A zero-copy view of the 4 bytes starting at *every* byte position of ``data``.

    The view has ``len(data) - 3`` items of the opaque 4-byte dtype ``V4`` with
    a stride of one byte (``data`` shorter than 4 bytes is zero-padded first).
    Fancy-indexing it and reinterpreting the result as little-endian uint32
    (`_gather_words`) is ~1.5x faster than indexing an unaligned ``<u4`` view.
    """
    if len(data) < 4:
        data = np.concatenate([data, np.zeros(4 - len(data), np.uint8)])
    return np.ndarray(shape=(len(data) - 3,), dtype="V4", buffer=data, strides=(1,))


def _gather_words(words: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The little-endian uint32 words at byte positions ``at`` (a new, writable array)."""
    return words[at].view("<u4").astype(np.uint32, copy=False)


def _rotl(x: np.ndarray, r: int, tmp: np.ndarray) -> None:
    """In-place 32-bit rotate-left of ``x`` by ``r`` (``tmp``: scratch, same shape)."""
    np.left_shift(x, np.uint32(r), out=tmp)
    np.right_shift(x, np.uint32(32 - r), out=x)
    np.bitwise_or(x, tmp, out=x)


def _mix_k(k: np.ndarray, tmp: np.ndarray | None = None) -> np.ndarray:
    """In-place ``k = rotl(k * c1, 15) * c2`` of MurmurHash3 (returns ``k``)."""
    k *= _C1
    _rotl(k, 15, np.empty_like(k) if tmp is None else tmp)
    k *= _C2
    return k


def _murmur3_flat(
    data: np.ndarray, starts: np.ndarray, lengths: np.ndarray, seed: int
) -> np.ndarray:
    """MurmurHash3_x86_32 of ``data[starts[i] : starts[i] + lengths[i]]`` for every i."""
    n = len(starts)
    if n == 0:
        return np.empty(0, dtype=np.uint32)
    words = _word_view(data)
    nblocks = lengths >> 2
    max_blocks = int(nblocks.max())
    tmp = np.empty(n, dtype=np.uint32)

    if max_blocks == 0:
        h = np.full(n, seed, dtype=np.uint32)
    else:
        # Order the strings by block count (a stable radix sort for small
        # keys): the strings that have a j-th block are then the suffix
        # [first_with[j]:] of that order, and each step is on plain slices.
        key = nblocks.astype(np.uint16) if max_blocks < 2**16 else nblocks
        order = np.argsort(key, kind="stable")
        starts_sorted = starts[order]
        counts = np.bincount(nblocks, minlength=max_blocks + 1)
        first_with = np.cumsum(counts)[:-1]  # first sorted position with > j blocks
        hs = np.full(n, seed, dtype=np.uint32)
        j = 0
        while j < max_blocks and n - first_with[j] >= PY_FOLD_BELOW:
            lo = int(first_with[j])
            t = tmp[lo:]
            k = _mix_k(_gather_words(words, starts_sorted[lo:] + 4 * j), t)
            hj = hs[lo:]
            hj ^= k
            _rotl(hj, 13, t)
            hj *= np.uint32(5)
            hj += _N
            j += 1
        if j < max_blocks:  # a few long strings are left: fold them in Python
            nb_sorted = nblocks[order]
            for pos in range(int(first_with[j]), n):
                b = int(starts_sorted[pos])
                at = np.arange(b + 4 * j, b + 4 * int(nb_sorted[pos]), 4)
                ks = _mix_k(_gather_words(words, at))
                hs[pos] = _fold(ks.tolist(), int(hs[pos]))
        h = np.empty(n, dtype=np.uint32)
        h[order] = hs

    # Tail bytes (len % 4 of them), read as one little-endian word and masked.
    # Near the end of the buffer the word is read up to 3 bytes earlier and
    # shifted down. For len % 4 == 0 the mask is 0 and mixing 0 gives 0.
    tail_at = starts + (nblocks << 2)
    read_at = np.minimum(tail_at, len(words) - 1)
    tail = _gather_words(words, read_at)
    tail >>= ((tail_at - read_at) << 3).astype(np.uint32)
    tail &= _TAIL_MASK[lengths & 3]
    h ^= _mix_k(tail, tmp)
    h ^= lengths.astype(np.uint32)  # the length modulo 2**32
    # fmix32
    h ^= h >> np.uint32(16)
    h *= _F1
    h ^= h >> np.uint32(13)
    h *= _F2
    h ^= h >> np.uint32(16)
    return h


def _fold(ks: list[int], h: int) -> int:
    """The sequential MurmurHash3 state update over already-mixed block words."""
    n_add = int(_N)
    for k in ks:
        h ^= k
        h = ((h << 13) | (h >> 19)) & _MASK32
        h = (h * 5 + n_add) & _MASK32
    return h
