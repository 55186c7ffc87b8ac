"""Shared fixtures: where the optional ../shared data lives, and skips when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATA = SHARED / "data"


def shared_file(relative: str) -> Path:
    """Path of a file under ../shared/data, or skip the test saying what is missing."""
    path = DATA / relative
    if not path.exists():
        pytest.skip(
            f"real data {path} is absent (../shared is only present in CI and for "
            "developers); skipping"
        )
    return path
