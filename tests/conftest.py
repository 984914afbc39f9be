"""Shared fixtures: real SEG-Y files (tests/data/segy, see its README for attribution), one-thread set-up."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data" / "segy"


@pytest.fixture(scope="session")
def segy_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def f3_reference() -> np.ndarray:
    """The F3 crop as segyio reads it (the reference the README's figures come from)."""
    import segyio

    return segyio.tools.cube(str(DATA / "f3.sgy"))


@pytest.fixture
def tmp_f3(tmp_path: Path) -> Path:
    """A private copy of f3.sgy (tests may write beside it)."""
    dst = tmp_path / "f3.sgy"
    shutil.copy(DATA / "f3.sgy", dst)
    return dst


@pytest.fixture
def notifications():
    """Collect napari notifications (message, severity) shown during a test."""
    from napari.utils.notifications import notification_manager

    seen: list = []

    def record(event):
        seen.append(getattr(event, "value", event))

    notification_manager.notification_ready.connect(record)
    yield seen
    notification_manager.notification_ready.disconnect(record)


@pytest.fixture
def one_thread_and_empty_store():
    """One torch thread (tiny models train fastest so) and an empty session model store."""
    import torch

    from napari_seisseg.store import MODEL_STORE

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    MODEL_STORE.clear()
    yield
    MODEL_STORE.clear()
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _autosave_in_tmp(tmp_path_factory, monkeypatch):
    """Models the Train widget saves automatically go to a temporary folder, never home."""
    from napari_seisseg.store import MODEL_DIR_ENV

    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path_factory.mktemp("autosaved-models")))
