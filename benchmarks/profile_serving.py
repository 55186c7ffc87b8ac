"""Where tskew's serving signature spends the time the floor does not: ablations.

Run: ``.venv/bin/python benchmarks/profile_serving.py``. Exports the tskew SavedModel
as is and with candidate changes to the TF lowering applied by monkeypatching
(tskew's source is not touched), plus the floor and an "empty" function with the
same 16 inputs (the fixed cost of calling a loaded signature from Python). Prints
op counts and best-of-``--repeat`` p50 latencies (1 row) and rows/s (1k rows).

Ablations (each keeps tskew's outputs equal on this preprocessing, checked):

* ``oov1``: ``num_oov_buckets=1`` needs no hash (``h % 1 == 0``): skip murmur3.
* ``nowhere``: skip the per-input ``tf.where(mask, 0, x)`` in ``TransformModule.transform``
  (the ops downstream of a nullable input here are all ``fill_missing``).
* ``noopaque``: constants used as they are instead of ``_opaque`` (``broadcast_to(c,
  shape(x))``, which stops Grappler's ``x - 0`` -> ``x`` rewrites); only when the lowering
  has ``_opaque``. Equal outputs here (compared with ==, so -0.0 == 0.0).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import serving_models as sm  # noqa: E402
from bench_serving import compare, latency_us, op_histogram, throughput  # noqa: E402
from flights_data import flights_table, replicated  # noqa: E402
from results import write_section  # noqa: E402


@contextlib.contextmanager
def patched(oov1: bool, nowhere: bool, noopaque: bool = False):
    import tensorflow as tf

    import tskew.exporters.saved_model as sm_mod
    import tskew.exporters.tensorflow as tf_mod

    saved = tf_mod._hash_buckets, sm_mod.TransformModule.transform
    saved_opaque = getattr(tf_mod, "_opaque", None)
    if noopaque and saved_opaque is not None:
        tf_mod._opaque = lambda c, like: c
    if oov1:
        original = tf_mod._hash_buckets

        def hash_buckets(strings, buckets):
            if buckets == 1:
                return tf.zeros(tf.shape(strings), tf.int64)
            return original(strings, buckets)

        tf_mod._hash_buckets = hash_buckets
    if nowhere:

        def transform(self, features):
            bound = {}
            for name, (dtype, nullable) in self.features.items():
                values = tf.convert_to_tensor(features[name], tf_mod.tf_dtype(dtype))
                mask = features.get(name + sm_mod.MISSING_SUFFIX) if nullable else None
                bound[name] = tf_mod.TfCol(values, mask)
            return self.lowering(bound)

        sm_mod.TransformModule.transform = transform
    try:
        yield
    finally:
        tf_mod._hash_buckets, sm_mod.TransformModule.transform = saved
        if saved_opaque is not None:
            tf_mod._opaque = saved_opaque


def export_empty(tfn, out: Path) -> Path:
    """Same inputs and output names/dtypes as tskew's signature, no computation."""
    import tensorflow as tf

    from tskew.exporters.saved_model import raw_features
    from tskew.exporters.tensorflow import tf_dtype

    specs, names = [], []
    for name, (dtype, nullable) in raw_features(tfn.graph).items():
        specs.append(tf.TensorSpec([None], tf_dtype(dtype), name=name))
        names.append(name)
        if nullable:
            specs.append(tf.TensorSpec([None], tf.bool, name=name + sm.MISSING))
            names.append(name + sm.MISSING)
    outputs = {out: tfn.graph.nodes[nid].type.dtype for out, nid in tfn.graph.outputs.items()}

    def fn(*args):
        n = tf.shape(args[0])
        return {out: tf.zeros(n, tf_dtype(dtype)) for out, dtype in outputs.items()}

    module = tf.Module()
    module.serve = tf.function(fn, input_signature=specs)
    concrete = module.serve.get_concrete_function()
    tf.saved_model.save(module, str(out), signatures={"serving_default": concrete})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--batch-calls", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()

    import tensorflow as tf

    tfn = sm.train_tskew(replicated(100_000))
    full = flights_table()
    singles = [sm.tskew_inputs(tfn, full.slice(100_000 + i, 1)) for i in range(512)]
    batches = [sm.tskew_inputs(tfn, full.slice(101_000 + 1000 * k, 1000)) for k in range(20)]
    variants = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, oov1, nowhere, noopaque in [
            ("tskew", False, False, False),
            ("tskew+oov1", True, False, False),
            ("tskew+nowhere", False, True, False),
            ("tskew+noopaque", False, False, True),
            ("tskew+oov1+nowhere+noopaque", True, True, True),
        ]:
            with patched(oov1, nowhere, noopaque):
                sm.export_tskew(tfn, tmp / name)
        sm.export_floor(tfn, tmp / "floor")
        export_empty(tfn, tmp / "empty")
        for path in sorted(tmp.iterdir()):
            variants[path.name] = tf.saved_model.load(str(path)).signatures["serving_default"]
        reference = {k: v.numpy() for k, v in variants["tskew"](**batches[0]).items()}
        for name, sig in variants.items():
            if name != "empty":
                got = {k: v.numpy() for k, v in sig(**batches[0]).items()}
                checks = compare(reference, got)
                same = all(v in ("max |diff| 0", "100.0% equal") for v in checks.values())
                assert same, (name, checks)

        results = {name: [] for name in variants}
        for _ in range(args.repeat):
            for name, sig in variants.items():
                fn = lambda x, sig=sig: sig(**x)  # noqa: E731
                p50, _ = latency_us(fn, singles, args.calls, 200)
                rows_s = throughput(fn, batches, args.batch_calls, 10, 1000)
                results[name].append((p50, rows_s))
    lines = [
        "Command: `.venv/bin/python benchmarks/profile_serving.py`. The tskew signature as "
        "exported, and with candidate lowering changes monkeypatched in (outputs checked "
        "equal); `empty` has the same 16 inputs and 11 outputs and computes nothing "
        f"(the fixed cost of a loaded signature call). Best of {args.repeat} interleaved runs.",
        "",
        "| variant | ops (incl. nested functions) | 1 row p50 µs | 1k-row batches rows/s "
        "| p50 of each run |",
        "|---|---:|---:|---:|---|",
    ]
    for name, sig in variants.items():
        ops, _ = op_histogram(sig)
        p50 = min(r[0] for r in results[name])
        rows_s = max(r[1] for r in results[name])
        runs = ", ".join(f"{r[0]:.0f}" for r in results[name])
        lines.append(f"| {name} | {ops} | {p50:.0f} | {rows_s:,.0f} | {runs} |")
    lines += [
        "",
        "- `oov1`: `num_oov_buckets=1` computes `size + murmur3(key) % 1`; the hash is "
        "always 0, so the OOV id is the constant `size` (no murmur3 graph).",
        "- `nowhere`: no `tf.where(mask, 0, x)` on each nullable input before the lowering.",
        "- `noopaque`: constant operands used directly, not `broadcast_to(c, shape(x))` "
        "(`_opaque`, which keeps Grappler from rewriting `x - 0`; equal outputs here, compared "
        "with ==).",
    ]
    print("\n".join(lines))
    print(f"(numpy {np.__version__}, TF {tf.__version__})")
    if not args.no_write:
        write_section(
            HERE / "RESULTS.md", "Serving profile: tskew signature ablations", "\n".join(lines)
        )


if __name__ == "__main__":
    main()
