"""Every op case x every backend: numpy against the expected values, the others against numpy.

Batch sizes 0, 1 and 10k are covered by slicing/tiling each probe. A case using
something a backend declares it cannot express (its lowering table's
``unsupported``) must fail there with `UnsupportedOpError` (a strict expected
failure); any other `UnsupportedOpError` is a missing lowering and fails.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import tskew as ts
from tests.conformance.cases import CASES, Case
from tskew.exporters import onnx as onnx_exporter
from tskew.exporters import tensorflow as tf_exporter
from tskew.interpreter import NUMPY
from tskew.lowering import LoweringTable
from tskew.verify import ULP_TOLERANCE


def run_numpy(tfn: ts.TransformFn, table: pa.Table) -> dict[str, np.ndarray]:
    out = tfn.transform(table)
    return {name: _np(out.column(name)) for name in out.column_names}


def _np(col: pa.ChunkedArray) -> np.ndarray:
    col = col.combine_chunks()
    if pa.types.is_fixed_size_list(col.type):
        width = col.type.list_size
        return col.flatten().to_numpy(zero_copy_only=False).reshape(len(col), width)
    return col.to_numpy(zero_copy_only=False)


def run_tensorflow(tfn: ts.TransformFn, table: pa.Table) -> dict[str, np.ndarray]:
    from tskew.exporters.saved_model import run_transform

    return run_transform(tfn, tensorflow_columns(tfn, table))


def tensorflow_columns(tfn: ts.TransformFn, table: pa.Table) -> dict[str, np.ndarray]:
    """The SavedModel's inputs for ``table``: values plus ``<name>__missing`` masks."""
    from tskew.exporters.saved_model import serving_inputs

    return serving_inputs(tfn, table)


def run_onnx(tfn: ts.TransformFn, table: pa.Table) -> dict[str, np.ndarray]:
    from tskew.exporters.onnx import output_name, run_onnx, transform_model

    out = run_onnx(transform_model(tfn.graph), tensorflow_columns(tfn, table))
    return {name: out[output_name(tfn.graph, name)] for name in tfn.graph.outputs}


# TensorFlow's CPU kernels flush subnormal floats to zero (inputs and results): on those
# backends parity is checked on inputs whose subnormals are already flushed, against a
# flushed reference. Everything else must be bit-identical.
FLUSHES_SUBNORMALS = {"tensorflow"}


def flush_subnormals(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind != "f":
        return values
    tiny = np.finfo(values.dtype).tiny
    return np.where(np.abs(values) < tiny, np.copysign(0, values).astype(values.dtype), values)


def flush_table(table: pa.Table) -> pa.Table:
    columns = {}
    for name in table.column_names:
        col = table.column(name).combine_chunks()
        if pa.types.is_floating(col.type):
            flushed = flush_subnormals(col.fill_null(0).to_numpy(zero_copy_only=False))
            col = pa.array(flushed, col.type, mask=col.is_null().to_numpy(zero_copy_only=False))
        columns[name] = col
    return pa.table(columns)


# Every backend's lowering table, whether or not its runtime is installed here.
TABLES: dict[str, LoweringTable] = {
    "numpy": NUMPY,
    "tensorflow": tf_exporter.LOWERINGS,
    "onnx": onnx_exporter.LOWERINGS,
}

# Backends that run here: name -> function(TransformFn, pa.Table) -> {output: ndarray}.
BACKENDS = {"numpy": run_numpy}
try:
    import tensorflow  # noqa: F401

    BACKENDS["tensorflow"] = run_tensorflow
except ImportError:
    pass
try:
    import onnxruntime  # noqa: F401

    BACKENDS["onnx"] = run_onnx
except ImportError:
    pass


def allowed_ulps(tfn: ts.TransformFn, backend: str) -> int:
    """The largest ulp difference the case's transcendental ops allow on ``backend``."""
    if backend == "numpy":
        return 0
    tolerances = ULP_TOLERANCE.get(backend, {})
    return max((tolerances.get(node.op, 0) for node in tfn.graph.nodes), default=0)


def assert_same_bits(got: np.ndarray, want: np.ndarray, what: str, ulps: int = 0) -> None:
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if got.dtype.kind == "f":
        same_nan = np.isnan(got) == np.isnan(want)
        assert same_nan.all(), f"{what}: NaN positions differ"
        g, w = got[~np.isnan(got)], want[~np.isnan(want)]
        if ulps:
            w = w.astype(got.dtype)
            close = (g == w) | (np.abs(g - w) <= ulps * np.abs(np.spacing(w)))
            assert close.all(), f"{what}: more than {ulps} ulp apart: {g[~close]} vs {w[~close]}"
        else:
            assert (g.view(np.uint8) == w.astype(got.dtype).view(np.uint8)).all(), (
                f"{what}: bits differ: {g} vs {w}"
            )
    else:
        assert (got == want).all(), f"{what}: {got} != {want}"


@pytest.fixture(scope="module", params=CASES, ids=lambda c: c.name)
def trained(request):
    case: Case = request.param
    tfn = ts.analyze(case.fn, _table_infer(case.train))
    return case, tfn


def _table_infer(data: dict) -> pa.Table:
    return pa.table({n: (v if isinstance(v, np.ndarray) else pa.array(v)) for n, v in data.items()})


def expected_values(case: Case, got: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The case's expected outputs in the dtypes the backend returned."""
    want = case.expected_outputs()
    assert set(want) == set(got), f"{case.name}: expected outputs {sorted(want)}, got {sorted(got)}"
    return {name: np.asarray(want[name], dtype=got[name].dtype) for name in got}


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@pytest.mark.parametrize("rows", ["probe", "empty", "single", "10k"])
def test_case_on_backend(trained, backend, rows):
    case, tfn = trained
    probe = _table_infer(case.probe)
    if backend in FLUSHES_SUBNORMALS:
        probe = flush_table(probe)
    declared = TABLES[backend].declared_unsupported(tfn.graph)
    if declared:
        with pytest.raises(ts.UnsupportedOpError):
            BACKENDS[backend](tfn, probe)
        pytest.xfail(f"declared not expressible on {backend}: {declared}")
    reference = run_numpy(tfn, probe)
    if backend == "numpy":
        reference = expected_values(case, reference)
    if backend in FLUSHES_SUBNORMALS:
        reference = {name: flush_subnormals(v) for name, v in reference.items()}
    if rows == "empty":
        probe = probe.slice(0, 0)
    elif rows == "single":
        probe = probe.slice(0, 1)
    elif rows == "10k":
        probe = pa.concat_tables([probe] * (10_000 // max(1, probe.num_rows) + 1)).slice(0, 10_000)
    got = BACKENDS[backend](tfn, probe)
    n = probe.num_rows
    for name, values in got.items():
        want = (
            np.resize(reference[name], (n, *reference[name].shape[1:]))
            if n
            else reference[name][:0]
        )
        ulps = allowed_ulps(tfn, backend)
        assert_same_bits(values, want, f"{case.name}/{name} on {backend} ({rows})", ulps)
