"""Saving and loading a TransformFn: data only, never code.

Layout of an artifact directory::

    manifest.json        format name and version, tskew version, sha256 + size per file
    graph.json           the frozen IR graph (floats as hex, arrays by reference)
    schema.json          the raw input schema
    statistics.json      training statistics of inputs and outputs
    metadata.json        plan, source, timings
    arrays/NNNN.arrow    constant arrays (vocabularies, boundaries), Arrow IPC files

Loading checks the format version and every file's size and sha256 before
parsing anything, and parses only JSON and Arrow IPC (no pickle, no eval); then
every field's JSON type, the graph (no analyzers left, constants of their declared
dtype) and sizes against `tskew.artifact_check`'s limits. Anything malformed is an
`ArtifactError` naming the file.

Pinning: the artifact's digest is the sha256 of ``manifest.json``, which holds the
sha256 of every other file, so it identifies the whole artifact. `TransformFn.save`
returns it (``saved.digest``) and ``load(path, digest=...)`` refuses any other
artifact: a deployment pins the exact artifact it reviewed.

Saving is atomic: the files are written and fsynced in a sibling temporary
directory, which then replaces ``path`` in one rename (an exchange on Linux). After
a crash at any point ``path`` holds the old artifact or the new one, whole.

Example:
    >>> import tempfile, tskew as ts
    >>> tfn = ts.analyze(lambda i: {"id": ts.compute_and_apply_vocabulary(i["s"])},
    ...                  {"s": ["a", "b", "b"]})
    >>> d = tempfile.mkdtemp()
    >>> saved = tfn.save(d)
    >>> saved.digest.startswith("sha256:")
    True
    >>> ts.load(d, digest=saved.digest).transform({"s": ["b", "zz"]})["id"].tolist()
    [0, -1]
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from tskew.artifact_check import (
    MAX_FILE_BYTES,
    check_consistency,
    check_frozen_graph,
    check_metadata_json,
    check_schema_json,
    check_statistics_json,
    expect,
    expect_count,
    load_json,
)
from tskew.errors import ArtifactError, TskewError
from tskew.ir.nodes import Array
from tskew.ir.serde import graph_from_json, graph_to_json
from tskew.schema import Schema
from tskew.statistics import DatasetStatistics

if TYPE_CHECKING:
    from tskew.transform_fn import TransformFn

FORMAT_NAME = "tskew.transform_fn"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
REQUIRED = ("graph.json", "schema.json", "statistics.json", "metadata.json")
_FILE_NAME = re.compile(r"(graph|schema|statistics|metadata)\.json|arrays/[0-9]{4,9}\.arrow")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ARRAY_TYPES = (pa.float32(), pa.float64(), pa.int64(), pa.bool_(), pa.string())


class SavedArtifact(type(Path())):  # type: ignore[misc]
    """The directory `TransformFn.save` wrote (a `pathlib.Path`) plus its ``digest``.

    Pass the digest to ``ts.load(path, digest=...)`` (or ``--digest`` on the command
    line) to load exactly this artifact and refuse any other.
    """

    digest: str | None = None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def artifact_digest(manifest: bytes) -> str:
    """The digest of an artifact: ``sha256:`` + the sha256 of its ``manifest.json`` bytes."""
    return "sha256:" + _sha256(manifest)


def _array_bytes(values: np.ndarray) -> bytes:
    arr = (
        pa.array(values.tolist(), type=pa.string()) if values.dtype == object else pa.array(values)
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, pa.schema([pa.field("value", arr.type)])) as writer:
        writer.write_batch(pa.record_batch([arr], names=["value"]))
    return sink.getvalue().to_pybytes()


# --------------------------------------------------------------------------- saving


def save_transform_fn(tfn: TransformFn, path: Path) -> SavedArtifact:
    """Write ``tfn`` to directory ``path`` atomically (replacing an artifact there).

    Returns:
        ``path`` as a `SavedArtifact`, whose ``digest`` pins this artifact.

    Raises:
        ArtifactError: ``path`` exists and is not a tskew artifact (nothing is replaced).
    """
    from tskew import __version__

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
    files[MANIFEST] = dump(manifest)
    _write_atomically(Path(path), files)
    saved = SavedArtifact(path)
    saved.digest = artifact_digest(files[MANIFEST])
    return saved


def _write_atomically(path: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` into a fresh sibling directory, fsync it, then swap it in."""
    _check_replaceable(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{secrets.token_hex(6)}"
    try:
        (tmp / "arrays").mkdir(parents=True)
        for name, data in files.items():  # the manifest comes last
            _write_synced(tmp / name, data)
        _fsync_dir(tmp / "arrays")
        _fsync_dir(tmp)
        if _exists(path):
            _swap(tmp, path)  # tmp now holds the old artifact
        else:
            os.rename(tmp, path)
        _fsync_dir(path.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _exists(path: Path) -> bool:
    return os.path.lexists(path)


def _check_replaceable(path: Path) -> None:
    if not _exists(path):
        return
    if path.is_symlink() or not path.is_dir():
        raise ArtifactError(
            f"{path}: exists and is not a directory; choose another path or remove it"
        )
    if any(path.iterdir()) and not (path / MANIFEST).is_file():
        raise ArtifactError(
            f"{path}: a non-empty directory that is not a tskew artifact (no {MANIFEST}); "
            "refusing to replace it: choose another path or empty it"
        )


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _swap(new: Path, old: Path) -> None:
    """Atomically exchange two directories (Linux renameat2); else two renames."""
    libc_name = ctypes.util.find_library("c")
    renameat2 = getattr(ctypes.CDLL(libc_name, use_errno=True), "renameat2", None)
    if renameat2 is not None:
        done = renameat2(_AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(old), _RENAME_EXCHANGE)
        if done == 0:
            return
    # No atomic exchange (not Linux, or the filesystem lacks it): a crash between the
    # two renames leaves the old artifact at ``.<name>.old-*`` beside ``old``.
    aside = old.parent / f".{old.name}.old-{secrets.token_hex(6)}"
    os.rename(old, aside)
    os.rename(new, old)
    os.rename(aside, new)


# --------------------------------------------------------------------------- loading


def _read_regular(path: Path, max_bytes: int, shown: Path | None = None) -> bytes:
    """Read a regular file without following a symlink; refuse more than ``max_bytes``."""
    shown = shown or path
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise ArtifactError(f"{shown}: missing") from None
    except OSError as err:
        raise ArtifactError(
            f"{shown}: cannot be read ({err.strerror}); a symlink is refused: an artifact "
            "holds regular files only"
        ) from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ArtifactError(f"{shown}: not a regular file")
        if info.st_size > max_bytes:
            raise ArtifactError(
                f"{shown}: truncated or extended ({info.st_size} bytes, expected at most "
                f"{max_bytes})"
            )
        return f.read(max_bytes + 1)


def _read_manifest(path: Path) -> tuple[dict, bytes]:
    mpath = path / MANIFEST
    if not path.is_dir():
        raise ArtifactError(
            f"{path}: no such artifact directory (expected a folder written by TransformFn.save)"
        )
    if not _exists(mpath):
        raise ArtifactError(f"{mpath}: missing; {path} is not a tskew artifact or is incomplete")
    data = _read_regular(mpath, 1 << 24)
    manifest = load_json(data, str(mpath))
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ArtifactError(f"{mpath}: not a tskew TransformFn manifest")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ArtifactError(f"{mpath}: format_version missing or not an integer")
    if version > FORMAT_VERSION:
        raise ArtifactError(
            f"{mpath}: artifact format version {version} was written by tskew "
            f"{manifest.get('tskew_version', '?')}; this tskew reads format versions up to "
            f"{FORMAT_VERSION}. Upgrade tskew to load it."
        )
    if version < 1:
        raise ArtifactError(
            f"{mpath}: format_version {version} does not exist (versions start at 1); "
            "the manifest was edited"
        )
    expect(manifest.get("tskew_version", ""), str, str(mpath), "tskew_version")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise ArtifactError(f"{mpath}: 'files' table missing")
    for name, entry in files.items():
        _check_entry(name, entry, mpath)
    return manifest, data


def _check_entry(name: str, entry: Any, mpath: Path) -> None:
    if not _FILE_NAME.fullmatch(name):
        raise ArtifactError(
            f"{mpath}: file entry {name!r} is not a file tskew writes (graph.json, "
            "schema.json, statistics.json, metadata.json, arrays/NNNN.arrow); it may point "
            "outside the artifact"
        )
    expect(entry, dict, str(mpath), f"file entry {name!r}")
    if set(entry) != {"sha256", "bytes"}:
        raise ArtifactError(f"{mpath}: file entry {name!r} must hold exactly sha256 and bytes")
    if not isinstance(entry["sha256"], str) or not _SHA256.fullmatch(entry["sha256"]):
        raise ArtifactError(f"{mpath}: file entry {name!r}: sha256 must be 64 hex digits")
    size = expect_count(entry["bytes"], str(mpath), f"file entry {name!r} bytes")
    if size > MAX_FILE_BYTES:
        raise ArtifactError(f"{mpath}: file entry {name!r} is {size} bytes; limit {MAX_FILE_BYTES}")


def _check_digest(path: Path, manifest: bytes, digest: str) -> None:
    wanted = str(digest).strip().lower()
    if not wanted.startswith("sha256:"):
        wanted = "sha256:" + wanted
    actual = artifact_digest(manifest)
    if actual != wanted:
        raise ArtifactError(
            f"{path}: artifact digest is {actual}, but {wanted} was pinned; this is not the "
            "artifact that was reviewed (load it without a digest to inspect it, then pin "
            "its digest)"
        )


def load_transform_fn(path: str | os.PathLike, *, digest: str | None = None) -> TransformFn:
    """Load an artifact written by `TransformFn.save`, verifying every file first.

    Args:
        path: the artifact directory.
        digest: the artifact digest to insist on (``saved.digest`` of `TransformFn.save`,
            printed by ``tskew analyze``); any other artifact is refused.

    Raises:
        ArtifactError: naming the file that is missing, truncated, tampered
            with, malformed, beyond a size limit, from a newer format version, or
            (with ``digest``) not the pinned artifact.
    """
    path = Path(path)
    manifest, manifest_bytes = _read_manifest(path)
    if digest is not None:
        _check_digest(path, manifest_bytes, digest)
    contents: dict[str, bytes] = {}
    if (path / "arrays").is_symlink():
        raise ArtifactError(f"{path / 'arrays'}: a symlink; an artifact holds regular files only")
    for name, entry in manifest["files"].items():
        data = _read_regular(path / name, entry["bytes"])
        if len(data) != entry["bytes"]:
            raise ArtifactError(
                f"{path / name}: truncated or extended ({len(data)} bytes, "
                f"manifest says {entry['bytes']})"
            )
        if _sha256(data) != entry["sha256"]:
            raise ArtifactError(
                f"{path / name}: sha256 does not match the manifest; the file "
                "was modified or corrupted"
            )
        contents[name] = data
    for required in REQUIRED:
        if required not in contents:
            raise ArtifactError(f"{path / MANIFEST}: does not list {required}")
    try:
        return _build(path, contents)
    except ArtifactError:
        raise
    except (
        TskewError, KeyError, TypeError, ValueError, AttributeError, OverflowError,
        IndexError, RecursionError,
    ) as err:  # fmt: skip
        raise ArtifactError(f"{path}: artifact content is inconsistent: {err}") from None


def _build(path: Path, contents: dict[str, bytes]) -> TransformFn:
    from tskew.transform_fn import TransformFn

    def load(name: str) -> Any:
        return load_json(contents[name], str(path / name))

    def source(name: str) -> np.ndarray:
        if name not in contents:
            raise ArtifactError(
                f"{path / 'graph.json'}: references {name}, which the manifest does not list"
            )
        return _read_array(contents[name], path / name)

    graph_json = load("graph.json")
    schema_json = check_schema_json(load("schema.json"), str(path / "schema.json"))
    stats_json = check_statistics_json(load("statistics.json"), str(path / "statistics.json"))
    meta = check_metadata_json(load("metadata.json"), str(path / "metadata.json"))
    try:
        graph = graph_from_json(graph_json, source)
    except ArtifactError:
        raise
    except TskewError as err:
        raise ArtifactError(f"{path / 'graph.json'}: {err}") from None
    schema = Schema.from_json(schema_json)
    check_frozen_graph(graph, schema, str(path / "graph.json"))
    check_consistency(graph, stats_json, str(path / "statistics.json"))
    stats = DatasetStatistics.from_json(stats_json)
    plan = meta.pop("plan", "")
    return TransformFn(graph, schema, stats, plan_text=plan, metadata=meta)


def _read_array(data: bytes, where: Path) -> np.ndarray:
    """One Arrow IPC file holding a single non-null ``value`` column of a tskew dtype."""
    try:
        reader = pa.ipc.open_file(pa.py_buffer(data))
        schema = reader.schema
        if schema.names != ["value"] or schema.field("value").type not in _ARRAY_TYPES:
            raise ArtifactError(
                f"{where}: expected one column 'value' of float32, float64, int64, bool or "
                f"string, got {schema}"
            )
        col = reader.read_all().column("value").combine_chunks()
    except (pa.ArrowException, KeyError) as err:
        raise ArtifactError(f"{where}: not a valid Arrow array file ({err})") from None
    if col.null_count:
        raise ArtifactError(f"{where}: holds nulls; constants are never null")
    if pa.types.is_string(col.type):
        return np.array(col.to_pylist(), dtype=object)
    return col.to_numpy(zero_copy_only=False)
