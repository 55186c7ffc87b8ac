"""Reading a schema from a file: tskew's JSON or a tensorflow_metadata Schema proto.

Example:
    >>> import json, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "schema.json"
    >>> _ = path.write_text(json.dumps({"age": {"dtype": "int64", "nullable": False},
    ...                                 "job": "string"}))
    >>> load_schema_file(path)
    Schema(age: int64, job: string?)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tskew.errors import SchemaError, TskewError
from tskew.io.schemas import as_schema
from tskew.schema import FeatureType, Schema

SCHEMA_JSON = "schema.json"  # what an artifact directory holds


def load_schema_file(path: str | Path, what: str = "") -> Schema:
    """The schema in ``path``.

    Args:
        path: a tskew schema JSON (an artifact's ``schema.json``: feature -> ``{"dtype":
            ..., "nullable": ...}``, or feature -> dtype name, nullable), an artifact
            directory (its ``schema.json``), or a tensorflow_metadata ``Schema`` as a text
            (``.pbtxt``) or binary (``.pb``) proto, which needs ``tskew[tfmd]``.
        what: how the caller names the argument in messages (e.g. ``"--schema "``).

    Raises:
        SchemaError: naming the file and, for JSON, the feature at fault.
    """
    file = Path(path)
    if file.is_dir():
        file = file / SCHEMA_JSON
    if not file.is_file():
        raise SchemaError(f"{what}{path}: no such file")
    if file.suffix.lower() != ".json":
        return as_schema(str(file))
    try:
        obj = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SchemaError(f"{what}{file}: not a JSON file ({err})") from None
    if not isinstance(obj, dict):
        raise SchemaError(
            f"{what}{file}: expected a JSON object of feature -> "
            '{"dtype": ..., "nullable": ...} (as an artifact\'s schema.json) or -> dtype name'
        )
    try:
        return Schema({n: t if isinstance(t, str) else _feature_type(n, t) for n, t in obj.items()})
    except TskewError as err:
        raise SchemaError(f"{what}{file}: {err}") from None


def _feature_type(name: str, obj: Any) -> FeatureType:
    if not isinstance(obj, dict) or not isinstance(obj.get("nullable", False), bool):
        raise SchemaError(
            f'feature {name!r}: expected a dtype name or {{"dtype": ..., "nullable": '
            f"true/false}}, got {json.dumps(obj)[:80]}"
        )
    try:
        return FeatureType.from_json({"nullable": False, **obj})
    except (KeyError, ValueError) as err:
        raise SchemaError(f"feature {name!r}: {err}") from None
