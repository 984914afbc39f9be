"""The Train widget's "corrections" controls: take a corrected mask into the painted labels.

After Predict, the interpreter corrects the mask layer with the brush. Training on the whole
corrected mask teaches the model mostly its own prediction (the corrections are a fraction
of a percent of the voxels). These controls instead copy into the painted Labels layer
(the Train widget's *labels*):

- **Add my edits**: the voxels of the mask the user changed since Predict wrote it (see
  :mod:`napari_seisseg.training.mask_edits`); a correction overrides what was painted
  there before;
- **Add shown section**: the section on screen (2D view), as a reviewed section: every
  class voxel of the mask where nothing is painted yet, plus the edits in it.

Each copy is one undo step of the labels layer (Ctrl+Z there takes it back), and the mask
is left as it is. The next Train run, started from the model that predicted the mask, learns
from painted labels plus corrections.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
from magicgui.widgets import ComboBox, PushButton

from ..errors import SeisSegError
from ..training.mask_edits import EVENTS, edited_voxels, is_tracked
from .mask_edits import copy_into_labels
from .predict import PREDICTION_KEY
from .rows import tight_box

__all__ = ["Corrections", "shown_section"]


def shown_section(viewer: Any, layer: Any) -> tuple[tuple[Any, ...], str]:
    """The index tuple of the section of ``layer`` on screen, and a name for it.

    Raises
    ------
    SeisSegError
        In the 3D view, or when the viewer's slice lies outside the layer.
    """
    ndim = layer.ndim
    if ndim == 2:
        return (slice(None), slice(None)), "section"
    if viewer.dims.ndisplay != 2:
        raise SeisSegError("The view is 3D: switch to the 2D view (the square button below the "
                           "layer list) to choose the section to add.")
    offset = viewer.dims.ndim - ndim
    hidden = [a - offset for a in viewer.dims.not_displayed if a - offset >= 0]
    from ..io.survey_text import survey_words

    position = layer.world_to_data(viewer.dims.point)
    key: list[Any] = [slice(None)] * ndim
    names = []
    words = survey_words(layer.metadata, list(viewer.dims.point)[-ndim:])
    for axis in hidden:
        index = int(round(float(position[axis])))
        if not 0 <= index < layer.data.shape[axis]:
            raise SeisSegError(f"The slice shown lies outside '{layer.name}'; move the slider "
                               "onto the mask.")
        key[axis] = index
        if words:  # in survey units: inline 122, 200 ms
            names.append(words[axis])
        else:
            names.append(f"{layer.axis_labels[axis]} {viewer.dims.point[axis + offset]:g}")
    return tuple(key), ", ".join(names) or "section"


class Corrections:
    """Choose a predicted mask and copy its corrections into the painted labels.

    Its controls (:attr:`widgets`: the mask choice and a row of two buttons) go into the
    Train widget's form, so their labels line up with the others.

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        The viewer.
    labels_of : callable
        Returns the painted Labels layer to add to (the Train widget's *labels*).
    fail : callable
        Shows a failure (message) as a notification and in the status line.
    done : callable
        ``done(message, model_name)`` after a copy; ``model_name`` is the model that
        predicted the mask (or None).
    """

    def __init__(self, viewer: Any, labels_of: Callable[[], Any], fail: Callable[[str], Any],
                 done: Callable[[str, str | None], Any]) -> None:
        self.viewer = viewer
        self._labels_of, self._fail, self._done = labels_of, fail, done
        self.mask = ComboBox(label="corrections", choices=self._mask_choices,
                             tooltip="A predicted mask (Predict widget) you corrected with the "
                                     "brush; its corrections go into 'labels'.")
        self.add_edits_button = PushButton(
            text="Add my edits",
            tooltip="Copy the voxels you changed in the mask into 'labels' (one undo step "
                    "there); train again to learn them.")
        self.add_section_button = PushButton(
            text="Add shown section",
            tooltip="Copy the mask's section on screen, as reviewed, into 'labels' where "
                    "nothing is painted yet (your edits in it override).")
        buttons = tight_box([self.add_edits_button, self.add_section_button],
                            "Take corrections into the painted labels.")
        #: The controls, in form order.
        self.widgets = [self.mask, buttons]
        self._known = weakref.WeakSet(layer for _name, layer in self._mask_choices())
        EVENTS.tracked.connect(self._on_tracked)  # a new prediction's mask: offer and choose it
        self.add_edits_button.changed.connect(lambda *_: self.add_edits())
        self.add_section_button.changed.connect(lambda *_: self.add_section())

    def _mask_choices(self, _widget=None) -> list:
        from napari.layers import Labels

        masks = [(layer.name, layer) for layer in self.viewer.layers
                 if isinstance(layer, Labels) and is_tracked(layer)]
        return masks[::-1]  # the newest prediction first

    def _on_tracked(self, _layer: Any) -> None:
        try:
            self.refresh()
        except RuntimeError:  # the widget was deleted
            EVENTS.tracked.disconnect(self._on_tracked)

    def refresh(self) -> None:
        """Offer the masks now in the viewer; a mask new since the last call is chosen."""
        self.mask.reset_choices()
        choices = [layer for _name, layer in self._mask_choices()]
        new = [layer for layer in choices if layer not in self._known]
        if new:
            self.mask.value = new[0]  # the newest
        self._known = weakref.WeakSet(choices)

    def _inputs(self) -> tuple[Any, Any]:
        if self.mask.value is None:
            self.refresh()  # in case a mask was added unnoticed
        mask, labels = self.mask.value, self._labels_of()
        if mask is None:
            raise SeisSegError("No predicted mask to take corrections from. Predict with the "
                               "Predict widget, correct its mask with the brush, then add.")
        if labels is None:
            raise SeisSegError("No Labels layer to add to: choose the painted labels as "
                               "'labels' (or make one with 'New labels layer').")
        if not is_tracked(mask):
            raise SeisSegError(f"The data of '{mask.name}' was replaced since Predict wrote it, "
                               "so its corrections cannot be told apart; predict again.")
        if labels is mask:
            raise SeisSegError(f"'labels' is the mask '{mask.name}' itself; choose the painted "
                               "labels layer to add the corrections to.")
        if is_tracked(labels) or (labels.metadata.get(PREDICTION_KEY) or {}).get("role") == "mask":
            raise SeisSegError(f"'labels' is '{labels.name}', another predicted mask; choose the "
                               "painted labels layer to add the corrections to.")
        if tuple(labels.data.shape) != tuple(mask.data.shape):
            raise SeisSegError(f"'{mask.name}' has shape {tuple(mask.data.shape)} but "
                               f"'{labels.name}' {tuple(labels.data.shape)}. Corrections are "
                               "copied voxel for voxel: choose the labels painted on the image "
                               "that was predicted, and a mask of the whole image (not a quick "
                               "look of one slice).")
        return mask, labels

    def _model_of(self, mask: Any) -> str | None:
        return (mask.metadata.get(PREDICTION_KEY) or {}).get("model")

    def add_edits(self) -> int | None:
        """Copy the edited voxels of the mask into the labels; the number copied, or None."""
        try:
            mask, labels = self._inputs()
            edited = edited_voxels(mask)
            erased = int(np.count_nonzero(edited & (np.asarray(mask.data) == 0)))
            if not edited.any():
                raise SeisSegError(f"Nothing in '{mask.name}' was edited. Paint the right class "
                                   "over what is wrong, then add; or add a whole reviewed "
                                   "section with 'Add shown section'.")
            n = copy_into_labels(labels, mask.data, edited)
            if n == 0:
                raise SeisSegError(f"Nothing new to add: the {int(edited.sum()):,} voxels edited in "
                                   f"'{mask.name}' are already in '{labels.name}', or were "
                                   "erased (erased voxels are not labels).")
        except SeisSegError as exc:
            return self._fail(str(exc))
        note = f" ({erased:,} erased voxels are not labels and were left out)" if erased else ""
        self._done(f"added {n:,} corrected voxels of '{mask.name}' to '{labels.name}'{note}",
                   self._model_of(mask))
        return n

    def add_section(self) -> int | None:
        """Copy the section on screen into the labels; the number copied, or None."""
        try:
            mask, labels = self._inputs()
            key, name = shown_section(self.viewer, mask)
            values = np.asarray(mask.data[key])
            edited = edited_voxels(mask, key)
            where = edited | (np.asarray(labels.data[key]) == 0)
            n = copy_into_labels(labels, values, where, region=key)
        except SeisSegError as exc:
            return self._fail(str(exc))
        self._done(f"added {name} of '{mask.name}' to '{labels.name}' ({n:,} voxels)",
                   self._model_of(mask))
        return n
