"""Making pipelines run completely on every runner.

Beam 2.77's DaskRunner computes only the task graph of the *last* transform
applied; branches that do not lead there silently never run. `seal` joins all
leaves of a pipeline into one final transform so every branch is computed.
It also drops whatever a DoFn outputs from ``finish_bundle``
(`loses_finish_bundle_outputs`).
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.pipeline import PipelineVisitor


def seal(pipeline: beam.Pipeline) -> None:
    """Join every leaf PCollection into one last no-op transform (call before run)."""
    produced: list[beam.pvalue.PCollection] = []
    consumed: set[int] = set()

    class Leaves(PipelineVisitor):
        def visit_transform(self, node) -> None:
            consumed.update(id(i) for i in node.inputs)
            consumed.update(id(si.pvalue) for si in node.side_inputs)
            produced.extend(
                o for o in node.outputs.values() if isinstance(o, beam.pvalue.PCollection)
            )

    pipeline.visit(Leaves())
    leaves = [pc for pc in produced if id(pc) not in consumed]
    if len(leaves) <= 1:
        return
    nones = [leaf | f"tskew_seal_{i}" >> beam.Map(lambda _: None) for i, leaf in enumerate(leaves)]
    _ = (
        tuple(nones)
        | "tskew_seal_join" >> beam.Flatten()
        | "tskew_seal_end" >> beam.Filter(lambda _: False)
    )


def loses_finish_bundle_outputs(pipeline: beam.Pipeline) -> bool:
    """Whether ``pipeline`` runs on the DaskRunner, which drops ``finish_bundle`` outputs."""
    # By name: importing the DaskRunner would import dask.
    return type(pipeline.runner).__name__ == "DaskRunner"
