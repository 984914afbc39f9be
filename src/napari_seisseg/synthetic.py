"""Synthetic labeled seismic cubes (pure numpy) for demos, tests and training examples.

:func:`make_synthetic_cube` builds a small post-stack time cube with dense truth labels:

``1`` sediment
    A stack of layers with random impedances and thicknesses, grouped in sequences of
    different character, gently dipping and folded (the folding grows with depth, so layer
    thicknesses vary laterally).
``2`` salt
    One diapir rising from the bottom of the cube into its middle part.  Its outline is a
    smooth irregular blob (radius varying with depth and azimuth through low-order random
    harmonics, with a slight overhang below the crest).  Inside it the impedance is high and
    nearly constant with a weak chaotic texture, so the top of salt is the strongest reflector
    and the interior is dim.  Layers next to it are dragged upwards, layers above it are
    domed.
``3`` fault
    Two or three normal faults (planar or slightly listric) of one set: similar strikes, the
    same dip direction, spread across the cube so they do not cross.  The hanging wall is
    shifted down by a throw of several samples that varies gently along strike.  The label marks voxels within about one voxel (measured
    perpendicular to the fault surface) of the surface.

``4`` channel (only with ``n_channels > 0``)
    Sinuous, sand-filled channels cut into the layer cake at a few stratigraphic levels:
    a meandering centre line across the survey, a U-shaped base a few samples deep and a
    flat top, low impedance inside.  They follow the folding and faulting of their layers,
    and are best seen on time slices (thin, rare, winding bodies).

``5`` amplitude anomaly (only with ``n_anomalies > 0``)
    Gas sands (bright spots): a sand a few samples thick at a random stratigraphic level,
    under a lobed patch of the map, filled with gas above a flat contact, so the body sits
    in the shallower part of its layer there and its base is flat where the contact cuts the
    layer.  The gas lowers the impedance far below any layer's: the body's top and base are
    the brightest reflections around.  Faults cut them; they win over channels.

Order of events, youngest first: salt emplacement (with its drag), then faulting, then the
folded layer cake.  Faults are therefore older than the salt: they are cut by the diapir,
bent by its drag, and **salt wins where the two labels overlap** (no fault label inside salt).

The seismic is made the way a convolutional synthetic is: the impedance model is sampled
on a time grid four times finer than the output, turned into reflection coefficients,
convolved along time with a zero-phase Ricker wavelet (done in the frequency domain with
:mod:`numpy.fft`, which also resamples to the output interval), and band-limited random noise
is added.  Amplitudes are scaled to unit standard deviation.

Everything is drawn from ``numpy.random.default_rng`` generators seeded from one
``numpy.random.SeedSequence(seed)``: the same seed gives bit-identical arrays.  Each part of the
model (wavelet, layers, folding, faults, salt, noise) has its own stream spawned from that
sequence, so switching one part off (``salt=False``, ``n_faults=0``, ``snr=inf``) leaves the
others exactly as they were: handy to compare a faulted cube with the unfaulted one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .io.geometry import SurveyGeometry
from .synthetic_geology import ANOMALY, CHANNEL, MARGIN, OVERSAMPLE, ModelGrid, earth_model

__all__ = [
    "CLASS_COLORS",
    "CLASS_NAMES",
    "DEFAULT_SHAPE",
    "MIN_SHAPE",
    "SyntheticCube",
    "make_synthetic_cube",
]

#: Default cube shape ``(n_inline, n_crossline, n_sample)``: small enough to train a small
#: U-Net on a CPU in minutes, large enough to show faults and a salt body.
DEFAULT_SHAPE: tuple[int, int, int] = (64, 64, 128)
#: Smallest supported shape.
MIN_SHAPE: tuple[int, int, int] = (16, 16, 32)

#: Class names; label value ``i + 1`` is ``CLASS_NAMES[i]`` and ``0`` means "not labeled".
CLASS_NAMES: tuple[str, ...] = ("sediment", "salt", "fault")
#: RGBA colours (floats 0..1) per label value, usable as a napari Labels colormap dict.
CLASS_COLORS: dict[int, tuple[float, float, float, float]] = {
    0: (0.0, 0.0, 0.0, 0.0),
    1: (0.95, 0.78, 0.25, 1.0),
    2: (0.85, 0.25, 0.85, 1.0),
    3: (1.0, 0.1, 0.1, 1.0),
}

#: Name and colour of the channel class (label 4), present in cubes made with channels.
CHANNEL_NAME = "channel"
CHANNEL_COLOR = (0.2, 0.85, 0.95, 1.0)
#: Name and colour of the amplitude-anomaly class (label 5, gas sands), in cubes made with
#: them (their class names then list the channel too, so label values keep their meaning).
ANOMALY_NAME = "amplitude anomaly"
ANOMALY_COLOR = (0.3, 0.95, 0.3, 1.0)


@dataclass
class SyntheticCube:
    """A synthetic seismic cube with its dense truth labels.

    Parameters
    ----------
    seismic : numpy.ndarray
        Amplitudes, float32, ``(n_inline, n_crossline, n_sample)``, about unit standard
        deviation.
    labels : numpy.ndarray
        Dense truth, uint8, same shape: 1 sediment, 2 salt, 3 fault, and in cubes made with
        them 4 channel, 5 amplitude anomaly (gas sands).
    geometry : SurveyGeometry
        Cube geometry (inlines from 100, crosslines from 300, 4 ms sampling).
    seed : int or None
        Seed the cube was made with.
    info : dict
        Parameters drawn for the model (wavelet, faults, salt, noise), for reference.
    class_names : tuple of str
        Names of label values 1, 2, ... (a cube with gas sands lists "channel" for 4 even
        when it has no channels, so that 5 is the amplitude anomaly).
    class_colors : dict
        RGBA colour of every label value (0 fully transparent), for a napari Labels colormap.
    """

    seismic: np.ndarray
    labels: np.ndarray
    geometry: SurveyGeometry
    seed: int | None = None
    info: dict[str, Any] = field(default_factory=dict)
    class_names: tuple[str, ...] = CLASS_NAMES
    class_colors: dict[int, tuple[float, float, float, float]] = field(
        default_factory=lambda: dict(CLASS_COLORS)
    )

    @property
    def shape(self) -> tuple[int, int, int]:
        """Shape ``(n_inline, n_crossline, n_sample)``."""
        return tuple(self.seismic.shape)  # type: ignore[return-value]

    def label_colormap(self) -> dict[int | None, tuple[float, float, float, float]]:
        """:attr:`class_colors` plus a transparent default (key ``None``) for napari.

        napari's ``DirectLabelColormap`` warns when a colour dictionary has no default; pass
        this to ``Labels(colormap=...)`` to avoid the warning.

        Returns
        -------
        dict
            ``{None: (0, 0, 0, 0), 0: ..., 1: ..., 2: ..., 3: ...}``.
        """
        return {None: (0.0, 0.0, 0.0, 0.0), **self.class_colors}

    def class_table(self) -> dict[str, list]:
        """Class table for the ``features`` of a napari Labels layer.

        Returns
        -------
        dict
            ``{"index": [0, 1, 2, 3], "class": ["unlabeled", "sediment", "salt", "fault"]}``.
        """
        names = ["unlabeled", *self.class_names]
        return {"index": list(range(len(names))), "class": names}

    def labeled_slices(
        self,
        n_inlines: int = 3,
        n_crosslines: int = 2,
        n_timeslices: int = 0,
        seed: int | None = None,
    ) -> dict[str, np.ndarray]:
        """Indices of the sections an interpreter would label.

        Parameters
        ----------
        n_inlines, n_crosslines, n_timeslices : int
            How many inlines, crosslines and time slices to pick (each capped at the axis
            length).
        seed : int, optional
            None picks evenly spread slices (``k * n / (count + 1)``, away from the edges).
            A seed jitters them randomly (reproducibly) around those positions.

        Returns
        -------
        dict
            ``{"inline": idx, "crossline": idx, "sample": idx}``: sorted unique array indices
            (not line numbers) along each axis.
        """
        rng = None if seed is None else np.random.default_rng(seed)
        out = {}
        for axis, (name, count) in enumerate(
            (("inline", n_inlines), ("crossline", n_crosslines), ("sample", n_timeslices))
        ):
            out[name] = _spread_indices(self.seismic.shape[axis], count, rng)
        return out

    def sparse_labels(
        self,
        n_inlines: int = 3,
        n_crosslines: int = 2,
        n_timeslices: int = 0,
        seed: int | None = None,
    ) -> np.ndarray:
        """Truth kept only on a few sections, as if an interpreter had painted them.

        Parameters
        ----------
        n_inlines, n_crosslines, n_timeslices : int
            How many inlines, crosslines and time slices keep their truth.
        seed : int, optional
            Jitter of the slice positions; see :meth:`labeled_slices`.

        Returns
        -------
        numpy.ndarray
            uint8 array of the labels' shape: the truth on the chosen slices, 0 (not labeled)
            elsewhere.  With the default arguments the middle inline crosses the salt body, so
            every class is present.
        """
        slices = self.labeled_slices(n_inlines, n_crosslines, n_timeslices, seed)
        keep = np.zeros(self.labels.shape, dtype=bool)
        keep[slices["inline"], :, :] = True
        keep[:, slices["crossline"], :] = True
        keep[:, :, slices["sample"]] = True
        return np.where(keep, self.labels, np.uint8(0)).astype(np.uint8)


def _spread_indices(n: int, count: int, rng: np.random.Generator | None) -> np.ndarray:
    count = int(max(0, min(count, n)))
    if count == 0:
        return np.zeros(0, dtype=np.intp)
    step = n / (count + 1)
    pos = step * np.arange(1, count + 1)
    if rng is not None:
        pos = pos + rng.uniform(-step / 3, step / 3, size=count)
    idx = np.clip(np.round(pos - 0.5).astype(np.intp), 0, n - 1)
    return np.unique(idx)


def _ricker_spectrum(freqs: np.ndarray, fp: float) -> np.ndarray:
    """Amplitude spectrum of a zero-phase Ricker wavelet of peak frequency ``fp`` (peak 1)."""
    r = (freqs / fp) ** 2
    return r * np.exp(1.0 - r)


def make_synthetic_cube(
    shape: Sequence[int] = DEFAULT_SHAPE,
    seed: int | None = 0,
    n_faults: int | None = None,
    salt: bool = True,
    peak_frequency: float | None = None,
    snr: float = 7.0,
    dt: float = 4.0,
    n_channels: int = 0,
    n_anomalies: int = 0,
) -> SyntheticCube:
    """Make a synthetic labeled seismic cube.

    Parameters
    ----------
    shape : sequence of 3 int
        ``(n_inline, n_crossline, n_sample)``; at least ``(16, 16, 32)``.  Structures are
        scaled to the shape, so small cubes still hold faults and salt.
    seed : int, optional
        Seed of the ``numpy.random.SeedSequence`` every random draw comes from; the same seed
        gives bit-identical arrays.  None draws fresh entropy (kept in ``cube.info``).
    n_faults : int, optional
        Number of normal faults; None draws 2 or 3.
    salt : bool
        Include the salt diapir.
    peak_frequency : float, optional
        Ricker peak frequency in Hz; None draws it between 25 and 30 Hz.
    snr : float
        Signal-to-noise ratio (ratio of standard deviations) of the band-limited random
        noise; ``numpy.inf`` for none.
    dt : float
        Sample interval in ms.
    n_channels : int
        Number of sinuous channels (label 4, ``"channel"``); 0 (the default) leaves the cube
        as it always was, bit for bit.
    n_anomalies : int
        Number of gas sands (label 5, ``"amplitude anomaly"``); 0 (the default) leaves the
        cube as it always was, bit for bit.

    Returns
    -------
    SyntheticCube
        Seismic (float32, unit standard deviation), dense labels (uint8) and geometry.

    Examples
    --------
    >>> cube = make_synthetic_cube(shape=(32, 32, 64), seed=1)
    >>> cube.seismic.shape, cube.labels.dtype.name
    ((32, 32, 64), 'uint8')
    """
    shape = _checked_shape(shape, dt, snr)
    ni, nx, nt = shape
    seq = np.random.SeedSequence(seed)
    rng_par, rng_layers, rng_fold, rng_faults, rng_salt, rng_noise = (
        np.random.default_rng(s) for s in seq.spawn(6)
    )
    drawn_frequency = float(rng_par.uniform(25.0, 30.0))
    drawn_faults = int(rng_par.integers(2, 4))
    peak_frequency = drawn_frequency if peak_frequency is None else float(peak_frequency)
    n_faults = drawn_faults if n_faults is None else int(n_faults)
    if n_faults < 0:
        raise ValueError(f"n_faults must be >= 0, got {n_faults}.")
    info: dict[str, Any] = {"entropy": seq.entropy, "peak_frequency_hz": peak_frequency,
                            "snr": snr}
    rngs = {"layers": rng_layers, "fold": rng_fold, "faults": rng_faults, "salt": rng_salt}
    z, labels = earth_model(ModelGrid(ni, nx, nt), rngs, n_faults, salt,
                            (n_channels, n_anomalies, seq), info)
    seismic, wav = _convolve(z, nt, dt, peak_frequency)
    del z
    labels = labels[..., MARGIN * OVERSAMPLE : (MARGIN + nt) * OVERSAMPLE : OVERSAMPLE]
    seismic = seismic / max(float(seismic.std()), 1e-12)
    if np.isfinite(snr):
        seismic = seismic + _noise(rng_noise, wav, (ni, nx, nt), snr)
    seismic = (seismic / max(float(seismic.std()), 1e-12)).astype(np.float32)
    summary = (f"{n_faults} normal fault(s), {'one salt diapir' if salt else 'no salt'}, "
               f"Ricker {peak_frequency:.1f} Hz, SNR {snr:g}")
    extra: dict[str, Any] = {}
    if n_channels > 0 or n_anomalies > 0:
        extra = {"class_names": (*CLASS_NAMES, CHANNEL_NAME),
                 "class_colors": {**CLASS_COLORS, CHANNEL: CHANNEL_COLOR}}
    if n_anomalies > 0:
        extra["class_names"] = (*extra["class_names"], ANOMALY_NAME)
        extra["class_colors"][ANOMALY] = ANOMALY_COLOR
    return SyntheticCube(
        seismic=np.ascontiguousarray(seismic),
        labels=np.ascontiguousarray(labels),
        geometry=_synthetic_geometry(shape, dt, seed, summary, n_channels, n_anomalies),
        seed=seed,
        info=info,
        **extra,
    )


def _checked_shape(shape: Sequence[int], dt: float, snr: float) -> tuple[int, int, int]:
    """The cube's shape as ints, after checking the shape, ``dt`` and ``snr``."""
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3:
        raise ValueError(f"shape must have 3 entries (inline, crossline, sample), got {shape}.")
    if any(s < m for s, m in zip(shape, MIN_SHAPE, strict=True)):
        raise ValueError(f"shape must be at least {MIN_SHAPE}, got {shape}.")
    if not dt > 0:
        raise ValueError(f"dt must be positive, got {dt}.")
    if not snr > 0:
        raise ValueError(f"snr must be positive (numpy.inf for no noise), got {snr}.")
    return shape


def _convolve(
    z: np.ndarray, nt: int, dt: float, peak_frequency: float
) -> tuple[np.ndarray, np.ndarray]:
    """Seismic of the fine log-impedance ``z``, on the output grid; and the wavelet spectrum.

    Reflection coefficients convolved with a zero-phase Ricker wavelet in the frequency
    domain; keeping the first bins resamples to the output interval (the fine spectrum above
    the output Nyquist is zero after the wavelet, << 125 Hz).
    """
    refl = np.zeros_like(z)
    refl[..., 1:] = 0.5 * np.diff(z, axis=-1)
    n_coarse = nt + 2 * MARGIN
    spec = np.fft.rfft(refl, axis=-1)
    del refl
    freqs = np.fft.rfftfreq(n_coarse, d=dt / 1000.0)
    wav = _ricker_spectrum(freqs, peak_frequency)
    coarse = spec[..., : n_coarse // 2 + 1] * wav
    del spec
    seismic = np.fft.irfft(coarse, n=n_coarse, axis=-1)[..., MARGIN : MARGIN + nt]
    return seismic, wav


def _noise(
    rng: np.random.Generator, wav: np.ndarray, shape: tuple[int, int, int], snr: float
) -> np.ndarray:
    """Band-limited random noise (the wavelet's band) of standard deviation ``1 / snr``."""
    ni, nx, nt = shape
    n_coarse = nt + 2 * MARGIN
    noise = rng.standard_normal((ni, nx, n_coarse))
    noise = np.fft.irfft(np.fft.rfft(noise, axis=-1) * wav, n=n_coarse, axis=-1)
    noise = noise[..., MARGIN : MARGIN + nt]
    noise *= 1.0 / (snr * max(float(noise.std()), 1e-12))
    return noise


def _synthetic_geometry(
    shape: tuple[int, int, int], dt: float, seed: int | None, summary: str, channels: int,
    anomalies: int,
) -> SurveyGeometry:
    """The cube's geometry: inlines from 100, crosslines from 300, notes saying what is in it."""
    ni, nx, nt = shape
    return SurveyGeometry(
        kind="cube",
        n_samples=nt,
        dt=float(dt),
        t0=0.0,
        unit="ms",
        domain="time",
        ilines=np.arange(100, 100 + ni),
        xlines=np.arange(300, 300 + nx),
        iline_byte=189,
        xline_byte=193,
        text_header=f"Synthetic cube made by napari-seisseg (seed={seed})",
        notes=[
            f"synthetic cube (seed={seed}): {summary}",
            "labels: 1 sediment, 2 salt, 3 fault (salt wins where salt and fault overlap)"
            + (", 4 channel (faults win over channels)" if channels or anomalies else "")
            + (", 5 amplitude anomaly (over channels, under faults)" if anomalies else ""),
        ],
    )
