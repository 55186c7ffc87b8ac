"""Which raw features a serving signature takes, and under which names.

A signature requires only the raw features its outputs depend on, found by walking the
frozen graph back from those outputs: a label the transform reads (to produce a training
target) is not required by a signature that serves a model reading two features.

Names are the user's, exactly, wherever the backend allows it: ONNX input and output
names, the SavedModel's ``SignatureDef`` keys (what TF Serving, ``saved_model_cli`` and
gRPC/REST clients use), its output keys and the tf.Example feature keys. Only the
Python keyword arguments of a loaded signature (``loaded.signatures[...](**kwargs)``)
are rewritten by TensorFlow itself (`python_argument_name`); a loaded signature accepts
the user's names as well, so ``fn(**{"education-num": x})`` works. The SavedModel export
records the mapping in ``assets.extra/tskew_signatures.json`` (`signature_manifest`).

Example:
    >>> import tskew as ts
    >>> def fn(i):
    ...     return {"fare_z": ts.scale_to_z_score(i["fare"]),
    ...             "label": ts.cast(i["tips"] > i["fare"] * 0.2, "int64")}
    >>> tfn = ts.analyze(fn, {"fare": [1.0, 2.0], "tips": [0.0, 1.0]})
    >>> list(required_features(tfn.graph)), list(required_features(tfn.graph, ["fare_z"]))
    (['fare', 'tips'], ['fare'])
    >>> python_argument_name("education-num"), python_argument_name("1st")
    ('education_num', 'arg_1st')
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tskew.errors import ArtifactError
from tskew.exporters.common import MISSING_SUFFIX
from tskew.ir.graph import Graph
from tskew.schema import DType

# TF signature argument names (tensorflow/python/saved_model/signature_serialization.py).
_VALID_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")

# Where the SavedModel export writes `signature_manifest` (TF's place for extra files).
MANIFEST_PATH = "assets.extra/tskew_signatures.json"

Features = dict[str, tuple[DType, bool]]


def required_features(graph: Graph, outputs: Iterable[str] | None = None) -> Features:
    """name -> (dtype, nullable) of the raw features ``outputs`` (default: all) depend on.

    In schema order. Raises `ArtifactError` naming an output the graph does not have.
    """
    names = list(graph.outputs) if outputs is None else list(outputs)
    unknown = [n for n in names if n not in graph.outputs]
    if unknown:
        raise ArtifactError(
            f"the transform has no output {unknown}; it produces {sorted(graph.outputs)}"
        )
    reached = graph.ancestors(graph.outputs[n] for n in names)
    out: Features = {}
    for name, nid in graph.inputs.items():
        if nid in reached:
            vtype = graph.nodes[nid].type
            out[name] = (vtype.dtype, vtype.nullable)
    return out


def served_graph(graph: Graph, outputs: Iterable[str] | None = None) -> Graph:
    """``graph`` cut down to ``outputs`` (default: all) and the raw features they depend on.

    Example:
        >>> import tskew as ts
        >>> tfn = ts.analyze(lambda i: {"a": i["x"] + 1.0, "b": i["y"] * 2.0},
        ...                  {"x": [1.0], "y": [2.0]})
        >>> g = served_graph(tfn.graph, ["b"])
        >>> list(g.inputs), list(g.outputs)
        (['y'], ['b'])
    """
    names = list(graph.outputs) if outputs is None else list(outputs)
    features = required_features(graph, names)
    inputs = {n: graph.inputs[n] for n in features}
    return Graph(graph.nodes, inputs, {n: graph.outputs[n] for n in names}).prune()


def argument_names(features: Mapping[str, tuple[DType, bool]]) -> list[str]:
    """The inputs of a signature over ``features``: each feature, then ``<name>__missing``.

    Raises:
        ArtifactError: a name TF cannot take as a signature input, or two inputs whose
            names collide (also after TF rewrites them, see `python_argument_name`).
    """
    names = []
    for name, (_, nullable) in features.items():
        names.append(name)
        if nullable:
            names.append(name + MISSING_SUFFIX)
    for name in names:
        if not _VALID_NAME.match(name):
            raise ArtifactError(
                f"feature {name!r} cannot be a TensorFlow signature argument (allowed: letters, "
                "digits and _ . / > -, not starting with _ - / >); rename it in the schema"
            )
    if len(set(names)) != len(names):
        raise ArtifactError(f"a feature name collides with a '{MISSING_SUFFIX}' input: {names}")
    by_alias: dict[str, str] = {}
    for name in names:
        other = by_alias.setdefault(python_argument_name(name), name)
        if other != name:
            raise ArtifactError(
                f"features {other!r} and {name!r} would both be the TensorFlow argument "
                f"{python_argument_name(name)!r} (TF replaces characters other than letters "
                "and digits by '_'); rename one of them in the schema"
            )
    return names


def python_argument_name(name: str) -> str:
    """The keyword TensorFlow gives input ``name`` in a loaded signature's Python signature.

    TF's rule (``function_type.sanitize_arg_name``): every character that is not a letter
    or digit becomes ``_``, and ``arg_`` is prepended unless the name starts with a letter.
    The ``SignatureDef`` keeps ``name`` itself.
    """
    swapped = "".join(c if c.isalnum() else "_" for c in name)
    return swapped if swapped[:1].isalpha() else "arg_" + swapped


@dataclass(frozen=True)
class SignatureSpec:
    """One signature: the raw features it requires and the outputs it returns.

    Attributes:
        features: raw feature -> (dtype, nullable), in schema order.
        outputs: output names.
        examples: the signature takes serialized tf.Examples (one ``examples`` input)
            holding ``features`` under their own names.
    """

    features: Features
    outputs: list[str]
    examples: bool = False

    def to_json(self) -> dict[str, Any]:
        if self.examples:
            inputs = [{"name": "examples", "dtype": "string", "python_name": "examples"}]
        else:
            inputs = [
                {"name": n, "dtype": _input_dtype(n, self.features),
                 "python_name": python_argument_name(n)}
                for n in argument_names(self.features)
            ]  # fmt: skip
        features = [
            {"name": n, "dtype": dtype.value, "nullable": nullable}
            for n, (dtype, nullable) in self.features.items()
        ]
        return {"inputs": inputs, "raw_features": features, "outputs": list(self.outputs)}


def signature_manifest(signatures: Mapping[str, SignatureSpec]) -> dict[str, Any]:
    """JSON-ready description of each signature: inputs (with TF's Python alias), the raw
    features they carry, and outputs."""
    return {"format": 1, "signatures": {n: s.to_json() for n, s in signatures.items()}}


def _input_dtype(name: str, features: Features) -> str:
    if name in features:
        return features[name][0].value
    return DType.BOOL.value  # a <name>__missing mask


def signature_inputs(saved_model_dir: str | os.PathLike[str], signature: str) -> list[str]:
    """The input names of ``signature`` in a SavedModel tskew exported (from its manifest).

    Raises:
        ArtifactError: the directory has no tskew manifest, or no such signature.
    """
    path = Path(saved_model_dir) / MANIFEST_PATH
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ArtifactError(f"{path}: no readable tskew signature manifest ({err})") from None
    signatures = manifest.get("signatures", {})
    if signature not in signatures:
        raise ArtifactError(f"{path}: no signature {signature!r}; it has {sorted(signatures)}")
    return [entry["name"] for entry in signatures[signature]["inputs"]]
