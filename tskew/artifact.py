"""Saving and loading a TransformFn: data only, never code.

Layout of an artifact directory::

    manifest.json        format name and version, tskew version, sha256 + size per file
    graph.json           the frozen IR graph (floats as hex, arrays by reference)
    schema.json          the raw input schema
    statistics.json      training statistics of inputs and outputs
    metadata.json        plan, source, timings
    arrays/NNNN.arrow    constant arrays (vocabularies, boundaries), Arrow IPC files

Loading checks the format version and every file's size and sha256 before
parsing anything, and parses only JSON and Arrow IPC (no pickle, no eval).

Example:
    >>> import tempfile, tskew as ts
    >>> tfn = ts.analyze(lambda i: {"id": ts.compute_and_apply_vocabulary(i["s"])},
    ...                  {"s": ["a", "b", "b"]})
    >>> d = tempfile.mkdtemp()
    >>> _ = tfn.save(d)
    >>> ts.load(d).transform({"s": ["b", "zz"]})["id"].tolist()
    [0, -1]
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from tskew.errors import ArtifactError, GraphError, TskewError
from tskew.ir.nodes import Array
from tskew.ir.serde import graph_from_json, graph_to_json
from tskew.schema import Schema
from tskew.statistics import DatasetStatistics

if TYPE_CHECKING:
    from tskew.transform_fn import TransformFn

FORMAT_NAME = "tskew.transform_fn"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _array_bytes(values: np.ndarray) -> bytes:
    arr = (
        pa.array(values.tolist(), type=pa.string()) if values.dtype == object else pa.array(values)
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, pa.schema([pa.field("value", arr.type)])) as writer:
        writer.write_batch(pa.record_batch([arr], names=["value"]))
    return sink.getvalue().to_pybytes()


def save_transform_fn(tfn: TransformFn, path: Path) -> Path:
    """Write ``tfn`` to directory ``path`` (created; existing artifact files replaced)."""
    from tskew import __version__

    path.mkdir(parents=True, exist_ok=True)
    (path / "arrays").mkdir(exist_ok=True)
    files: dict[str, bytes] = {}

    def sink(array: Array) -> str:
        name = f"arrays/{len([f for f in files if f.startswith('arrays/')]):04d}.arrow"
        files[name] = _array_bytes(array.values)
        return name

    def dump(obj: Any) -> bytes:
        return json.dumps(obj, indent=1, allow_nan=False).encode()

    files["graph.json"] = dump(graph_to_json(tfn.graph, sink))
    files["schema.json"] = dump(tfn.input_schema.to_json())
    files["statistics.json"] = dump(tfn.statistics.to_json())
    files["metadata.json"] = dump({"plan": tfn.plan_text, **tfn.metadata})
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "tskew_version": __version__,
        "files": {
            name: {"sha256": _sha256(data), "bytes": len(data)}
            for name, data in sorted(files.items())
        },
    }
    for name, data in files.items():
        tmp = path / (name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path / name)
    (path / MANIFEST).write_bytes(dump(manifest))
    return path


def _read_manifest(path: Path) -> dict:
    mpath = path / MANIFEST
    if not path.is_dir():
        raise ArtifactError(
            f"{path}: no such artifact directory (expected a folder written by TransformFn.save)"
        )
    if not mpath.is_file():
        raise ArtifactError(f"{mpath}: missing; {path} is not a tskew artifact or is incomplete")
    try:
        manifest = json.loads(mpath.read_bytes())
    except (ValueError, UnicodeDecodeError) as err:
        raise ArtifactError(f"{mpath}: corrupt JSON ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ArtifactError(f"{mpath}: not a tskew TransformFn manifest")
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise ArtifactError(f"{mpath}: format_version missing or not an integer")
    if version > FORMAT_VERSION:
        raise ArtifactError(
            f"{mpath}: artifact format version {version} was written by tskew "
            f"{manifest.get('tskew_version', '?')}; this tskew reads format versions up to "
            f"{FORMAT_VERSION}. Upgrade tskew to load it."
        )
    if not isinstance(manifest.get("files"), dict):
        raise ArtifactError(f"{mpath}: 'files' table missing")
    return manifest


def load_transform_fn(path: str | Path) -> TransformFn:
    """Load an artifact written by `TransformFn.save`, verifying every file first.

    Raises:
        ArtifactError: naming the file that is missing, truncated, tampered
            with, malformed or from a newer format version.
    """
    from tskew.transform_fn import TransformFn

    path = Path(path)
    manifest = _read_manifest(path)
    contents: dict[str, bytes] = {}
    for name, entry in manifest["files"].items():
        fpath = (path / name).resolve()
        if path.resolve() not in fpath.parents:
            raise ArtifactError(
                f"{path / MANIFEST}: file entry {name!r} points outside the artifact"
            )
        if not fpath.is_file():
            raise ArtifactError(f"{path / name}: listed in the manifest but missing")
        data = fpath.read_bytes()
        if len(data) != entry.get("bytes"):
            raise ArtifactError(
                f"{path / name}: truncated or extended ({len(data)} bytes, "
                f"manifest says {entry.get('bytes')})"
            )
        if _sha256(data) != entry.get("sha256"):
            raise ArtifactError(
                f"{path / name}: sha256 does not match the manifest; the file "
                "was modified or corrupted"
            )
        contents[name] = data
    for required in ("graph.json", "schema.json", "statistics.json", "metadata.json"):
        if required not in contents:
            raise ArtifactError(f"{path / MANIFEST}: does not list {required}")

    def load_json(name: str) -> Any:
        try:
            return json.loads(contents[name])
        except (ValueError, UnicodeDecodeError) as err:
            raise ArtifactError(f"{path / name}: corrupt JSON ({err})") from None

    def source(name: str) -> np.ndarray:
        if name not in contents:
            raise ArtifactError(
                f"{path / 'graph.json'}: references {name}, which the manifest does not list"
            )
        try:
            table = pa.ipc.open_file(pa.py_buffer(contents[name])).read_all()
            col = table.column("value").combine_chunks()
        except (pa.ArrowException, KeyError) as err:
            raise ArtifactError(f"{path / name}: not a valid Arrow array file ({err})") from None
        if pa.types.is_string(col.type):
            return np.array(col.to_pylist(), dtype=object)
        return col.to_numpy(zero_copy_only=False)

    try:
        graph = graph_from_json(load_json("graph.json"), source)
        schema = Schema.from_json(load_json("schema.json"))
        stats = DatasetStatistics.from_json(load_json("statistics.json"))
        meta = load_json("metadata.json")
    except ArtifactError:
        raise
    except (GraphError, TskewError, KeyError, TypeError, ValueError) as err:
        raise ArtifactError(f"{path}: artifact content is inconsistent: {err}") from None
    plan = meta.pop("plan", "") if isinstance(meta, dict) else ""
    return TransformFn(graph, schema, stats, plan_text=plan, metadata=meta)
