"""The Train widget's worker: training in a background thread, and the automatic save.

:func:`run_training_worker` is what the Train widget hands to ``thread_worker``: it runs
:func:`napari_seisseg.training.live.live_train` (with a live control: previews, strokes
taken up, until stopped) or :func:`napari_seisseg.training.train`, yielding its events to
the GUI thread, records the image layer's preprocessing in the model card and saves the
bundle where trained models are kept (a live run's latest weights beside it).  Errors never leave the thread as exceptions (no traceback dialog): they come
back as a :class:`Failure` with a message for the user.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..store import prune_autosaves

__all__ = ["Failure", "run_training_worker"]

logger = logging.getLogger(__name__)


@dataclass
class Failure:
    """What the worker returns instead of a result when training failed."""

    message: str


def run_training_worker(inputs: dict[str, Any], stop: Callable[[], bool],
                        pipe: dict | None = None,
                        autosave: Path | Callable[[str], Path] | None = None,
                        started_from: Path | None = None,
                        control: Any = None) -> Generator[Any, None, Any]:
    """The worker: run :func:`~napari_seisseg.training.train`, yielding its events.

    Parameters
    ----------
    inputs : dict
        Keyword arguments of ``train`` (``image``, ``labels`` and ``config`` included).
    stop : callable
        True once the run should stop (Stop pressed, widget closed).
    pipe : dict, optional
        The image layer's preprocessing pipeline, recorded in the card (it applies to raw
        amplitudes, see :mod:`.train`).
    autosave : path or callable, optional
        Where the bundle is saved so that a trained model outlives the session, or a
        function of the model's name giving that path (a failed save is reported, not
        fatal).
    started_from : path, optional
        A killed run's checkpoint this run continued: retired once the result is saved.
    control : LiveControl, optional
        Run :func:`~napari_seisseg.training.live.live_train` through this control instead
        (``stop`` is then the control's business); its result's latest weights, when
        scored at another epoch than the best, are saved beside it as ``<name> latest``.

    Returns
    -------
    tuple or Failure
        ``(TrainResult, saved path or None, save error or None)``, or a :class:`Failure`
        with a message.
    """
    from ..bundle.card import model_name, record_pipeline
    from ..errors import SeisSegError
    from ..training import train

    try:
        image, labels = inputs.pop("image"), inputs.pop("labels")
        if control is not None:
            from ..training.live import live_train

            result = yield from live_train(image, labels, inputs.pop("config"),
                                           control=control, **inputs)
        else:
            result = yield from train(image, labels, inputs.pop("config"), stop=stop, **inputs)
    except SeisSegError as exc:
        return Failure(str(exc))
    except Exception as exc:  # noqa: BLE001 - reported to the user; traceback to the log
        logger.exception("training failed")
        return Failure(f"{type(exc).__name__}: {exc}")
    latest = getattr(result, "distinct_latest", None)
    if pipe is not None:
        for done in (result, latest):
            if done is not None:
                record_pipeline(done.card, pipe)
    if started_from is not None:  # a killed run's checkpoint, continued: retired once saved
        result.checkpoints.append(Path(started_from))
    saved, error = None, None
    if autosave is not None:
        try:
            if callable(autosave):  # named after the model the run chose (model "auto")
                autosave = autosave(model_name(result.card))
            autosave.parent.mkdir(parents=True, exist_ok=True)
            saved = Path(result.save(autosave))
            if latest is not None:
                _save_latest(latest, autosave.with_name(f"{autosave.stem}-latest{autosave.suffix}"))
        except Exception as exc:  # noqa: BLE001 - the trained model must still reach the user
            logger.exception("saving the model automatically failed")
            error = str(exc) if isinstance(exc, SeisSegError | OSError) else \
                f"{type(exc).__name__}: {exc}"
        else:
            prune_autosaves(autosave.parent)
    return result, saved, error


def _save_latest(latest: Any, path: Path) -> None:
    """Save a live run's latest weights beside the best; a failure is logged (the best is
    saved, and the latest stays in the session's model list)."""
    try:
        latest.bundle_path = Path(latest.save(path))
    except Exception:  # noqa: BLE001 - the best model is saved; this one is a bonus
        logger.exception("saving the latest weights automatically failed")
