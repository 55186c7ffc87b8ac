"""Where tskew's log lines go when it runs as the ``tskew`` command.

As a library tskew only logs (loggers under ``tskew``, progress at INFO) and
leaves the handlers to the application. The command line is an application, so
it shows those lines on stderr, each prefixed ``tskew:`` as the command's own
messages are.

Example:
    >>> import logging, sys
    >>> sys.stderr = sys.stdout  # let the doctest see what goes to stderr
    >>> show_on_stderr()
    >>> logging.getLogger("tskew.beam.analyze").info("pass 1: %s rows read", "1,024")
    tskew: pass 1: 1,024 rows read
    >>> sys.stderr = sys.__stderr__
"""

from __future__ import annotations

import logging
import sys

PREFIX = "tskew: "


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(self.format(record), file=sys.stderr, flush=True)
        except Exception:  # a logging failure must not break the command
            self.handleError(record)


def show_on_stderr(level: int = logging.INFO) -> None:
    """Send the ``tskew`` loggers' records at ``level`` and above to stderr.

    Idempotent: a second call (``main`` run again in one process) adds nothing.
    The records stop here instead of propagating to the root logger: Beam sets up
    a root handler of its own, which would print every line a second time.
    """
    logger = logging.getLogger("tskew")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter(PREFIX + "%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
