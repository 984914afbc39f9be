"""What a prediction averaged: its orientations, their weights, its test-time flips and
transposes.

:func:`describe_passes` gives the record written beside saved probabilities and into the
result layers' metadata, and the line printed by ``seisseg predict``, so a reader of a
prediction knows how it was made (and what ``--no-tta`` or another ``--axes`` would change).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .sections import section_flips
from .window_driver import tta_axes

__all__ = ["SECTION", "describe_default_passes", "describe_passes"]

#: Name of the leading axis of a single 2D section, held as ``(1, trace, sample)``.
SECTION = "section"


def _names(bm: Any, names: Sequence[str] | None) -> list[str]:
    """Names of the training order's axes: those given, the card's, or ``axis k``."""
    for given in (names, bm.input.get("axis_names")):
        if given is not None and len(given) == 3:
            return [str(n) for n in given]
    return [f"axis {k}" for k in range(3)]


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def describe_passes(
    bm: Any, axes: tuple[int, ...], flips: bool | tuple[int, ...], names: Sequence[str] | None = None,
    turns: Sequence[int] = (),
) -> tuple[dict[str, Any], str]:
    """The record and the line saying what a prediction averaged.

    Parameters
    ----------
    bm : BundleModel
        The model (its card names the axes of the training order).
    axes : tuple of int
        The orientations swept, axes of the training order (empty for 3D models).
    flips : bool or tuple of int
        The flips asked of the sweep (:meth:`BundleModel.test_time_flips`).
    names : sequence of str, optional
        Names of the three axes of the training order as the widgets name them
        (:func:`~napari_seisseg.io.layer_axes.axis_word` of the image's geometry: ``time``
        or ``depth`` for the samples; ``axis k`` of a plain array; a single 2D section's
        first axis is :data:`SECTION`); default: the card's (raw geometry names).
    turns : sequence of int
        The orientations whose sections are also predicted transposed
        (:meth:`BundleModel.test_time_turns`).

    Returns
    -------
    dict
        ``orientations`` (axis names, or None for 3D windows), ``weights`` (one per
        orientation, or None when they average alike), ``flips`` (names of the axes
        flipped by at least one orientation; an orientation flips the axes of its own
        sections only), ``turned`` (names of the orientations also transposed), ``sweeps``
        (sweeps over the image: one per orientation, flip and transpose) and ``text`` (a
        short form).
    str
        A line for the user.
    """
    record, where, how, _ = _passes(bm, tuple(axes), flips, names, tuple(turns))
    sweeps = record["sweeps"]
    plural = "s" if sweeps != 1 else ""
    return record, f"predicted {where}, {how}: {sweeps} sweep{plural} of the image"


def _passes(
    bm: Any, axes: tuple[int, ...], flips: bool | tuple[int, ...], names: Sequence[str] | None,
    turns: tuple[int, ...] = (),
) -> tuple[dict[str, Any], str, str, str]:
    """:func:`describe_passes`' record, where and how the sweeps run (with the hint of the
    option that changes them), and the flips and transposes alone, in words."""
    names = _names(bm, names)
    if bm.is_section_model:  # each orientation flips its own plane's axes only
        own = section_flips(flips, axes, bm.sample_axis if bm.position is not None else None)
        flipped = sorted({f for fs in own.values() for f in fs})
        weights = bm.orientation_weights(axes) if len(axes) > 1 else None
        sweeps = sum(2 ** len(own[a]) * (2 if a in turns else 1) for a in axes)
        where = ("on the single section" if [names[a] for a in axes] == [SECTION]
                 else f"along {_and([names[a] for a in axes])} sections")
        if weights is not None:
            where += " (weights " + ", ".join(f"{w:.2f}" for w in weights) + ")"
    else:
        flipped = list(tta_axes(flips, 3))
        weights, sweeps, where = None, 2 ** len(flipped), "in 3D windows"
    record = {
        "orientations": [names[a] for a in axes] if bm.is_section_model else None,
        "weights": None if weights is None else [float(w) for w in weights],
        "flips": [names[a] for a in flipped],
        "turned": [names[a] for a in axes if a in turns] if bm.is_section_model else [],
        "sweeps": int(sweeps),
    }
    full = all(len(own.get(a, ())) >= 2 for a in turns) if bm.is_section_model else True
    turnable = bool(bm.test_time_turns(True, axes))
    words = _flip_words(record, full)
    how = words + (
        " (--no-tta to turn off)" if flipped or record["turned"]
        else " (--tta to average flips and transposes)" if turnable else " (--tta to average flips)")
    record["text"] = (where + ("; flips of " + _and(record["flips"]) if flipped else "")
                      + "".join(f"; {n} slices also transposed" for n in record["turned"]))
    return record, where, how, words


def describe_default_passes(bm: Any, axes: Sequence[int], names: Sequence[str] | None = None) -> str:
    """What prediction averages by default, in words (the model's own flips).

    Parameters
    ----------
    bm : BundleModel
        The model.
    axes : sequence of int
        Its default orientations (``input.predict_axes``), axes of the training order.
    names : sequence of str, optional
        Names of the three axes, as for :func:`describe_passes`.

    Returns
    -------
    str
        E.g. ``"along inline and crossline sections by default, each averaged over test-time
        flips of inline and crossline"`` (each orientation flips the axes of its own sections).
    """
    axes = tuple(int(a) for a in axes)
    turns = bm.test_time_turns(None, axes)
    _, where, _, words = _passes(bm, axes, bm.test_time_flips(None), names, turns)
    return f"{where} by default, {words}"


def _flip_words(record: dict[str, Any], full_turns: bool = True) -> str:
    """The test-time flips and transposes of a prediction (:func:`describe_passes`' record),
    in the words every message uses; ``full_turns``: each turned orientation also flips both
    of its axes (the 8 turns and mirrors of its sections)."""
    flips, turned = record["flips"], record.get("turned") or []
    how = "all 8 turns and mirrors" if full_turns and flips else "their transposes"
    turns = "".join(f", {n} slices over {how}" for n in turned)
    if not flips:
        return "no test-time flips" + turns
    several = len(record.get("orientations") or ()) > 1
    return f"{'each ' if several else ''}averaged over test-time flips of {_and(flips)}{turns}"
