"""The model bundle: one safetensors file holding a model's weights and its JSON model card.

This package is the only place that knows the card's schema.  Training builds a card
(:func:`build_card`) and saves it with the weights (:func:`save_bundle`); prediction loads
it (:func:`load_bundle`, :meth:`BundleModel.load`), reads it (:class:`BundleModel`'s
properties, :func:`read_card` for the card alone), checks that it fits its network
(:meth:`BundleModel.check`) and applies its input normalisation (:class:`Normalizer`,
:func:`input_normalizer`, :func:`pipeline_already_applied`).  The card's parts have their
own modules: the class list (:mod:`.classes`), the position channel (:mod:`.position`) and
the normalisation (:mod:`.normalize`).

Importing this package imports torch.
"""

from __future__ import annotations

from .card import (
    build_card,
    card_classes,
    class_names_line,
    model_kind,
    model_name,
    record_pipeline,
    window_preprocess,
    without_pipeline,
)
from .classes import PALETTE, ClassInfo, build_classes, class_names_from_features, parse_class_names
from .inputs import STATISTICS, input_normalizer, pipeline_already_applied
from .model import BundleModel
from .normalize import Normalizer, fit_normalizer, nonfinite_message
from .position import PositionSpec, interleave_position, position_ramp
from .storage import FORMAT, FORMAT_VERSION, json_safe, load_bundle, read_card, save_bundle

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "PALETTE",
    "STATISTICS",
    "BundleModel",
    "ClassInfo",
    "Normalizer",
    "PositionSpec",
    "build_card",
    "build_classes",
    "card_classes",
    "class_names_line",
    "class_names_from_features",
    "fit_normalizer",
    "input_normalizer",
    "interleave_position",
    "json_safe",
    "load_bundle",
    "model_kind",
    "model_name",
    "nonfinite_message",
    "parse_class_names",
    "pipeline_already_applied",
    "position_ramp",
    "read_card",
    "record_pipeline",
    "save_bundle",
    "window_preprocess",
    "without_pipeline",
]
