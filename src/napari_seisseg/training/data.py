"""Training inputs: check them, put them in training order, encode the labels, split them.

Axis order
    With a cube geometry, image and labels are viewed in the canonical order
    ``(inline, crossline, sample)`` whatever order they came in (napari layers are
    ``(inline, sample, crossline)``), so a model always sees sections the same way round;
    ``config.axes`` is given in the input's order and translated.  A 2D image (one section)
    gets a leading axis of length 1 and is trained on as that single section.  Without a
    geometry the input order is kept and the last axis is taken as the sample axis (for
    the preprocessing pipeline).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..bundle.classes import ClassInfo, build_classes
from ..errors import SeisSegError
from ..io.geometry import CUBE_AXES, SECTION_AXES, SurveyGeometry
from ..io.indexing import WithLeadingAxis
from ..io.layer_axes import axis_word
from ..io.sample_axis import is_guessed
from .labels import (
    LabelSummary,
    check_finite,
    check_label_content,
    check_shapes,
    encode_labels,
    summarize_labels,
    value_counts,
)
from .split import HeldOut, held_out_from_target, split_validation

__all__ = ["TrainingData", "prepare_data", "split_data"]


@dataclass
class TrainingData:
    """Inputs in training order.

    Attributes
    ----------
    image : array-like
        3-axis view of the image (possibly lazy).
    target : numpy.ndarray
        Training target (0 = ignored, ``k + 1`` = class ``k``); held-out voxels removed
        once :func:`split_data` ran (given back if they join training,
        :meth:`~.split.HeldOut.rejoin`).
    classes : list of ClassInfo
        Classes in index order.
    summary : LabelSummary
        What was labeled (before the split).
    axis_names : list of str
        Names of the training axes.
    sample_axis : int
        Sample axis of the training order.
    axes : tuple of int
        Section axes the user allowed (training order); None for all.
    coordinates : dict
        Coordinate of every index per axis (geometry), for provenance.
    val_target : numpy.ndarray or None
        Explicit validation target, if one was given.
    held : HeldOut or None
        Validation labels after :func:`split_data`.
    notes : list of str
        Messages for the user.
    axis_words : list of str
        What the user calls each training axis (``time`` or ``depth`` for the samples of a
        survey, the trace key of a 2D line; ``axis_names`` without a geometry), for messages.
    """

    image: Any
    target: np.ndarray
    classes: list[ClassInfo]
    summary: LabelSummary
    axis_names: list[str]
    sample_axis: int
    axes: tuple[int, ...] | None
    coordinates: dict[int, np.ndarray] = field(default_factory=dict)
    val_target: np.ndarray | None = None
    held: HeldOut | None = None
    notes: list[str] = field(default_factory=list)
    axis_words: list[str] = field(default_factory=list)

    @property
    def class_values(self) -> list[int]:
        """Label value of every class index."""
        return [c.value for c in self.classes]

    @property
    def painted_on_time_slices(self) -> bool:
        """Whether most labels lie on a few painted time slices (not dense labels).

        True when over half of the labeled voxels were painted as time slices and those
        slices are fewer than half of the trace length (a fully labeled cube is not
        "painted on time slices", whatever its shape).
        """
        return self.summary.mostly_painted_along(self.sample_axis)

    @property
    def time_slices_painted_most(self) -> bool:
        """Whether time slices are the orientation painted most.

        True when :attr:`painted_on_time_slices`, and for mixed paint
        (``LabelSummary.painted_in_several`` over the allowed section axes) whose painted time
        slices hold at least as many labels as the painted sections of any other orientation.
        """
        if self.painted_on_time_slices:
            return True
        voxels = [self.summary.painted_voxels(a) for a in self.section_axes]
        return self.mixed_paint and self.summary.painted_voxels(self.sample_axis) == max(voxels)

    @property
    def section_axes(self) -> tuple[int, ...]:
        """The axes sections may be taken along: ``axes``, else all of them."""
        return tuple(range(len(self.summary.shape))) if self.axes is None else tuple(self.axes)

    @property
    def mixed_paint(self) -> bool:
        """Whether time slices were painted with vertical sections: two or more of the
        :attr:`section_axes` painted, time slices among them
        (``LabelSummary.painted_in_several``)."""
        return self.summary.painted_in_several(self.section_axes, including=self.sample_axis)


def _transpose(data: Any, perm: tuple[int, ...]) -> Any:
    if perm == tuple(range(len(perm))):
        return data
    if isinstance(data, np.ndarray):
        return np.transpose(data, perm)
    return data.transpose(perm)


def orient(
    shape: Sequence[int], geometry: SurveyGeometry | None
) -> tuple[tuple[int, ...], list[str], dict[int, np.ndarray], list[str]]:
    """Training order of an array: ``(perm, axis names, coordinates, notes)``.

    With a geometry that fits, the axes are put in canonical order (inline, crossline,
    sample; or trace, sample) and named; otherwise they keep their order, named ``axis i``
    (the last one taken as the sample axis).
    """
    ndim = len(shape)
    notes: list[str] = []
    names = [f"axis {i}" for i in range(ndim)]
    perm = tuple(range(ndim))
    coords: dict[int, np.ndarray] = {}
    if geometry is not None:
        canonical = CUBE_AXES if geometry.kind == "cube" else SECTION_AXES
        if len(canonical) == ndim:
            geometry.check_shape(tuple(shape), "image")
            perm = geometry.permutation_to(canonical)
            names = list(canonical)
            if not is_guessed(geometry):  # lines counted from 0 are no survey's line numbers
                coords = {i: geometry.axis_values(n) for i, n in enumerate(names)}
        else:
            notes.append(
                f"The geometry describes a {geometry.kind}, not this {ndim}-D array; ignored."
            )
    return perm, names, coords, notes


def _check_arrays(image: Any, labels: Any, val_labels: Any) -> None:
    """Refuse inputs that are not arrays, of different shapes, or with non-finite amplitudes."""
    if not hasattr(image, "shape") or not hasattr(labels, "shape"):
        raise SeisSegError("The image and the labels must be arrays (numpy, dask, Zarr or SEG-Y).")
    check_shapes(image.shape, labels.shape)
    if val_labels is not None:
        check_shapes(image.shape, val_labels.shape, "validation labels")
    check_finite(image)


def _encode_in_order(
    labels: Any, val_labels: Any, perm: Sequence[int], *, zero_is_background: bool,
    fixed: list[int] | None,
) -> tuple[np.ndarray, list[int], np.ndarray | None]:
    """Training targets (and validation targets) in training order, and the label values."""
    target, values = encode_labels(
        labels, zero_is_background=zero_is_background, class_values=fixed
    )
    target = np.ascontiguousarray(_transpose(target, perm))
    val_target = None
    if val_labels is not None:
        val_target, _ = encode_labels(
            val_labels, zero_is_background=zero_is_background, class_values=values
        )
        val_target = np.ascontiguousarray(_transpose(val_target, perm))
    return target, values, val_target


def prepare_data(
    image: Any,
    labels: Any,
    *,
    zero_is_background: bool = False,
    axes: Sequence[int] | None = None,
    geometry: SurveyGeometry | None = None,
    val_labels: Any = None,
    class_names: Mapping[int, str] | Sequence[str] | None = None,
    class_colors: Mapping[Any, Any] | None = None,
    classes: Sequence[ClassInfo] | None = None,
) -> TrainingData:
    """Check the inputs and bring them into training order (see the module docstring).

    Parameters
    ----------
    image, labels : array-like
        Image (numpy or lazy) and labels of the same shape, 2 or 3 axes.
    zero_is_background : bool
        Label 0 is a class.
    axes : sequence of int, optional
        Allowed section axes, in the input's order.
    geometry : SurveyGeometry, optional
        Geometry of the input (its ``axes`` names the input's axis order).
    val_labels : array-like, optional
        Explicit validation labels.
    class_names, class_colors : mapping, optional
        Class names and colours by label value.
    classes : sequence of ClassInfo, optional
        Fixed class list (fine-tuning); label values outside it are refused.

    Returns
    -------
    TrainingData
    """
    _check_arrays(image, labels, val_labels)
    ndim = len(image.shape)
    perm, names, coords, notes = orient(image.shape, geometry)
    user_axes = None if axes is None else tuple(perm.index(int(a)) for a in axes if int(a) < ndim)
    sample_axis = names.index("sample") if "sample" in names else ndim - 1
    fixed = None if classes is None else [c.value for c in classes]
    target, values, val_target = _encode_in_order(
        labels, val_labels, perm, zero_is_background=zero_is_background, fixed=fixed
    )
    img = _transpose(image, perm)
    if ndim == 2:
        img = WithLeadingAxis(img)
        target = target[None]
        val_target = None if val_target is None else val_target[None]
        names = ["section", *names]
        coords = {i + 1: c for i, c in coords.items()}
        sample_axis += 1
        if axes is not None and tuple(axes) != (0,):
            notes.append("A single 2D section is trained on as one section; 'axes' is ignored.")
        user_axes = (0,)
    if classes is None:
        classes = build_classes(
            values, class_names, class_colors, zero_is_background=zero_is_background
        )
    summary = summarize_labels(target, classes, names)
    check_label_content(summary, zero_is_background=zero_is_background, fine_tune=fixed is not None)
    return TrainingData(
        img,
        target,
        list(classes),
        summary,
        names,
        sample_axis,
        user_axes,
        coords,
        val_target,
        None,
        notes,
        [axis_word(geometry, n) if n in geometry.axes else n for n in names]
        if geometry is not None else list(names),
    )


def split_data(data: TrainingData, *, kind: str, fraction: float, seed: int) -> HeldOut | None:
    """Set ``data.held`` (explicit validation labels, or an automatic split) and return it."""
    if data.val_target is not None:
        val = data.val_target
        overlap = int(np.count_nonzero(data.target[val != 0]))
        data.target[val != 0] = 0
        if not data.target.any():
            raise SeisSegError(
                "The validation labels cover every training label, so nothing is left to train "
                "on. Paint validation labels on other sections than the training labels."
            )
        desc = f"validation labels layer: {int(np.count_nonzero(val)):,} voxels"
        if overlap:
            desc += f" ({overlap:,} also painted in the training labels were left out of training)"
        data.held = held_out_from_target(val, desc)
        data.val_target = None
        return data.held
    allowed = (0, 1, 2) if kind == "3d" else data.section_axes
    data.held = split_validation(
        data.target, data.summary, fraction=fraction, axes=allowed, seed=seed,
        sample_axis=data.sample_axis, axis_words=data.axis_words,
    )
    if data.held is None and fraction > 0:
        data.notes.append(
            "Too few labels to hold any out for validation; the last epoch's model is kept. "
            "Paint a second section (or give validation labels) to get validation scores."
        )
    if data.held is not None:
        left = value_counts(data.target, len(data.classes) + 1)[1:]
        missing = [c.name for c, n in zip(data.classes, left, strict=True) if n == 0]
        if missing:
            data.notes.append(
                f"After holding out validation labels, no training voxel of {', '.join(missing)} "
                "remains; paint it on more sections for a useful model."
            )
    return data.held
