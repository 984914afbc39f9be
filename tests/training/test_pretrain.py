"""Self-supervised pretraining: runs, caches per survey and architecture, is found again."""

from __future__ import annotations

import numpy as np
import pytest
from training_helpers import TINY, smooth_field

from napari_seisseg.errors import SeisSegError
from napari_seisseg.jobs import drain
from napari_seisseg.training import TrainConfig, train
from napari_seisseg.training.pretrain import pretrain
from napari_seisseg.training.pretrain_store import find_pretrained, load_pretrained


def _cfg(**kw):
    base = dict(model="unet2d", model_kwargs=dict(TINY), patch_size=16, batch_size=2,
                epochs=1, steps_per_epoch=2)
    base.update(kw)
    return TrainConfig(**base)


def _run(gen):
    events = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as done:
            return events, done.value


def _layered(shape=(6, 20, 48), seed=0):
    image = smooth_field(shape, seed)
    truth = np.broadcast_to((1 + np.arange(shape[2]) * 3 // shape[2]).astype(np.uint8), shape)
    return image, np.ascontiguousarray(truth)


def test_pretraining_caches_and_training_starts_from_it(tmp_path):
    image, truth = _layered()
    stop_after = iter(range(6))
    events, result = _run(pretrain(image, _cfg(), minutes=5, out=tmp_path / "enc.safetensors",
                                   stop=lambda: next(stop_after, None) is None))
    steps = [e for e in events if type(e).__name__ == "Step"]
    assert len(steps) == 6 and all(np.isfinite(s.loss) for s in steps)
    assert result.cache_path.exists() and result.out_path.exists()
    assert result.card["position"] == {"axis": "sample", "n_samples": 48}  # 48 >= 2 x 16
    state, card = load_pretrained(result.out_path)
    assert card["survey"] == result.card["survey"] and "head.weight" in state
    # the same cube and architecture find it; the training starts from it
    labels = np.zeros_like(truth)
    labels[[1, 4]] = truth[[1, 4]]
    gen = train(image, labels, _cfg())
    events, trained = _run(gen)
    notes = [e.text for e in events if type(e).__name__ == "Note"]
    assert any(n.startswith("Started from the pretraining of this survey") for n in notes), notes
    # ... weights equal the pretrained ones before training moved them: check one
    # tensor of a run with no step
    import torch

    from napari_seisseg.models import create_model
    from napari_seisseg.training.pretrain_store import apply_pretrained

    fresh = create_model("unet2d", in_channels=2, n_classes=3, **TINY)
    assert apply_pretrained(fresh, state, card) > 4
    key = next(k for k in state if k.endswith("weight") and "head" not in k)
    assert torch.equal(fresh.state_dict()[key], state[key])
    # the round trip: a bundle trained from the pretraining saves and loads
    path = trained.save(tmp_path / "m.safetensors")
    from napari_seisseg.bundle import load_bundle

    assert load_bundle(path)[1]["input"]["position"] is not None


def test_another_cube_or_architecture_never_uses_it_silently(tmp_path):
    image, truth = _layered()
    stop_after = iter(range(2))
    _, made = _run(pretrain(image, _cfg(), minutes=5, stop=lambda: next(stop_after, None) is None))
    from napari_seisseg.models import create_model, model_spec

    same = model_spec(create_model("unet2d", in_channels=2, n_classes=4, **TINY))
    assert find_pretrained(image, same)[0] is not None
    other_cube = image.copy()
    other_cube[3] += 1.0
    assert find_pretrained(other_cube, same) == (None, None)
    wider = model_spec(create_model("unet2d", in_channels=2, n_classes=4, width=6, depth=2))
    path, note = find_pretrained(image, wider)
    assert path is None and "another architecture" in note
    labels = np.zeros_like(truth)
    labels[[1, 4]] = truth[[1, 4]]
    events, _ = _run(train(image, labels, _cfg(model_kwargs={"width": 6, "depth": 2})))
    notes = [e.text for e in events if type(e).__name__ == "Note"]
    assert any("another architecture" in n for n in notes)
    assert not any(n.startswith("Started from the pretraining") for n in notes)
    # an explicit file of another architecture is refused with what to do
    with pytest.raises(SeisSegError, match="pretrain again"):
        drain(train(image, labels, _cfg(model_kwargs={"width": 6, "depth": 2},
                                               pretrained=str(made.cache_path))))


def test_the_hybrid_pretrains_and_its_training_starts_from_it(tmp_path):
    # time slices painted: the hybrid (a 3D stem over a slab of slices) pretrains like the
    # section models, and a hybrid trained on the same cube starts from it
    image, truth = _layered((12, 20, 24))
    cfg = _cfg(model="hybrid", model_kwargs={"width": 4, "depth": 1, "context": 1})
    stop_after = iter(range(3))
    _, made = _run(pretrain(image, cfg, minutes=5, out=tmp_path / "hyb.safetensors",
                            stop=lambda: next(stop_after, None) is None))
    assert made.card["model"]["name"] == "hybrid" and made.card["position"] is None
    assert all(np.isfinite(made.losses))
    labels = np.zeros_like(truth)
    labels[:, :, [6, 18]] = truth[:, :, [6, 18]]
    events, trained = _run(train(image, labels, cfg))
    notes = [e.text for e in events if type(e).__name__ == "Note"]
    assert any(n.startswith("Started from the pretraining of this survey") for n in notes), notes
    from napari_seisseg.bundle import load_bundle

    assert load_bundle(trained.save(tmp_path / "h.safetensors"))[1]["model"]["name"] == "hybrid"
    # auto, for this time-slice paint: the hybrid, from this survey's pretraining of it or
    # from a file of it
    from napari_seisseg.training.data import prepare_data
    from napari_seisseg.training.recipe import hybrid_fits

    data = prepare_data(image, labels)
    auto = _cfg(model="auto", model_kwargs=dict(cfg.model_kwargs))
    assert hybrid_fits(auto, data)
    assert hybrid_fits(_cfg(model="auto", model_kwargs=dict(cfg.model_kwargs),
                            pretrained=str(made.cache_path)), data)
    # with a unet2d pretraining as well, the hybrid's still wins (it was made for this paint)
    stop_after = iter(range(2))
    _, plain = _run(pretrain(image, _cfg(model="unet2d", model_kwargs=dict(cfg.model_kwargs)),
                             minutes=5, stop=lambda: next(stop_after, None) is None))
    assert hybrid_fits(auto, data)
    assert not hybrid_fits(_cfg(model="auto", model_kwargs=dict(cfg.model_kwargs),
                                pretrained=str(plain.cache_path)), data)  # a unet2d file
    made.cache_path.unlink()  # the unet2d pretraining alone: auto trains unet2d from it
    assert not hybrid_fits(auto, data)
    # the cache is keyed by the image as given, not by the training order's view of it
    assert hybrid_fits(auto, data, image=image[:, :, ::-1].copy())
    # an explicit hybrid file for a run that trains unet2d says what to do
    with pytest.raises(SeisSegError, match="made for hybrid, but this run trains unet2d"):
        drain(train(image, labels, _cfg(model="unet2d", model_kwargs=dict(cfg.model_kwargs),
                                        pretrained=str(tmp_path / "hyb.safetensors"))))


def test_pretraining_refuses_3d_models_and_a_trained_bundle_as_pretraining(tmp_path):
    image, _ = _layered()
    with pytest.raises(SeisSegError, match="section models"):
        _run(pretrain(image, _cfg(model="unet3d", model_kwargs={"width": 4, "depth": 1}),
                      minutes=0.01))
    bundle = tmp_path / "b.safetensors"
    import torch
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(1)}, str(bundle), metadata={"seisseg": "{}"})
    with pytest.raises(SeisSegError, match="not a pretrained network"):
        load_pretrained(bundle)


def test_a_binary_model_does_not_inherit_the_reconstruction_head(tmp_path):
    image, _ = _layered()
    stop_after = iter(range(2))
    _, made = _run(pretrain(image, _cfg(), minutes=5, stop=lambda: next(stop_after, None) is None))
    state, card = load_pretrained(made.cache_path)
    from napari_seisseg.models import create_model
    from napari_seisseg.training.pretrain_store import apply_pretrained

    binary = create_model("unet2d", in_channels=2, n_classes=1, **TINY)  # same head shape
    head = binary.state_dict()["head.weight"].clone()
    apply_pretrained(binary, state, card)
    import torch

    assert torch.equal(binary.state_dict()["head.weight"], head)  # left fresh


def test_no_cube_is_read_for_a_fingerprint_while_the_cache_is_empty(monkeypatch):
    from napari_seisseg.training import pretrain_store

    def boom(image):
        raise AssertionError("the cube was fingerprinted with an empty cache")

    monkeypatch.setattr(pretrain_store, "cube_fingerprint", boom)
    image, truth = _layered()
    labels = np.zeros_like(truth)
    labels[[1, 4]] = truth[[1, 4]]
    drain(train(image, labels, _cfg()))  # the autouse fixture gives an empty store


def test_auto_pretrains_the_network_training_will_choose_for_the_paint():
    # time slices painted: auto pretrains the hybrid when given the paint, and the training
    # with auto on that paint starts from it; without the paint it pretrains unet2d
    image, truth = _layered((12, 20, 24))
    labels = np.zeros_like(truth)
    labels[:, :, [6, 18]] = truth[:, :, [6, 18]]
    cfg = _cfg(model="auto", model_kwargs={"width": 4, "depth": 1, "context": 1})
    stop_after = iter(range(2))
    events, made = _run(pretrain(image, cfg, minutes=5, labels=labels,
                                 stop=lambda: next(stop_after, None) is None))
    assert made.card["model"]["name"] == "hybrid"
    assert any(e.text.startswith("model auto: hybrid") for e in events
               if type(e).__name__ == "Note")
    events, trained = _run(train(image, labels, cfg))
    notes = [e.text for e in events if type(e).__name__ == "Note"]
    assert trained.card["model"]["name"] == "hybrid"
    assert any(n.startswith("Started from the pretraining of this survey") for n in notes), notes
    stop_after = iter(range(1))
    events, plain = _run(pretrain(image, cfg, minutes=5, cache=False,
                                  labels=np.zeros_like(truth),
                                  stop=lambda: next(stop_after, None) is None))
    assert plain.card["model"]["name"] == "unet2d"
    warnings = [e.text for e in events if type(e).__name__ == "Note" and e.level == "warning"]
    assert warnings and "Why: No labels" in warnings[0]


def test_pretraining_refuses_nan_and_leaves_dead_traces_out():
    image, _ = _layered()
    bad = image.copy()
    bad[2, 3, 4] = np.nan
    with pytest.raises(SeisSegError, match="NaN"):
        _run(pretrain(bad, _cfg(), minutes=0.01))
    dead = image.copy()
    dead[:, :10] = 0.0  # half of every inline is dead traces
    stop_after = iter(range(3))
    events, made = _run(pretrain(dead, _cfg(), minutes=5, cache=False,
                                 stop=lambda: next(stop_after, None) is None))
    assert made.cache_path is None and all(np.isfinite(made.losses))


def test_one_pretraining_serves_a_model_with_or_without_the_position_channel():
    image, _ = _layered()
    stop_after = iter(range(2))
    _, made = _run(pretrain(image, _cfg(), minutes=5, stop=lambda: next(stop_after, None) is None))
    assert made.card["position"] is not None
    state, card = load_pretrained(made.cache_path)
    from napari_seisseg.models import create_model, model_spec
    from napari_seisseg.training.pretrain_store import apply_pretrained

    plain = create_model("unet2d", in_channels=1, n_classes=3, **TINY)
    assert find_pretrained(image, model_spec(plain))[0] == made.cache_path
    first = next(k for k in plain.state_dict() if k.endswith("weight"))
    before = plain.state_dict()[first].clone()
    assert apply_pretrained(plain, state, card) > 4
    import torch

    assert torch.equal(plain.state_dict()[first], before)  # 1 input channel: left fresh


def test_the_cache_is_keyed_in_training_order_and_slabs_are_mirrored(tmp_path, monkeypatch):
    # napari holds a survey as (inline, sample, crossline), the command line reads it as
    # (inline, crossline, sample): a pretraining made either way is found the other way, and
    # one made under another reading of the same array (time along another axis) is not
    import importlib

    from napari_seisseg.io.geometry import SurveyGeometry
    from napari_seisseg.models import create_model, model_spec
    from napari_seisseg.training.pretrain_store import cube_fingerprint

    pretrain_module = importlib.import_module("napari_seisseg.training.pretrain")
    g = SurveyGeometry(kind="cube", n_samples=24, dt=4.0, domain="time",
                       ilines=np.arange(100, 112), xlines=np.arange(200, 220),
                       axes=("inline", "sample", "crossline"))
    image, truth = _layered((12, 20, 24))
    shown = np.ascontiguousarray(image.transpose(0, 2, 1))  # (inline, sample, crossline)
    assert cube_fingerprint(shown, g) == cube_fingerprint(image)
    assert cube_fingerprint(shown) != cube_fingerprint(image)  # as given, without its geometry
    from napari_seisseg.io.sample_axis import guessed_geometry

    time_first = np.ascontiguousarray(image.transpose(2, 0, 1))  # a plain array, time first
    read = guessed_geometry(time_first.shape, 0)
    assert cube_fingerprint(time_first, read) == cube_fingerprint(image)
    assert cube_fingerprint(time_first, guessed_geometry(time_first.shape, 2)) != cube_fingerprint(image)
    # a plain canonical array as napari shows it (time downwards, its time-last geometry:
    # time_last_geometry for traces of 32 samples or more)
    plain = guessed_geometry(image.shape, 2)
    assert cube_fingerprint(*plain.transpose_to(image, plain.display_axes)) == cube_fingerprint(image)
    hybrid = {"width": 4, "depth": 1, "context": 1}
    stop_after = iter(range(2))
    _, made = _run(pretrain(image, _cfg(model="hybrid", model_kwargs=hybrid), minutes=5,
                            stop=lambda: next(stop_after, None) is None))
    spec = model_spec(create_model("hybrid", in_channels=1, n_classes=3, **hybrid))
    assert find_pretrained(shown, spec, g)[0] == made.cache_path
    assert find_pretrained(shown, spec)[0] is None
    labels = np.zeros_like(shown, dtype=np.uint8)
    labels[:, [6, 18], :] = truth.transpose(0, 2, 1)[:, [6, 18], :]
    events, _ = _run(train(shown, labels, _cfg(model="auto", model_kwargs=hybrid), geometry=g))
    notes = [e.text for e in events if type(e).__name__ == "Note"]
    assert any(n.startswith("Started from the pretraining of this survey") for n in notes), notes
    # pretraining a hybrid mirrors its slabs' slices (the context axis), as training does
    axes = []
    real_augmenter = pretrain_module.Augmenter
    monkeypatch.setattr(pretrain_module, "Augmenter",
                        lambda cfg_, rng, axis: axes.append(axis) or real_augmenter(cfg_, rng, axis))
    stop_after = iter(range(1))
    _run(pretrain(image, _cfg(model="hybrid", model_kwargs={"width": 4, "depth": 1, "context": 1}),
                  minutes=5, cache=False, stop=lambda: next(stop_after, None) is None))
    assert axes == [1]


def test_a_budget_spent_before_the_first_step_still_takes_one_and_stop_takes_none():
    image, _ = _layered()
    _, made = _run(pretrain(image, _cfg(), minutes=1e-9, cache=False))
    assert len(made.losses) == 1  # a slow start (a busy machine) never leaves nothing
    with pytest.raises(SeisSegError, match="stopped before its first step"):
        _run(pretrain(image, _cfg(), minutes=5, cache=False, stop=lambda: True))
