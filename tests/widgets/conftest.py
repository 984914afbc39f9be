"""Shared set-up of the widget tests: one torch thread, an empty session model store."""

from __future__ import annotations

import functools

import pytest

#: Shape of the synthetic sample in the widget tests (smaller, for speed).
SMALL = (24, 32, 40)  # the test modules that need it repeat it (conftest is not importable)


@pytest.fixture(autouse=True)
def _widget_setup(one_thread_and_empty_store):
    """Every widget test runs with the root conftest's ``one_thread_and_empty_store``."""
    yield


@pytest.fixture
def sample_viewer(make_napari_viewer, monkeypatch):
    """A viewer with the plugin's synthetic sample, made smaller (:data:`SMALL`) for speed."""
    from napari_seisseg import synthetic

    small = functools.partial(synthetic.make_synthetic_cube, shape=SMALL)
    monkeypatch.setattr(synthetic, "make_synthetic_cube", small)
    viewer = make_napari_viewer()
    viewer.open_sample("napari-seisseg", "synthetic")
    return viewer
