"""The command line shows tskew's log lines on stderr, once each."""

from __future__ import annotations

import logging

from tskew import cli
from tskew.log import show_on_stderr


def test_progress_lines_reach_stderr_once_even_with_a_root_handler(capsys):
    root_seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            root_seen.append(record.getMessage())

    root = logging.getLogger()
    handler = Collect()
    root.addHandler(handler)  # as Beam does in the process that runs the pipeline
    try:
        assert cli.main(["ops"]) == 0
        show_on_stderr()  # a second call adds no second handler
        logging.getLogger("tskew.beam.analyze").info("pass 2: %s rows read", "7")
    finally:
        root.removeHandler(handler)
    assert capsys.readouterr().err.splitlines() == ["tskew: pass 2: 7 rows read"]
    assert root_seen == []


def test_debug_records_stay_hidden(capsys):
    show_on_stderr()
    logging.getLogger("tskew.io").debug("per-batch detail")
    assert capsys.readouterr().err == ""
