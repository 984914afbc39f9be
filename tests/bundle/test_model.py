"""BundleModel: what prediction reads from a card, and the card/network checks."""

from __future__ import annotations

import pytest
import torch

from napari_seisseg.bundle import PALETTE, BundleModel, Normalizer, PositionSpec, save_bundle
from napari_seisseg.errors import SeisSegError
from napari_seisseg.models import create_model, model_spec


def _net(n_classes=3, **kw):
    torch.manual_seed(0)
    return create_model("unet2d", n_classes=n_classes, width=4, depth=1, **kw).eval()


def _card(model, values=(1, 2, 3), **extra):
    return {
        "model": model_spec(model),
        "input": {"kind": "2d", "context": 0, "patch_size": [16, 16], "axes": [0, 1],
                  "axis_names": ["inline", "crossline", "sample"], "sample_axis": 2},
        "n_outputs": len(values),
        "classes": [{"value": v, "name": f"c{v}"} for v in values],
        "preprocessing": Normalizer(1.0, 2.0, 5.0).to_dict(),
        **extra,
    }


def test_card_fields_and_their_defaults():
    net = _net()
    bm = BundleModel.from_model(net, _card(net), name="m")
    assert (bm.kind, bm.is_section_model, bm.context, bm.n_outputs) == ("2d", True, 0, 3)
    assert bm.binary is False and bm.threshold == 0.5 and bm.pad_mode == "reflect"
    assert bm.class_values == [1, 2, 3] and bm.class_names == ["c1", "c2", "c3"]
    assert bm.classes[1]["color"] == PALETTE[1]  # no colour on the card: the palette's
    assert bm.section_axes == (0, 1) and bm.predict_axes == (0,) and bm.sample_axis == 2
    assert bm.patch_size == (16, 16) and bm.position is None
    norm = bm.normalizer
    assert (norm.center, norm.scale, norm.clip) == (1.0, 2.0, 5.0) and bm.normalizer is norm
    assert bm.describe() == "unet2d (2d), 3 classes: c1, c2, c3"


def test_position_channel_and_recorded_orientation():
    net = _net(in_channels=2)
    card = _card(net)
    card["input"].update(position=PositionSpec(50).to_dict(), predict_axes=[1])
    bm = BundleModel.from_model(net, card)
    assert bm.position == PositionSpec(50) and bm.predict_axes == (1,)
    assert bm.orientation_weights((0, 1, 2)) is None  # one painted orientation: equal weights


def test_time_slice_paint_weighs_the_painted_orientation_as_much_as_the_others_together():
    net = _net()
    card = _card(net)
    card["input"].update(axes=[0, 1, 2], predict_axes=[2, 0, 1])
    bm = BundleModel.from_model(net, card)
    assert bm.orientation_weights((2, 0, 1)) == (0.5, 0.25, 0.25)
    assert bm.orientation_weights((0, 1, 2)) == (0.25, 0.25, 0.5)
    for fewer in ((2, 0), (0, 1), (2,)):  # two orientations average alike anyway
        assert bm.orientation_weights(fewer) is None
    # time slices alone kept by the check (or an older bundle): all three asked, weighted too
    card["input"].update(predict_axes=[2])
    assert BundleModel.from_model(net, card).orientation_weights((0, 1, 2)) == (0.25, 0.25, 0.5)
    card["input"].update(predict_axes=[0])  # painted on inlines: alike
    assert BundleModel.from_model(net, card).orientation_weights((0, 1, 2)) is None


def test_time_slice_paint_flips_its_maps_by_default_and_never_time():
    net = _net()
    card = _card(net)
    card["input"].update(axes=[0, 1, 2], predict_axes=[2, 0, 1])
    bm = BundleModel.from_model(net, card)
    assert bm.flips_by_default and bm.test_time_flips(None) == (0, 1)
    assert bm.test_time_flips(True) == (0, 1) and bm.test_time_flips(False) is False
    card["input"].update(predict_axes=[0])  # painted on inlines: off unless asked, then all
    inline = BundleModel.from_model(net, card)
    assert not inline.flips_by_default and inline.test_time_flips(None) is False
    assert inline.test_time_flips(True) is True
    # inlines and crosslines painted: their traces flipped by default, never time
    card["input"].update(predict_axes=[1, 0])
    both = BundleModel.from_model(net, card)
    assert both.flips_by_default and both.test_time_flips(None) == (0, 1)
    assert both.test_time_flips(True) == (0, 1) and both.test_time_flips(False) is False
    # time slices painted with inlines leading: the three alike, the traces flipped (never
    # time), with no weights
    card["input"].update(predict_axes=[0, 1, 2])
    led = BundleModel.from_model(net, card)
    assert led.flips_by_default and led.test_time_flips(None) == (0, 1)
    assert led.test_time_flips(True) == (0, 1) and led.orientation_weights((0, 1, 2)) is None
    card["input"].update(predict_axes=[0, 2])  # an inline run restricted to inlines and time
    assert BundleModel.from_model(net, card).test_time_flips(None) == (0, 1)
    # a 3D model never takes the section defaults, whatever its card lists
    net3 = create_model("unet3d", n_classes=3, width=4, depth=1)
    card3 = _card(net3)
    card3["input"].update(kind="3d", patch_size=[8, 8, 8], axes=None, predict_axes=[1, 0])
    assert not BundleModel.from_model(net3, card3).flips_by_default


def test_asked_flips_leave_time_alone_where_training_never_flipped_it():
    net = _net()
    card = _card(net)
    card["input"].update(axes=[0], predict_axes=[0])  # a tile stack, sections along 0
    assert BundleModel.from_model(net, card).test_time_flips(True) is True  # card says nothing
    for augment in ({"flip": True, "flip_time": False}, {"flip": False, "flip_time": True}):
        card["training"] = {"config": {"augment": augment}}
        bm = BundleModel.from_model(net, card)
        assert not bm.trained_upside_down and not bm.flips_by_default
        assert bm.test_time_flips(True) == (0, 1) and bm.test_time_flips(None) is False
    card["training"] = {"config": {"augment": {"flip": True, "flip_time": True}}}
    assert BundleModel.from_model(net, card).test_time_flips(True) is True
    # as a run writes it
    from napari_seisseg.training import AugmentConfig, TrainConfig

    for flip_time, flips in ((False, (0, 1)), (True, True)):
        config = TrainConfig(augment=AugmentConfig(flip_time=flip_time))
        card["training"] = {"config": config.to_dict()}
        assert BundleModel.from_model(net, card).test_time_flips(True) == flips


def test_time_slice_paint_turns_its_maps_when_training_turned_them():
    net = _net()
    card = _card(net, training={"config": {"augment": {"map_view": True}}})
    card["input"].update(axes=[0, 1, 2], predict_axes=[2, 0, 1])
    bm = BundleModel.from_model(net, card)
    assert bm.trained_on_turned_maps
    assert bm.test_time_turns(None, (2, 0, 1)) == (2,) and bm.test_time_turns(True, (0, 2)) == (2,)
    assert bm.test_time_turns(False, (2, 0, 1)) == () and bm.test_time_turns(None, (0, 1)) == ()
    # training that never turned its maps (or a card that does not say), or oblong patches:
    # the maps are flipped only
    for augment, patch in (({"map_view": False}, [16, 16]), ({}, [16, 16]), ({"map_view": True}, [16, 32])):
        card["training"]["config"]["augment"], card["input"]["patch_size"] = augment, patch
        other = BundleModel.from_model(net, card)
        assert not other.trained_on_turned_maps and other.test_time_turns(None, (2, 0, 1)) == ()
    card["input"]["patch_size"] = [16, 16]
    card["training"]["config"]["augment"] = {"transpose": True}
    assert BundleModel.from_model(net, card).test_time_turns(None, (2,)) == (2,)
    del card["training"]
    assert BundleModel.from_model(net, card).test_time_turns(None, (2,)) == ()
    # painted on inlines (even led by them with time slices): flips as before, no turns
    card = _card(net, training={"config": {"augment": {"map_view": True}}})
    card["input"].update(axes=[0, 1, 2], predict_axes=[0, 1, 2])
    assert BundleModel.from_model(net, card).test_time_turns(True, (0, 1, 2)) == ()


def test_coerce_takes_paths_pairs_and_entries(tmp_path):
    net = _net()
    path = save_bundle(tmp_path / "salt.seisseg", net, _card(net))
    assert BundleModel.coerce(path).name == "salt"
    assert BundleModel.coerce((net, _card(net))).name == "unet2d"

    class Entry:
        model, card, name = net, _card(net), "entry"

    bm = BundleModel.coerce(Entry())
    assert bm.name == "entry" and BundleModel.coerce(bm) is bm
    with pytest.raises(SeisSegError, match="Give a model bundle path"):
        BundleModel.coerce(3)


def test_cards_that_do_not_fit_their_network_are_refused():
    net = _net()
    with pytest.raises(SeisSegError, match="unknown input kind"):
        BundleModel.from_model(net, {**_card(net), "input": {"kind": "4d"}})
    with pytest.raises(SeisSegError, match="repeats a class value"):
        BundleModel.from_model(net, _card(net, values=(1, 1, 2)))
    with pytest.raises(SeisSegError, match="must be a dict"):
        BundleModel.from_model(net, [1])
    with pytest.raises(SeisSegError, match="Expected a torch model"):
        BundleModel.from_model("net", _card(net))
