"""Run a TransformFn on every available backend and compare each output with numpy.

Tolerances are the documented ones: bit-identical, except the transcendental ops in
`ULP_TOLERANCE` (the largest tolerance of the ops an output depends on applies), and
TensorFlow, whose CPU kernels flush subnormal floats to zero (a subnormal numpy result
is compared as ±0 there).

Example:
    >>> import tskew as ts
    >>> tfn = ts.analyze(lambda i: {"y": ts.log1p(i["x"])}, {"x": [1.0, 2.0]})
    >>> report = verify(tfn, {"x": [0.5, 3.0]}, backends=["numpy"])
    >>> report.ok, report.rows[0].backend, report.rows[0].max_ulp
    (True, 'numpy', 0)
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tskew.catalog import ulp_tolerances
from tskew.errors import UnsupportedOpError
from tskew.transform_fn import TransformFn

# backend -> op -> ulp its results may differ from numpy: each op spec's ``ulp`` fact.
ULP_TOLERANCE: dict[str, dict[str, int]] = ulp_tolerances()
FLUSHES_SUBNORMALS = {"tensorflow"}


@dataclass
class FeatureParity:
    """How one output of one backend compares with numpy."""

    feature: str
    backend: str
    rows: int
    mismatches: int
    max_abs: float | None  # floats only
    max_ulp: int | None  # floats only
    allowed_ulp: int

    @property
    def ok(self) -> bool:
        return self.mismatches == 0


@dataclass
class ParityReport:
    """Per-feature parity of every backend that ran.

    Attributes:
        rows: one `FeatureParity` per output and backend that ran.
        failed: backend -> why it could not run the transform (an op it cannot
            express); a failure, like a mismatch.
        skipped: backend -> why it was not run (not installed; only when the
            backends were not named, so the default is "every installed backend").
    """

    rows: list[FeatureParity] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and all(r.ok for r in self.rows)

    def table(self) -> str:
        header = (
            "feature",
            "backend",
            "rows",
            "mismatches",
            "max abs diff",
            "max ulp",
            "allowed",
            "",
        )
        lines = [header]
        for r in self.rows:
            lines.append(
                (
                    r.feature,
                    r.backend,
                    f"{r.rows:,}",
                    f"{r.mismatches:,}",
                    "-" if r.max_abs is None else f"{r.max_abs:.3g}",
                    "-" if r.max_ulp is None else str(r.max_ulp),
                    str(r.allowed_ulp),
                    "ok" if r.ok else "MISMATCH",
                )
            )
        widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
        text = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in lines
        ]
        text += [f"{backend}: FAILED, cannot run ({why})" for backend, why in self.failed.items()]
        text += [f"{backend}: skipped ({why})" for backend, why in self.skipped.items()]
        return "\n".join(text)


BACKENDS = ("numpy", "tensorflow", "onnx")
# backend -> (modules it needs, the extra that installs them)
_NEEDS = {"tensorflow": (("tensorflow",), "tf"), "onnx": (("onnx", "onnxruntime"), "onnx")}


def missing_packages(backend: str) -> str | None:
    """Why ``backend`` cannot run here (its missing packages and the extra), or None."""
    modules, extra = _NEEDS.get(backend, ((), ""))
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if not missing:
        return None
    return f"{', '.join(missing)} not installed: pip install 'tskew[{extra}]'"


def available_backends() -> list[str]:
    """numpy, plus tensorflow and onnx when their packages are installed."""
    return [b for b in BACKENDS if missing_packages(b) is None]


def verify(tfn: TransformFn, data: Any, backends: Sequence[str] | None = None) -> ParityReport:
    """Transform ``data`` on each backend and compare every output with the numpy executor.

    Args:
        tfn: the transform.
        data: the rows to run (anything `tskew.io.open_source` reads).
        backends: the backends to check. Named ones must run: one that is not
            installed is a `ConfigError`, one that cannot express the transform is in
            ``report.failed`` (so ``report.ok`` is False). None: every installed backend,
            the others listed in ``report.skipped`` with the reason.
    """
    import pyarrow as pa

    from tskew.exporters.saved_model import serving_inputs
    from tskew.io import open_source

    report = ParityReport()
    if backends is None:
        chosen = available_backends()
        report.skipped = {b: why for b in BACKENDS if (why := missing_packages(b))}
    else:
        chosen = _requested(backends)
    batches = tfn.transform_batches(open_source(data, tfn.input_schema).batches())
    table = pa.Table.from_batches(list(batches), schema=tfn.arrow_output_schema)
    reference = {name: _numpy(table.column(name)) for name in tfn.graph.outputs}
    feed = serving_inputs(tfn, data)
    for backend in chosen:
        try:
            got = _RUNNERS[backend](tfn, feed) if backend != "numpy" else reference
        except UnsupportedOpError as err:
            report.failed[backend] = str(err)
            continue
        for name, want in reference.items():
            allowed = _allowed_ulp(tfn, name, backend)
            report.rows.append(compare_backend(name, backend, got[name], want, allowed))
    return report


def _requested(backends: Sequence[str]) -> list[str]:
    """Backends named by the caller: known and installed, else a `ConfigError`."""
    from tskew.errors import ConfigError

    chosen = list(dict.fromkeys(backends))
    for backend in chosen:
        if backend not in BACKENDS:
            raise ConfigError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
        if why := missing_packages(backend):
            raise ConfigError(f"backend {backend!r} was requested but cannot run: {why}")
    if not chosen:
        raise ConfigError(f"no backend named; expected some of {', '.join(BACKENDS)}")
    return chosen


def _numpy(col: Any) -> np.ndarray:
    import pyarrow as pa

    col = col.combine_chunks()
    if pa.types.is_fixed_size_list(col.type):
        return col.flatten().to_numpy(zero_copy_only=False).reshape(len(col), col.type.list_size)
    return col.to_numpy(zero_copy_only=False)


def _run_tensorflow(tfn: TransformFn, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    from tskew.exporters.saved_model import run_transform

    return run_transform(tfn, feed)


def _run_onnx(tfn: TransformFn, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    from tskew.exporters.onnx import output_name, run_onnx, transform_model

    out = run_onnx(transform_model(tfn.graph), feed)
    return {name: out[output_name(tfn.graph, name)] for name in tfn.graph.outputs}


_RUNNERS: dict[str, Callable[[TransformFn, dict[str, np.ndarray]], dict[str, np.ndarray]]] = {
    "tensorflow": _run_tensorflow,
    "onnx": _run_onnx,
}


def _allowed_ulp(tfn: TransformFn, output: str, backend: str) -> int:
    tolerance = ULP_TOLERANCE.get(backend, {})
    ops = {tfn.graph.nodes[n].op for n in tfn.graph.ancestors([tfn.graph.outputs[output]])}
    return max((tolerance.get(op, 0) for op in ops), default=0)


def compare_backend(
    name: str, backend: str, got: np.ndarray, want: np.ndarray, allowed: int
) -> FeatureParity:
    """One feature's values from ``backend`` against numpy's, within ``allowed`` ulps.

    Example:
        >>> import numpy as np
        >>> want = np.array([1.0, 2.0], np.float32)
        >>> got = np.nextafter(want, np.float32(3))
        >>> compare_backend("y", "onnx", got, want, allowed=1).ok
        True
    """
    got, want = np.asarray(got), np.asarray(want)
    if want.dtype.kind != "f":
        same = np.asarray(got.astype(want.dtype) == want if got.shape == want.shape else False)
        mismatches = (
            int(np.size(want) - np.count_nonzero(same)) if got.shape == want.shape else len(want)
        )
        return FeatureParity(name, backend, len(want), mismatches, None, None, allowed)
    got = got.astype(want.dtype)
    if backend in FLUSHES_SUBNORMALS:
        tiny = np.finfo(want.dtype).tiny
        want = np.where(np.abs(want) < tiny, np.copysign(0, want).astype(want.dtype), want)
    ulps = ulp_distance(got, want)
    both_nan = np.isnan(got) & np.isnan(want)
    with np.errstate(invalid="ignore"):
        abs_diff = np.where(both_nan | (got == want), 0.0, np.abs(got.astype(np.float64) - want))
    bad = ulps > allowed
    return FeatureParity(
        name,
        backend,
        len(want),
        int(np.count_nonzero(bad)),
        float(np.nanmax(abs_diff, initial=0.0)) if abs_diff.size else 0.0,
        int(ulps.max(initial=0)),
        allowed,
    )


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Number of representable floats between a and b (0 for equal values and for NaN == NaN).

    Example:
        >>> a, b = [1.0, 0.0, np.nan], [np.nextafter(1.0, 2), -0.0, np.nan]
        >>> ulp_distance(np.array(a), np.array(b))
        array([1, 0, 0])
    """
    ints = {np.dtype(np.float32): np.int32, np.dtype(np.float64): np.int64}[a.dtype]
    top = np.iinfo(ints).max

    def ordered(x: np.ndarray) -> np.ndarray:
        bits = x.view(ints).astype(np.int64)
        return np.where(bits < 0, -(bits & top), bits)  # -0.0 and +0.0 both map to 0

    oa, ob = ordered(a), ordered(b)
    with np.errstate(over="ignore"):
        same_side = (oa >= 0) == (ob >= 0)
        exact = np.abs(oa - ob)
    approx = np.abs(oa.astype(np.float64) - ob.astype(np.float64))
    dist = np.where(same_side, exact, np.minimum(approx, np.iinfo(np.int64).max)).astype(np.int64)
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    dist = np.where(nan_a & nan_b, 0, dist)
    return np.where(nan_a ^ nan_b, np.iinfo(np.int64).max, dist)
