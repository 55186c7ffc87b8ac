"""Export a `TransformFn` to an ONNX file, optionally merged with a model and a policy.

Inputs are those of the TF ``serving_default`` signature: one ``[batch]`` tensor per
raw feature the served outputs depend on (all transformed features, or the model's
inputs when a model is attached; dtype from the schema) plus ``<name>__missing``
(bool) for each nullable one. Names are the features' own. Without a model the
outputs are the transformed features (a feature named like a raw input is output as
``<name>__out``); with a model the one output is ``predictions``, after the policy.

A model is an ONNX file or ``ModelProto`` whose inputs are named like transformed
features, or a Keras model (converted with ``tf2onnx``); it is merged into one graph
with ``onnx.compose`` (its names prefixed with ``model/``), after converting it to
tskew's opset.

Example:
    >>> import tempfile, onnxruntime as ort, numpy as np, tskew as ts
    >>> tfn = ts.analyze(lambda i: {"y": ts.scale_to_0_1(i["x"])}, {"x": [0.0, 4.0]})
    >>> path = export_onnx(tfn, tempfile.mkdtemp() + "/t.onnx")
    >>> ort.InferenceSession(str(path)).run(["y"], {"x": np.array([1.0, 8.0])})[0]
    array([0.25, 2.  ])
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tskew.errors import ArtifactError
from tskew.exporters.onnx import (
    ML_OPSET,
    OPSET,
    Lowering,
    OnnxCol,
    make_model,
    onnx_module,
    onnx_type,
    transform_model,
)
from tskew.exporters.signature import served_graph
from tskew.schema import DType

if TYPE_CHECKING:
    from tskew.policy import Policy
    from tskew.transform_fn import TransformFn

MODEL_PREFIX = "model/"
POLICY_PREFIX = "policy/"
FEED_PREFIX = "to_model/"
PREDICTIONS = "predictions"
_ELEM_TO_DTYPE = {
    1: DType.FLOAT32,
    11: DType.FLOAT64,
    7: DType.INT64,
    9: DType.BOOL,
    8: DType.STRING,
}


def build_onnx(
    tfn: TransformFn,
    *,
    model: Any = None,
    postprocess: Policy | None = None,
    model_output: str | None = None,
) -> Any:
    """The ``ModelProto``: raw features -> transformed features, or -> predictions."""
    onnx = onnx_module()
    if model is None:
        if postprocess is not None:
            raise ArtifactError("a postprocess policy needs a model to post-process")
        merged = transform_model(served_graph(tfn.graph))
    else:
        user = _prepare(load_model(model, tfn), tfn)
        feeds = _model_inputs(user, tfn)
        # Only what the model reads: a label the transform also reads is not an input.
        graph = served_graph(tfn.graph, feeds)
        transform = transform_model(
            graph,
            {FEED_PREFIX + name: (graph.outputs[name], dtype) for name, dtype in feeds.items()},
        )
        out_name = _pick_output(user, model_output)
        merged = onnx.compose.merge_models(
            transform,
            user,
            io_map=[(FEED_PREFIX + name, MODEL_PREFIX + name) for name in feeds],
            outputs=[out_name],
        )
        merged = _append_policy(merged, out_name, postprocess)
    onnx.checker.check_model(merged, full_check=True)
    return merged


def export_onnx(
    tfn: TransformFn,
    path: str | Path,
    *,
    model: Any = None,
    postprocess: Policy | None = None,
    model_output: str | None = None,
) -> Path:
    """Write `build_onnx` to ``path`` (a ``.onnx`` file); returns the path."""
    proto = build_onnx(tfn, model=model, postprocess=postprocess, model_output=model_output)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(proto.SerializeToString())
    return path


def load_model(model: Any, tfn: TransformFn) -> Any:
    """An ONNX ``ModelProto`` from a path, a proto, or a Keras model (via tf2onnx)."""
    onnx = onnx_module()
    if isinstance(model, onnx.ModelProto):
        return model
    if isinstance(model, str | Path):
        path = Path(model)
        if path.suffix != ".onnx" or not path.is_file():
            raise ArtifactError(f"{path} is not an .onnx file; pass an ONNX model or a Keras model")
        return onnx.load(str(path))
    if hasattr(model, "inputs") and callable(model):
        return _from_keras(model, tfn)
    raise ArtifactError(
        f"cannot attach a {type(model).__name__}: pass an .onnx path, a ModelProto or a Keras model"
    )


def _from_keras(model: Any, tfn: TransformFn) -> Any:
    """Convert a Keras model whose inputs are named like transformed features."""
    from tskew.tf_logging import import_tensorflow

    try:
        tf = import_tensorflow()
        import tf2onnx
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "converting a Keras model to ONNX needs tf2onnx: pip install 'tskew[onnx,tf]'"
        ) from err
    from tskew.exporters.attach import attach_model

    attached = attach_model(model, tfn)
    names = list(attached.input_dtypes)
    specs = []
    for name in names:
        width = tfn.graph.nodes[tfn.graph.outputs[name]].type.width
        shape = [None] if width is None else [None, width]
        specs.append(tf.TensorSpec(shape, attached.input_dtypes[name], name=name))
    fn = tf.function(
        lambda *args: attached(dict(zip(names, args, strict=True))), input_signature=specs
    )
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=specs, opset=min(OPSET, 18))
    return proto


def _prepare(user: Any, tfn: TransformFn) -> Any:
    """The user's model at tskew's opset and IR version, its names prefixed with ``model/``."""
    onnx = onnx_module()
    versions = {o.domain or "": o.version for o in user.opset_import}
    if versions.get("", OPSET) > OPSET:
        raise ArtifactError(f"the model uses ONNX opset {versions['']}; tskew emits opset {OPSET}")
    if versions.get("", OPSET) < OPSET:
        user = onnx.version_converter.convert_version(user, OPSET)
    ml_nodes = any(n.domain == "ai.onnx.ml" for n in user.graph.node)
    if ml_nodes and versions.get("ai.onnx.ml", ML_OPSET) != ML_OPSET:
        raise ArtifactError(
            f"the model uses ai.onnx.ml opset {versions['ai.onnx.ml']}; tskew needs {ML_OPSET}"
        )
    reference = make_model(onnx.helper.make_graph([], "empty", [], []))
    del user.opset_import[:]
    user.opset_import.extend(reference.opset_import)
    user.ir_version = reference.ir_version
    return onnx.compose.add_prefix(user, MODEL_PREFIX)


def _model_inputs(user: Any, tfn: TransformFn) -> dict[str, DType]:
    """Model input name (unprefixed) -> the dtype it wants; names must be transformed features."""
    from tskew.exporters.attach import check_model_inputs

    initializers = {t.name for t in user.graph.initializer}
    values = [v for v in user.graph.input if v.name not in initializers]
    check_model_inputs([v.name.removeprefix(MODEL_PREFIX) for v in values], tfn, "the ONNX model")
    feeds = {}
    for value in values:
        name = value.name.removeprefix(MODEL_PREFIX)
        elem = value.type.tensor_type.elem_type
        if elem not in _ELEM_TO_DTYPE:
            raise ArtifactError(
                f"model input {name!r} has an ONNX element type ({elem}) tskew cannot feed"
            )
        feeds[name] = _ELEM_TO_DTYPE[elem]
    return feeds


def _pick_output(user: Any, model_output: str | None) -> str:
    names = [o.name for o in user.graph.output]
    if model_output is None:
        if len(names) != 1:
            raise ArtifactError(f"the model has outputs {names}; choose one with model_output=...")
        return names[0]
    wanted = MODEL_PREFIX + model_output
    if wanted not in names:
        raise ArtifactError(f"the model has no output {model_output!r}; it has {names}")
    return wanted


def _append_policy(merged: Any, out_name: str, policy: Policy | None) -> Any:
    """Add the policy nodes after the model output; the served output is ``predictions``."""
    onnx = onnx_module()
    helper = onnx.helper
    output = next(o for o in merged.graph.output if o.name == out_name)
    elem = output.type.tensor_type.elem_type
    dtype = _ELEM_TO_DTYPE.get(elem)
    if dtype not in (DType.FLOAT32, DType.FLOAT64):
        raise ArtifactError(
            f"the model must output float predictions, got ONNX element type {elem}"
        )
    dims = output.type.tensor_type.shape.dim
    width = dims[1].dim_value if len(dims) == 2 and dims[1].dim_value > 1 else None
    from tskew.exporters.onnx import Builder

    b = Builder(POLICY_PREFIX)
    predictions = out_name
    if len(dims) == 2 and width is None:  # [n, 1] is served as [n]
        predictions = b.op("Squeeze", out_name, b.const([1], DType.INT64))
    if policy is None:
        final, final_dtype, final_width = predictions, dtype, width
    else:
        graph = policy.trace(dtype, width)
        (input_name,) = graph.inputs
        results = Lowering(graph, b)({input_name: OnnxCol(predictions)})
        if len(results) != 1:
            raise ArtifactError("an ONNX export serves one policy output; return a single column")
        ((name, value),) = results.items()
        final = value.values if isinstance(value, OnnxCol) else value
        vtype = graph.nodes[graph.outputs[name]].type
        final_dtype, final_width = vtype.dtype, vtype.width
    b.nodes.append(helper.make_node("Identity", [final], [PREDICTIONS]))
    shape = ["batch"] if final_width is None else ["batch", final_width]
    graph = merged.graph
    graph.node.extend(b.nodes)
    graph.initializer.extend(b.initializers)
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info(PREDICTIONS, onnx_type(final_dtype), shape))
    return merged
