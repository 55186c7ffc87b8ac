"""Every op case x every backend, against the numpy reference and hand-computed values.

Batch sizes 0, 1 and 10k are covered by slicing/tiling each probe.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import tskew as ts
from tests.conformance.cases import CASES, ULP_TOLERANT, Case


def run_numpy(tfn: ts.TransformFn, table: pa.Table) -> dict[str, np.ndarray]:
    out = tfn.transform(table)
    return {name: _np(out.column(name)) for name in out.column_names}


def _np(col: pa.ChunkedArray) -> np.ndarray:
    col = col.combine_chunks()
    if pa.types.is_fixed_size_list(col.type):
        width = col.type.list_size
        return col.flatten().to_numpy(zero_copy_only=False).reshape(len(col), width)
    return col.to_numpy(zero_copy_only=False)


# Backends register here: name -> function(TransformFn, pa.Table) -> {output: ndarray}.
BACKENDS = {"numpy": run_numpy}


def assert_same_bits(got: np.ndarray, want: np.ndarray, what: str, ulps: int = 0) -> None:
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if got.dtype.kind == "f":
        same_nan = np.isnan(got) == np.isnan(want)
        assert same_nan.all(), f"{what}: NaN positions differ"
        g, w = got[~np.isnan(got)], want[~np.isnan(want)]
        if ulps:
            spacing = np.abs(np.spacing(w.astype(got.dtype)))
            assert (np.abs(g - w) <= ulps * spacing).all(), f"{what}: more than {ulps} ulp apart"
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


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@pytest.mark.parametrize("rows", ["probe", "empty", "single", "10k"])
def test_case_on_backend(trained, backend, rows):
    case, tfn = trained
    probe = _table_infer(case.probe)
    reference = run_numpy(tfn, probe)
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
        ulps = 1 if backend != "numpy" and any(op in case.name for op in ULP_TOLERANT) else 0
        assert_same_bits(values, want, f"{case.name}/{name} on {backend} ({rows})", ulps)


def test_expected_values_of_numpy_reference(trained):
    case, tfn = trained
    if case.expected is None:
        pytest.skip("no hand-computed values for this case; covered by cross-backend parity")
    got = run_numpy(tfn, _table_infer(case.probe))
    for name, want in case.expected.items():
        want_arr = np.asarray(want, dtype=got[name].dtype)
        assert_same_bits(got[name], want_arr, f"{case.name}/{name}")
