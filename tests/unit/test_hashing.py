"""tskew.hashing: vectorised MurmurHash3_x86_32 against mmh3 and onnxruntime."""

from __future__ import annotations

import random

import mmh3
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tskew.hashing import PY_FOLD_BELOW, hash_to_buckets, murmur3_32


def ref(values: list[str | bytes | None], seed: int = 0) -> np.ndarray:
    """The oracle: mmh3 one string at a time; None hashes as the empty string."""
    out = []
    for v in values:
        b = b"" if v is None else v if isinstance(v, bytes) else v.encode("utf-8")
        out.append(mmh3.hash(b, seed, signed=False))
    return np.array(out, dtype=np.uint32)


def rand_text(rng: random.Random, length: int) -> str:
    """ASCII, BMP and astral characters mixed, no surrogates."""
    pools = [(0, 0x7F), (0x80, 0x7FF), (0x800, 0xD7FF), (0xE000, 0xFFFF), (0x10000, 0x10FFFF)]
    return "".join(chr(rng.randint(*rng.choice(pools))) for _ in range(length))


# Text including non-ASCII, NUL, newlines and astral characters (st.text never
# yields surrogates), empty and long strings.
texts = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=st.sampled_from(["\x00", "\n", "a", "é", "日", "😀"]), max_size=40),
    st.text(max_size=600),
)
seeds = st.one_of(st.sampled_from([0, 1, 42, 2**31, 2**32 - 1]), st.integers(0, 2**32 - 1))


# ------------------------------------------------------------- known vectors

# Published MurmurHash3_x86_32 test vectors (bytes, seed, hash).
KNOWN = [
    (b"", 0, 0),
    (b"", 1, 0x514E28B7),
    (b"", 0xFFFFFFFF, 0x81F16F39),
    (b"\xff\xff\xff\xff", 0, 0x76293B50),
    (b"!Ce\x87", 0, 0xF55B516B),
    (b"!Ce\x87", 0x5082EDEE, 0x2362F9DE),
    (b"!Ce", 0, 0x7E4A8634),
    (b"!C", 0, 0xA0F7B07A),
    (b"!", 0, 0x72661CF4),
    (b"\x00\x00\x00\x00", 0, 0x2362F9DE),
    (b"\x00\x00\x00", 0, 0x85F0B427),
    (b"\x00\x00", 0, 0x30F4C306),
    (b"\x00", 0, 0x514E28B7),
    (b"Hello, world!", 1234, 0xFAF6CDB3),
    (b"The quick brown fox jumps over the lazy dog", 0x9747B28C, 0x2FA826CD),
]


@pytest.mark.parametrize(("data", "seed", "expected"), KNOWN)
def test_published_vectors(data: bytes, seed: int, expected: int) -> None:
    assert mmh3.hash(data, seed, signed=False) == expected  # the oracle agrees
    assert murmur3_32([data], seed).tolist() == [expected]
    assert murmur3_32(pa.array([data], pa.binary()), seed).tolist() == [expected]


def test_known_strings_match_mmh3() -> None:
    xs = [
        "",
        "hello",
        "héllo",
        "a\x00b",
        "日本語",
        "😀",
        "line\nbreak",
        "abcd",
        "abcde",
        "x" * 10_000,
    ]
    got = murmur3_32(xs)
    assert got.dtype == np.uint32
    assert got.shape == (len(xs),)
    np.testing.assert_array_equal(got, ref(xs))
    assert got[0] == 0 and got[1] == 613153351


# ------------------------------------------------------- property: vs mmh3


@settings(max_examples=200, deadline=None)
@given(xs=st.lists(texts, max_size=60), seed=seeds)
def test_matches_mmh3_all_input_forms(xs: list[str], seed: int) -> None:
    expected = ref(xs, seed)
    np.testing.assert_array_equal(murmur3_32(xs, seed), expected)
    np.testing.assert_array_equal(murmur3_32(pa.array(xs, pa.string()), seed), expected)
    np.testing.assert_array_equal(murmur3_32(pa.array(xs, pa.large_string()), seed), expected)
    obj = np.array(xs, dtype=object)
    np.testing.assert_array_equal(murmur3_32(obj, seed), expected)
    np.testing.assert_array_equal(murmur3_32(iter(xs), seed), expected)


@settings(max_examples=100, deadline=None)
@given(
    xs=st.lists(st.one_of(st.none(), texts), min_size=1, max_size=40),
    data=st.data(),
)
def test_slices_with_nulls(xs: list[str | None], data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(xs)))
    stop = data.draw(st.integers(start, len(xs)))
    for typ in (pa.string(), pa.large_string()):
        arr = pa.array(xs, typ).slice(start, stop - start)
        assert arr.offset == start
        np.testing.assert_array_equal(murmur3_32(arr), ref(xs[start:stop]))


@settings(max_examples=100, deadline=None)
@given(chunks=st.lists(st.lists(st.one_of(st.none(), texts), max_size=10), max_size=5))
def test_chunked_arrays(chunks: list[list[str | None]]) -> None:
    chunked = pa.chunked_array([pa.array(c, pa.string()) for c in chunks], type=pa.string())
    flat = [x for c in chunks for x in c]
    np.testing.assert_array_equal(murmur3_32(chunked), ref(flat))


@settings(max_examples=100, deadline=None)
@given(xs=st.lists(texts, max_size=40), n=st.integers(1, 2**40))
def test_buckets_match_mmh3(xs: list[str], n: int) -> None:
    got = hash_to_buckets(xs, n)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, ref(xs).astype(np.int64) % n)
    assert ((got >= 0) & (got < n)).all()


# ------------------------------------------------------- lengths and paths


@pytest.mark.parametrize("length", [*range(0, 40), 255, 256, 257, 1023, 4096, 10_000, 100_003])
def test_every_length_and_tail(length: int) -> None:
    rng = random.Random(length)
    s = rand_text(rng, length)
    b = bytes(rng.randrange(256) for _ in range(length))
    assert murmur3_32([s]).tolist() == ref([s]).tolist()
    assert murmur3_32([b], seed=7).tolist() == ref([b], 7).tolist()


def test_short_strings_at_buffer_end() -> None:
    # Buffers shorter than 4 bytes and tail words that would run off the end.
    for xs in (["a"], ["ab"], ["abc"], ["", "a"], ["ab", "c"], ["abcd", "e"], ["abcde", "fg"]):
        np.testing.assert_array_equal(murmur3_32(xs), ref(xs))
        np.testing.assert_array_equal(murmur3_32(pa.array(["xyz", *xs]).slice(1)), ref(xs))


@pytest.mark.parametrize("n_long", [1, PY_FOLD_BELOW - 1, PY_FOLD_BELOW, PY_FOLD_BELOW + 5])
def test_mixed_short_and_long_strings(n_long: int) -> None:
    # Exercises the vectorised column loop, the hand-over to the Python fold
    # of the last few long strings, and the un-sorting of the result.
    rng = random.Random(n_long)
    xs = [rand_text(rng, rng.randint(0, 20)) for _ in range(300)]
    xs += [rand_text(rng, rng.randint(300, 3000)) for _ in range(n_long)]
    rng.shuffle(xs)
    for seed in (0, 99):
        np.testing.assert_array_equal(murmur3_32(xs, seed), ref(xs, seed))
        np.testing.assert_array_equal(murmur3_32(pa.array(xs), seed), ref(xs, seed))


def test_many_random_batches() -> None:
    rng = random.Random(0)
    for _ in range(30):
        n = rng.randint(0, 200)
        xs = [
            rand_text(rng, rng.choice([rng.randint(0, 12), rng.randint(0, 400)])) for _ in range(n)
        ]
        np.testing.assert_array_equal(murmur3_32(xs), ref(xs))


# ------------------------------------------------------------ input forms


def test_numpy_string_dtypes_and_shapes() -> None:
    xs = ["", "hello", "héllo", "日本語"]
    expected = ref(xs)
    np.testing.assert_array_equal(murmur3_32(np.array(xs)), expected)  # <U
    np.testing.assert_array_equal(murmur3_32(np.array(xs, dtype=object)), expected)
    grid = np.array(xs, dtype=object).reshape(2, 2)
    got = murmur3_32(grid)
    assert got.shape == (2, 2)
    np.testing.assert_array_equal(got, expected.reshape(2, 2))
    b = [b"", b"a\x00b", b"\xff\xfe"]
    np.testing.assert_array_equal(murmur3_32(np.array(b, dtype="S")), ref(b))
    np.testing.assert_array_equal(murmur3_32(np.array(b, dtype=object)), ref(b))


def test_numpy_stringdtype() -> None:
    dtypes = pytest.importorskip("numpy.dtypes")
    if not hasattr(dtypes, "StringDType"):
        pytest.skip("numpy < 2 has no StringDType")
    xs = ["", "hello", "héllo\x00x", "日本語"]
    np.testing.assert_array_equal(murmur3_32(np.array(xs, dtype=dtypes.StringDType())), ref(xs))
    with_na = np.array(["a", None], dtype=dtypes.StringDType(na_object=None))
    np.testing.assert_array_equal(murmur3_32(with_na), ref(["a", None]))


def test_scalars_give_0d() -> None:
    for value in ("hello", b"hello", pa.scalar("hello"), np.array("hello", dtype=object)):
        got = murmur3_32(value)
        assert got.shape == ()
        assert int(got) == 613153351
    assert int(murmur3_32(pa.scalar(None, pa.string()))) == 0
    assert hash_to_buckets("hello", 10).shape == ()


def test_nulls_hash_as_empty_string() -> None:
    xs = ["a", None, "bc", None]
    for seed in (0, 5):
        expected = ref(xs, seed)
        np.testing.assert_array_equal(murmur3_32(xs, seed), expected)
        np.testing.assert_array_equal(murmur3_32(pa.array(xs), seed), expected)
        obj = np.array(["a", float("nan"), "bc", None], dtype=object)
        np.testing.assert_array_equal(murmur3_32(obj, seed), expected)


def test_null_slot_spanning_bytes_is_still_empty() -> None:
    # Arrow allows a null slot to cover non-empty bytes; they must be ignored.
    offsets = np.array([0, 3, 7, 9], dtype=np.int32)
    validity = pa.array([True, False, True]).buffers()[1]
    arr = pa.StringArray.from_buffers(
        3, pa.py_buffer(offsets.tobytes()), pa.py_buffer(b"abcXXXXde"), validity, 1
    )
    assert arr.to_pylist() == ["abc", None, "de"]
    np.testing.assert_array_equal(murmur3_32(arr), ref(["abc", None, "de"]))


def test_dictionary_view_and_null_arrays() -> None:
    xs = ["b", None, "a", "b", "日本"]
    np.testing.assert_array_equal(murmur3_32(pa.array(xs).dictionary_encode()), ref(xs))
    np.testing.assert_array_equal(murmur3_32(pa.array(xs, pa.string_view())), ref(xs))
    np.testing.assert_array_equal(murmur3_32(pa.array(xs, pa.large_binary())), ref(xs))
    np.testing.assert_array_equal(murmur3_32(pa.array([None, None])), ref([None, None]))
    all_null_dict = pa.DictionaryArray.from_arrays(
        pa.array([None, None], pa.int32()), pa.array([], pa.string())
    )
    np.testing.assert_array_equal(murmur3_32(all_null_dict), ref([None, None]))


def test_empty_inputs() -> None:
    for empty in (
        [],
        pa.array([], pa.string()),
        pa.chunked_array([], pa.string()),
        np.array([], dtype=object),
    ):
        got = murmur3_32(empty)
        assert got.dtype == np.uint32 and got.shape == (0,)
        assert hash_to_buckets(empty, 3).dtype == np.int64


def test_input_not_modified() -> None:
    xs = ["hello world", "abcdefgh", "日本語テキスト"]
    arr = pa.array(xs)
    murmur3_32(arr, 3)
    assert arr.to_pylist() == xs


def test_seed_wraps_modulo_2_32() -> None:
    xs = ["", "hello", "héllo"]
    np.testing.assert_array_equal(murmur3_32(xs, -1), murmur3_32(xs, 2**32 - 1))
    np.testing.assert_array_equal(murmur3_32(xs, 2**32 + 5), murmur3_32(xs, 5))


@pytest.mark.parametrize(
    "bad", [np.array([1, 2]), [1, 2], pa.array([1, 2]), 3.5, pa.array([[b"a"]])]
)
def test_non_strings_rejected(bad: object) -> None:
    with pytest.raises(TypeError):
        murmur3_32(bad)


@pytest.mark.parametrize("n", [0, -1, True, 1.5, "3", None])
def test_bad_bucket_counts_rejected(n: object) -> None:
    with pytest.raises(ValueError, match="num_buckets"):
        hash_to_buckets(["a"], n)  # type: ignore[arg-type]


def test_buckets_accept_numpy_ints() -> None:
    assert hash_to_buckets(["hello"], np.int64(10)).tolist() == [613153351 % 10]


# ---------------------------------------------------------- onnxruntime


def _ort_murmur(positive: int, seed: int):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime not installed")
    onnx = pytest.importorskip("onnx", reason="onnx not installed")
    from onnx import TensorProto, helper

    node = helper.make_node(
        "MurmurHash3", ["x"], ["y"], domain="com.microsoft", positive=positive, seed=seed
    )
    out_type = TensorProto.UINT32 if positive else TensorProto.INT32
    graph = helper.make_graph(
        [node],
        "murmur",
        [helper.make_tensor_value_info("x", TensorProto.STRING, [None])],
        [helper.make_tensor_value_info("y", out_type, [None])],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
    )
    onnx.checker.check_model(model)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return lambda xs: sess.run(None, {"x": np.array(xs, dtype=object)})[0]


def _ort_strings() -> list[str]:
    rng = random.Random(1)
    xs = [
        "",
        "a",
        "ab",
        "abc",
        "abcd",
        "hello",
        "héllo",
        "a\x00b",
        "\x00",
        "line\nbreak",
        "日本語",
        "😀",
        "x" * 10_000,
        rand_text(rng, 5000),
    ]
    xs += [rand_text(rng, rng.randint(0, 40)) for _ in range(200)]
    return xs


@pytest.mark.parametrize("seed", [0, 1, 42])
def test_onnxruntime_murmurhash3_matches(seed: int) -> None:
    run = _ort_murmur(positive=1, seed=seed)
    xs = _ort_strings()
    got = run(xs)
    assert got.dtype == np.uint32
    np.testing.assert_array_equal(got, murmur3_32(xs, seed))
    np.testing.assert_array_equal(got, ref(xs, seed))


def test_onnxruntime_signed_variant_is_same_bits() -> None:
    run = _ort_murmur(positive=0, seed=0)
    xs = _ort_strings()
    got = run(xs)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got.view(np.uint32), murmur3_32(xs))


def test_repeated_strings_take_the_dictionary_path_with_the_same_hashes():
    """Over 4096 mostly repeated values are hashed once per distinct value: same results."""
    values = [["", "a", "ünï", "日本", "x" * 70, None][i % 6] for i in range(10_000)]
    got = murmur3_32(pa.array(values, pa.string()))
    want = [mmh3.hash((v or "").encode(), 0, signed=False) for v in values]
    assert got.tolist() == want
