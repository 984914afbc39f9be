"""Shared set-up of the widget tests: one torch thread, an empty session model store."""

from __future__ import annotations

import pytest
import torch

from napari_seisseg._widgets._model_store import MODEL_STORE


@pytest.fixture(autouse=True)
def _one_thread_and_empty_store():
    """Tiny models train fastest on one thread; every test starts with no model."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    MODEL_STORE.clear()
    yield
    MODEL_STORE.clear()
    torch.set_num_threads(before)
