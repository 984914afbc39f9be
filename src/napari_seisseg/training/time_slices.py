"""The defaults of a run painted on a few time slices, and how a run uses its validation
(settled once the paint is known and the split made).

A few painted time slices are learned by heart within a few epochs, and a class painted as
a few bodies is learned with the surroundings it was painted in; these settings keep the
network learning what the classes look like elsewhere (docs/fewlabel-experiments.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from .config import AUGMENT_EXTRAS, AugmentConfig, TrainConfig

if TYPE_CHECKING:
    from .data import TrainingData
    from .split import HeldOut

__all__ = ["COPY_PASTE", "VAL_JOIN", "settle_validation", "time_slice_defaults", "with_map_distortion"]

#: Probability of a copy-paste per patch in a run painted on time slices (``copypaste``).
COPY_PASTE = AUGMENT_EXTRAS["copypaste"]["copy_paste"]
#: Share of the budget after which the held-out paint joins training where the last model is
#: kept on time-slice paint, not mixed paint (:attr:`~.config.TrainConfig.val_join` on auto).
#: It gained on all eight time-slice runs measured (docs/fewlabel-experiments.md, twentieth
#: session); mixed paint led by time slices keeps validation out (joining scored 0.904
#: against 0.910 on the one such run measured, twenty-first session).
VAL_JOIN = 0.5


def with_map_distortion(aug: AugmentConfig) -> AugmentConfig | None:
    """The augmentation of a run painted on time slices: elastic distortion and zoom added.

    A few painted time slices are learned by heart within a few epochs; distorting them
    keeps the network learning.  On the synthetic time-slice benchmark (8 painted slices,
    10 minutes, 2 seeds) it took mean IoU from 0.730 / 0.609 to 0.775 / 0.717, the fault
    from 0.59 / 0.33 to 0.65 / 0.56 and the channels from 0.48 / 0.27 to 0.54 / 0.39.

    Returns
    -------
    AugmentConfig or None
        ``aug`` with ``elastic`` and ``zoom`` (:data:`AUGMENT_EXTRAS`), or None when the user
        chose either already or turned augmentation off (:meth:`AugmentConfig.none`).
    """
    if aug.elastic > 0 or aug.scale > 0 or aug == AugmentConfig.none():
        return None
    return replace(aug, **AUGMENT_EXTRAS["elastic"], **AUGMENT_EXTRAS["zoom"])


def time_slice_defaults(config: TrainConfig, own_validation: bool = False,
                        few_bodies: Sequence[str] = (), can_join: bool = False) -> list[str]:
    """Settle the defaults of a run whose paint is led by a few time slices.

    Applied when time slices are the orientation painted most
    (``TrainingData.time_slices_painted_most``: most labels on them, or mixed paint led by
    them).

    Elastic distortion and zoom are added (:func:`with_map_distortion`), copy-paste for
    classes painted as a few bodies (survey stand-in, seed 2, 3 painted gas sands: sands
    0.07 -> 0.27, mean 0.597 -> 0.645), and with ``keep``
    on auto the last model is kept: validation bands inside the painted slices peak within
    a few epochs, before the network finds the classes at other times (synthetic time-slice
    benchmark, 8 painted slices, 10 minutes: seeds 0 / 1 0.845 / 0.722 -> 0.852 / 0.762, the
    fault 0.75 / 0.55 -> 0.77 / 0.66; seed 1 had kept epoch 7 of 26); the paint held out
    for validation then joins training halfway (:data:`VAL_JOIN`), its validation reported
    as measured before.

    Parameters
    ----------
    config : TrainConfig
        The run's settings, changed in place.
    own_validation : bool
        Validation is not the bands of the painted time slices (the user gave validation
        labels, which may measure other times, or the split held out bands of inlines or
        crosslines): ``keep`` on auto stays with the best by validation then.
    few_bodies : sequence of str
        Names of the classes painted as a few separate bodies
        (:func:`~.report.few_body_classes`): copy-paste (:data:`COPY_PASTE`) is turned on
        for them, unless augmentation is off or the user set it.
    can_join : bool
        The split held validation out of the paint (``HeldOut.can_rejoin``): with ``keep``
        last and ``val_join`` on auto, that paint joins training after :data:`VAL_JOIN` of
        the budget.

    Returns
    -------
    list of str
        What was turned on, for the run's information lines.
    """
    infos = []
    if (maps := with_map_distortion(config.augment)) is not None:
        config.augment = maps
        infos.append("Time slices are painted most: elastic distortion and zoom are on, so the "
                     "few painted slices are not learned by heart (--augment elastic or zoom sets them).")
    if few_bodies and config.augment.copy_paste == 0 and config.augment != AugmentConfig.none():
        config.augment = replace(config.augment, copy_paste=COPY_PASTE)
        infos.append(f"Time slices are painted most and {', '.join(few_bodies)} only as a few "
                     "bodies: their painted voxels are pasted into other patches now and then "
                     "(copy-paste), so the network sees them over other backgrounds.")
    keep_last = config.keep is None and not own_validation
    if keep_last:
        config.keep = "last"
    join = config.val_join is None and config.keep == "last" and not own_validation and can_join
    if join:
        config.val_join = VAL_JOIN
    reported = (f"the paint held out for validation joins training after {VAL_JOIN:.0%} of the "
                "budget, so the last model learns from all of it, and the validation reported "
                "is the one measured just before (--val-join 1 to keep it out" if join else
                "its validation is still reported (")
    if keep_last:
        infos.append("Time slices are painted most: the model at the end of the run is kept and the "
                     "run does not stop early (the validation bands inside the painted slices peak "
                     f"before the classes are found at other times); {reported}"
                     f"{', ' if join else ''}--keep best to choose by it).")
    elif join:
        infos.append(f"Time slices are painted most: {reported}).")
    return infos


def settle_validation(
    config: TrainConfig, data: TrainingData, held: HeldOut | None, own_validation: bool,
    few_bodies: Sequence[str],
) -> list[str]:
    """Settle the time-slice defaults, ``keep`` and ``val_join`` once the split is made.

    The last model is kept where validation is the bands of the painted time slices (or
    none), or where the held-out paint joins training; ``val_join`` that cannot act (no
    automatic split: the user's validation labels, or nothing held out) is set to 1 with a
    note (in ``data.notes``) when the user asked for it.

    Parameters
    ----------
    config : TrainConfig
        The run's settings, changed in place.
    data : TrainingData
        The split training data.
    held : HeldOut or None
        The validation held out (:func:`~.data.split_data`).
    own_validation : bool
        The user gave validation labels.
    few_bodies : sequence of str
        Classes painted as a few bodies (see :func:`time_slice_defaults`).

    Returns
    -------
    list of str
        The run's information lines (:func:`time_slice_defaults`).
    """
    infos: list[str] = []
    can_join = held is not None and held.can_rejoin
    if data.time_slices_painted_most:
        in_time = held is None or held.axis == data.sample_axis
        # mixed paint led by time slices keeps validation out (joining gained nothing there)
        infos += time_slice_defaults(config, own_validation=own_validation or not in_time,
                                     few_bodies=few_bodies,
                                     can_join=can_join and not data.mixed_paint)
    if not can_join and config.val_join is not None and config.val_join < 1:
        data.notes.append("Validation joins training only when it is held out of the paint "
                          "(not validation labels you gave, nor with nothing held out): "
                          "val_join (--val-join) is ignored.")
        config.val_join = 1.0
    joins = (config.val_join or 1) < 1
    if config.keep is None and joins:
        infos.append(f"The paint held out for validation joins training after "
                     f"{config.val_join:.0%} of the budget: the model at the end of the run is "
                     "kept, and the validation reported is the one measured just before.")
    config.keep = config.keep or ("last" if joins else "best")  # on the card
    return infos
