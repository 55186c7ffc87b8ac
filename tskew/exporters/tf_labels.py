"""TF lowering rows of the label ops (`tskew.ops.labels`): top-k class ids, id -> label.

Example:
    >>> import numpy as np, tskew as ts
    >>> from tskew.exporters.tensorflow import Lowering, TfCol, tf_module
    >>> graph = ts.policy.top_k_labels(["a", "b"]).trace("float32", 2)
    >>> scores = tf_module().constant([[0.2, 0.8], [0.5, 0.5]])
    >>> Lowering(graph)({"predictions": TfCol(scores)})["predictions"].numpy().tolist()
    [b'b', b'a']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tskew.exporters.tf_values import TfCol, tf_dtype, tf_module
from tskew.ir.nodes import Node
from tskew.lowering import LoweringTable

# Included explicitly into `tskew.exporters.tensorflow.LOWERINGS`.
LOWERINGS = LoweringTable("tensorflow")
lowering = LOWERINGS.register


@lowering("top_k")
def _top_k(ctx: Any, node: Node, x: TfCol) -> TfCol:
    tf = tf_module()
    scores = tf.where(tf.math.is_nan(x.values), tf.constant(-np.inf, x.values.dtype), x.values)
    # tf.math.top_k returns the lower index first among equal scores, like a stable argsort.
    ids = tf.cast(tf.math.top_k(scores, k=node.attr("k"), sorted=True).indices, tf.int64)
    return TfCol(ids[:, 0] if node.attr("k") == 1 else ids, x.mask)


@lowering("map_labels")
def _map_labels(ctx: Any, node: Node, ids: TfCol, labels: Any) -> TfCol:
    tf = tf_module()
    size = len(ctx.const_of(node.inputs[1]))
    default = tf.constant([node.attr("default")], tf_dtype(node.type.dtype))
    padded = tf.concat([labels, default], 0)
    v = ids.values
    inside = tf.logical_and(v >= 0, v < size)
    return TfCol(tf.gather(padded, tf.where(inside, v, tf.constant(size, tf.int64))), ids.mask)
