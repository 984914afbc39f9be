"""Class names and colours of an exported mask: sidecar, SEG-Y card, and what the reader makes of them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from napari_seisseg._reader import _read_npy, _read_zarr, segy_layer_data
from napari_seisseg.errors import SeisSegError
from napari_seisseg.io import read_segy, write_segy
from napari_seisseg.io.label_classes import (
    NOTE_PREFIX,
    LabelClasses,
    classes_path,
    read_classes,
    without_class_notes,
    write_labels,
)
from napari_seisseg.io.segy_file import decode_text_header
from napari_seisseg.io.segy_writer import put_text_card

FEATURES = {"index": [0, 1, 2, 3], "class": ["unlabeled", "sediment", "salt dome", "fault"]}
COLORS = {None: (0.0, 0.0, 0.0, 0.0), 0: (0.0, 0.0, 0.0, 0.0), 1: (0.2, 0.6, 0.2, 1.0),
          2: (1.0, 0.0, 0.0, 1.0), 3: (0.0, 0.5, 1.0, 0.8)}
READERS = {"sgy": segy_layer_data, "npy": _read_npy, "zarr": _read_zarr}


@pytest.fixture
def f3_mask(segy_dir):
    """A two-class mask of the F3 crop in napari's order (inline, time, crossline), and its geometry."""
    vol = read_segy(segy_dir / "f3.sgy")
    data, geometry = vol.geometry.transpose_to(np.asarray(vol.data), vol.geometry.display_axes)
    mask = np.where(data > 0, 2, 1).astype(np.uint8)
    mask[:, :10] = 3
    return mask, geometry


def _classes() -> LabelClasses:
    return LabelClasses.from_layer(FEATURES, COLORS)


def test_from_layer_reads_tables_and_direct_colormaps_only():
    df = pd.DataFrame({"index": np.arange(3), "class": ["unlabeled", "a", "b"],
                       "area": [np.nan, 1.5, 2.0], "obj": [object(), None, 1]})
    classes = LabelClasses.from_layer(df, None)
    assert classes.features == {"index": [0, 1, 2], "class": ["unlabeled", "a", "b"],
                                "area": [None, 1.5, 2.0]}  # objects left out, NaN as null
    assert classes.colors == {} and classes.layer_kwargs().keys() == {"features"}
    assert classes.names() == {0: "unlabeled", 1: "a", 2: "b"}
    assert LabelClasses.from_layer(pd.DataFrame(), None) is None  # a default Labels layer

    class Cyclic:  # napari's default colormap: no colour to keep
        colors = np.ones((5, 4))

    assert LabelClasses.from_layer(None, Cyclic()) is None

    class Direct:
        color_dict = {None: np.zeros(4, np.float32), np.int64(2): np.array([1, 0, 0, 1.0])}

    only_colors = LabelClasses.from_layer(None, Direct())
    assert only_colors.colors == {2: (1.0, 0.0, 0.0, 1.0)}
    assert only_colors.layer_kwargs()["colormap"] == {None: (0.0, 0.0, 0.0, 0.0),
                                                      2: (1.0, 0.0, 0.0, 1.0)}


def test_header_card_round_trips_and_is_cut_sensibly():
    text = _classes().header_text()
    assert text == "SEISSEG CLASSES 1=sediment#339933 2=salt%20dome#ff0000 3=fault#0080ffcc"
    back = LabelClasses.from_text_header(f"C 1 CLIENT\nC38 {text}\nC40 END")
    assert back.names() == {0: "unlabeled", 1: "sediment", 2: "salt dome", 3: "fault"}
    np.testing.assert_allclose(back.colors[3], (0.0, 128 / 255, 1.0, 0.8), atol=1e-9)
    assert back.colors[0] == (0.0, 0.0, 0.0, 0.0)
    many = LabelClasses({"class": ["unlabeled", *(f"class number {k}" for k in range(1, 12))]})
    cut = many.header_text()
    assert len(cut) <= 76 and cut.endswith(" ...") and "#" not in cut
    assert LabelClasses.from_text_header(f"C38 {cut}").names()[1] == "class number 1"
    assert LabelClasses.from_text_header("C38 SEISSEG CLASSES garbage ...") is None
    assert LabelClasses.from_text_header(None) is None


@pytest.mark.parametrize("ext", ["sgy", "npy", "zarr"])
def test_mask_reopens_with_its_names_and_colours(f3_mask, tmp_path, ext):
    mask, geometry = f3_mask
    out = write_labels(tmp_path / f"result.{ext}", mask, geometry, _classes())
    side = classes_path(out)
    assert side == tmp_path / f"result.{ext}.classes.json"
    content = json.loads(side.read_text())
    assert content["shape"] == [23, 75, 18] and content["data_file"] == f"result.{ext}"
    data, kwargs, kind = READERS[ext](out)[0]
    assert kind == "labels"
    np.testing.assert_array_equal(data, mask)
    assert kwargs["features"] == FEATURES
    assert kwargs["colormap"] == COLORS
    assert not [n for n in kwargs["metadata"].get("notes", []) if n.startswith(NOTE_PREFIX)]


def test_segy_card_goes_on_a_blank_card_of_the_template(f3_mask, tmp_path, segy_dir):
    mask, geometry = f3_mask
    out = write_labels(tmp_path / "mask.sgy", mask, geometry, _classes(), sample_format=8)
    src, dst = (segy_dir / "f3.sgy").read_bytes(), out.read_bytes()
    card = dst[37 * 80 : 38 * 80].decode("cp037")  # f3.sgy has an EBCDIC header: kept so
    assert card.startswith("C38 SEISSEG CLASSES 1=sediment")
    assert dst[: 37 * 80] == src[: 37 * 80] and dst[38 * 80 : 3200] == src[38 * 80 : 3200]
    # re-exported from the mask itself (the mask as template): the card is rewritten, not doubled
    again = read_segy(out)
    data, g2 = again.geometry.transpose_to(np.asarray(again.data), again.geometry.display_axes)
    other = LabelClasses({"index": [0, 1], "class": ["unlabeled", "salt"]})
    out2 = write_labels(tmp_path / "mask2.sgy", data.astype(np.uint8), g2, other)
    lines = decode_text_header(out2.read_bytes()[:3200]).splitlines()
    assert [x for x in lines if "SEISSEG" in x] == ["C38 SEISSEG CLASSES 1=salt"]
    # a mask without classes written from that template: the stale card is blanked
    out3 = write_labels(tmp_path / "mask3.sgy", data.astype(np.uint8), g2, None)
    assert "SEISSEG" not in decode_text_header(out3.read_bytes()[:3200])
    assert not classes_path(out3).exists()


def test_synthesized_and_ebcdic_headers_get_the_card(f3_mask, tmp_path, segy_dir):
    mask, geometry = f3_mask
    geometry.sources = []  # no template: headers made from the geometry
    out = write_labels(tmp_path / "made.sgy", mask, geometry, _classes())
    lines = read_segy(out).geometry.text_header.splitlines()
    assert lines[37].startswith("C38 SEISSEG CLASSES") and lines[39].startswith("C40")
    raw = bytearray((segy_dir / "f3-ebcidctest.sgy").read_bytes()[:3200])
    before = decode_text_header(bytes(raw))
    card = put_text_card(raw, "SEISSEG CLASSES", "SEISSEG CLASSES 1=salt")
    assert card is not None
    after = decode_text_header(bytes(raw)).splitlines()
    assert after[card - 1] == f"C{card:2d} SEISSEG CLASSES 1=salt"
    assert [x for k, x in enumerate(after) if k != card - 1] == \
        [x for k, x in enumerate(before.splitlines()) if k != card - 1]
    full = bytearray(b"".join(f"C{k:2d} TEXT".ljust(80).encode() for k in range(1, 41)))
    assert put_text_card(full, "SEISSEG CLASSES", "SEISSEG CLASSES 1=salt") is None
    assert bytes(full) == b"".join(f"C{k:2d} TEXT".ljust(80).encode() for k in range(1, 41))


def test_an_existing_sidecar_is_refused_without_overwrite(f3_mask, tmp_path):
    mask, geometry = f3_mask
    side = tmp_path / "mask.npy.classes.json"
    side.write_text("my own notes")
    for classes in (_classes(), None):
        with pytest.raises(SeisSegError, match="mask.npy.classes.json already exists"):
            write_labels(tmp_path / "mask.npy", mask, geometry, classes)
    assert side.read_text() == "my own notes" and not (tmp_path / "mask.npy").exists()
    write_labels(tmp_path / "mask.npy", mask, geometry, None, overwrite=True)
    assert not side.exists()  # a stale sidecar would describe the new mask
    write_labels(tmp_path / "mask.npy", mask, geometry, _classes(), overwrite=True)
    assert json.loads(side.read_text())["features"] == FEATURES


def test_source_refused_leaves_the_sidecar_alone(tmp_path, segy_dir):
    import shutil

    shutil.copy(segy_dir / "f3.sgy", tmp_path / "f3.sgy")
    vol = read_segy(tmp_path / "f3.sgy")
    side = classes_path(tmp_path / "f3.sgy")
    side.write_text("{}")
    with pytest.raises(SeisSegError, match="source"):
        write_labels(tmp_path / "f3.sgy", np.zeros(vol.data.shape, np.uint8), vol.geometry,
                     _classes(), overwrite=True)
    assert side.read_text() == "{}"


def test_missing_damaged_or_foreign_sidecar_still_opens_with_a_note(f3_mask, tmp_path):
    mask, geometry = f3_mask
    out = write_labels(tmp_path / "mask.sgy", mask, geometry, _classes())
    side = classes_path(out)
    good = side.read_text()

    def reopen():
        data, kwargs, kind = segy_layer_data(out)[0]
        assert kind == "labels"
        notes = [n for n in kwargs["metadata"].get("notes", []) if n.startswith(NOTE_PREFIX)]
        return kwargs, notes

    side.unlink()
    kwargs, notes = reopen()
    assert kwargs["features"]["class"] == FEATURES["class"]  # from the textual header
    assert notes == [f"{NOTE_PREFIX}mask.sgy.classes.json (names and colours) is missing; names "
                     "from the SEG-Y textual header instead"]
    for damage in ("{not json", '{"features": {"class": "salt"}}', "[1, 2]",
                   '{"features": {}, "colors": {"1": [2, 0, 0]}}', "\xff\xfe"):
        side.write_text(damage, encoding="latin-1")
        kwargs, notes = reopen()
        assert kwargs["features"]["class"] == FEATURES["class"]
        assert len(notes) == 1 and "is damaged" in notes[0], damage
    content = json.loads(good)
    side.write_text(json.dumps({**content, "shape": [1, 2, 3]}))
    kwargs, notes = reopen()
    assert "describes a mask of shape (1, 2, 3)" in notes[0]
    side.write_text(json.dumps({**content, "data_file": "other.npy"}))
    (tmp_path / "other.npy").write_bytes(b"")
    kwargs, notes = reopen()
    assert "was written for other.npy" in notes[0]
    # a .npy has no header to fall back on: it opens without names, and says why
    npy = write_labels(tmp_path / "plain.npy", mask, geometry, _classes())
    classes_path(npy).write_text("{not json")
    data, kwargs, kind = _read_npy(npy)[0]
    assert kind == "labels" and "features" not in kwargs
    assert "opened without class names" in kwargs["metadata"]["notes"][-1]
    assert without_class_notes(kwargs["metadata"]["notes"]) == \
        [n for n in kwargs["metadata"]["notes"] if not n.startswith(NOTE_PREFIX)]
    classes_path(npy).unlink()
    assert read_classes(npy, mask.shape) == (None, [])  # no sidecar, nothing expected: no note


def test_a_sidecar_beside_amplitudes_is_not_used(segy_dir, tmp_path):
    vol = read_segy(segy_dir / "f3.sgy")
    data, geometry = vol.geometry.transpose_to(np.asarray(vol.data), vol.geometry.display_axes)
    out = write_segy(tmp_path / "amp.sgy", data.astype(np.float32) / 7.0, geometry)
    classes_path(out).write_text(json.dumps(_classes().to_json_dict(data.shape, "amp.sgy")))
    data, kwargs, kind = segy_layer_data(out)[0]
    assert kind == "image" and "features" not in kwargs
    assert "open as an image" in kwargs["metadata"]["notes"][-1]


def test_a_sidecar_makes_a_mask_of_any_name_open_as_labels(tmp_path):
    mask = np.zeros((4, 5, 6), dtype=np.uint8)  # all unlabeled: alone, it would be an image
    out = write_labels(tmp_path / "cube.npy", mask, None, _classes())
    data, kwargs, kind = _read_npy(out)[0]
    assert kind == "labels" and kwargs["features"] == FEATURES


def test_an_image_written_from_a_mask_template_drops_the_class_card(f3_mask, tmp_path):
    """The card names the classes of the mask only: an image written with the mask as
    template (its headers) does not inherit it, and does not re-open as labels."""
    mask, geometry = f3_mask
    out = write_labels(tmp_path / "mask.sgy", mask, geometry, _classes())
    assert "SEISSEG CLASSES" in read_segy(out).geometry.text_header
    probability = np.random.default_rng(0).integers(0, 255, mask.shape).astype(np.float32)
    image = write_segy(tmp_path / "p.sgy", probability, geometry, template=out)
    assert "SEISSEG CLASSES" not in read_segy(image).geometry.text_header
    _data, kwargs, kind = segy_layer_data(image)[0]
    assert kind == "image" and "features" not in kwargs


def test_a_header_card_alone_does_not_make_amplitudes_labels(f3_mask, tmp_path, segy_dir):
    mask, geometry = f3_mask
    out = write_labels(tmp_path / "mask.sgy", mask, geometry, _classes())
    classes_path(out).unlink()  # names only in the card now
    probability = np.random.default_rng(0).integers(0, 255, mask.shape).astype(np.float32)
    raw = bytearray(out.read_bytes())
    image = write_segy(tmp_path / "p.sgy", probability, geometry, template=out,
                       cards={"SEISSEG CLASSES": "SEISSEG CLASSES 1=a 2=b"})
    _data, _kwargs, kind = segy_layer_data(image)[0]
    assert kind == "image"  # 255 different values: amplitudes, whatever the card says
    assert raw == bytearray(out.read_bytes())


def test_the_class_card_is_written_and_read_in_a_generated_ebcdic_header(tmp_path):
    """Headers made from the geometry are EBCDIC and mostly blank (0x40, an ASCII '@'):
    the card must be written there, in EBCDIC, and read back."""
    from napari_seisseg.io.geometry import SurveyGeometry
    from napari_seisseg.io.segy_file import text_header_encoding

    geometry = SurveyGeometry(kind="section", n_samples=8, dt=4.0, t0=0.0,
                              traces=np.arange(1, 10), trace_key="cdp")
    labels = np.tile(np.array([1, 2], np.uint8), (9, 4))  # (trace, sample)
    _, display = geometry.transpose_to(labels, geometry.display_axes)
    out = write_labels(tmp_path / "line.sgy", labels.T, display, _classes())
    raw = out.read_bytes()[:3200]
    assert text_header_encoding(raw) == "cp037" and len(raw) == 3200
    assert "SEISSEG CLASSES 1=sediment" in decode_text_header(raw)
    classes_path(out).unlink()
    _data, kwargs, kind = segy_layer_data(out)[0]
    assert kind == "labels" and list(kwargs["features"]["class"])[1:] == [
        "sediment", "salt dome", "fault"]
