"""Continuous float features (every value distinct): tskew vs TFT, scikit-learn, polars, a floor.

Run: ``.venv/bin/python benchmarks/bench_continuous.py [--rows 1000000,4000000] [--repeat 3]
[--only tskew,polars,...]``, or ``--big [--big-rows 100000000]`` for tskew in-process alone on
a big file. Data: ``continuous_data.py`` (8 float64 columns, one zipf string column, Parquet
in ``/work/bench-data``, written once). The preprocessing_fn: z-scores of x0..x7,
``bucketize(x0, 10)``, ``scale_to_0_1(x1)``, ``compute_and_apply_vocabulary(s, top_k=1000)``.
Every measurement is a fresh process (``continuous_workers.py``), contenders interleaved
round-robin, best of ``--repeat`` with the spread; TFT runs on the DirectRunner in its own venv
(``bench_analyze.ensure_tft_venv``), fed RecordBatches through TFXIO. Prints a table and
rewrites its sections of RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_analyze import ensure_tft_venv  # noqa: E402
from continuous_data import continuous  # noqa: E402
from flights_data import as_lists  # noqa: E402
from results import write_section  # noqa: E402

CONTENDERS = ["floor", "tskew", "tskew_beam", "tft", "sklearn", "polars"]
LABELS = {
    "floor": "floor (pyarrow read + one sum per column)",
    "tskew": "tskew `ts.analyze` (in-process)",
    "tskew_beam": "tskew on Beam (DirectRunner)",
    "tft": "TFT AnalyzeDataset (DirectRunner)",
    "sklearn": "scikit-learn fit (4 transformers)",
    "polars": "polars (read + same statistics)",
}
TITLE = "Continuous features (every value distinct) vs TFT, scikit-learn, polars"
BIG_TITLE = "Continuous features, big file (tskew in-process alone)"


def _status_mb(pid: int) -> dict[str, float]:
    """VmHWM (peak) and VmRSS (current) of a running process, in MB."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(("VmHWM:", "VmRSS:")):
                    out[line[:5]] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out


def run_one(
    python: Path | str, mode: str, arg: str, timeout: float, max_rss_mb: float | None = None
) -> dict:
    """One fresh-process measurement. Polls the child's peak RSS, so a run stopped at
    ``timeout`` (or when its RSS passes ``max_rss_mb``, to spare a shared machine from the OOM
    killer) still reports how far its memory had grown."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(HERE.parent), env.get("PYTHONPATH", "")) if p
    )
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(python), str(HERE / "continuous_workers.py"), mode, arg],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    peak = 0.0
    while proc.poll() is None:
        status = _status_mb(proc.pid)
        peak = max(peak, status.get("VmHWM", 0.0))
        elapsed = time.perf_counter() - started
        over = max_rss_mb is not None and status.get("VmRSS", 0.0) > max_rss_mb
        if elapsed > timeout or over:
            proc.kill()
            proc.communicate()
            why = f"RSS over {max_rss_mb:.0f} MB" if over else "timeout"
            return {"mode": mode, "timeout": elapsed, "stopped": why, "peak_rss_mb": peak}
        time.sleep(0.2)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} {arg} failed:\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def summarize(runs: list[dict]) -> dict:
    done = [r for r in runs if "seconds" in r]
    out = {"runs": runs, "peak_rss_mb": max(r["peak_rss_mb"] for r in runs)}
    if done:
        times = [r["seconds"] for r in done]
        out |= {"seconds": min(times), "min": min(times), "max": max(times)}
    if len(done) < len(runs):
        out["timeouts"] = len(runs) - len(done)
        out["timeout"] = max(r["timeout"] for r in runs if "timeout" in r)
    return out


def fmt_seconds(s: dict) -> str:
    if "seconds" not in s:
        return f"> {s['timeout']:.0f} (stopped)"
    return f"{s['seconds']:.2f}"


def ratio(res: dict, rows: int, num: str, den: str) -> tuple[float, float, float] | None:
    """best(num) / best(den), and the range of the per-round ratios (same round = same load)."""
    a, b = res.get((rows, num)), res.get((rows, den))
    if not a or not b or "seconds" not in a or "seconds" not in b:
        return None
    pairs = [
        x["seconds"] / y["seconds"]
        for x, y in zip(a["runs"], b["runs"], strict=False)
        if "seconds" in x and "seconds" in y
    ]
    best = a["seconds"] / b["seconds"]
    return best, min(pairs, default=best), max(pairs, default=best)


def render(res: dict, sizes: list[int], head: str) -> list[str]:
    lines = [
        head,
        "",
        "| rows | contender | seconds (best) | min-max | spread | rows/s | peak RSS MB |",
        "|---:|---|---:|---|---:|---:|---:|",
    ]
    for rows in sizes:
        for mode in CONTENDERS:
            s = res.get((rows, mode))
            if not s:
                continue
            if "seconds" in s:
                spread = f"{(s['max'] - s['min']) / s['min']:.0%}"
                span = f"{s['min']:.2f}-{s['max']:.2f}"
                rate = f"{rows / s['seconds']:,.0f}"
            else:
                spread = span = rate = ""
            if s.get("timeouts"):
                span += f" ({s['timeouts']} stopped at {s['timeout']:.0f} s)"
            lines.append(
                f"| {rows:,} | {LABELS[mode]} | {fmt_seconds(s)} | {span} | {spread} | "
                f"{rate} | {s['peak_rss_mb']:.0f} |"
            )
    lines.append("")
    lines += [f"- {n}" for n in notes(res, sizes)]
    return lines


def notes(res: dict, sizes: list[int]) -> list[str]:
    out = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    for rows in sizes:
        parts = []
        for num, den, label, goal in (
            ("tft", "tskew", "TFT / tskew", 10.0 if rows <= 1_000_000 else 5.0),
            ("tft", "tskew_beam", "TFT / tskew Beam", 3.0 if rows >= 4_000_000 else None),
            ("sklearn", "tskew", "sklearn / tskew", 1.0),
            ("tskew", "polars", "tskew / polars", None),
        ):
            r = ratio(res, rows, num, den)
            if r is None:
                continue
            text = f"{label} {r[0]:.2f}x ({r[1]:.2f}-{r[2]:.2f})"
            if goal is not None:
                text += f" [goal >= {goal:g}x: {verdict(r[0] >= goal)}]"
            if label == "tskew / polars":
                text += f" [goal <= 2x: {verdict(r[0] <= 2.0)}]"
            parts.append(text)
        if parts:
            out.append(f"{rows:,} rows: " + "; ".join(parts))
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]

        def secs(mode: str, rows: int) -> float | None:
            s = res.get((rows, mode))
            return s.get("seconds") if s else None

        floor_lo, floor_hi = secs("floor", lo), secs("floor", hi)
        for mode in ("tskew", "tskew_beam"):
            t_lo, t_hi = secs(mode, lo), secs(mode, hi)
            if None in (t_lo, t_hi, floor_lo, floor_hi):
                continue
            per_row = (t_hi - t_lo) / (hi - lo) * 1e9
            floor_row = (floor_hi - floor_lo) / (hi - lo) * 1e9
            out.append(
                f"marginal cost per row ({lo:,} -> {hi:,}), {LABELS[mode]}: {per_row:,.0f} ns vs "
                f"floor {floor_row:,.0f} ns = {per_row / floor_row:.1f}x the floor"
            )
        growth = []
        for mode in CONTENDERS:
            a, b = res.get((lo, mode)), res.get((hi, mode))
            if a and b:
                growth.append(f"{mode} {b['peak_rss_mb'] / a['peak_rss_mb']:.2f}x")
        if growth:
            out.append(f"peak RSS growth {hi:,} / {lo:,} rows: " + ", ".join(growth))
        a, b = res.get((lo, "tskew")), res.get((hi, "tskew"))
        if a and b:
            g = b["peak_rss_mb"] / a["peak_rss_mb"]
            out.append(f"tskew in-process memory goal (growth <= 1.2x): {verdict(g <= 1.2)}")
    return out


def machine_line(extra: str, load: float) -> str:
    def git(*argv: str) -> str:
        try:
            return subprocess.run(
                ["git", "-C", str(HERE.parent), *argv], capture_output=True, text=True
            ).stdout.strip()
        except OSError:
            return ""

    rev = git("rev-parse", "--short", "HEAD") or "?"
    if git("status", "--porcelain", "--", "tskew"):
        rev += " + uncommitted changes in tskew/"
    return (
        f"Machine: {os.cpu_count()} cores (shared, noisy), Python {platform.python_version()}, "
        f"{datetime.date.today().isoformat()}, tskew {rev}, load average (1 min) "
        f"{load:.1f} at start and {os.getloadavg()[0]:.1f} at the end. Command: "
        f"`.venv/bin/python benchmarks/bench_continuous.py {extra}`."
    )


def main_big(args) -> None:
    rows = args.big_rows
    load = os.getloadavg()[0]
    print(f"generating {rows:,} rows (once) ...", flush=True)
    gen = run_one(sys.executable, "generate", str(rows), timeout=3600)
    print(f"generated in {gen['seconds']:.1f} s, peak RSS {gen['peak_rss_mb']:.0f} MB", flush=True)
    path = continuous(rows)
    size_gb = path.stat().st_size / 1e9
    r = run_one(
        sys.executable, "tskew", str(path), args.big_timeout, max_rss_mb=args.big_max_rss_mb
    )
    seconds = fmt_seconds(r if "seconds" in r else {"timeout": r["timeout"]})
    ok_t = "seconds" in r and r["seconds"] <= 180
    ok_m = r["peak_rss_mb"] <= 2048
    lines = [
        machine_line(
            f"--big --big-rows {rows} --big-timeout {args.big_timeout:.0f} "
            f"--big-max-rss-mb {args.big_max_rss_mb:.0f}",
            load,
        ),
        "",
        "| rows | file GB | tskew `ts.analyze` seconds | peak RSS MB | goal (<= 180 s, <= 2 GB) |",
        "|---:|---:|---:|---:|---|",
        f"| {rows:,} | {size_gb:.1f} | {seconds} | {r['peak_rss_mb']:.0f} | "
        f"time {'met' if ok_t else 'NOT met'}, memory {'met' if ok_m else 'NOT met'} |",
        "",
        f"- generating the file (once, row groups written as generated): "
        f"{gen['seconds']:.0f} s, peak RSS {gen['peak_rss_mb']:.0f} MB",
    ]
    if "seconds" not in r:
        lines.append(
            f"- the run was stopped ({r['stopped']}) after {r['timeout']:.0f} s, unfinished; "
            "its peak RSS is the last value polled before then"
        )
    print("\n".join(lines))
    if not args.no_write:
        write_section(HERE / "RESULTS.md", BIG_TITLE, "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000,4000000")
    parser.add_argument("--only", default=",".join(CONTENDERS), help="contenders, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--timeout",
        type=float,
        default=900,
        help="wall seconds per measurement (start-up included)",
    )
    parser.add_argument("--big", action="store_true", help="tskew in-process alone, --big-rows")
    parser.add_argument("--big-rows", type=int, default=100_000_000)
    parser.add_argument("--big-timeout", type=float, default=1800)
    parser.add_argument(
        "--big-max-rss-mb", type=float, default=8192, help="stop the --big run above this RSS"
    )
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    if args.big:
        main_big(args)
        return
    sizes = [int(r) for r in args.rows.split(",")]
    only = [c for c in CONTENDERS if c in args.only.split(",")]
    unknown = set(args.only.split(",")) - set(CONTENDERS)
    if unknown:
        parser.error(f"unknown contenders {sorted(unknown)}; choose from {CONTENDERS}")
    tft_python = ensure_tft_venv() if "tft" in only else None
    load = os.getloadavg()[0]
    paths = {rows: continuous(rows) for rows in sizes}
    lists = {rows: as_lists(paths[rows]) for rows in sizes} if tft_python else {}

    runs: dict[tuple[int, str], list[dict]] = {}
    for round_ in range(args.repeat):
        for rows in sizes:
            for mode in only:
                python, arg = sys.executable, str(paths[rows])
                if mode == "tft":
                    python, arg = tft_python, str(lists[rows])
                r = run_one(python, mode, arg, args.timeout)
                runs.setdefault((rows, mode), []).append(r)
                shown = f"{r['seconds']:8.2f} s" if "seconds" in r else "  stopped"
                print(
                    f"round {round_ + 1} {rows:>11,} {mode:<11} {shown} {r['peak_rss_mb']:7.0f} MB",
                    flush=True,
                )
    res = {key: summarize(value) for key, value in runs.items()}
    extra = f"--rows {args.rows} --repeat {args.repeat}"
    if args.only != ",".join(CONTENDERS):
        extra += f" --only {args.only}"
    head = (
        machine_line(extra, load)
        + " Each measurement is a fresh process; contenders interleaved round-robin; best of "
        f"{args.repeat} with the min-max of all runs (spread = (max - min) / min). Times "
        "include reading the Parquet file and exclude interpreter start and imports; peak RSS "
        "(VmHWM) includes imports (TensorFlow's are large). Ratios are best / best, with the "
        "range of the per-round ratios in brackets. TFT: analyzers on float64, inputs as "
        "one-value list columns read into RecordBatches (TFXIO); sklearn: pandas.read_parquet, "
        "then StandardScaler, KBinsDiscretizer(10, quantile; its default subsample=200,000 "
        "rows), MinMaxScaler and OrdinalEncoder(max_categories=1000) fitted; polars: "
        "read_parquet, mean/std, exact deciles of x0 (one sort), min/max, top-1000 value counts."
    )
    lines = render(res, sizes, head)
    print("\n".join(lines))
    if not args.no_write:
        write_section(HERE / "RESULTS.md", TITLE, "\n".join(lines))


if __name__ == "__main__":
    main()
