"""npe2 sample-data contributions: the real F3 crop and a synthetic labeled cube."""

from __future__ import annotations

from pathlib import Path

F3_SAMPLE = Path(__file__).parent / "sample_data" / "f3_crop.sgy"

#: Default seed of the synthetic sample, so every user sees the same cube.
SYNTHETIC_SEED = 0


def f3_sample() -> list[tuple]:
    """The F3 Netherlands crop (23 inlines x 18 crosslines x 75 samples), read from SEG-Y.

    Data: F3 block, Dutch North Sea, dGB Earth Sciences / TNO, CC BY-SA 3.0 (see
    sample_data/README.md).
    """
    from ._reader import segy_layer_data
    from ._widgets.survey_status import watch_viewer

    watch_viewer()
    return segy_layer_data(F3_SAMPLE, name="F3 crop")


def synthetic_sample() -> list[tuple]:
    """A synthetic labeled cube: seismic, sparse training labels and the full truth (hidden).

    Shown in survey coordinates (line numbers; time stretched by the automatic vertical
    exaggeration so a section fills the view), like any SEG-Y: an export re-opens exactly
    over it.  The survey geometry is in each layer's metadata, so exports carry it.
    """
    from ._widgets.survey_status import watch_viewer
    from .io.layers import volume_layer_data
    from .synthetic import make_synthetic_cube

    watch_viewer()
    cube = make_synthetic_cube(seed=SYNTHETIC_SEED)
    sparse = cube.sparse_labels()
    common = {"coordinates": "survey"}
    seismic = volume_layer_data(cube.seismic, cube.geometry, name="synthetic seismic", **common)
    labels = volume_layer_data(
        sparse, cube.geometry, name="synthetic labels", layer_type="labels",
        features=cube.class_table(), colormap=cube.label_colormap(), **common,
    )
    truth = volume_layer_data(
        cube.labels, cube.geometry, name="synthetic truth", layer_type="labels",
        features=cube.class_table(), colormap=cube.label_colormap(), visible=False, **common,
    )
    return [seismic, labels, truth]
