"""In-process analyze (+ transform) of the flights data: tskew vs TFT vs a numpy floor.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_analyze.py [--rows 1000000,5000000]``.
Each measurement runs in a fresh process (best of ``--repeat``); TFT runs on Beam's
DirectRunner from its own venv (``benchmarks/.venv-tft``, created on first use),
fed Arrow RecordBatches through TFXIO. Prints a table and updates RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from flights_data import as_lists, replicated  # noqa: E402
from results import write_section  # noqa: E402

TFT_VENV = HERE / ".venv-tft"
TFT_PYTHON = TFT_VENV / "bin" / "python"
TFT_REQUIREMENTS = ["tensorflow-transform==1.21.0", "apache-beam", "pyarrow", "pandas"]


def ensure_tft_venv() -> Path:
    """Create the TFT venv once (about two minutes from the package mirror)."""
    probe = [str(TFT_PYTHON), "-c", "import tensorflow_transform"]
    if TFT_PYTHON.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return TFT_PYTHON
    print("creating benchmarks/.venv-tft with TensorFlow Transform (one-off) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(TFT_VENV)], check=True)
    subprocess.run([str(TFT_PYTHON), "-m", "pip", "install", "-q", *TFT_REQUIREMENTS], check=True)
    return TFT_PYTHON


def measure(python: Path | str, mode: str, path: Path, repeat: int) -> dict:
    """Best of ``repeat`` fresh-process runs of one mode."""
    best = None
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
    for _ in range(repeat):
        proc = subprocess.run(
            [str(python), str(HERE / "analyze_workers.py"), mode, str(path)],
            capture_output=True,
            text=True,
            env=env,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{mode} failed:\n{proc.stderr[-3000:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        if best is None or result["seconds"] < best["seconds"]:
            best = result
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000,5000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tft-repeat", type=int, default=1)
    parser.add_argument("--skip-tft", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    sizes = [int(r) for r in args.rows.split(",")]
    tft_python = None if args.skip_tft else ensure_tft_venv()

    results: dict[tuple[int, str], dict] = {}
    for rows in sizes:
        path = replicated(rows)
        for mode in ("floor", "tskew-analyze", "tskew-transform", "tskew_beam-analyze",
                     "tskew_beam-transform"):
            results[rows, mode] = measure(sys.executable, mode, path, args.repeat)
            print(f"{rows:>9,} {mode:<16} {results[rows, mode]['seconds']:8.2f} s", flush=True)
        if tft_python:
            lists = as_lists(path)
            for mode in ("tft-analyze", "tft-transform"):
                results[rows, mode] = measure(tft_python, mode, lists, args.tft_repeat)
                print(f"{rows:>9,} {mode:<16} {results[rows, mode]['seconds']:8.2f} s", flush=True)

    lines = render(results, sizes)
    print("\n".join(lines))
    if not args.no_write:
        write_section(HERE / "RESULTS.md", "Analyze (in-process) vs TFT", "\n".join(lines))


def render(results: dict, sizes: list[int]) -> list[str]:
    head = [
        "| rows | tool | what | seconds | rows/s | peak RSS MB | TFT / tskew |",
        "|---:|---|---|---:|---:|---:|---:|",
    ]
    body = []
    for rows in sizes:
        for mode in ("floor", "tskew-analyze", "tskew_beam-analyze", "tft-analyze",
                     "tskew-transform", "tskew_beam-transform", "tft-transform"):
            if (rows, mode) not in results:
                continue
            r = results[rows, mode]
            tool, _, what = mode.partition("-")
            tool = tool.replace("tskew_beam", "tskew on Beam (DirectRunner)")
            what = {"analyze": "analyze", "transform": "analyze + transform", "": "reductions"}[
                what
            ]
            ratio = ""
            if tool == "tft" and (rows, f"tskew-{mode[4:]}") in results:
                beam_key = (rows, f"tskew_beam-{mode[4:]}")
                ratio = f"{r['seconds'] / results[rows, 'tskew-' + mode[4:]]['seconds']:.1f}x"
                if beam_key in results:
                    ratio += f" (Beam: {r['seconds'] / results[beam_key]['seconds']:.1f}x)"
            body.append(
                f"| {rows:,} | {tool} | {what} | {r['seconds']:.2f} | "
                f"{rows / r['seconds']:,.0f} | {r['peak_rss_mb']:.0f} | {ratio} |"
            )
    notes = []
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]

        def slope(mode: str) -> float:
            return (results[hi, mode]["seconds"] - results[lo, mode]["seconds"]) / (hi - lo)

        floor = slope("floor")
        for mode in ("tskew-analyze", "tskew-transform"):
            notes.append(
                f"- marginal cost per row ({lo:,} -> {hi:,} rows), {mode}: "
                f"{slope(mode) * 1e9:.0f} ns vs floor {floor * 1e9:.0f} ns "
                f"({slope(mode) / floor:.1f}x the floor)"
            )
        beam_lo, beam_hi = results.get((lo, "tskew_beam-analyze")), results.get(
            (hi, "tskew_beam-analyze"))
        if beam_lo and beam_hi:
            notes.append(f"- tskew on Beam vs in-process at {hi:,} rows: analyze "
                         f"{beam_hi['seconds'] / results[hi, 'tskew-analyze']['seconds']:.1f}x "
                         f"the in-process time; Beam analyze peak RSS {lo:,} -> {hi:,} rows: "
                         f"{beam_hi['peak_rss_mb'] / beam_lo['peak_rss_mb']:.2f}x")
        if (hi, "tft-transform") in results:
            notes.append(
                f"- marginal cost per row, tft-transform: {slope('tft-transform') * 1e9:.0f} ns"
            )
    machine = (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{datetime.date.today().isoformat()}"
    )
    return [
        f"Machine: {machine}. Command: `.venv/bin/python benchmarks/bench_analyze.py "
        f"--rows {','.join(map(str, sizes))}`. Best of several fresh processes (TFT: "
        "DirectRunner, RecordBatches via TFXIO, one run); times exclude interpreter start "
        "and imports; peak RSS includes imports (TensorFlow's are large).",
        "",
        *head,
        *body,
        "",
        *notes,
    ]


if __name__ == "__main__":
    main()
