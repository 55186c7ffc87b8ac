"""`verify` and `tskew verify`: a backend that was asked for and cannot run is a failure."""

from __future__ import annotations

import pytest

import tskew as ts
import tskew.verify as verify_module
from tskew import cli
from tskew.verify import available_backends, verify


def _stripped(inputs):
    return {"s": ts.strip(inputs["s"]), "n2": inputs["n"] * 2}


@pytest.fixture(scope="module")
def stripped_artifact(tmp_path_factory):
    tfn = ts.analyze(_stripped, {"s": [" a", "b "], "n": [1, 2]})
    root = tmp_path_factory.mktemp("verify")
    (root / "data.csv").write_text("s,n\n a ,3\nc,4\n")
    return tfn, tfn.save(root / "artifact"), root / "data.csv"


def test_a_backend_that_cannot_express_the_transform_fails(stripped_artifact):
    pytest.importorskip("onnxruntime")
    tfn, _, data = stripped_artifact
    report = verify(tfn, str(data), ["numpy", "onnx"])
    assert not report.ok
    assert "'strip'" in report.failed["onnx"]
    assert "onnx: FAILED, cannot run" in report.table()
    assert verify(tfn, str(data), ["numpy"]).ok


def test_cli_verify_exits_1_when_onnx_cannot_run_and_0_on_a_subset(stripped_artifact, capsys):
    pytest.importorskip("onnxruntime")
    _, art, data = stripped_artifact
    assert cli.main(["verify", str(art), "--data", str(data), "--backends", "numpy,onnx"]) == 1
    out = capsys.readouterr().out
    assert "tskew verify: FAILED: onnx cannot run this transform" in out
    assert cli.main(["verify", str(art), "--data", str(data), "--backends", "numpy"]) == 0
    assert "tskew verify: all backends agree within the documented tolerance (numpy)" in (
        capsys.readouterr().out
    )
    assert cli.main(["verify", str(art), "--data", str(data), "--backends", "numpy,tpu"]) == 2
    assert "unknown backend 'tpu'" in capsys.readouterr().err


def test_missing_extras_skip_by_default_and_fail_when_requested(monkeypatch):
    # a backend whose package is absent here, as onnx is without tskew[onnx]
    monkeypatch.setitem(verify_module._NEEDS, "onnx", (("no_such_runtime_xyz",), "onnx"))
    assert "onnx" not in available_backends()
    tfn = ts.analyze(lambda i: {"y": i["x"] + 1.0}, {"x": [1.0, 2.0]})
    report = verify(tfn, {"x": [3.0]})
    assert report.ok
    assert report.skipped["onnx"] == "no_such_runtime_xyz not installed: pip install 'tskew[onnx]'"
    assert "onnx: skipped (no_such_runtime_xyz not installed" in report.table()
    with pytest.raises(ts.ConfigError, match="backend 'onnx' was requested but cannot run"):
        verify(tfn, {"x": [3.0]}, ["onnx"])
