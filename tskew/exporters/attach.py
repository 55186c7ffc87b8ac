"""Attach a user's model to the exported transform: Keras 3, tf.keras, or a SavedModel.

The model reads transformed features by name: a Keras model's inputs are named
like the transform's outputs (``keras.Input(shape=(), name="distance")``), a
SavedModel's ``serving_default`` takes them as keyword arguments. A ``[n, 1]``
output is served as ``[n]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tskew.errors import ArtifactError
from tskew.exporters.tensorflow import tf_module
from tskew.schema import DType

if TYPE_CHECKING:
    from tskew.transform_fn import TransformFn


@dataclass
class AttachedModel:
    """A model callable inside the serving graph.

    Attributes:
        trackable: the object whose variables the SavedModel must keep.
        call: transformed feature tensors -> one prediction tensor.
        output_dtype: dtype of the predictions (float32 or float64).
        output_width: k for ``[n, k]`` predictions, None for ``[n]``.
        input_dtypes: transformed feature -> the tf dtype the model reads it as.
    """

    trackable: Any
    call: Callable[[dict[str, Any]], Any]
    output_dtype: DType
    output_width: int | None
    input_dtypes: dict[str, Any]  # transformed feature name -> the tf dtype the model reads

    def __call__(self, transformed: dict[str, Any]) -> Any:
        tf = tf_module()
        out = self.call(transformed)
        if out.shape.rank == 2 and out.shape[1] == 1:
            out = tf.squeeze(out, axis=1)
        return out


def attach_model(model: Any, tfn: TransformFn, model_output: str | None = None) -> AttachedModel:
    """Wrap ``model`` (Keras model, tf.keras model, or SavedModel path) for the serving graph.

    Raises:
        ArtifactError: the model's inputs are not transformed features, or its
            output is ambiguous (several outputs and no ``model_output``).
    """
    if isinstance(model, str | Path):
        return _saved_model(Path(model), tfn, model_output)
    if hasattr(model, "inputs") and callable(model):
        return _keras(model, tfn, model_output)
    raise ArtifactError(
        f"cannot attach a {type(model).__name__}: pass a Keras model, a tf.keras model or "
        "the path of a SavedModel directory"
    )


def check_model_inputs(names: list[str], tfn: TransformFn, what: str) -> None:
    """A model must read transformed features, by name."""
    unknown = [n for n in names if n not in tfn.graph.outputs]
    if unknown:
        raise ArtifactError(
            f"{what} reads {unknown}, which the transform does not produce; its inputs must be "
            f"named like transformed features: {sorted(tfn.graph.outputs)}"
        )


def _pick(outputs: Any, model_output: str | None, what: str) -> Any:
    if not isinstance(outputs, dict):
        if model_output is not None:
            raise ArtifactError(f"{what} has a single output; drop model_output={model_output!r}")
        return outputs
    if model_output is None:
        if len(outputs) != 1:
            raise ArtifactError(
                f"{what} has outputs {sorted(outputs)}; choose one with model_output=..."
            )
        return next(iter(outputs.values()))
    if model_output not in outputs:
        raise ArtifactError(f"{what} has no output {model_output!r}; it has {sorted(outputs)}")
    return outputs[model_output]


def _float_dtype(tf_dtype: Any, what: str) -> DType:
    name = tf_dtype.name if hasattr(tf_dtype, "name") else str(tf_dtype)
    if name not in ("float32", "float64"):
        raise ArtifactError(f"{what} must output float32 or float64 predictions, got {name}")
    return DType(name)


def _width(shape: Any) -> int | None:
    dims = list(shape)
    if len(dims) == 1 or (len(dims) == 2 and dims[1] == 1):
        return None
    if len(dims) == 2 and dims[1]:
        return int(dims[1])
    raise ArtifactError(f"model predictions must be [n] or [n, k] with a known k, got {dims}")


def _keras(model: Any, tfn: TransformFn, model_output: str | None) -> AttachedModel:
    tf = tf_module()
    structure = model.input
    specs = list(structure.values()) if isinstance(structure, dict) else list(model.inputs)
    names = list(structure) if isinstance(structure, dict) else [t.name for t in specs]
    names = [n.split(":")[0] for n in names]
    check_model_inputs(names, tfn, "the Keras model")
    dtypes = {
        n: tf.as_dtype(getattr(s, "dtype", "float32")) for n, s in zip(names, specs, strict=True)
    }

    def call(transformed: dict[str, Any]) -> Any:
        feed = {n: tf.cast(transformed[n], dtypes[n]) for n in names}
        args = feed if isinstance(structure, dict) else [feed[n] for n in names]
        if not isinstance(structure, dict) and len(args) == 1:
            args = args[0]
        return _pick(model(args, training=False), model_output, "the Keras model")

    output = _pick(
        dict(zip(model.output_names, model.outputs, strict=True))
        if len(model.outputs) > 1
        else model.output,
        model_output,
        "the Keras model",
    )
    return AttachedModel(
        model, call, _float_dtype(output.dtype, "the Keras model"), _width(output.shape), dtypes
    )


def _saved_model(path: Path, tfn: TransformFn, model_output: str | None) -> AttachedModel:
    tf = tf_module()
    if not (path / "saved_model.pb").exists():
        raise ArtifactError(f"{path} is not a SavedModel directory (no saved_model.pb)")
    loaded = tf.saved_model.load(str(path))
    if "serving_default" not in loaded.signatures:
        raise ArtifactError(f"the SavedModel at {path} has no serving_default signature")
    signature = loaded.signatures["serving_default"]
    specs = signature.structured_input_signature[1]
    what = f"the SavedModel at {path}"
    check_model_inputs(list(specs), tfn, what)

    def call(transformed: dict[str, Any]) -> Any:
        feed = {n: tf.cast(transformed[n], spec.dtype) for n, spec in specs.items()}
        return _pick(signature(**feed), model_output, what)

    output = _pick(signature.structured_outputs, model_output, what)
    dtypes = {n: spec.dtype for n, spec in specs.items()}
    return AttachedModel(
        loaded, call, _float_dtype(output.dtype, what), _width(output.shape), dtypes
    )
