"""Structural fuzzing of saved artifacts: whatever the JSON holds, loading either
succeeds or raises `ArtifactError`, never another exception (issue 13, item 15).

Each example copies a saved artifact, mutates one JSON file at a random place (a value
of the wrong type, deep nesting, a huge number, a removed or an added key) and, for
the non-manifest files, rewrites the manifest's sha256 to match, as someone with write
access to the artifact could.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tskew as ts

FILES = ["manifest.json", "graph.json", "schema.json", "statistics.json", "metadata.json"]


def _fn(i):
    return {
        "z": ts.scale_to_z_score(ts.impute(i["x"], "mean")),
        "id": ts.compute_and_apply_vocabulary(ts.fill_missing(i["s"], ""), num_oov_buckets=2),
        "h": ts.one_hot(ts.bucketize(ts.fill_missing(i["x"], 0.0), 3), 4),
    }


@pytest.fixture(scope="module")
def artifact(tmp_path_factory) -> Path:
    data = {"x": [1.0, 2.5, None, 7.0, -3.0], "s": ["a", "b", "a", None, "ü"]}
    return ts.analyze(_fn, data).save(tmp_path_factory.mktemp("fuzz") / "art")


def _nested(depth: int, leaf: object) -> object:
    for _ in range(depth):
        leaf = [leaf]
    return leaf


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(["0x1p99999", "nan", "float64", "const", "arrays/0000.arrow", "../x"]),
)
replacement = st.one_of(
    json_leaf,
    st.lists(json_leaf, max_size=3),
    st.dictionaries(
        st.sampled_from(["float", "tuple", "inline", "array", "dtype", "items"]),
        json_leaf,
        max_size=2,
    ),
    st.integers(min_value=40, max_value=700).map(lambda d: _nested(d, 1)),
    st.just({"float": "0x1p99999"}),
)


def _containers(obj, path=()):
    yield path, obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _containers(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _containers(v, (*path, i))


def _mutate(obj, data) -> object:
    places = list(_containers(obj))
    where, _ = places[data.draw(st.integers(0, len(places) - 1), label="place")]
    action = data.draw(st.sampled_from(["replace", "delete", "add"]), label="action")
    if not where:
        return data.draw(replacement, label="root")
    parent = obj
    for key in where[:-1]:
        parent = parent[key]
    key = where[-1]
    if action == "replace":
        parent[key] = data.draw(replacement, label="value")
    elif action == "delete":
        del parent[key]
    elif isinstance(parent, dict):
        parent[data.draw(st.text(max_size=6), label="new key")] = data.draw(replacement)
    else:
        parent.append(data.draw(replacement, label="appended"))
    return obj


@settings(
    max_examples=int(os.environ.get("TSKEW_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mutated_artifact_loads_or_raises_artifact_error(artifact, tmp_path_factory, data):
    name = data.draw(st.sampled_from(FILES), label="file")
    path = tmp_path_factory.mktemp("case") / "art"
    shutil.copytree(artifact, path)
    obj = _mutate(json.loads((path / name).read_text()), data)
    raw = json.dumps(obj).encode()
    (path / name).write_bytes(raw)
    if name != "manifest.json":
        manifest = json.loads((path / "manifest.json").read_text())
        manifest["files"][name] = {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}
        (path / "manifest.json").write_text(json.dumps(manifest))
    try:
        tfn = ts.load(path)
    except ts.ArtifactError:
        return
    # What loads also runs (a schema edited to non-nullable refuses the None).
    with contextlib.suppress(ts.DataError):
        tfn.transform({"x": [1.0, None], "s": ["a", "zz"]})
