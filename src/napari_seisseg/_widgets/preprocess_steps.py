"""The step rows of the Preprocess widget: one step's title, parameters and move/remove buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox, Label, PushButton

from .rows import tight_box

if TYPE_CHECKING:
    from ..preprocess import Step
    from .preprocess import PreprocessWidget

__all__ = ["STEP_MENU", "StepRow"]

#: (menu text, step kind) of the steps a user can add.
STEP_MENU = [
    ("Percentile clip", "clip_percentile"),
    ("Clip at ±k std", "clip_std"),
    ("Standardise (mean / std)", "standardize"),
    ("Robust scale (median / IQR)", "robust_scale"),
    ("AGC (automatic gain control)", "agc"),
    ("Log + uint8 (compress)", "log_uint8"),
]
_TITLES = dict((k, t) for t, k in STEP_MENU)


def _float(label: str, value: float, tip: str, lo: float = 0.0, hi: float = 100.0,
           step: float = 0.1) -> FloatSpinBox:
    return FloatSpinBox(label=label, value=value, min=lo, max=hi, step=step, tooltip=tip)


def _step_inputs(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameter controls of a step of ``kind``, set to ``params`` (defaults for the rest)."""
    inputs: dict[str, Any] = {}
    if kind in ("clip_percentile", "log_uint8"):
        inputs["lower"] = _float("lower %", params.get("lower", 0.5),
                                 "Lower percentile of the sampled amplitudes (0-100).")
        inputs["upper"] = _float("upper %", params.get("upper", 99.5),
                                 "Upper percentile; must be above the lower one.")
    if kind == "log_uint8":
        inputs["symmetric"] = CheckBox(
            text="symmetric range (zero at code 128)", value=params.get("symmetric", True),
            tooltip="Use ±max(|lower|, |upper|) so zero amplitude (and dead traces) encode as "
                    "128; off: the lower..upper range fills codes 1..255.")
    if kind == "clip_std":
        inputs["k"] = _float("k", params.get("k", 3.0),
                             "Clip to mean ± k standard deviations of the sample.",
                             lo=0.01, hi=1000.0)
    if kind == "robust_scale":
        inputs["q_low"] = _float("low %", params.get("q_low", 25.0),
                                 "Lower quantile of the spread (25: interquartile range).")
        inputs["q_high"] = _float("high %", params.get("q_high", 75.0),
                                  "Upper quantile of the spread (75: interquartile range).")
    if kind == "agc":
        inputs["window"] = _float("window", params.get("window", 500.0),
                                  "AGC window length, centred on each sample; must be "
                                  "shorter than the trace.", lo=1.0, hi=1e6, step=10.0)
        inputs["unit"] = ComboBox(label="unit", choices=["ms", "samples"],
                                  value=params.get("unit", "ms"),
                                  tooltip="Window in milliseconds (time data with a "
                                          "sample interval) or in samples.")
    return inputs


class StepRow(Container):
    """One step of the pipeline: its title, its parameters, and move/remove buttons."""

    def __init__(self, kind: str, owner: PreprocessWidget, **params: Any):
        super().__init__(labels=True, tooltip=f"Step: {_TITLES[kind]}")
        self.kind = kind
        self.owner = owner
        self.title = Label(value=_TITLES[kind], tooltip="Steps run from top to bottom.")
        self.up = PushButton(text="↑", tooltip="Move this step one place earlier.")
        self.down = PushButton(text="↓", tooltip="Move this step one place later.")
        self.remove_button = PushButton(text="✕", tooltip="Remove this step.")
        header = tight_box([self.title, self.up, self.down, self.remove_button],
                           "Step name and its move/remove buttons.")
        self.header = header
        self.inputs = _step_inputs(kind, params)
        widgets = [header, *self.inputs.values()]
        if not self.inputs:
            widgets.append(Label(value="no parameters (statistics from the sample)",
                                 tooltip="This step only needs statistics fitted on the sample."))
        self.extend(widgets)
        self.up.changed.connect(lambda: owner.move_step(self, -1))
        self.down.changed.connect(lambda: owner.move_step(self, +1))
        self.remove_button.changed.connect(lambda: owner.remove_step(self))
        for w in self.inputs.values():
            w.changed.connect(owner._on_steps_changed)

    def params(self) -> dict[str, Any]:
        """The parameters entered."""
        return {k: w.value for k, w in self.inputs.items()}

    def step(self) -> Step:
        """The step, not fitted."""
        from ..preprocess import Step

        return Step.from_dict({"kind": self.kind, **self.params()})
