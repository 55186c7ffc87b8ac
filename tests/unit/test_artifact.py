"""Save/load round trip, and every way an artifact can be broken."""

from __future__ import annotations

import json

import pytest

import tskew as ts


def fn(inputs):
    return {
        "z": ts.scale_to_z_score(ts.impute(inputs["x"], "mean")),
        "id": ts.compute_and_apply_vocabulary(ts.fill_missing(inputs["s"], ""), num_oov_buckets=2),
        "b": ts.bucketize(ts.fill_missing(inputs["x"], 0.0), 3),
    }


DATA = {"x": [1.0, 2.5, None, 7.0, -3.0], "s": ["a", "tab\there", "new\nline", "", "ünï"]}


@pytest.fixture
def saved(tmp_path):
    tfn = ts.analyze(fn, DATA)
    return tfn, tfn.save(tmp_path / "art")


def test_round_trip_gives_identical_graph_statistics_and_outputs(saved):
    tfn, path = saved
    loaded = ts.load(path)
    assert loaded.graph == tfn.graph
    assert loaded.statistics.to_json() == tfn.statistics.to_json()
    assert loaded.input_schema == tfn.input_schema
    probe = {"x": [0.5, None], "s": ["new\nline", "zz"]}
    assert loaded.transform(probe)["id"].tolist() == tfn.transform(probe)["id"].tolist()
    assert str(loaded) == str(tfn)


def test_no_pickle_anywhere(saved):
    _, path = saved
    for f in path.rglob("*"):
        if f.is_file():
            assert b"pickle" not in f.read_bytes().lower()
            assert f.suffix in (".json", ".arrow")


@pytest.mark.parametrize("victim", ["graph.json", "statistics.json", "arrays/0000.arrow"])
def test_tampered_file_is_named(saved, victim):
    _, path = saved
    f = path / victim
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0x01
    f.write_bytes(bytes(data))
    with pytest.raises(ts.ArtifactError, match=victim.replace(".", r"\.") + ".*sha256"):
        ts.load(path)


def test_truncated_file(saved):
    _, path = saved
    f = path / "graph.json"
    f.write_bytes(f.read_bytes()[:100])
    with pytest.raises(ts.ArtifactError, match=r"graph\.json.*truncated"):
        ts.load(path)


def test_missing_file_and_missing_manifest(saved):
    _, path = saved
    (path / "schema.json").unlink()
    with pytest.raises(ts.ArtifactError, match=r"schema\.json.*missing"):
        ts.load(path)
    (path / "manifest.json").unlink()
    with pytest.raises(ts.ArtifactError, match=r"manifest\.json.*missing"):
        ts.load(path)


def test_newer_format_version_asks_to_upgrade(saved):
    _, path = saved
    m = json.loads((path / "manifest.json").read_text())
    m["format_version"] = 99
    (path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ts.ArtifactError, match=r"format version 99.*Upgrade tskew"):
        ts.load(path)


def test_corrupt_manifest_and_not_a_directory(saved, tmp_path):
    _, path = saved
    (path / "manifest.json").write_text("{not json")
    with pytest.raises(ts.ArtifactError, match=r"manifest\.json.*corrupt JSON"):
        ts.load(path)
    with pytest.raises(ts.ArtifactError, match="no such artifact"):
        ts.load(tmp_path / "nope")


def test_consistent_but_invalid_graph_is_rejected(saved):
    """A graph edited with matching checksums still fails verification."""
    import hashlib

    _, path = saved
    g = json.loads((path / "graph.json").read_text())
    g["nodes"][-1]["op"] = "no_such_op"
    data = json.dumps(g).encode()
    (path / "graph.json").write_bytes(data)
    m = json.loads((path / "manifest.json").read_text())
    m["files"]["graph.json"] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ts.ArtifactError, match="unknown op 'no_such_op'"):
        ts.load(path)
