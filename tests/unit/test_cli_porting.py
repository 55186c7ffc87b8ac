"""The CLI as a TFT user meets it: a preprocessing module in the current directory,
--schema, CSV options, refused typos, export targets checked first, quiet TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tskew as ts
from tskew import cli

ROOT = Path(__file__).resolve().parents[2]
MODULE = """import tskew as ts

def preprocessing_fn(inputs):
    return {"age_z": ts.scale_to_z_score(inputs["age"])}

def stripped(inputs):
    return {"job": ts.strip(ts.fill_missing(inputs["job"], ""))}
"""
HEADERLESS = "39,State-gov\n50,Self-emp\n38,Private\n"


def _tskew(cwd: Path, *argv: str, **env: str) -> subprocess.CompletedProcess:
    """The installed ``tskew`` script (whose sys.path, unlike ``python -m``'s, lacks the
    current directory) in ``cwd``, with only the repository on PYTHONPATH."""
    script = Path(sys.executable).with_name("tskew")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "tskew"]
    return subprocess.run(
        [*command, *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        timeout=600,
        check=False,
    )


@pytest.fixture(autouse=True)
def _isolated_imports(monkeypatch):
    """The CLI puts the current directory on sys.path: undo that and forget the modules."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield
    for name in ("my_features", "broken_features", "syntax_features"):
        sys.modules.pop(name, None)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A user's directory: their module, a headerless CSV and one with a header."""
    (tmp_path / "my_features.py").write_text(MODULE)
    (tmp_path / "adult.csv").write_text(HEADERLESS)
    (tmp_path / "named.csv").write_text("age;job\n39;a\n50;b\n")
    return tmp_path


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_preprocessing_fn_module_in_the_current_directory(project):
    run = _tskew(
        project,
        "plan",
        "--preprocessing-fn",
        "my_features:preprocessing_fn",
        "--data",
        "named.csv",
        "--delimiter",
        ";",
    )
    assert run.returncode == 0, run.stderr
    assert "scale_to_z_score" in run.stdout or "age" in run.stdout
    run = _tskew(project, "plan", "--preprocessing-fn", "no_features:fn", "--data", "named.csv")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "cannot import module 'no_features'" in run.stderr
    assert "run tskew from the directory holding no_features.py" in run.stderr


def test_a_module_that_fails_to_import_is_named(project, capsys, monkeypatch):
    (project / "broken_features.py").write_text("import not_installed_pkg_xyz\n")
    (project / "syntax_features.py").write_text("def fn(:\n")
    monkeypatch.chdir(project)
    data = str(project / "named.csv")
    assert cli.main(["plan", "--preprocessing-fn", "broken_features:fn", "--data", data]) == 2
    line = _error(capsys)
    assert "importing 'broken_features' failed" in line and "not_installed_pkg_xyz" in line
    assert cli.main(["plan", "--preprocessing-fn", "syntax_features:fn", "--data", data]) == 2
    assert "importing 'syntax_features' failed: SyntaxError" in _error(capsys)


def test_headerless_csv_through_plan(project, capsys, monkeypatch):
    monkeypatch.chdir(project)
    argv = ["plan", "--preprocessing-fn", "my_features:preprocessing_fn", "--data", "adult.csv"]
    assert cli.main(argv) == 2
    line = _error(capsys)
    assert "adult.csv line 1: the header row (39, State-gov) looks like data" in line
    assert "--no-header --column-names" in line
    assert cli.main([*argv, "--no-header", "--column-names", "age,job"]) == 0
    assert "age" in capsys.readouterr().out


def test_schema_file_forms(project, capsys, monkeypatch):
    monkeypatch.chdir(project)
    tfn = ts.analyze(
        lambda i: {"age_z": ts.scale_to_z_score(i["age"])},
        str(project / "adult.csv"),
        header=None,
        column_names=["age", "job"],
    )
    tfn.save(project / "artifact")
    argv = ["plan", "--preprocessing-fn", "my_features:preprocessing_fn", "--data", "adult.csv"]
    # the artifact directory or its schema.json (the features the transform reads: the
    # file's columns are named), or a {name: dtype} JSON (its order names the columns)
    names = ["--no-header", "--column-names", "age,job"]
    for schema in ("artifact", "artifact/schema.json"):
        assert cli.main([*argv, "--schema", schema, *names]) == 0, schema
        assert "age: int64" in capsys.readouterr().out
    types = {"age": {"dtype": "float64", "nullable": False}, "job": "string"}
    (project / "types.json").write_text(json.dumps(types))
    assert cli.main([*argv, "--schema", "types.json", "--no-header"]) == 0
    assert "age: float64" in capsys.readouterr().out
    (project / "bad.json").write_text(json.dumps({"age": {"dtype": "int32"}}))
    assert cli.main([*argv, "--schema", "bad.json", "--no-header"]) == 2
    assert "--schema bad.json" in _error(capsys)
    assert cli.main([*argv, "--schema", "absent.json"]) == 2
    assert "--schema absent.json: no such file" in _error(capsys)


def test_schema_as_tfmd_text_proto(project, capsys, monkeypatch):
    pytest.importorskip("tensorflow_metadata")
    monkeypatch.chdir(project)
    (project / "schema.pbtxt").write_text(
        'feature { name: "age" type: FLOAT presence { min_fraction: 1.0 } }\n'
        'feature { name: "job" type: BYTES }\n'
    )
    argv = ["plan", "--preprocessing-fn", "my_features:preprocessing_fn", "--data", "adult.csv"]
    assert cli.main([*argv, "--schema", "schema.pbtxt", "--no-header"]) == 0
    # declared (a TFMD FLOAT is float32, as TFT parses it), not inferred int64
    assert "graph(age: float32)" in capsys.readouterr().out


def test_unknown_analyze_flags_are_refused_with_close_matches(project, capsys, monkeypatch):
    monkeypatch.chdir(project)
    base = ["analyze", "--preprocessing-fn", "my_features:preprocessing_fn"]
    base += ["--data", "named.csv", "--delimiter", ";", "--output", str(project / "out")]
    assert cli.main([*base, "--runnr=DirectRunner"]) == 2
    line = _error(capsys)
    assert "--runnr=DirectRunner (did you mean --runner?)" in line
    assert cli.main([*base, "--direct_num_workrs", "2"]) == 2
    assert "--direct_num_workrs (did you mean --direct_num_workers" in _error(capsys)
    assert not (project / "out").exists()


def test_analyze_reads_a_headerless_csv_on_beam(project, capsys, monkeypatch):
    monkeypatch.chdir(project)
    out = project / "out"
    argv = ["analyze", "--preprocessing-fn", "my_features:preprocessing_fn", "--data"]
    argv += ["adult.csv", "--output", str(out), "--no-header", "--column-names", "age,job"]
    assert cli.main([*argv, "--direct_num_workers=1"]) == 0, capsys.readouterr().err
    tfn = ts.load(out)
    assert tfn.statistics.num_rows == 3
    assert tfn.input_schema == ts.Schema({"age": ts.int64(False)})


def test_plan_target_reports_unsupported_ops_before_any_work(project, capsys, monkeypatch):
    monkeypatch.chdir(project)
    argv = ["plan", "--preprocessing-fn", "my_features:stripped", "--data", "named.csv"]
    argv += ["--delimiter", ";"]
    assert cli.main([*argv, "--target", "tensorflow"]) == 0
    assert "exportable to: tensorflow" in capsys.readouterr().out
    assert cli.main([*argv, "--target", "onnx"]) == 2
    line = _error(capsys)
    assert "onnx: op 'strip' (needed by output 'job')" in line
    assert cli.main([*argv, "--target", "tflite"]) == 2
    assert "target 'tflite'" in _error(capsys)
    out = project / "never"
    argv[0] = "analyze"
    assert cli.main([*argv, "--target", "onnx", "--output", str(out)]) == 2
    assert "'strip'" in _error(capsys) and not out.exists()


def test_skew_report_output_file_keeps_stdout_to_one_line(project, capsys):
    tfn = ts.analyze(
        lambda i: {"age_z": ts.scale_to_z_score(i["age"])},
        str(project / "named.csv"),
        delimiter=";",
    )
    art = tfn.save(project / "art")
    (project / "serving.csv").write_text("age\n" + "\n".join(str(40 + i % 9) for i in range(200)))
    for fmt in ("text", "json"):
        report = project / f"r.{fmt}"
        argv = ["skew-report", "--artifact", str(art), "--serving", str(project / "serving.csv")]
        code = cli.main([*argv, "--format", fmt, "--output", str(report)])
        out = capsys.readouterr().out.strip().splitlines()
        assert len(out) == 1, out  # the report is in the file, not on stdout
        verdict = "PASSED" if code == 0 else "FAILED (skew beyond an error threshold)"
        assert out[0] == f"tskew skew-report: wrote {fmt} report to {report}: {verdict}"
        assert report.stat().st_size > 100


def test_export_and_verify_print_no_tensorflow_noise(project):
    pytest.importorskip("tensorflow")
    tfn = ts.analyze(lambda i: {"age_z": ts.scale_to_z_score(i["age"])}, {"age": [1.0, 2.0]})
    tfn.save(project / "art")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    run = subprocess.run(
        [sys.executable, "-m", "tskew", "export", "art", "--saved-model", "sm"],
        capture_output=True,
        text=True,
        cwd=project,
        env={**env, "PYTHONPATH": str(ROOT)},
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""  # no C++ start-up lines, no AutoGraph warning
    assert run.stdout.startswith("tskew export: wrote SavedModel sm")
