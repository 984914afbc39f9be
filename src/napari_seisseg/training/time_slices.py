"""The defaults of a run painted on a few time slices (settled once the paint is known).

A few painted time slices are learned by heart within a few epochs, and a class painted as
a few bodies is learned with the surroundings it was painted in; these settings keep the
network learning what the classes look like elsewhere (docs/fewlabel-experiments.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .config import AUGMENT_EXTRAS, AugmentConfig, TrainConfig

__all__ = ["COPY_PASTE", "time_slice_defaults", "with_map_distortion"]

#: Probability of a copy-paste per patch in a run painted on time slices (``copypaste``).
COPY_PASTE = AUGMENT_EXTRAS["copypaste"]["copy_paste"]


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
                        few_bodies: Sequence[str] = ()) -> list[str]:
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
    fault 0.75 / 0.55 -> 0.77 / 0.66; seed 1 had kept epoch 7 of 26).

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
    if config.keep is None and not own_validation:
        config.keep = "last"
        infos.append("Time slices are painted most: the model at the end of the run is kept and the "
                     "run does not stop early (the validation bands inside the painted slices peak "
                     "before the classes are found at other times); its validation is still "
                     "reported (--keep best to choose by it).")
    return infos
