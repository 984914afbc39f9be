"""Section mode: a 2D model on every section of a cube, with 2.5D context and orientations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_seisseg.errors import SeisSegError
from napari_seisseg.inference import PredictionStarted, predict_sections, predict_volume
from napari_seisseg.inference.sections import section_flips
from napari_seisseg.jobs import drain

RNG = np.random.default_rng(2)
CUBE = RNG.normal(size=(7, 9, 11)).astype(np.float32)


def run(model, volume=CUBE, **kw):
    return drain(predict_sections(model, volume, **kw))


def shifted(volume, axis, offset):
    """volume[clamp(i + offset)] along axis."""
    idx = np.clip(np.arange(volume.shape[axis]) + offset, 0, volume.shape[axis] - 1)
    return np.take(volume, idx, axis=axis)


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("layout", ["channels", "slab"])
def test_context_stacks_the_right_neighbours(axis, layout):
    context = 2

    def echo(x):  # returns its 2c+1 input slices as output channels
        assert x.shape[1:3] == ((1, 5) if layout == "slab" else (5,) + x.shape[2:3])
        return x[:, 0] if layout == "slab" else x

    out = run(echo, axes=axis, context=context, layout=layout, batch_size=3)
    assert out.shape == (5, *CUBE.shape)
    for k in range(-context, context + 1):
        np.testing.assert_allclose(out[k + context], shifted(CUBE, axis, k), atol=1e-6)


def test_sections_keep_the_other_axes_in_order():
    def hw(x):  # encode the section's height and width
        return torch.zeros_like(x) + 100 * x.shape[2] + x.shape[3]

    for axis, (h, w) in {0: (9, 11), 1: (7, 11), 2: (7, 9)}.items():
        np.testing.assert_allclose(run(hw, axes=axis), 100 * h + w, rtol=1e-5)


def test_orientations_are_averaged():
    def height(x):
        return torch.zeros_like(x) + x.shape[2]

    out = run(height, axes=(0, 1, 2))
    np.testing.assert_allclose(out, (9 + 7 + 7) / 3, atol=1e-5)
    np.testing.assert_allclose(run(lambda x: x, axes=(0, 2), blend="linear")[0], CUBE, atol=1e-5)


@pytest.mark.parametrize("overlap", [0.0, 0.5])
def test_tiles_are_blended_exactly(overlap):
    out = run(lambda x: x + 1, axes=(1,), tile=(4, 6), overlap=overlap)
    np.testing.assert_allclose(out[0], CUBE + 1, atol=1e-5)


def test_tta_and_dead_traces_in_section_mode():
    ref = run(lambda x: x**2, axes=(0, 2))
    np.testing.assert_allclose(run(lambda x: x**2, axes=(0, 2), tta=True), ref, atol=1e-5)
    dead = np.zeros(CUBE.shape[:2], bool)
    dead[2, 3] = True
    out = run(lambda x: x + 1, axes=(0, 1), dead_mask=dead)
    assert (out[0][dead] == 0).all()
    np.testing.assert_allclose(out[0][~dead], CUBE[~dead] + 1, atol=1e-5)


def test_several_orientations_to_disk(tmp_path):
    ref = run(lambda x: x * 3, axes=(0, 1, 2))
    out = run(lambda x: x * 3, axes=(0, 1, 2), out=tmp_path / "p.npy", out_dtype="float16")
    np.testing.assert_allclose(np.asarray(out, np.float32), ref, rtol=1e-3, atol=1e-3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.npy"]  # scratch sum removed


def test_accumulator_holds_batch_sections_only():
    gen = predict_sections(lambda x: x, np.zeros((50, 8, 8), np.float32), axes=0, batch_size=4)
    assert isinstance(next(gen), PredictionStarted)
    stitcher = gen.gi_frame.f_locals["passes"][0].stitcher
    assert stitcher.capacity == 4
    gen.close()


def test_package_models_in_section_mode():
    models = pytest.importorskip("napari_seisseg.models")
    torch.manual_seed(0)
    unet = models.create_model("unet2d", n_classes=3, context=1, width=4, depth=1)
    out = run(unet, axes=(0, 1))
    assert out.shape == (3, *CUBE.shape)
    np.testing.assert_allclose(out.sum(axis=0), 1.0, atol=1e-5)  # logits -> softmax
    hybrid = models.create_model("hybrid", n_classes=2, context=1, width=4, depth=1)
    assert run(hybrid, axes=2, batch_size=5).shape == (2, *CUBE.shape)
    with pytest.raises(SeisSegError, match="predict_sections"):
        predict_volume(unet, CUBE, window=4)
    with pytest.raises(SeisSegError, match="context=1"):
        predict_sections(unet, CUBE, context=2)
    unet3d = models.create_model("unet3d", n_classes=2, width=2, depth=1)
    with pytest.raises(SeisSegError, match="2D model"):
        predict_sections(unet3d, CUBE)
    with pytest.raises(SeisSegError, match="3D windows but the volume is 2D"):
        predict_volume(unet3d, CUBE[0], window=4)


def test_preprocess_sees_windows_in_volume_axis_order():
    shapes = []

    def prep(w):
        shapes.append(w.shape)
        return w - 1

    out = run(lambda x: x, axes=2, context=1, preprocess=prep)
    assert {s[:2] for s in shapes} == {(7, 9)} and {s[2] for s in shapes} <= {2, 3}
    np.testing.assert_allclose(out[1], CUBE - 1, atol=1e-6)


@pytest.mark.parametrize("axes", [(0,), (0, 2)])
@pytest.mark.parametrize("where", ["memory", "npy", "uint8"])
def test_finalize_sees_every_finished_block_once_in_volume_order(axes, where, tmp_path):
    """The last step before storing: one pass or the average of several, in memory or on disk."""
    seen = np.zeros(CUBE.shape, np.int64)

    def finalize(index, block):
        seen[index] += 1
        return block * 0.5 + 0.25  # p -> p/2 + 1/4, in [0, 1] as uint8 outputs need

    def sig(x):  # one channel in (0, 1): the activation is left out
        return torch.sigmoid(x)

    kw = dict(axes=axes, activation="none", n_channels=1)
    plain = run(sig, **kw)
    out = {"memory": None, "npy": str(tmp_path / "p.npy"), "uint8": str(tmp_path / "u.npy")}[where]
    got = run(sig, out=out, out_dtype="uint8" if where == "uint8" else "float32", finalize=finalize, **kw)
    assert (seen == 1).all()
    got = np.asarray(got, dtype=np.float32) / (255.0 if where == "uint8" else 1.0)
    np.testing.assert_allclose(got, plain * 0.5 + 0.25, atol=3e-3 if where == "uint8" else 1e-6)


@pytest.mark.parametrize("out", ["memory", "npy"])
def test_orientations_are_averaged_with_their_weights(tmp_path, out):
    def size(x):  # one channel: the section's in-plane shape, 100 * H + W
        n, _, h, w = x.shape
        return torch.full((n, 1, h, w), float(100 * h + w))

    per_axis = {0: 911, 1: 711, 2: 709}  # CUBE is 7 x 9 x 11
    kw = dict(axes=(2, 0, 1), activation="none", n_channels=1, tile=None,
              out=None if out == "memory" else str(tmp_path / "p.npy"))
    equal = np.asarray(run(size, **kw))
    np.testing.assert_allclose(equal, sum(per_axis.values()) / 3, rtol=1e-6)
    weighted = np.asarray(run(size, weights=(2, 1, 1), **{**kw, "overwrite": True}))
    np.testing.assert_allclose(weighted, 0.5 * 709 + 0.25 * (911 + 711), rtol=1e-6)
    for bad in ((1, 1), (1, 0, 1), (1, float("nan"), 1)):
        with pytest.raises(ValueError, match="one positive number per axis"):
            run(size, weights=bad, **kw)


def test_section_flips_never_flip_own_axis_or_time_with_position():
    assert section_flips(True, (0, 1, 2)) == {0: (1, 2), 1: (0, 2), 2: (0, 1)}
    assert section_flips(True, (0, 2), sample_axis=1) == {0: (2,), 2: (0,)}
    assert section_flips(False, (0, 1)) == {0: (), 1: ()}
    assert section_flips([2], (1, 2)) == {1: (2,), 2: ()}


def test_turned_sections_average_the_transposed_prediction():
    """A time slice predicted transposed as well: the model sees (W, H) maps, and its answer,
    transposed back, is averaged with the plain one; other orientations are not turned."""
    seen = []

    def asym(x):  # not symmetric under a transpose: the row index, a ramp down the map
        seen.append(tuple(x.shape[-2:]))
        return torch.zeros_like(x) + torch.arange(x.shape[-2], dtype=x.dtype)[:, None]

    plain = run(asym, axes=(2,))
    turned = run(asym, axes=(0, 2), turn_axes=(2,))
    assert (9, 7) in seen and (7, 9) in seen  # the map, and the map transposed
    rows = np.arange(7, dtype=np.float32)[:, None, None]
    cols = np.arange(9, dtype=np.float32)[None, :, None]
    np.testing.assert_allclose(plain[0], np.broadcast_to(rows, CUBE.shape), atol=1e-5)
    maps = (rows + cols) / 2  # the plain map and the transposed one, averaged
    inlines = np.arange(9, dtype=np.float32)[None, :, None]  # the inline sections' rows
    np.testing.assert_allclose(turned[0], np.broadcast_to((maps + inlines) / 2, CUBE.shape), atol=1e-5)
    # with both map axes flipped: the 8 turns and mirrors, for a model blind to them the same
    np.testing.assert_allclose(run(lambda x: x**2, axes=(2,), tta=(0, 1), turn_axes=(2,)),
                               run(lambda x: x**2, axes=(2,)), atol=1e-5)
    # tiles of a map need not be square: each is predicted as it is and transposed
    np.testing.assert_allclose(run(lambda x: x + 1, axes=(2,), tile=(4, 6), turn_axes=(2,))[0],
                               CUBE + 1, atol=1e-5)
    with pytest.raises(SeisSegError, match="turn_axes"):
        run(asym, axes=(0,), turn_axes=(2,))
