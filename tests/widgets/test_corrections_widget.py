"""Taking corrections of a predicted mask into the painted labels (Train widget, real viewer)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_seisseg._widgets.mask_edits import copy_into_labels
from napari_seisseg._widgets.predict import PredictWidget
from napari_seisseg._widgets.train import TrainWidget
from napari_seisseg.jobs import drain
from napari_seisseg.store import MODEL_STORE, ModelEntry
from napari_seisseg.training.mask_edits import is_tracked

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def facies():
    """A 3-class model trained a few steps on the synthetic sample's painted sections."""
    from napari_seisseg._sample_data import SYNTHETIC_SEED
    from napari_seisseg.synthetic import make_synthetic_cube
    from napari_seisseg.training import AugmentConfig, TrainConfig, train

    torch.set_num_threads(1)
    cube = make_synthetic_cube(seed=SYNTHETIC_SEED)
    config = TrainConfig(model="unet2d", model_kwargs={"width": 4, "depth": 2}, epochs=1,
                         steps_per_epoch=2, patch_size=32, batch_size=2, val_fraction=0.0,
                         augment=AugmentConfig.none(), device="cpu")
    return drain(train(cube.seismic, cube.sparse_labels(), config, geometry=cube.geometry,
                              class_names=list(cube.class_names), class_colors=cube.class_colors))


@pytest.fixture
def predicted(make_napari_viewer, facies, qtbot):
    """The synthetic sample predicted with ``facies``; returns viewer, Train widget, mask."""
    viewer = make_napari_viewer()
    viewer.open_sample("napari-seisseg", "synthetic")
    MODEL_STORE.add(ModelEntry("facies", facies.model, facies.card))
    p = PredictWidget(viewer)
    assert p.predict() is not None
    qtbot.waitUntil(lambda: p.worker is None, timeout=30_000)
    mask = p.layers["mask"]
    assert is_tracked(mask) and not is_tracked(viewer.layers["synthetic labels"])
    t = TrainWidget(viewer)
    assert t.corrections.mask.value is mask  # the newest prediction is offered
    assert t.labels_layer.value.name == "synthetic labels"
    return viewer, t, mask


def test_add_my_edits_copies_only_the_corrections_in_one_undo_step(predicted, notifications):
    viewer, t, mask = predicted
    labels = viewer.layers["synthetic labels"]
    labels.visible = False  # hidden while correcting the mask: shown when corrections arrive
    before = labels.data.copy()
    assert t.corrections.add_edits() is None and "Nothing in" in t.status.value  # no edit yet
    # a class the model did not predict there (nor painted), on an unpainted inline and on
    # a painted one, where the correction overrides the paint
    v = next(v for v in (3, 2, 1) if v not in (mask.data[40, 30, 60], mask.data[16, 30, 60],
                                               before[16, 30, 60]))
    mask.brush_size = 7
    mask.paint((40, 30, 60), v)
    mask.paint((16, 30, 60), v)
    mask.paint((40, 10, 10), 0)  # erased: not a label
    written = mask.data.copy()
    viewer.dims.set_current_step(0, 40)  # the section with an edit on screen
    n = t.corrections.add_edits()
    assert n is not None and n > 0 and t.status.state == "done", t.status.value
    changed = labels.data != before
    assert int(changed.sum()) == n and labels.visible
    assert (labels.data[changed] == v).all() and (written[changed] == v).all()
    assert labels.data[40, 30, 60] == v and labels.data[16, 30, 60] == v
    assert labels.data[40, 10, 10] == before[40, 10, 10]  # the erased voxel is left out
    assert "erased voxels are not labels" in t.status.value
    np.testing.assert_array_equal(mask.data, written)  # the mask is left as it was
    assert t.advanced.init_from.value == "facies"  # the next run fine-tunes the predictor
    assert "fine-tunes 'facies'" in t.status.value
    assert t.corrections.add_edits() is None and "Nothing new to add" in t.status.value
    labels.undo()
    np.testing.assert_array_equal(labels.data, before)  # one undo step takes it all back
    errors = [str(m.message) for m in notifications if "error" in str(m.severity).lower()]
    assert len(errors) == 2 and "Nothing in" in errors[0] and "Nothing new" in errors[1]


def test_add_shown_section_fills_unpainted_voxels_and_refuses_the_3d_view(predicted):
    viewer, t, mask = predicted
    labels = viewer.layers["synthetic labels"]
    il = 40  # not painted, but crossed by the painted crosslines
    viewer.dims.set_current_step(0, il)
    before, written = labels.data.copy(), mask.data.copy()
    assert (before[il] == 0).any() and (before[il] != 0).any()
    painted = np.argwhere(before[il] != 0)
    r, c = (int(i) for i in painted[len(painted) // 2])
    value = next(v for v in (1, 2, 3) if v not in (before[il, r, c], mask.data[il, r, c]))
    mask.brush_size = 3
    mask.paint((il, r, c), value)  # corrects a painted voxel and a few around it
    edited = mask.data[il] != written[il]
    assert 0 < edited.sum() < 20
    n = t.corrections.add_section()
    line = int(labels.metadata["ilines"][il])  # said as the survey's line number
    assert n is not None and f"inline {line}" in t.status.value, t.status.value
    unpainted = before[il] == 0
    np.testing.assert_array_equal(labels.data[il][unpainted], mask.data[il][unpainted])
    np.testing.assert_array_equal(labels.data[il][edited], mask.data[il][edited])  # edits win
    keep = (before[il] != 0) & ~edited  # painted and not corrected: as painted
    assert keep.any()
    np.testing.assert_array_equal(labels.data[il][keep], before[il][keep])
    assert n == int((labels.data != before).sum())
    others = np.ones(labels.data.shape[0], bool)
    others[il] = False
    np.testing.assert_array_equal(labels.data[others], before[others])
    viewer.dims.ndisplay = 3
    assert t.corrections.add_section() is None and "2D view" in t.status.value


def test_corrections_need_a_mask_and_other_labels(make_napari_viewer, notifications):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-seisseg", "synthetic")
    t = TrainWidget(viewer)
    assert t.corrections.mask.value is None
    assert t.corrections.add_edits() is None and "No predicted mask" in t.status.value
    assert any("No predicted mask" in str(m.message) for m in notifications)


def test_corrections_refuse_the_mask_itself_and_a_quick_look(predicted, qtbot):
    viewer, t, mask = predicted
    t.labels_layer.value = mask
    assert t.corrections.add_section() is None and "the mask" in t.status.value
    t.labels_layer.value = viewer.layers["synthetic labels"]
    read_only = viewer.add_labels(np.zeros(mask.data.shape, np.uint8), name="from file")
    read_only.data.flags.writeable = False  # as a memory-mapped file opened as it is stored
    t.labels_layer.value = read_only
    mask.paint((30, 30, 30), next(v for v in (3, 2, 1) if v != mask.data[30, 30, 30]))
    assert t.corrections.add_edits() is None and "read-only" in t.status.value
    t.labels_layer.value = viewer.layers["synthetic labels"]
    p = PredictWidget(viewer)
    p.current_slice.value = True  # a quick look: a mask of one inline only
    assert p.predict() is not None
    qtbot.waitUntil(lambda: p.worker is None, timeout=30_000)
    assert t.corrections.mask.value is p.layers["mask"]  # the newest is offered
    t.corrections.mask.value = p.layers["mask"]
    t.labels_layer.value = mask  # another predicted mask as the target
    assert t.corrections.add_edits() is None and "another predicted mask" in t.status.value
    t.labels_layer.value = viewer.layers["synthetic labels"]
    before = viewer.layers["synthetic labels"].data.copy()
    assert t.corrections.add_section() is None and "quick look" in t.status.value
    np.testing.assert_array_equal(viewer.layers["synthetic labels"].data, before)
    t.corrections.mask.value = mask
    mask.data = np.zeros((4, 5, 6), np.uint8)  # replaced wholesale: no longer comparable
    assert t.corrections.add_edits() is None and "predict again" in t.status.value


def test_copy_into_labels_writes_a_section_region():
    class FakeLabels:
        def __init__(self, data):
            self.data = data
            self.name = "painted"
            self.calls = []

        def data_setitem(self, indices, value):
            self.calls.append(indices)
            self.data[indices] = value

    lab = FakeLabels(np.zeros((3, 4, 5), np.uint8))
    lab.data[2, 2, 1] = 1  # already that value: not rewritten
    src = np.array([[0, 1, 2, 2, 0]] * 3, np.uint8)  # the section at index 2 of axis 1
    where = np.ones((3, 5), bool)
    where[0] = False
    assert copy_into_labels(lab, src, where, region=(slice(None), 2, slice(None))) == 5
    expected = np.zeros((3, 4, 5), np.uint8)
    expected[1:, 2, 1:4] = [1, 2, 2]
    np.testing.assert_array_equal(lab.data, expected)
    assert len(lab.calls) == 1  # one undo step
    assert copy_into_labels(lab, src, where, region=(slice(None), 2, slice(None))) == 0
    assert len(lab.calls) == 1  # nothing to change: no empty undo step


def test_a_mask_is_offered_as_soon_as_it_is_tracked(predicted):
    from napari_seisseg.training.mask_edits import remember_written

    viewer, t, mask = predicted
    other = viewer.add_labels(np.ones(mask.data.shape, np.uint8), name="another mask")
    assert t.corrections.mask.value is mask  # inserted, but not a prediction (yet)
    remember_written(other, other.data)  # what the Predict widget does after adding it
    assert t.corrections.mask.value is other
