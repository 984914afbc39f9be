"""The controls of the Predict widget, built with their tooltips (no behaviour here)."""

from __future__ import annotations

from collections.abc import Callable

from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FloatSlider,
    FloatSpinBox,
    Label,
    ProgressBar,
    PushButton,
    Select,
    SpinBox,
)

from ..inference.run_choices import device_choices
from ._status import StatusLabel
from .rows import tight_box

__all__ = ["model_controls", "prior_boxes", "review_controls", "run_outputs", "run_settings"]


def model_controls(layer_choices: Callable,
                   model_choices: Callable) -> tuple[ComboBox, ComboBox, PushButton, Label]:
    """The image and model choosers, "Load bundle…" and the line describing the model."""
    layer = ComboBox(label="image", choices=layer_choices,
                     tooltip="Image layer to predict: raw amplitudes (the model applies "
                             "its own preprocessing), or a layer made by the Preprocess "
                             "widget with the model's pipeline (not applied twice).")
    model = ComboBox(label="model", choices=model_choices,
                     tooltip="A model trained in this session (Train widget) or loaded "
                             "from a bundle file.")
    load_button = PushButton(text="Load bundle…",
                             tooltip="Add a model bundle file (.safetensors written by "
                                     "the Train widget or 'seisseg train') to the list.")
    model_info = Label(value="", tooltip="Architecture, input kind and classes of the "
                                         "chosen model.")
    model_info.native.setWordWrap(True)
    return layer, model, load_button, model_info


def run_settings() -> tuple[FloatSpinBox, CheckBox, ComboBox, list[CheckBox], Container,
                            ComboBox, CheckBox]:
    """Overlap, flips, device, the orientation boxes (and their row), statistics, quick look."""
    overlap = FloatSpinBox(label="overlap", value=0.5, min=0.0, max=0.9, step=0.05,
                           tooltip="Overlap of neighbouring windows (3D models) or section "
                                   "tiles; overlapping windows are blended so no seams "
                                   "show. 0.5: each window half-overlaps the next.")
    tta = CheckBox(text="test-time augmentation (flips, turns)", value=False,
                   tooltip="Average the predictions of flipped copies of each window: "
                           "smoother, 4x (sections) or 8x (3D windows) slower. Ticked when "
                           "a model painted on time slices is chosen: its maps are flipped, "
                           "never time, and transposed when training turned them (all 8 "
                           "turns and mirrors: 4x slower over three orientations, 8x along "
                           "time slices alone; flips only: 2.7x, 4x; better on every model "
                           "measured), and when one "
                           "painted in several orientations is: the traces are flipped "
                           "(2x slower over inlines and crosslines, 2.7x with time slices). "
                           "A model trained without upside-down patches (tiles, no time "
                           "flips) is never flipped in time (2x, 4x slower).")
    device = ComboBox(label="device", choices=device_choices(), value="auto",
                      tooltip="Where windows run: auto takes CUDA, then Apple MPS, then "
                              "the CPU.")
    orientation_boxes = [
        CheckBox(text=f"axis {i}", value=i == 0,
                 tooltip="Section models: predict sections along this axis; several "
                         "orientations are averaged (each one costs a full pass; for a "
                         "model painted on time slices alone, with all three ticked, "
                         "time weighs as much as the two others together).")
        for i in range(3)
    ]
    orientations = tight_box(orientation_boxes,
                             "Section (2D) models: the axes to predict along and "
                             "average. 3D models predict 3D windows.",
                             label="orientations")
    statistics = ComboBox(
        label="statistics", choices=[("stored in the model", "stored"),
                                     ("refit on this image", "refit")], value="stored",
        tooltip="Amplitude statistics of the model's preprocessing: those of the survey it was "
                "trained on (same survey, or one with the same amplitude range), or refitted "
                "on this image (another survey whose amplitudes differ).")
    current_slice = CheckBox(text="current slice only (quick look)", value=False,
                             tooltip="Predict only the inline shown (its neighbours are "
                                     "read for context): seconds instead of minutes, to "
                                     "judge a model before running the whole cube.")
    return overlap, tta, device, orientation_boxes, orientations, statistics, current_slice


def prior_boxes() -> tuple[CheckBox, CheckBox]:
    """Whether to combine the network with the paint: at each time sample, and on the
    nearest painted trace (each offered when the model holds it)."""
    tips = (
        "Models with the position channel: multiply the network's class probabilities by how "
        "much likelier each class was painted at that time (depth) sample than overall. Helps "
        "layers that keep their time away from the paint; untick for bodies whose depth "
        "changes (offered when the model has it).",
        "Models trained on painted sections, predicting the survey they were painted on: "
        "multiply the network's class probabilities by how often the class the nearest painted "
        "trace holds at that sample was found that far along the painted sections. Layers "
        "follow the paint sideways; faults and channels, which do not persist, are left to the "
        "network (offered when the model has it).",
    )
    time, lateral = (CheckBox(text=text, value=True, enabled=False, tooltip=tip)
                     for text, tip in zip(("time", "lateral"), tips, strict=True))
    return time, lateral


def run_outputs() -> tuple[PushButton, PushButton, ProgressBar, StatusLabel, Label]:
    """Predict, Cancel, the progress, the status and the line on the selected result layer."""
    predict_button = PushButton(text="Predict", tooltip="Run the model on the image in "
                                                        "the background and add the result "
                                                        "layers.")
    cancel_button = PushButton(text="Cancel", enabled=False,
                               tooltip="Stop the running prediction; no layer is added.")
    progress = ProgressBar(label="progress", min=0, max=100, value=0,
                           tooltip="Windows (or sections) predicted so far.")
    status = StatusLabel()
    selected = Label(label="selected", value="", visible=False,
                     tooltip="The model, image and time of the selected result layer "
                             "(its name is kept short; all of it is in the layer's "
                             "metadata).")
    selected.native.setWordWrap(True)
    return predict_button, cancel_button, progress, status, selected


def review_controls(axis_choices: Callable) -> tuple[FloatSlider, ComboBox, SpinBox, SpinBox,
                                                     PushButton, Select]:
    """The threshold slider and the "where to label next" controls."""
    threshold = FloatSlider(label="threshold", value=0.5, min=0.0, max=1.0, step=0.01,
                            enabled=False, visible=False, tracking=False,
                            tooltip="Binary models: probability above which the second "
                                    "class is chosen. Moving it rewrites the last mask "
                                    "layer in place; voxels you edited keep your edit, "
                                    "and the mask's undo history is cleared.")
    rank_axis = ComboBox(label="rank along", choices=axis_choices,
                         tooltip="Slices along this axis are ranked by the mean "
                                 "uncertainty of the last prediction.")
    rank_n = SpinBox(label="how many", value=5, min=1, max=500,
                     tooltip="Number of slices to suggest.")
    rank_gap = SpinBox(label="min gap", value=2, min=0, max=1000,
                       tooltip="Suggested slices are more than this many slices apart "
                               "(neighbouring slices teach the model little new).")
    rank_button = PushButton(text="Where to label next",
                             tooltip="Rank slices by mean uncertainty (most uncertain "
                                     "first); pick one to jump there and label it.")
    ranked = Select(label="next slices", choices=[], allow_multiple=False,
                    tooltip="Slices the model is least sure of; selecting one moves the "
                            "viewer to it.")
    ranked.native.setMaximumHeight(140)
    return threshold, rank_axis, rank_n, rank_gap, rank_button, ranked
