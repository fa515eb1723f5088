"""Fixtures of the resilience tests: one emulator per test (they change state and kill runs)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Lab  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def lab(tmp_path):
    with Lab(time_scale=0.05, tmp=tmp_path) as running:
        yield running
