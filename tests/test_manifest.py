"""The npe2 manifest: valid, discovered by napari, and every contribution importable."""

from __future__ import annotations

import importlib

import npe2
import pytest


@pytest.fixture(scope="module")
def manifest():
    pm = npe2.PluginManager.instance()
    pm.discover()
    return pm.get_manifest("napari-seisseg")


def test_manifest_is_discovered_and_valid(manifest):
    assert manifest.name == "napari-seisseg"
    contrib = manifest.contributions
    assert {r.command for r in contrib.readers} == {"napari-seisseg.get_reader"}
    patterns = contrib.readers[0].filename_patterns
    assert {"*.sgy", "*.segy", "*.SGY", "*.SEGY", "*.npy"} <= set(patterns)
    assert {w.filename_extensions[0] for w in contrib.writers} >= {".sgy", ".npy", ".zarr"}
    assert {s.key for s in contrib.sample_data} == {"f3", "synthetic"}


def test_every_command_resolves_to_a_callable(manifest):
    for cmd in manifest.contributions.commands:
        module, _, attr = cmd.python_name.partition(":")
        obj = getattr(importlib.import_module(module), attr)
        assert callable(obj), cmd.id


def test_reader_import_is_light():
    """napari imports the reader at start-up: it must not pull torch or segyio in."""
    import subprocess
    import sys

    code = ("import sys, napari_seisseg._reader as r; r.get_reader('x.sgy'); "
            "print('torch' in sys.modules, 'segyio' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_get_reader_declines_what_it_cannot_read(tmp_path):
    from napari_seisseg._reader import get_reader

    assert get_reader(str(tmp_path / "image.tif")) is None
    assert get_reader([str(tmp_path / "a.sgy"), str(tmp_path / "b.tif")]) is None
    assert get_reader(str(tmp_path / "a.SEGY")) is not None
