"""The Train widget's "Pretrain on the image" row: self-supervised pretraining in a worker.

The computation is :func:`napari_seisseg.training.pretrain.pretrain` (never trained on
labels): it teaches the network the Train widget's settings describe (model auto: the one
Train will choose for the labels layer's paint) to reconstruct hidden traces of the chosen
image, and caches it in the model store, keyed by the survey and the architecture.  Every
later training on that image with the same settings starts from it (a note says so).  The
row shares the Train widget's progress bar, status line and Stop.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from magicgui.widgets import FloatSpinBox, PushButton

from .rows import tight_box

if TYPE_CHECKING:
    from .train import TrainWidget

__all__ = ["PretrainRow"]

logger = logging.getLogger(__name__)


class PretrainRow:
    """Minutes and a button; runs in the owner's worker slot (see the module docstring)."""

    def __init__(self, owner: TrainWidget) -> None:
        self.owner = owner
        self.minutes = FloatSpinBox(value=3.0, min=0.1, max=10_000.0, step=0.5,
                                    tooltip="Minutes of pretraining (wall clock).")
        self.button = PushButton(
            text="Pretrain on image",
            tooltip="Learn from the whole image without labels (reconstruct hidden traces), "
                    "with the model settings above; cached for this survey, so every later "
                    "training on it with the same settings starts from it (model auto "
                    "chooses as Train will on the labels layer's paint: the hybrid for paint "
                    "mostly on time slices, unet2d for other sections or before anything is "
                    "painted, resunet for a stack of tiles). Stop keeps what was learned.")
        self.row = tight_box([self.minutes, self.button],
                             "Self-supervised pretraining on the unlabeled survey.",
                             label="pretraining")
        self.button.changed.connect(lambda *_: self.start())

    def start(self):
        """Start pretraining in a worker.

        Returns
        -------
        worker or None
            The started ``GeneratorWorker``, or None when refused (the status line and a
            notification say why).
        """
        from napari.qt.threading import thread_worker

        from ..errors import SeisSegError
        from ..io.layer_axes import layer_geometry

        owner = self.owner
        if owner.worker is not None:
            return owner._fail("a run is already going; stop it or wait for it to end")
        image = owner.image.value
        if image is None:
            return owner._fail("No Image layer to pretrain on. Open a cube and choose it as "
                               "'image'.")
        if getattr(image, "multiscale", False):
            return owner._fail(f"'{image.name}' is multiscale; pretrain on a single-scale layer.")
        try:
            config = owner.config()
            if config.epochs is None and config.minutes is None:  # Train's "until stopped":
                config.minutes = float(self.minutes.value)  # pretraining has its own minutes
            config.validate()
        except SeisSegError as exc:
            return owner._fail(str(exc))
        except Exception as exc:  # noqa: BLE001 - never a traceback dialog
            logger.exception("reading the training settings failed")
            return owner._fail(f"{type(exc).__name__}: {exc}")
        geometry = layer_geometry(image)
        labels = owner.labels_layer.value
        stop = threading.Event()
        closing = owner._closing

        def should_stop() -> bool:
            return stop.is_set() or closing.is_set()

        worker = thread_worker(_run_pretrain, start_thread=False, ignore_errors=True)(
            image.data, config, float(self.minutes.value), geometry, should_stop,
            None if labels is None or getattr(labels, "multiscale", False) else labels.data)
        worker.yielded.connect(self._on_event)
        worker.returned.connect(self._on_returned)
        worker.errored.connect(lambda exc: owner._fail(f"{type(exc).__name__}: {exc}"))
        worker.finished.connect(owner._on_finished)
        owner.worker, owner._stop_event = worker, stop
        owner.train_button.enabled, owner.stop_button.enabled = False, True
        owner.predict_cube_button.enabled = False  # no model to predict with before it ends
        self.button.enabled = False
        owner.progress.value = 0
        owner.status.set("running", f"pretraining {config.model} on '{image.name}'")
        worker.start()
        return worker

    def _on_event(self, event: Any) -> None:
        from ..training.events import Note, Step

        owner = self.owner
        if isinstance(event, Step):
            owner.progress.value = int(round(1000 * min(1.0, max(0.0, event.progress))))
            owner.status.set("running", f"pretraining: step {event.global_step}, "
                                        f"reconstruction error {event.loss:.4f}")
        elif isinstance(event, Note):
            if event.level == "warning":
                from napari.utils.notifications import show_warning

                show_warning(f"Train: {event.text}")
            else:
                self.message = event.text

    def _on_returned(self, returned: Any) -> None:
        from napari.utils.notifications import show_info

        owner = self.owner
        if isinstance(returned, str):
            owner._fail(returned)
            return
        text = getattr(self, "message", "pretraining done")
        owner.progress.value = 1000
        owner.status.set("done", text)
        show_info(f"Train: {text}")


def _run_pretrain(image: Any, config: Any, minutes: float, geometry: Any, stop: Any,
                  labels: Any = None):
    """The worker: yields the pretraining's events; returns its result or an error message.

    ``labels`` (the labels layer's data) choose the model for auto as Train will, when they
    hold paint; an empty layer chooses nothing, as if none were given.
    """
    import numpy as np

    from ..errors import SeisSegError
    from ..training.pretrain import pretrain

    try:
        if labels is not None and not config.zero_is_background and not np.any(labels):
            labels = None
        return (yield from pretrain(image, config, minutes=minutes, geometry=geometry, stop=stop,
                                    labels=labels))
    except SeisSegError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - reported to the user; traceback to the log
        logger.exception("pretraining failed")
        return f"{type(exc).__name__}: {exc}"
