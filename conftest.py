"""Shared by the tests in ``tests/`` and the docstring examples in ``tunnelframe/``."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    """Close every matplotlib figure after each test and example.

    An example that plots without ``ax=`` draws on pyplot's current Axes: left open, that is
    the previous example's (a log-scaled one warns), whichever ran before in this process.
    """
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")
