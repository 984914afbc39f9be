"""Labels handed into a live run: merged into the run's target, then the sampler rebuilt.

:class:`LiveLabels` keeps the whole training target (before the validation split) in
training order.  Label updates (:class:`~.live_control.LabelUpdate`) are encoded with the
run's classes and written into it; :meth:`LiveLabels.rebuild` then redoes what depends on
the painted voxels, as :func:`.session.build_session` did at the start: the summary, the
validation split (automatic or an explicit validation labels array), the sampler's index of
labeled voxels and the validation windows.  The loss keeps the class weights of the start.

New strokes are a handful of voxels among many: drawn like any other labeled voxel they
would rarely be the centre of a patch, and the preview would take minutes to follow them.
So :class:`StrokeSampler` draws :data:`RECENT_SHARE` of the patch centres among the voxels
painted by the latest update that painted any (still labeled, and not held out for
validation), the rest as :class:`~.patch_sampler.PatchSampler` does.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import SeisSegError
from ..io.geometry import SurveyGeometry
from .config import TrainConfig
from .data import _encode_in_order, orient, split_data
from .labels import encode_labels, summarize_labels
from .live_control import LabelUpdate
from .patch_sampler import PatchSampler
from .session import Session, _validation
from .split import HeldOut, held_out_from_target

__all__ = ["RECENT_SHARE", "LabelsRefused", "LiveLabels", "StrokeSampler"]

#: Share of patch centres drawn among the voxels painted by the latest update.
RECENT_SHARE = 0.25
#: Most recently painted voxels kept for drawing centres (a seeded subset beyond it).
MAX_RECENT = 200_000


class LabelsRefused(SeisSegError):
    """An update whose values cannot be used; the run goes on with the labels it had."""


def _present_values(values: np.ndarray) -> list[int]:
    """Label values present in ``values``."""
    if values.dtype.kind in "ui" and values.size and 0 <= values.min() and values.max() < 1 << 16:
        return np.flatnonzero(np.bincount(values.ravel())).tolist()
    return [int(v) for v in np.unique(values)]


def _region(region: tuple[Any, ...], shape: tuple[int, ...]) -> tuple[slice, ...]:
    """``region`` as one step-1 slice per axis, within ``shape``."""
    if len(region) > len(shape) or not all(isinstance(r, slice) for r in region):
        raise SeisSegError(
            f"A label update's region must be up to {len(shape)} slices (one per axis of the "
            f"labels); got {region!r}."
        )
    out = tuple(region) + (slice(None),) * (len(shape) - len(region))
    out = tuple(slice(*r.indices(n)) for r, n in zip(out, shape, strict=True))
    if any(r.step != 1 for r in out):
        raise SeisSegError(f"A label update's region must be contiguous; got {region!r}.")
    return out


class StrokeSampler(PatchSampler):
    """A :class:`~.patch_sampler.PatchSampler` that favours the latest strokes.

    Parameters
    ----------
    *args, **kwargs
        As for :class:`~.patch_sampler.PatchSampler`.
    recent : numpy.ndarray
        Flat indices (into the target) of the recently painted training voxels.
    """

    def __init__(self, *args: Any, recent: np.ndarray, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recent = recent

    def draw_center(self) -> tuple[int, tuple[int, ...]]:
        """A recently painted voxel (:data:`RECENT_SHARE` of the time), else as usual."""
        if not self.recent.size or self.rng.random() >= RECENT_SHARE:
            return super().draw_center()
        flat = int(self.recent[self.rng.integers(self.recent.size)])
        k = int(self.target.flat[flat]) - 1
        self.drawn[k] += 1
        return k, tuple(int(v) for v in np.unravel_index(flat, self.target.shape))


class LiveLabels:
    """The target of a live run, updated from handed-in labels (see the module docstring).

    Parameters
    ----------
    s : Session
        The run's session (its data, sampler and validation set are replaced on rebuild).
    labels, val_labels : array-like
        The labels (and explicit validation labels) the run started from, input order.
    geometry : SurveyGeometry or None
        Geometry of the input (gives the training order).
    config : TrainConfig
        The run's settings (zero_is_background, validation share, seed).
    kind : str
        The model kind (``"2d"``, ``"slab"`` or ``"3d"``), for the split.
    """

    def __init__(
        self, s: Session, labels: Any, val_labels: Any, geometry: SurveyGeometry | None,
        config: TrainConfig, kind: str,
    ) -> None:
        self.s, self.config, self.kind = s, config, kind
        self.shape = tuple(int(n) for n in labels.shape)
        self.perm = orient(self.shape, geometry)[0]
        self.squeeze = len(self.shape) == 2
        target, self.val_target = self._encode(labels, val_labels)
        self.target = target
        self.recent = np.zeros(0, np.int64)  # voxels of the latest strokes (flat, target)
        self._painted: list[np.ndarray] = []  # painted by the updates not yet rebuilt
        # the held-out voxels of the automatic split, frozen once made: a later split would
        # move voxels already trained on into validation (flattering the scores that pick
        # the kept model), and could hold out the very stroke just painted
        self.held_mask: np.ndarray | None = None
        self.held_axis = 0  # the axis the frozen split was made along
        #: the held-out paint joined training (:meth:`join`): no split from then on
        self.joined = False
        if val_labels is None and s.data.held is not None:
            self._freeze(s.data.held, s.data.target)

    @property
    def can_join(self) -> bool:
        """Whether validation is held out of the paint (an automatic split, not joined)."""
        return self.val_target is None and self.held_mask is not None  # None once joined

    def join(self) -> int:
        """Give the held-out paint (and the gaps beside it) to training, for the rest of
        the run: the sampler is rebuilt from every painted voxel, validation ends.

        Returns
        -------
        int
            Painted voxels given back.

        Raises
        ------
        LabelsRefused
            Nothing left to train on (everything erased); the split stays as it was.
        """
        back = int(np.count_nonzero((self.held_mask | self.gap_mask) & (self.target != 0)))
        before = (self.joined, self.held_mask, self.gap_mask)
        self.joined, self.held_mask, self.gap_mask = True, None, None
        try:
            self.rebuild()
        except LabelsRefused:  # nothing to train on: the split stays as it was
            self.joined, self.held_mask, self.gap_mask = before
            raise
        return back

    def _freeze(self, held: HeldOut, trained: np.ndarray) -> None:
        """Remember which voxels ``held`` holds out (validation keeps them from now on), and
        which painted voxels the split left out of both sets (the gap beside the bands)."""
        self.held_mask = held.read([slice(0, n) for n in held.shape]) != 0
        self.gap_mask = (self.target != 0) & (trained == 0) & ~self.held_mask
        self.held_description, self.held_axis = held.description, held.axis

    def _frozen_split(self, data: Any) -> HeldOut | None:
        """Split ``data`` by the frozen held-out voxels (less those painted since)."""
        val = np.where(self.held_mask, data.target, 0).astype(data.target.dtype)
        data.target[self.held_mask | self.gap_mask] = 0
        if not data.target.any():
            raise SeisSegError("every label left is held out for validation")
        data.held = (held_out_from_target(val, self.held_description, self.held_axis,
                                          automatic=True) if val.any() else None)
        return data.held

    def _encode(self, labels: Any, val_labels: Any = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Training-order target (and validation target) of whole arrays, run's classes."""
        try:
            target, _, val = _encode_in_order(
                labels, val_labels, self.perm, zero_is_background=self.config.zero_is_background,
                fixed=self.s.data.class_values,
            )
        except SeisSegError as exc:
            raise LabelsRefused(self._refusal(labels, exc)) from exc
        if self.squeeze:
            target = target[None]
            val = None if val is None else val[None]
        return target, val

    def _refusal(self, values: np.ndarray, exc: Exception) -> str:
        """Why an update's values were refused, in the run's terms."""
        allowed = set(self.s.data.class_values) | {0}
        extra = sorted(set(_present_values(np.asarray(values))) - allowed)
        if extra:
            return (f"The new labels hold value(s) {extra}, which are not classes of this run "
                    f"(its classes are {sorted(self.s.data.class_values)}); the update is "
                    "ignored. Stop and train again to add a class.")
        return f"The new labels cannot be used ({exc}); the update is ignored."

    def merge(self, update: LabelUpdate) -> None:
        """Write ``update`` into the target.

        Raises
        ------
        SeisSegError
            The labels changed shape (the run cannot go on with them).
        LabelsRefused
            Values that are not classes of the run (the update is ignored).
        """
        values = update.values
        if update.region is None:
            if tuple(values.shape) != self.shape:
                raise SeisSegError(
                    f"The labels were replaced by an array of shape {tuple(values.shape)}, but "
                    f"the image and the run's labels have shape {self.shape}. Training stopped; "
                    "the best model so far is kept. Paint on a labels layer of the image's shape."
                )
            new = self._encode(values)[0]
            self._note_painted(np.flatnonzero((new != self.target) & (new != 0)))
            self.target = new
            return
        region = _region(update.region, self.shape)
        expected = tuple(r.stop - r.start for r in region)
        if tuple(values.shape) != expected:
            raise SeisSegError(
                f"A label update for the region {region} holds an array of shape "
                f"{tuple(values.shape)} instead of {expected}. Training stopped; the best model "
                "so far is kept."
            )
        try:
            block, _ = encode_labels(values, zero_is_background=self.config.zero_is_background,
                                     class_values=self.s.data.class_values)
        except SeisSegError as exc:
            raise LabelsRefused(self._refusal(values, exc)) from exc
        key = tuple(region[p] for p in self.perm)
        view = self.target[0] if self.squeeze else self.target
        new = np.transpose(block, self.perm)
        where = np.nonzero((new != view[key]) & (new != 0))
        coords = [c + k.start for c, k in zip(where, key, strict=True)]
        if self.squeeze:
            coords.insert(0, np.zeros_like(coords[0]))
        self._note_painted(np.ravel_multi_index(tuple(coords), self.target.shape))
        view[key] = new

    def _note_painted(self, flat: np.ndarray) -> None:
        """Voxels just painted (flat target indices): recent strokes, always trained on."""
        self._painted.append(flat)
        if self.held_mask is not None:
            self.held_mask.flat[flat] = False
            self.gap_mask.flat[flat] = False

    def rebuild(self) -> None:
        """Redo the split (none once the held-out paint joined training), the sampler and
        the validation windows from the target.

        Raises
        ------
        LabelsRefused
            Nothing left to train on; the run keeps its sampler and validation windows.
        """
        s, config = self.s, self.config
        data = replace(s.data, target=self.target.copy(), notes=[], held=None,
                       val_target=None if self.val_target is None else self.val_target.copy())
        data.summary = summarize_labels(data.target, data.classes, data.axis_names)
        try:
            if self.joined:
                held = None  # the held-out paint joined training
            elif self.val_target is None and self.held_mask is not None:
                held = self._frozen_split(data)
            else:
                held = split_data(data, kind=self.kind, fraction=config.val_fraction,
                                  seed=config.seed)
            recent = self._recent(data.target, s.sampler.rng)
            sampler = StrokeSampler(
                data.image, data.target, s.layout, s.normalizer, s.sampler.rng,
                s.sampler.augment, n_classes=len(data.classes), recent=recent,
                paste_classes=s.sampler.paste_classes,  # the run's, as its card says
            )
        except (SeisSegError, ValueError) as exc:
            raise LabelsRefused(
                f"The new labels leave nothing to train on ({exc}); training goes on with the "
                "labels it had. Paint some labels again."
            ) from exc
        s.data, s.sampler, self.recent = data, sampler, recent
        if self.val_target is None and self.held_mask is None and held is not None:
            self._freeze(held, data.target)  # only a split the run takes up is kept
        s.val = _validation(data, held, s.layout, s.normalizer, config)
        s.recount()  # and the loss weights counted from them

    def _recent(self, target: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The latest strokes' training voxels: those of the updates just merged, if they
        painted any, else the previous ones that are still training voxels."""
        painted = [p for p in self._painted if p.size]
        self._painted = []
        recent = np.unique(np.concatenate(painted)) if painted else self.recent
        recent = recent[target.flat[recent] != 0] if recent.size else recent
        if recent.size > MAX_RECENT:
            recent = np.sort(rng.choice(recent, MAX_RECENT, replace=False))
        return recent.astype(np.int64)
