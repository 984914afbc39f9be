"""Painted labels: encoding, what is labeled in every orientation, and input checks.

Convention: in a Labels layer ``0`` means *not labeled* (ignored by the loss) and ``1..K``
are classes.  With ``zero_is_background=True`` (dense masks made elsewhere) ``0`` is a class
too and nothing is ignored.

Internally the labels become a *target* array (``uint8``): ``0`` = ignored, ``k + 1`` =
class index ``k`` (classes sorted by label value), so any set of label values (1, 2, 5...)
maps onto contiguous class indices and the model card keeps the map back (the class list
itself lives in :mod:`napari_seisseg.bundle.classes`).

Non-finite amplitudes are **refused**, not repaired: NaN usually marks dead or missing
traces whose right fill value (0, the mean, an interpolation) depends on the survey, and a
silent fill would also bias the amplitude statistics.  The message points to preprocessing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..bundle.classes import ClassInfo
from ..bundle.normalize import nonfinite_message
from ..errors import SeisSegError

__all__ = [
    "LabelSummary",
    "AxisLabels",
    "MAX_CLASSES",
    "MIXED_SHARE",
    "check_finite",
    "check_label_content",
    "check_shapes",
    "encode_labels",
    "summarize_labels",
]

#: Voxels handled at once when scanning large label arrays.
_BLOCK_VOXELS = 1 << 24
#: Most classes a target array (uint8, 0 = ignored) can hold.
MAX_CLASSES = 254
#: Share of the painted voxels that a second orientation's painted sections must hold for
#: the paint to count as mixed (sections painted in two or more orientations).
MIXED_SHARE = 0.1
#: Label values below this are mapped through a lookup table.
_LUT_SIZE = 1 << 16


def check_shapes(
    image_shape: Sequence[int], labels_shape: Sequence[int], what: str = "labels"
) -> None:
    """Raise :class:`SeisSegError` unless the labels have the image's shape."""
    if tuple(image_shape) != tuple(labels_shape):
        raise SeisSegError(
            f"The {what} have shape {tuple(labels_shape)} but the image has shape "
            f"{tuple(image_shape)}. Use a Labels layer made for this image (in napari: select "
            "the image, then add a new Labels layer) or a labels file of the same shape."
        )
    if len(image_shape) not in (2, 3):
        raise SeisSegError(
            f"Training takes a 2D section or a 3D cube, got an array of {len(image_shape)} "
            f"dimensions {tuple(image_shape)}."
        )


def value_counts(block: np.ndarray, minlength: int = 1) -> np.ndarray:
    """``np.bincount`` of a block of small non-negative integers, zeros counted apart.

    Labels are mostly 0 (not labeled): the zeros are counted with one comparison and only
    the labeled values are binned, instead of converting the whole block to ``intp``
    (8 bytes per voxel) first.
    """
    flat = block.ravel()
    labeled = flat[flat != 0]
    counts = np.bincount(labeled.astype(np.intp, copy=False), minlength=max(1, minlength))
    counts[0] = flat.size - labeled.size
    return counts


def _blocks(shape: Sequence[int], voxels: int = _BLOCK_VOXELS):
    per = max(1, int(np.prod(shape[1:], dtype=np.int64)))
    step = max(1, voxels // per)
    for a in range(0, shape[0], step):
        yield slice(a, min(shape[0], a + step))


def check_finite(image: Any) -> None:
    """Raise :class:`SeisSegError` if an in-memory image holds NaN or infinite values.

    Arrays on disk (memmaps, SEG-Y, Zarr, dask) are not scanned here; every patch read
    during training is checked instead.
    """
    if not isinstance(image, np.ndarray) or isinstance(image, np.memmap):
        return
    if not np.issubdtype(image.dtype, np.floating):
        return
    bad = 0
    for s in _blocks(image.shape):
        bad += int(np.count_nonzero(~np.isfinite(image[s])))
    if bad:
        raise SeisSegError(nonfinite_message(bad))


def _check_label_block(block: np.ndarray) -> np.ndarray:
    if block.dtype == bool:
        return block.astype(np.uint8)
    if np.issubdtype(block.dtype, np.floating):
        if not np.all(np.isfinite(block)) or not np.all(block == np.round(block)):
            raise SeisSegError(
                "The labels hold fractional or NaN values; labels must be whole numbers "
                "(0 = not labeled, 1, 2, ... = classes). Use a Labels layer, not an image."
            )
        block = block.astype(np.int64)
    elif not np.issubdtype(block.dtype, np.integer):
        raise SeisSegError(f"Labels must be integers, got dtype {block.dtype}.")
    if block.size and block.min() < 0:
        raise SeisSegError(
            "The labels hold negative values; use 0 for not labeled and 1, 2, ... for classes."
        )
    return block


def encode_labels(
    labels: Any,
    *,
    zero_is_background: bool = False,
    class_values: Sequence[int] | None = None,
) -> tuple[np.ndarray, list[int]]:
    """Turn a labels array into a target array and the list of class label values.

    Parameters
    ----------
    labels : array-like
        Labels (numpy or anything sliceable along axis 0; read block by block).
    zero_is_background : bool
        Treat 0 as a class.
    class_values : sequence of int, optional
        Fixed class list (fine-tuning): every label value present must be in it.

    Returns
    -------
    target : numpy.ndarray
        ``uint8``, same shape: 0 ignored, ``k + 1`` class index ``k``.
    values : list of int
        Label value of each class index.
    """
    shape = tuple(labels.shape)
    counts: dict[int, int] = {}
    for s in _blocks(shape):
        b = _check_label_block(np.asarray(labels[s]))
        if b.size and int(b.max()) < _LUT_SIZE:
            cnt = value_counts(b)
            vals = np.flatnonzero(cnt)
            cnt = cnt[vals]
        else:
            vals, cnt = np.unique(b, return_counts=True)
        for v, c in zip(vals.tolist(), cnt.tolist(), strict=True):
            counts[int(v)] = counts.get(int(v), 0) + int(c)
    present = sorted(v for v in counts if zero_is_background or v != 0)
    if class_values is None:
        values = present
    else:
        values = sorted(int(v) for v in class_values)
        extra = sorted(set(present) - set(values))
        if extra:
            raise SeisSegError(
                f"The labels hold value(s) {extra} that are not classes of the model being "
                f"fine-tuned (its classes are {values}). Fine-tuning keeps the model's classes: "
                "relabel to those values, or train a new model from scratch for a different "
                "class set."
            )
    if len(values) > MAX_CLASSES:
        raise SeisSegError(
            f"The labels hold {len(values)} different values; training supports up to "
            f"{MAX_CLASSES} classes. Check that the labels layer (not the image or an instance "
            "segmentation) was chosen."
        )
    lut_values = np.asarray(values, dtype=np.int64)
    top = max(counts) if counts else 0
    lut = None
    if top < _LUT_SIZE:  # value -> target code by table lookup
        lut = np.zeros(top + 1, dtype=np.uint8)
        inside = lut_values[lut_values <= top]
        lut[inside] = np.searchsorted(lut_values, inside) + 1
    target = np.zeros(shape, dtype=np.uint8)
    for s in _blocks(shape):
        b = _check_label_block(np.asarray(labels[s]))
        if lut is not None:
            target[s] = lut[b]
            continue
        b = b.astype(np.int64, copy=False)
        pos = np.clip(np.searchsorted(lut_values, b), 0, max(len(values) - 1, 0))
        hit = lut_values[pos] == b if len(values) else np.zeros(b.shape, bool)
        target[s] = np.where(hit, pos + 1, 0).astype(np.uint8)
    return target, values


@dataclass
class AxisLabels:
    """What is labeled along one axis.

    Attributes
    ----------
    axis : int
        Axis number in the training array.
    name : str
        Axis name (``"inline"``, ``"sample"``... or ``"axis 0"``).
    indices : numpy.ndarray
        Slice indices along the axis that contain labeled voxels.
    counts : numpy.ndarray
        Labeled voxels in each of those slices.
    sections : numpy.ndarray
        Slices *painted in this orientation*: every labeled voxel is assigned to the
        orientation whose slice through it holds the most labels (a stroke painted on an
        inline lies in that inline and only crosses crosslines and time slices).
    section_voxels : int
        Labeled voxels assigned to this orientation.
    """

    axis: int
    name: str
    indices: np.ndarray
    counts: np.ndarray
    sections: np.ndarray
    section_voxels: int


@dataclass
class LabelSummary:
    """What is labeled, by class and by orientation."""

    shape: tuple[int, ...]
    classes: list[ClassInfo]
    class_counts: np.ndarray
    axes: list[AxisLabels] = field(default_factory=list)

    @property
    def n_labeled(self) -> int:
        """Number of labeled voxels."""
        return int(self.class_counts.sum())

    def painted_voxels(self, axis: int) -> int:
        """Labeled voxels painted as sections along ``axis``, when those are a few.

        Parameters
        ----------
        axis : int
            Axis of the array.

        Returns
        -------
        int
            ``section_voxels`` of the axis when its painted sections are fewer than half of
            its slices, else 0: a fully labeled cube is not "painted" along any axis.
        """
        a = self.axes[axis]
        return int(a.section_voxels) if len(a.sections) < 0.5 * self.shape[axis] else 0

    def painted_orientations(self, axes: Sequence[int]) -> list[int]:
        """The orientations among ``axes`` whose painted sections hold at least
        :data:`MIXED_SHARE` of the painted voxels of them all (:meth:`painted_voxels`), the
        most painted first (ties in the order of ``axes``)."""
        voxels = {int(a): self.painted_voxels(int(a)) for a in axes}
        total = sum(voxels.values())
        painted = [a for a, v in voxels.items() if v > 0 and v >= MIXED_SHARE * total]
        return sorted(painted, key=lambda a: -voxels[a])

    def painted_in_several(self, axes: Sequence[int], including: int | None = None) -> bool:
        """Whether sections were painted in two or more of the orientations ``axes``
        (:meth:`painted_orientations`), ``including`` (an axis, e.g. the sample axis: time
        slices) among them when given."""
        several = self.painted_orientations(axes)
        return len(several) >= 2 and (including is None or int(including) in several)

    def mostly_painted_along(self, axis: int) -> bool:
        """Whether over half of the labeled voxels were painted as a few sections along ``axis``
        (:meth:`painted_voxels`): e.g. painted time slices, not dense labels."""
        return self.painted_voxels(axis) > 0.5 * self.n_labeled

    def sections_listed(self) -> list[AxisLabels]:
        """The orientations to name as painted sections: those whose sections are at most
        half the slices of the axis (dense labels, such as a stack of labeled tiles, are
        painted in no orientation: each of their voxels goes to the axis whose slices are
        largest, and most slices of it hold some).  A 2D line's one section is listed.
        Exactly half the slices are listed here on purpose (a description), where
        :meth:`painted_voxels` (a training decision) counts them as dense."""
        return [a for a in self.axes if len(a.sections) and (
            len(a.sections) <= 0.5 * self.shape[a.axis] or self.shape[a.axis] == 1)]

    def extent_text(self, plural: Callable[[str], str] | None = None) -> str:
        """How far dense labels reach, when some are (:meth:`sections_listed` leaves out an
        orientation holding sections): the axis along which the smallest share of slices
        holds labels, e.g. ``"labels fill 2,400 of 3,200 axis 0 slices"``; "" otherwise.
        ``plural`` names the slices across an axis (default ``"<axis> slices"``)."""
        listed = {a.axis for a in self.sections_listed()}
        if not any(len(a.sections) and a.axis not in listed for a in self.axes):
            return ""
        held = [a for a in self.axes if len(a.indices) and self.shape[a.axis] > 1]
        if not held:
            return ""
        a = min(held, key=lambda a: len(a.indices) / self.shape[a.axis])
        noun = plural(a.name) if plural is not None else f"{a.name} slices"
        return f"labels fill {len(a.indices):,} of {self.shape[a.axis]:,} {noun}"

    def describe(self) -> str:
        """One-paragraph description for the widget and the CLI."""
        per_class = ", ".join(
            f"{c.name} {int(n):,}" for c, n in zip(self.classes, self.class_counts, strict=True)
        )
        parts = [f"{self.n_labeled:,} labeled voxels in {len(self.classes)} classes ({per_class})"]
        sec = []
        for a in self.sections_listed():
            shown = ", ".join(str(int(i)) for i in a.sections[:8])
            more = ", ..." if len(a.sections) > 8 else ""
            sec.append(f"{a.name} {len(a.sections)} ({shown}{more})")
        if sec:
            parts.append("painted sections: " + "; ".join(sec))
        extent = self.extent_text()
        if extent:
            parts.append(extent)
        return "; ".join(parts) + "."

    def to_dict(self, coordinates: Mapping[int, np.ndarray] | None = None) -> dict[str, Any]:
        """JSON-able provenance: class counts and, per axis, labeled slices and sections.

        Parameters
        ----------
        coordinates : mapping, optional
            ``{axis: coordinate of every index}`` (line numbers, sample times) to record
            next to the indices.
        """
        out: dict[str, Any] = {
            "shape": [int(s) for s in self.shape],
            "n_labeled": self.n_labeled,
            "class_voxels": {
                str(c.value): int(n) for c, n in zip(self.classes, self.class_counts, strict=True)
            },
            "axes": [],
        }
        for a in self.axes:
            d = {
                "axis": a.axis,
                "name": a.name,
                "labeled_slices": _ranges(a.indices),
                "labeled_voxels": int(a.counts.sum()),
                "sections": [int(i) for i in a.sections[:1000]],
                "section_voxels": int(a.section_voxels),
            }
            if coordinates and a.axis in coordinates and len(a.sections):
                coords = np.asarray(coordinates[a.axis])[a.sections[:1000]]
                d["section_coordinates"] = [float(c) for c in coords]
            out["axes"].append(d)
        return out


def _ranges(idx: np.ndarray) -> list[list[int]]:
    """Sorted indices as ``[[start, stop), ...]`` runs."""
    idx = np.asarray(idx, dtype=np.int64)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) != 1)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    stops = np.concatenate([idx[breaks], [idx[-1]]]) + 1
    return [[int(a), int(b)] for a, b in zip(starts, stops, strict=True)]


def _count_labels(target: np.ndarray, n_classes: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Labeled voxels per slice of every axis, and voxels per target value (0 included)."""
    shape = target.shape
    nd = target.ndim
    per_axis = [np.zeros(n, dtype=np.int64) for n in shape]
    class_counts = np.zeros(n_classes + 1, dtype=np.int64)
    for s in _blocks(shape):
        b = target[s]
        m = b != 0
        class_counts += value_counts(b, n_classes + 1)[: n_classes + 1]
        for ax in range(nd):
            other = tuple(i for i in range(nd) if i != ax)
            c = np.count_nonzero(m, axis=other)
            if ax == 0:
                per_axis[0][s] += c
            else:
                per_axis[ax] += c
    return per_axis, class_counts


def _assign_sections(
    target: np.ndarray, per_axis: list[np.ndarray]
) -> tuple[list[np.ndarray], np.ndarray]:
    """Labeled sections per axis, and labeled voxels per axis.

    Every labeled voxel goes to the orientation whose slice through it holds most labels.
    """
    shape = target.shape
    nd = target.ndim
    sections = [np.zeros(n, dtype=bool) for n in shape]
    assigned = np.zeros(nd, dtype=np.int64)
    for s in _blocks(shape, _BLOCK_VOXELS // 8):
        m = target[s] != 0
        if not m.any():
            continue
        cnt = [per_axis[ax][s] if ax == 0 else per_axis[ax] for ax in range(nd)]
        cnt = [
            c.astype(np.int32).reshape([-1 if i == ax else 1 for i in range(nd)])
            for ax, c in enumerate(cnt)
        ]
        # orientation with the largest count (ties: the lowest axis)
        best_val = np.broadcast_to(cnt[0], m.shape)
        best = np.zeros(m.shape, dtype=np.int8)
        for ax in range(1, nd):
            upd = cnt[ax] > best_val
            best[upd] = ax
            best_val = np.maximum(best_val, cnt[ax])
        for ax in range(nd):
            sel = m & (best == ax)
            assigned[ax] += int(sel.sum())
            other = tuple(i for i in range(nd) if i != ax)
            hit = np.any(sel, axis=other)
            if ax == 0:
                sections[0][s] |= hit
            else:
                sections[ax] |= hit
    return sections, assigned


def summarize_labels(
    target: np.ndarray,
    classes: Sequence[ClassInfo],
    axis_names: Sequence[str] | None = None,
) -> LabelSummary:
    """Find what is labeled: class counts, and labeled slices and sections per axis.

    Parameters
    ----------
    target : numpy.ndarray
        3D target array from :func:`encode_labels` (0 = ignored).
    classes : sequence of ClassInfo
        The classes (index ``k`` is target value ``k + 1``).
    axis_names : sequence of str, optional
        Names of the axes (default ``"axis 0"``...).

    Returns
    -------
    LabelSummary
    """
    shape = target.shape
    nd = target.ndim
    names = list(axis_names) if axis_names else [f"axis {i}" for i in range(nd)]
    per_axis, class_counts = _count_labels(target, len(classes))
    sections, assigned = _assign_sections(target, per_axis)
    axes = []
    for ax in range(nd):
        idx = np.flatnonzero(per_axis[ax])
        axes.append(
            AxisLabels(
                ax,
                names[ax],
                idx,
                per_axis[ax][idx],
                np.flatnonzero(sections[ax]),
                int(assigned[ax]),
            )
        )
    return LabelSummary(tuple(shape), list(classes), class_counts[1:], axes)


def check_label_content(
    summary: LabelSummary, *, zero_is_background: bool, fine_tune: bool = False
) -> None:
    """Raise :class:`SeisSegError` when nothing is labeled or fewer than two classes are."""
    if summary.n_labeled == 0:
        raise SeisSegError(
            "No labels are painted (every voxel is 0, which means 'not labeled'). Paint at least "
            "two classes (values 1, 2, ...) on a few sections, or use 'zero is background' "
            "(--zero-is-background) if the labels are a dense mask in which 0 is a class."
        )
    present = [c for c, n in zip(summary.classes, summary.class_counts, strict=True) if n > 0]
    if len(present) < 2:
        only = present[0]
        hint = (
            " If 0 in this mask means a class (e.g. background), use 'zero is background' (--zero-is-background)."
            if not zero_is_background
            else ""
        )
        what = "the labels to fine-tune on hold" if fine_tune else "the labels hold"
        raise SeisSegError(
            f"Only one class is painted ({only.name}, value {only.value}); {what} a single "
            "class, and training needs at least two. Paint some of the other class(es) too, "
            f"e.g. the surroundings as another value.{hint}"
        )
