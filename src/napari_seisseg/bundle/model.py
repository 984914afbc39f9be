"""A trained model bundle and the prediction settings its model card holds.

:class:`BundleModel` is what :func:`~napari_seisseg.inference.bundle_prediction.predict_bundle`
takes: the network, its card, and properties that read the card (kind, context, classes,
threshold, patch size, section axes, normalisation), plus :meth:`BundleModel.check`, which
refuses a card that does not fit its network.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..errors import SeisSegError
from .card import model_kind
from .classes import PALETTE
from .normalize import Normalizer
from .position import PositionSpec
from .storage import load_bundle

__all__ = ["BundleModel"]


@dataclass
class BundleModel:
    """A trained model, its model card, and the settings prediction takes from the card.

    Make one with :meth:`load` (a bundle file), :meth:`from_model` (a model and its card,
    e.g. just trained) or :meth:`coerce` (any of these, or an object with ``model`` and
    ``card`` attributes such as a session store entry or a ``TrainResult``).

    Attributes
    ----------
    model : torch.nn.Module
        The network.
    card : dict
        Its model card (see :mod:`napari_seisseg.bundle.storage`).
    name : str
        Short name (the bundle's file stem, or the card's architecture).
    path : pathlib.Path or None
        The bundle file, when it came from one.
    """

    model: torch.nn.Module
    card: dict[str, Any]
    name: str = "model"
    path: Path | None = None
    _normalizer: Any = field(default=None, init=False, repr=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def load(cls, path: str | os.PathLike, name: str | None = None) -> BundleModel:
        """Load a bundle file (on the CPU) and check that its card fits its network.

        Raises
        ------
        SeisSegError
            The file is missing, not a bundle (a pickle, another checkpoint), damaged, or
            its card does not describe its network.
        """
        path = Path(path)
        try:
            model, card = load_bundle(path)
        except SeisSegError:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged file fails in many ways
            raise SeisSegError(
                f"Cannot load the model bundle {path}: it looks damaged "
                f"({type(exc).__name__}: {exc}). Save the model again from the Train widget or "
                "'seisseg train'."
            ) from exc
        return cls.from_model(model, card, name=name or path.stem, path=path)

    @classmethod
    def from_model(
        cls,
        model: torch.nn.Module,
        card: Mapping[str, Any],
        name: str | None = None,
        path: str | os.PathLike | None = None,
    ) -> BundleModel:
        """Wrap a model and its card, checking that they fit together."""
        if not isinstance(model, torch.nn.Module):
            raise SeisSegError(
                f"Expected a torch model with its card, got {type(model).__name__}."
            )
        if not isinstance(card, Mapping):
            raise SeisSegError(f"The model card must be a dict, got {type(card).__name__}.")
        spec = card.get("model") or {}
        name = name or str(spec.get("name") or type(model).__name__)
        out = cls(model, dict(card), name, Path(path) if path is not None else None)
        out.check()
        return out

    @classmethod
    def coerce(cls, obj: Any, name: str | None = None) -> BundleModel:
        """A :class:`BundleModel` from a path, ``(model, card)``, or an object with ``model`` and ``card``."""
        if isinstance(obj, BundleModel):
            return obj
        if isinstance(obj, str | os.PathLike):
            return cls.load(obj, name=name)
        if isinstance(obj, tuple) and len(obj) == 2:
            return cls.from_model(obj[0], obj[1], name=name)
        if hasattr(obj, "model") and hasattr(obj, "card"):
            return cls.from_model(
                obj.model, obj.card, name=name or getattr(obj, "name", None),
                path=getattr(obj, "path", None) or getattr(obj, "bundle_path", None),
            )
        raise SeisSegError(
            "Give a model bundle path, a (model, card) pair, or a trained model entry; got "
            f"{type(obj).__name__}."
        )

    # ------------------------------------------------------------------ card fields
    @property
    def input(self) -> dict[str, Any]:
        """The card's ``input`` section (empty when missing)."""
        return dict(self.card.get("input") or {})

    @property
    def kind(self) -> str:
        """``"2d"``, ``"slab"`` or ``"3d"`` (from the card, else from the network)."""
        return str(self.input.get("kind") or model_kind(self.model))

    @property
    def is_section_model(self) -> bool:
        """True for models that predict one section at a time (2D and slab models)."""
        return self.kind in ("2d", "slab")

    @property
    def context(self) -> int:
        """Neighbouring slices a section model reads on each side."""
        value = self.input.get("context", getattr(self.model, "context", 0))
        return int(value or 0)

    @property
    def n_outputs(self) -> int:
        """Output channels of the network (1 for a single-logit binary model)."""
        return int(getattr(self.model, "n_classes", self.card.get("n_outputs", 1)))

    @property
    def binary(self) -> bool:
        """Single-logit two-class model (probability of the second class, thresholded)."""
        return bool(self.card.get("binary", self.n_outputs == 1))

    @property
    def threshold(self) -> float:
        """Probability threshold of a binary model (tuned in training; 0.5 by default)."""
        value = self.card.get("threshold")
        return 0.5 if value is None else float(value)

    @property
    def classes(self) -> list[dict[str, Any]]:
        """``[{value, name, color}]`` in class-index order (defaults when the card has none)."""
        raw = self.card.get("classes")
        if raw:
            return [
                {"value": int(c["value"]), "name": str(c.get("name") or f"class {c['value']}"),
                 "color": tuple(float(v) for v in (c.get("color") or PALETTE[i % len(PALETTE)]))}
                for i, c in enumerate(raw)
            ]
        n = 2 if self.binary else self.n_outputs
        return [
            {"value": k + 1, "name": f"class {k + 1}", "color": PALETTE[k % len(PALETTE)]}
            for k in range(n)
        ]

    @property
    def class_values(self) -> list[int]:
        """Label value of every class (the mask holds these)."""
        return [c["value"] for c in self.classes]

    @property
    def class_names(self) -> list[str]:
        """Name of every class."""
        return [c["name"] for c in self.classes]

    @property
    def channel_classes(self) -> list[dict[str, Any]]:
        """The class each probability channel belongs to (a binary model: the second class)."""
        return self.classes[1:2] if self.binary else self.classes

    @property
    def patch_size(self) -> tuple[int, ...] | None:
        """Training patch: ``(h, w)`` for section models, ``(d, h, w)`` for 3D models."""
        size = self.input.get("patch_size")
        return tuple(int(s) for s in size) if size else None

    @property
    def pad_mode(self) -> str:
        """How training padded patches larger than the data (``"reflect"`` or ``"zeros"``)."""
        return "zeros" if self.input.get("pad_mode") == "zeros" else "reflect"

    @property
    def section_axes(self) -> tuple[int, ...]:
        """Section axes (training order) the model was trained on (all three when unknown)."""
        axes = self.input.get("axes")
        return tuple(int(a) for a in axes) if axes else (0, 1, 2)

    @property
    def position(self) -> Any:
        """The position-channel spec (:class:`~napari_seisseg.bundle.position.PositionSpec`) or None."""
        return PositionSpec.from_card(self.input.get("position"))

    @property
    def predict_axes(self) -> tuple[int, ...]:
        """Default prediction orientations (averaged), in training order.

        ``input.predict_axes``: the inlines and crosslines when both were painted, or when
        time slices lead paint with one of them; else the orientation most labels were
        painted in, then, for time slices painted alone or a vertical orientation leading
        paint with time slices, the other trained orientations
        (:func:`~napari_seisseg.bundle.card.prediction_axes`); the first trained section
        axis for bundles made before it was recorded.
        """
        axes = self.input.get("predict_axes")
        if axes:
            return tuple(int(a) for a in axes)
        return self.section_axes[:1]

    def orientation_weights(self, axes: Any) -> tuple[float, ...] | None:
        """Weights of the orientations ``axes`` in their average, or None (equal weights).

        A model :attr:`painted_on_time_slices` gives its time slices, when they are averaged
        with the two other orientations, as much weight as those two together (0.5, 0.25,
        0.25): the inlines and crosslines of such a model were trained on one painted row
        each, so they may settle what the time slices are unsure of, not outvote them where
        they are sure.  On the synthetic
        time-slice cubes this scored best or close to best on every model measured; equal
        weights were up to 0.26 mean IoU worse (docs/training.md, "Prediction orientation").
        Time slices painted with vertical sections are never weighted: led by them, the
        inlines and crosslines are predicted alone; led by a vertical orientation, the three
        average alike (docs/training.md, "Mixed paint").

        Parameters
        ----------
        axes : sequence of int
            The orientations averaged, in training order.

        Returns
        -------
        tuple of float or None
            One weight per entry of ``axes`` (summing to 1), or None when they average
            alike (other models, or fewer than three orientations).
        """
        painted = self.predict_axes[0]
        axes = tuple(int(a) for a in axes)
        if not self.painted_on_time_slices or len(axes) < 3 or painted not in axes:
            return None
        others = len(axes) - 1
        return tuple(0.5 if a == painted else 0.5 / others for a in axes)

    @property
    def painted_on_time_slices(self) -> bool:
        """A section model predicted first along time slices: the first of
        ``input.predict_axes`` (the orientation most labels were painted in, unless inlines
        or crosslines were painted too, each at least a tenth of the paint: then they are
        predicted first, and this is False even if time slices held most of the paint) is
        the sample axis.  Such models weigh
        their orientations (:meth:`orientation_weights`), flip their maps
        (:attr:`flips_by_default`) and turn them (:meth:`test_time_turns`)."""
        return self.is_section_model and self.predict_axes[0] == self.sample_axis

    @property
    def flips_by_default(self) -> bool:
        """Whether prediction averages test-time flips by default: for models
        :attr:`painted_on_time_slices`, and for section models whose ``input.predict_axes``
        lists two or more orientations (paint in several orientations: inlines and
        crosslines, or time slices with one of them).

        Maps are flipped (inlines and crosslines reversed, never time): on five
        time-slice models of three synthetic cubes this raised the mean IoU of the unpainted
        voxels by 0.006 to 0.031 (mean 0.017), for 2.7 times the prediction time of the
        three orientations (4 times along time slices alone; docs/training.md, "Prediction
        orientation"); :meth:`test_time_turns` adds their transposes (12 sweeps
        instead of 8 over the three orientations).  Inlines and crosslines averaged
        together flip each section's traces (never time): +0.009 and +0.007 mean IoU on the two models of the survey stand-in
        with 3 inlines and 3 crosslines painted (0.897 -> 0.906, 0.875 -> 0.882), for twice
        the prediction time (flipping time as well gave 0.912 and 0.888 for twice as long
        again, and would show a model trained without upside-down sections ones it never
        saw).  Inlines leading paint with time slices average the three orientations alike,
        with the traces flipped: +0.016 and +0.013 on the two models measured (0.658 ->
        0.674, 0.806 -> 0.819; every axis flipped, time included, 0.681 and 0.822).
        """
        if self.painted_on_time_slices:
            return True
        return self.is_section_model and len(self.predict_axes) > 1

    def test_time_flips(self, tta: bool | None) -> bool | tuple[int, ...]:
        """The flips a prediction averages for the asked ``tta`` (None: :attr:`flips_by_default`).

        Parameters
        ----------
        tta : bool or None
            Test-time augmentation asked for; None takes the model's default.

        Returns
        -------
        bool or tuple of int
            False (none); True (every in-plane axis of each orientation); or, for a model
            that flips by default (:attr:`flips_by_default`) or was trained without
            upside-down patches (:attr:`trained_upside_down` False), the lateral axes in
            training order (time is never flipped; a single 2D section, held as ``(1,
            trace, sample)``, flips its traces).
        """
        if not (self.flips_by_default if tta is None else bool(tta)):
            return False
        if self.flips_by_default or not self.trained_upside_down:
            return tuple(a for a in range(3) if a != self.sample_axis)
        return True

    @property
    def trained_upside_down(self) -> bool:
        """Whether training flipped its patches in time (the card's
        ``training.config.augment``: ``flip`` and ``flip_time``; True for cards that do not
        say).  A model trained without (the tile recipe, ``--no-time-flip``) never saw an
        upside-down section, so test-time flips leave time alone: on a TGS whole-tile model
        flipping time too took fold 3 from 0.777 to 0.542 pixel IoU.  (Quarter turns,
        ``rotate90``, also show patches upside down; a model trained with them and without
        flips is still flipped laterally only, which is safe.)"""
        config = (self.card.get("training") or {}).get("config") or {}
        aug = config.get("augment") or {}
        return bool(aug.get("flip", True)) and bool(aug.get("flip_time", True))

    @property
    def trained_on_turned_maps(self) -> bool:
        """Whether training turned and mirrored its time-slice patches every way (the card's
        ``training.config.augment``: ``map_view``, ``rotate90`` or ``transpose`` on, square
        patches); False for cards that do not say."""
        config = (self.card.get("training") or {}).get("config") or {}
        aug = config.get("augment") or {}
        size = self.patch_size
        square = size is not None and len(size) == 2 and size[0] == size[1]
        return square and any(bool(aug.get(k)) for k in ("map_view", "rotate90", "transpose"))

    def test_time_turns(self, tta: bool | None, axes: Sequence[int]) -> tuple[int, ...]:
        """The orientations among ``axes`` whose sections prediction also averages transposed.

        A model :attr:`painted_on_time_slices` and :attr:`trained_on_turned_maps` predicts its
        time slices in all 8 turns and mirrors of the map when it flips them (the flips of
        :meth:`test_time_flips` give 4; the transposes the other 4).  Measured on six such
        models (hybrids, on the synthetic and survey stand-in cubes): mean IoU of the
        unpainted voxels +0.001 to +0.020, never lower, for 1.5 times the prediction time
        over the three orientations (twice the time along time slices alone;
        docs/fewlabel-experiments.md, "Fourteenth session").

        Parameters
        ----------
        tta : bool or None
            Test-time augmentation asked for; None takes the model's default.
        axes : sequence of int
            The orientations swept, in training order.

        Returns
        -------
        tuple of int
            The sample axis when it is among ``axes`` and the conditions above hold, else
            empty.
        """
        flips = self.test_time_flips(tta)
        lateral = {a for a in range(3) if a != self.sample_axis}
        flipped = set(range(3)) if flips is True else set(flips or ())
        if not (self.painted_on_time_slices and self.trained_on_turned_maps and lateral <= flipped):
            return ()
        return tuple(int(a) for a in axes if int(a) == self.sample_axis)

    @property
    def sample_axis(self) -> int:
        """Sample (trace) axis of the training order, where the preprocessing works."""
        axis = self.input.get("sample_axis", 2)
        axis = 2 if axis is None else int(axis)
        return axis % 3

    @property
    def normalizer(self) -> Any:
        """The card's input normalisation (None when the card has none)."""
        prep = self.card.get("preprocessing")
        if not prep:
            return None
        if self._normalizer is None:
            self._normalizer = Normalizer.from_dict(prep)
        return self._normalizer

    def describe(self) -> str:
        """One line: architecture, kind, classes."""
        arch = (self.card.get("model") or {}).get("name", type(self.model).__name__)
        names = ", ".join(self.class_names)
        task = "binary" if self.binary else f"{len(self.classes)} classes"
        ctx = f", context {self.context}" if self.is_section_model and self.context else ""
        return f"{arch} ({self.kind}{ctx}), {task}: {names}"

    # ------------------------------------------------------------------ checks
    def check(self) -> None:
        """Raise :class:`SeisSegError` when the card does not fit the network."""
        kind = self.input.get("kind")
        actual = model_kind(self.model)
        if kind is not None and kind not in ("2d", "slab", "3d"):
            raise SeisSegError(f"The model card names an unknown input kind {kind!r}.")
        if kind is not None and kind != actual:
            raise SeisSegError(
                f"The model card says the network takes {kind} input but the network is {actual}. "
                "The bundle is inconsistent; save the model again."
            )
        in_ch = int(getattr(self.model, "in_channels", 1))
        per_slice = 2 if self.position is not None else 1
        if in_ch != per_slice:
            raise SeisSegError(
                f"The model takes {in_ch} input channels per slice, but a seismic cube gives "
                f"{per_slice} (its amplitudes{', and the position along time' if per_slice == 2 else ''}). "
                "Use a model trained on amplitude volumes."
            )
        n_out = self.n_outputs
        card_out = self.card.get("n_outputs")
        if card_out is not None and int(card_out) != n_out:
            raise SeisSegError(
                f"The model card promises {card_out} output channels but the network has {n_out}. "
                "The bundle is inconsistent; save the model again."
            )
        n_classes = len(self.classes)
        if self.binary and (n_out != 1 or n_classes != 2):
            raise SeisSegError(
                f"A binary model has one output for two classes, but this one has {n_out} "
                f"output(s) for {n_classes} classes."
            )
        if not self.binary and n_out != n_classes:
            raise SeisSegError(
                f"The model predicts {n_out} classes but its card lists {n_classes} "
                f"({', '.join(self.class_names)}). The bundle is inconsistent; save it again."
            )
        if len(set(self.class_values)) != n_classes:
            raise SeisSegError(f"The model card repeats a class value: {self.class_values}.")
        if self.is_section_model:
            want = (2 * self.context + 1) * per_slice if self.kind == "2d" else 1
            got = int(getattr(self.model, "input_channels", want))
            if got != want:
                raise SeisSegError(
                    f"The model takes {got} input channels but context {self.context} gives "
                    f"{want} slices. The bundle is inconsistent; save it again."
                )


