"""Shared set-up of the widget tests: one torch thread, an empty session model store."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _widget_setup(one_thread_and_empty_store):
    """Every widget test runs with the root conftest's ``one_thread_and_empty_store``."""
    yield
