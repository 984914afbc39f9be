"""What a run says about the paint before training and what it learned after."""

from __future__ import annotations

import numpy as np

from napari_seisseg.bundle.classes import build_classes
from napari_seisseg.training.labels import summarize_labels
from napari_seisseg.training.report import class_report, few_body_warnings, few_voxel_warnings

NAMES = ["background", "fault", "gas sand", "layer"]


def _time_slices(n_blobs: int, slices=(10, 30, 50)) -> np.ndarray:
    """Paint on time slices (axis 2): background, a fault across each slice, ``n_blobs``
    compact sand patches in all, and a layer across the first slice."""
    target = np.zeros((40, 48, 60), np.uint8)
    for t in slices:
        target[:, :, t] = 1
        target[:, 20, t] = 2  # a fault line across the slice
    for b in range(n_blobs):  # 210 voxels each (never too few voxels to be named for that)
        t = slices[b % len(slices)]
        r = 2 + 18 * (b // len(slices))
        target[r:r + 15, 26:40, t] = 3
    target[36:39, :, slices[0]] = 4  # a layer: spans the slice
    return target


def _warnings(target):
    classes = build_classes(list(range(1, len(NAMES) + 1)), NAMES, None,
                            zero_is_background=False)
    return few_body_warnings(target, summarize_labels(target, classes), NAMES)


def test_a_class_painted_as_a_few_patches_is_named_with_their_count():
    [warning] = _warnings(_time_slices(3))
    assert warning.startswith("gas sand is painted as only 3 separate patches: ")
    assert "Paint it in a few more places" in warning
    assert _warnings(_time_slices(1))[0].startswith("gas sand is painted as only 1 separate patch:")
    assert _warnings(_time_slices(5))[0].startswith("gas sand is painted as only 5 separate")
    assert _warnings(_time_slices(6)) == []  # more bodies: learned from several
    # classes that span a section (the fault, the layer, the background) are never named
    assert not [w for w in _warnings(_time_slices(2)) if not w.startswith("gas sand")]


def test_what_counts_as_a_patch():
    # a patch alone on its slice is measured against the paint of every slice of its
    # orientation, so it is still compact
    target = _time_slices(2)
    target[5:20, 5:19, 55] = 3
    assert _warnings(target)[0].startswith("gas sand is painted as only 3 separate patches")
    # a class with one patch across its section is never named, whatever else it has
    target[5:8, :, 55] = 4
    assert not [w for w in _warnings(target) if w.startswith("layer")]
    # scribbles: three short strokes of a class among strokes of others
    strokes = np.zeros((40, 48, 60), np.uint8)
    strokes[2:5, 3:40, 30] = 1
    strokes[30:33, 3:40, 30] = 1
    for r in (8, 16, 24):
        strokes[r:r + 7, 10:20, 30] = 3  # 70 voxels each, short of half the painted extent
    assert _warnings(strokes)[0].startswith("gas sand is painted as only 3 separate patches")


def test_a_single_section_labeled_whole_is_not_counted():
    section = np.ones((1, 48, 60), np.uint8)
    section[0, 10:25, 20:40] = 3  # one salt body on a fully labeled 2D line
    assert _warnings(section) == []
    section[0, 40:, :] = 0  # now only partly labeled: there is more to paint
    section[0, :, :10] = 0
    assert _warnings(section)[0].startswith("gas sand is painted as only 1 separate patch")


def test_many_painted_sections_are_not_counted():
    from types import SimpleNamespace

    target = _time_slices(2)
    counts = np.bincount(target.ravel(), minlength=5)[1:]
    few = SimpleNamespace(axes=[SimpleNamespace(axis=2, sections=np.array([10, 30, 50]))],
                          class_counts=counts)
    assert len(few_body_warnings(target, few, NAMES)) == 1
    many = SimpleNamespace(axes=[SimpleNamespace(axis=2, sections=np.arange(60)),
                                 SimpleNamespace(axis=0, sections=np.arange(10))],
                          class_counts=counts)
    assert few_body_warnings(target, many, NAMES) == []  # over 64: not a few sections
    large = np.zeros((3, 2600, 2600), np.uint8)  # 3 sections of 6.8 million voxels
    large[:, :, :] = 1
    large[0, 10:40, 10:40] = 3
    three = SimpleNamespace(axes=[SimpleNamespace(axis=0, sections=np.arange(3))],
                            class_counts=np.bincount(large[0].ravel(), minlength=5)[1:])
    assert few_body_warnings(large, three, NAMES) == []  # over 20 million section voxels
    assert len(few_body_warnings(large[:, :2000, :2000], three, NAMES)) == 1  # 12 million


def test_the_other_lines_of_the_report():
    assert few_voxel_warnings([5, 500], ["fault", "sand"]) == [
        "fault is painted on only 5 voxels: too few to learn it well. Paint it on more sections "
        "(a few hundred voxels or more)."]
    metrics = {"classes": [
        {"name": "fault", "iou": 0.0, "recall": 0.0, "support": 1234},
        {"name": "salt", "iou": 0.81, "recall": 0.9, "support": 100},
    ]}
    (level, missed), (info_level, found) = class_report(metrics)
    assert level == "warning" and missed.startswith("fault: 0 of 1,234 validation voxels found")
    assert info_level == "info" and found == "salt: validation IoU 0.81, found 90% of its 100 validation voxels."
    # measured before the held-out paint joined training: a line says so first
    lines = class_report({**metrics, "before_joining": 5})
    assert lines[0] == ("info", "Validation per class at epoch 5, before the held-out paint "
                                "joined training:")
    assert lines[1:] == class_report(metrics)
