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


# ------------------------------------------------------------ malformed content (issue 13.15)


def _rewrite(path, name, obj):
    """Replace one file's JSON and fix the manifest, as an attacker with write access could."""
    import hashlib

    data = json.dumps(obj).encode() if not isinstance(obj, bytes) else obj
    (path / name).write_bytes(data)
    m = json.loads((path / "manifest.json").read_text())
    m["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (path / "manifest.json").write_text(json.dumps(m))


def _json(path, name):
    return json.loads((path / name).read_text())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["files"].update({"graph.json": 3}), "must be an object"),
        (lambda m: m["files"].update({"graph.json": {"sha256": 1, "bytes": 2}}), "sha256"),
        (lambda m: m["files"].update({"../x.json": m["files"]["graph.json"]}), "outside"),
        (lambda m: m.update(format_version=0), "format_version 0"),
        (lambda m: m.update(format_version=-1), "format_version -1"),
        (lambda m: m.update(format_version=True), "not an integer"),
        (lambda m: m.update(files=[]), "'files' table"),
        (lambda m: m.update(tskew_version={"a": 1}), "tskew_version"),
    ],
)
def test_malformed_manifest_is_an_artifact_error(saved, edit, message):
    _, path = saved
    m = _json(path, "manifest.json")
    edit(m)
    (path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ts.ArtifactError, match=message):
        ts.load(path)


def test_deeply_nested_json_is_an_artifact_error(saved):
    _, path = saved
    (path / "manifest.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ts.ArtifactError, match="manifest"):
        ts.load(path)
    (path / "manifest.json").write_bytes(b"[" * 600 + b"]" * 600)
    with pytest.raises(ts.ArtifactError, match="nested deeper"):
        ts.load(path)


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        ("graph.json", lambda g: g["nodes"][0].update(attrs=[1]), "attrs an object"),
        ("graph.json", lambda g: g["nodes"][0].update(id="0"), "id must be an integer"),
        ("graph.json", lambda g: g["nodes"][0].update(type="float64"), "type must be"),
        ("graph.json", lambda g: g.update(outputs=[1]), "outputs"),
        ("statistics.json", lambda s: s.update(num_rows="5"), "num_rows"),
        ("statistics.json", lambda s: s["inputs"].update(x=[]), "must be an object"),
        ("statistics.json", lambda s: s["inputs"]["x"].update(mean={"float": "0x1p9999"}), "mean"),
        ("statistics.json", lambda s: s["inputs"]["x"].update(top_values=[[1]]), "top_values"),
        ("schema.json", lambda s: s["x"].update(nullable="yes"), "nullable"),
        ("schema.json", lambda s: s["x"].update(dtype="float16"), "dtype"),
    ],
)
def test_wrong_json_types_are_artifact_errors(saved, name, edit, message):
    _, path = saved
    obj = _json(path, name)
    edit(obj)
    _rewrite(path, name, obj)
    with pytest.raises(ts.ArtifactError, match=message):
        ts.load(path)


def test_metadata_must_be_an_object(saved):
    _, path = saved
    _rewrite(path, "metadata.json", [1, 2])
    with pytest.raises(ts.ArtifactError, match="metadata"):
        ts.load(path)


def _const_nodes(graph_json):
    return [n for n in graph_json["nodes"] if n["op"] == "const"]


def test_hex_float_out_of_range_is_an_artifact_error(saved):
    _, path = saved
    g = _json(path, "graph.json")
    const = next(n for n in _const_nodes(g) if isinstance(n["attrs"]["value"], dict)
                 and "float" in n["attrs"]["value"])  # fmt: skip
    const["attrs"]["value"] = {"float": "0x1p99999"}
    _rewrite(path, "graph.json", g)
    with pytest.raises(ts.ArtifactError, match="hex float"):
        ts.load(path)


def test_constant_of_the_wrong_type_fails_at_load(saved):
    _, path = saved
    g = _json(path, "graph.json")
    const = next(n for n in _const_nodes(g) if n["attrs"]["dtype"] == "float64")
    const["attrs"]["value"] = "not a number"
    _rewrite(path, "graph.json", g)
    with pytest.raises(ts.ArtifactError, match="declared float64"):
        ts.load(path)


def test_analyzer_left_in_a_frozen_graph_fails_at_load(tmp_path):
    from tskew.artifact import save_transform_fn
    from tskew.tracing import trace
    from tskew.transform_fn import TransformFn

    tfn = ts.analyze(lambda i: {"y": ts.scale_to_0_1(i["x"])}, {"x": [0.0, 1.0]})
    raw = trace(lambda i: {"y": ts.scale_to_0_1(i["x"])}, tfn.input_schema)
    unfrozen = TransformFn(raw, tfn.input_schema, tfn.statistics)
    save_transform_fn(unfrozen, tmp_path / "a")
    with pytest.raises(ts.ArtifactError, match="is an analyzer"):
        ts.load(tmp_path / "a")


@pytest.mark.parametrize("name", ["manifest.json", "graph.json"])
def test_symlinked_files_are_refused(saved, tmp_path, name):
    _, path = saved
    outside = tmp_path / f"elsewhere-{name}"
    outside.write_bytes((path / name).read_bytes())
    (path / name).unlink()
    (path / name).symlink_to(outside)
    with pytest.raises(ts.ArtifactError, match="symlink"):
        ts.load(path)


# ---------------------------------------------------------------- resource bombs (13.16)


def test_huge_one_hot_depth_is_refused_at_load(tmp_path):
    from tskew.artifact_check import MAX_ONE_HOT_DEPTH

    tfn = ts.analyze(lambda i: {"h": ts.one_hot(i["n"], 4)}, {"n": [0, 1, 2]},
                     {"n": ts.int64(False)})  # fmt: skip
    path = tfn.save(tmp_path / "a")
    g = _json(path, "graph.json")
    for node in g["nodes"]:
        if node["op"] == "one_hot":
            node["attrs"]["depth"] = 10**9
            node["type"]["width"] = 10**9
    _rewrite(path, "graph.json", g)
    message = rf"one_hot depth is 1000000000.*{MAX_ONE_HOT_DEPTH}"
    with pytest.raises(ts.ArtifactError, match=message):
        ts.load(path)


def test_save_returns_a_digest_that_load_pins(tmp_path):
    tfn = ts.analyze(fn, DATA)
    saved = tfn.save(tmp_path / "a")
    other = ts.analyze(fn, {**DATA, "x": [9.0, 2.5, None, 7.0, -3.0]}).save(tmp_path / "b")
    assert saved.digest.startswith("sha256:") and saved.digest != other.digest
    assert ts.load(saved, digest=saved.digest).graph == tfn.graph
    assert ts.load(saved, digest=saved.digest.removeprefix("sha256:").upper()).graph == tfn.graph
    with pytest.raises(ts.ArtifactError, match="was pinned"):
        ts.load(other, digest=saved.digest)
    again = tfn.save(tmp_path / "a")  # the same content saves to the same digest
    assert again.digest == saved.digest


def test_cli_digest_flag(tmp_path, capsys):
    from tskew import cli

    saved = ts.analyze(fn, DATA).save(tmp_path / "a")
    assert cli.main(["show", str(saved), "--digest", saved.digest]) == 0
    assert saved.digest in capsys.readouterr().out
    assert cli.main(["show", str(saved), "--digest", "sha256:" + "0" * 64]) == 2
    assert "was pinned" in capsys.readouterr().err


# --------------------------------------------------------------------- atomic save (13.17)


def test_save_refuses_to_replace_a_directory_that_is_not_an_artifact(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ts.ArtifactError, match="refusing to replace"):
        ts.analyze(fn, DATA).save(tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_overwrite_leaves_no_temporary_directories(tmp_path):
    tfn = ts.analyze(fn, DATA)
    tfn.save(tmp_path / "a")
    tfn.save(tmp_path / "a")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


_SAVER = """
import sys, tskew as ts
fns = [ts.analyze(lambda i: {"y": ts.scale_to_0_1(i["x"])}, {"x": [0.0, float(k)]})
       for k in (1, 2)]
path = sys.argv[1]
fns[0].save(path)
print("ready", flush=True)
k = 0
while True:
    k += 1
    fns[k % 2].save(path)
"""


def test_killing_an_overwrite_at_random_points_never_loses_the_artifact(tmp_path):
    """Kill a process that saves over the same path in a loop; the path always loads."""
    import random
    import signal
    import subprocess
    import sys
    import time

    rng = random.Random(13)
    path = tmp_path / "art"
    for _ in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-c", _SAVER, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        loaded = ts.load(path)
        assert loaded.transform({"x": [1.0]})["y"].tolist()[0] in (1.0, 0.5)
