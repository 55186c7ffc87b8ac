"""`Fold`: the batches of one Beam bundle folded into accumulators by a few threads.

A runner hands a DoFn one batch at a time, on one thread; reading the next batch
and folding the last one then never overlap, and one core does all the work.
`Fold` passes batches to worker threads (each fills its own accumulators, merged
at the end, as ``tskew.analysis.run_pass`` does in-process), so the accumulators'
numpy work runs beside the read. Accumulators are order-independent, so the result
is the same as a single thread's. A short queue bounds the batches in flight.
"""

from __future__ import annotations

import queue
import threading

import pyarrow as pa

from tskew.interpreter import Executor
from tskew.schedule import PassPlan, merge_states

_DONE = None  # sentinel: no more batches


class Fold:
    """Fold batches into ``plan``'s accumulators on ``threads`` threads.

    Example:
        >>> import numpy as np, tskew as ts
        >>> from tskew.schedule import Scheduler
        >>> from tskew.tracing import trace
        >>> g = trace(lambda i: {"z": ts.scale_to_z_score(i["x"])},
        ...           ts.Schema({"x": ts.float64(False)}))
        >>> plan = Scheduler(g).next_pass()
        >>> fold = Fold(plan, Executor(plan.graph), threads=2)
        >>> for k in range(5):
        ...     fold.add(pa.record_batch({"x": np.arange(10.0) + k}))
        >>> fold.result()["__rows__"]
        50
    """

    def __init__(self, plan: PassPlan, executor: Executor, threads: int):
        self.plan, self.executor = plan, executor
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, threads))
        self._states: list[dict] = []
        self._errors: list[BaseException] = []
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(threads)]
        self._closed = False
        for thread in self._threads:
            thread.start()

    def _work(self) -> None:
        accs = self.plan.empty()
        while (batch := self._queue.get()) is not _DONE:
            if self._errors:
                continue  # keep draining, so `add` never blocks on a dead worker
            try:
                self.plan.add(accs, batch, self.executor)
            except BaseException as err:  # re-raised on the DoFn's thread
                self._errors.append(err)
        self._states.append(accs)

    def add(self, batch: pa.RecordBatch) -> None:
        """Queue one batch (blocks while the workers are busy with earlier ones)."""
        self._raise()
        self._queue.put(batch)

    def result(self) -> dict:
        """Wait for the workers; their accumulators merged."""
        self.close()
        self._raise()
        return merge_states(self._states)

    def close(self) -> None:
        """Stop the workers once they have drained the queue (also for a failed bundle, so
        no thread is left waiting for batches); a second call does nothing."""
        if self._closed:
            return
        self._closed = True
        for _ in self._threads:
            self._queue.put(_DONE)
        for thread in self._threads:
            thread.join()

    def _raise(self) -> None:
        if self._errors:
            self.close()
            raise self._errors[0]


__all__ = ["Fold"]
