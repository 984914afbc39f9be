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

SEDIMENT, SALT, FAULT, CHANNEL = 1, 2, 3, 4
#: Name and colour of the channel class (label 4), present in cubes made with channels.
CHANNEL_NAME = "channel"
CHANNEL_COLOR = (0.2, 0.85, 0.95, 1.0)

#: Vertical oversampling of the impedance model before convolution.
_OVERSAMPLE = 4
#: Extra samples modelled above and below the cube (cropped after convolution), so traces
#: near the top and bottom edges see a full wavelet.
_MARGIN = 16
#: Half-width (voxels, perpendicular to the surface) of the fault-zone label.
_FAULT_HALF_WIDTH = 1.0


@dataclass
class SyntheticCube:
    """A synthetic seismic cube with its dense truth labels.

    Parameters
    ----------
    seismic : numpy.ndarray
        Amplitudes, float32, ``(n_inline, n_crossline, n_sample)``, about unit standard
        deviation.
    labels : numpy.ndarray
        Dense truth, uint8, same shape: 1 sediment, 2 salt, 3 fault.
    geometry : SurveyGeometry
        Cube geometry (inlines from 100, crosslines from 300, 4 ms sampling).
    seed : int or None
        Seed the cube was made with.
    info : dict
        Parameters drawn for the model (wavelet, faults, salt, noise), for reference.
    class_names : tuple of str
        Names of label values 1, 2, 3.
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


# ---------------------------------------------------------------------------- model pieces
def _layer_model(rng: np.random.Generator, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Layer boundaries (in relative geologic time, sample units) and log-impedances.

    Layers are grouped in sequences; each sequence has its own mean thickness and contrast,
    and a few boundaries get a strong contrast (marker horizons).
    """
    tops = [lo]
    logz = [0.0]
    t = lo
    z = 0.0
    while t < hi:
        seq_len = rng.uniform(15.0, 45.0)
        mean_thick = rng.uniform(2.0, 6.0)
        contrast = rng.uniform(0.02, 0.09)
        seq_end = t + seq_len
        # a sequence boundary is a change of level
        z = 0.5 * z + rng.normal(0.0, 0.12)
        while t < seq_end:
            t += float(np.clip(rng.gamma(3.0, mean_thick / 3.0), 1.2, 14.0))
            step = rng.laplace(0.0, contrast)
            if rng.random() < 0.05:
                step += rng.choice((-1.0, 1.0)) * rng.uniform(0.12, 0.2)
            z = 0.8 * z + step
            tops.append(t)
            logz.append(z)
    return np.asarray(tops), np.asarray(logz)


def _gaussian_bumps(
    rng: np.random.Generator, ii: np.ndarray, jj: np.ndarray, ni: int, nx: int, n: int
) -> np.ndarray:
    """Sum of ``n`` random Gaussian bumps of unit-ish amplitude on the (ni, nx) grid."""
    out = np.zeros(np.broadcast_shapes(ii.shape, jj.shape))
    size = max(ni, nx)
    for _ in range(n):
        ci = rng.uniform(-0.2, 1.2) * ni
        cj = rng.uniform(-0.2, 1.2) * nx
        sigma = rng.uniform(0.15, 0.45) * size
        amp = rng.uniform(-1.0, 1.0)
        out += amp * np.exp(-((ii - ci) ** 2 + (jj - cj) ** 2) / (2 * sigma**2))
    return out


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
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3:
        raise ValueError(f"shape must have 3 entries (inline, crossline, sample), got {shape}.")
    if any(s < m for s, m in zip(shape, MIN_SHAPE, strict=True)):
        raise ValueError(f"shape must be at least {MIN_SHAPE}, got {shape}.")
    if not dt > 0:
        raise ValueError(f"dt must be positive, got {dt}.")
    if not snr > 0:
        raise ValueError(f"snr must be positive (numpy.inf for no noise), got {snr}.")
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

    os_ = _OVERSAMPLE
    margin = _MARGIN
    ntf = (nt + 2 * margin) * os_
    # fine time axis, in output-sample units (sample k of the cube is at t = k)
    tf = (np.arange(ntf, dtype=np.float64) / os_ - margin).astype(np.float32)
    ii = np.arange(ni, dtype=np.float64)[:, None]
    jj = np.arange(nx, dtype=np.float64)[None, :]
    size = float(min(ni, nx))

    labels = np.full((ni, nx, ntf), SEDIMENT, dtype=np.uint8)
    # source time of every voxel, undone event by event (youngest first)
    T = np.broadcast_to(tf, (ni, nx, ntf)).copy()

    info: dict[str, Any] = {"entropy": seq.entropy, "peak_frequency_hz": peak_frequency,
                            "snr": snr}

    # -------------------------------------------------------------- salt (youngest)
    inside = None
    if salt:
        sp = _draw_salt(rng_salt, ni, nx, nt)
        info["salt"] = {k: v for k, v in sp.items() if not isinstance(v, np.ndarray)}
        dist, radius = _salt_distance(sp, ii, jj, tf)  # (ni, nx, ntf) each
        inside = dist < radius
        # drag: layers beside the diapir pulled up, layers above it domed
        excess = np.maximum(dist - radius, 0.0)
        above = np.clip((sp["top"] - tf) / sp["dome_height"], 0.0, None)
        uplift = sp["drag"] * np.exp(-excess / sp["drag_width"]) * np.exp(-above)
        T += uplift.astype(np.float32)
        del dist, radius, excess, uplift

    # -------------------------------------------------------------- faults
    faults = _draw_faults(rng_faults, n_faults, ni, nx, nt)
    info["faults"] = [{k: v for k, v in f.items()} for f in faults]
    fault_zone = np.zeros((ni, nx, ntf), dtype=bool)
    for f in reversed(faults):  # youngest first
        u = (ii - f["ci"]) * np.cos(f["azimuth"]) + (jj - f["cj"]) * np.sin(f["azimuth"])
        s = -(ii - f["ci"]) * np.sin(f["azimuth"]) + (jj - f["cj"]) * np.cos(f["azimuth"])
        throw = f["throw"] * (
            1.0 + f["throw_var"] * np.cos(2 * np.pi * s / f["throw_wavelength"] + f["throw_phase"])
        )
        tn = T / nt
        uf = f["u0"] + nt * (f["slope"] * tn + f["listric"] * tn**2)
        duf = f["slope"] + 2 * f["listric"] * tn
        h = (u[:, :, None] - uf) / np.sqrt(1.0 + duf**2)
        fault_zone |= np.abs(h) <= _FAULT_HALF_WIDTH
        T = np.where(h > 0, T - throw[:, :, None].astype(np.float32), T)

    # -------------------------------------------------------------- folded layer cake
    n_bumps = int(rng_fold.integers(4, 8))
    bumps = _gaussian_bumps(rng_fold, ii, jj, ni, nx, n_bumps)
    bumps = bumps / max(np.abs(bumps).max(), 1e-9)
    fold_amp = rng_fold.uniform(0.08, 0.13) * nt
    dip_i, dip_j = rng_fold.uniform(-0.12, 0.12, size=2) * (nt / size)
    fan = rng_fold.uniform(-0.12, 0.12)
    xi = (ii - ni / 2) / ni
    plane = dip_i * (ii - ni / 2) + dip_j * (jj - nx / 2)
    tn = T / nt
    tau = (
        T * (1.0 + fan * xi[:, :, None])
        + plane[:, :, None]
        + fold_amp * (0.3 + 0.9 * tn) * bumps[:, :, None]
    ).astype(np.float32)
    del tn
    info["folding"] = {"amplitude": float(fold_amp), "fan": float(fan),
                       "dip": (float(dip_i), float(dip_j))}

    # a fixed span, wide enough for every deformation, so the layer sequence does not
    # depend on the faults or the salt
    tops, logz = _layer_model(rng_layers, -1.5 * nt - margin, 2.5 * nt + margin)
    idx = np.searchsorted(tops, tau, side="right") - 1
    z = logz[np.clip(idx, 0, len(logz) - 1)].astype(np.float32)
    del idx
    channel = None
    if n_channels > 0:
        rng_channels = np.random.default_rng(seq.spawn(1)[0])
        channel, z_sand = _draw_channels(rng_channels, int(n_channels), ii, jj, tau, nt, logz)
        info["channels"] = int(n_channels)
        z = np.where(channel, z_sand, z).astype(np.float32)
    del tau

    if inside is not None:
        z_salt = float(np.quantile(logz, 0.9)) + rng_salt.uniform(0.12, 0.2)
        chaos = rng_salt.normal(0.0, 0.012, size=z.shape).astype(np.float32)
        z = np.where(inside, np.float32(z_salt) + chaos, z)
        del chaos
        if channel is not None:
            labels[channel] = CHANNEL
        labels[fault_zone] = FAULT  # faults cut the channels
        labels[inside] = SALT  # salt wins over fault
    else:
        if channel is not None:
            labels[channel] = CHANNEL
        labels[fault_zone] = FAULT
    del fault_zone, inside, T, channel

    # -------------------------------------------------------------- convolution
    refl = np.zeros_like(z)
    refl[..., 1:] = 0.5 * np.diff(z, axis=-1)
    del z
    n_coarse = nt + 2 * margin
    spec = np.fft.rfft(refl, axis=-1)
    del refl
    freqs = np.fft.rfftfreq(n_coarse, d=dt / 1000.0)
    wav = _ricker_spectrum(freqs, peak_frequency)
    coarse = spec[..., : n_coarse // 2 + 1] * wav
    del spec
    # the fine spectrum above the output Nyquist is zero after the wavelet (<< 125 Hz), so
    # keeping the first bins resamples to the output interval
    seismic = np.fft.irfft(coarse, n=n_coarse, axis=-1)[..., margin : margin + nt]
    del coarse
    labels = labels[..., margin * os_ : (margin + nt) * os_ : os_]
    seismic = seismic / max(float(seismic.std()), 1e-12)

    if np.isfinite(snr):
        noise = rng_noise.standard_normal((ni, nx, n_coarse))
        noise = np.fft.irfft(np.fft.rfft(noise, axis=-1) * wav, n=n_coarse, axis=-1)
        noise = noise[..., margin : margin + nt]
        noise *= 1.0 / (snr * max(float(noise.std()), 1e-12))
        seismic = seismic + noise
    seismic = (seismic / max(float(seismic.std()), 1e-12)).astype(np.float32)

    geometry = SurveyGeometry(
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
            f"synthetic cube (seed={seed}): {n_faults} normal fault(s), "
            f"{'one salt diapir' if salt else 'no salt'}, Ricker {peak_frequency:.1f} Hz, "
            f"SNR {snr:g}",
            "labels: 1 sediment, 2 salt, 3 fault (salt wins where salt and fault overlap)"
            + (", 4 channel (faults win over channels)" if n_channels > 0 else ""),
        ],
    )
    extra: dict[str, Any] = {}
    if n_channels > 0:
        extra = {"class_names": (*CLASS_NAMES, CHANNEL_NAME),
                 "class_colors": {**CLASS_COLORS, CHANNEL: CHANNEL_COLOR}}
    return SyntheticCube(
        seismic=np.ascontiguousarray(seismic),
        labels=np.ascontiguousarray(labels),
        geometry=geometry,
        seed=seed,
        info=info,
        **extra,
    )


def _draw_channels(
    rng: np.random.Generator,
    n: int,
    ii: np.ndarray,
    jj: np.ndarray,
    tau: np.ndarray,
    nt: int,
    logz: np.ndarray,
) -> tuple[np.ndarray, np.float32]:
    """Sinuous channel bodies in stratigraphic time ``tau``: a mask and the sand impedance."""
    ni, nx = ii.shape[0], jj.shape[1]
    size = float(min(ni, nx))
    mask = np.zeros(tau.shape, dtype=bool)
    levels = np.linspace(0.2 * nt, 0.8 * nt, n) + rng.uniform(-0.04, 0.04, n) * nt
    for level in levels:
        azimuth = rng.uniform(0, np.pi)
        u = (ii - ni / 2) * np.cos(azimuth) + (jj - nx / 2) * np.sin(azimuth)
        v = -(ii - ni / 2) * np.sin(azimuth) + (jj - nx / 2) * np.cos(azimuth)
        wl1, wl2 = rng.uniform(0.45, 0.8) * size, rng.uniform(0.2, 0.35) * size
        a1, a2 = rng.uniform(0.08, 0.14) * size, rng.uniform(0.02, 0.05) * size
        centre = (rng.uniform(-0.2, 0.2) * size
                  + a1 * np.sin(2 * np.pi * u / wl1 + rng.uniform(0, 2 * np.pi))
                  + a2 * np.sin(2 * np.pi * u / wl2 + rng.uniform(0, 2 * np.pi)))
        half = rng.uniform(3.0, 5.0)  # half-width in traces
        depth = rng.uniform(5.0, 9.0)  # samples at the axis
        d = np.abs(v - centre) / half  # 0 on the axis, 1 at the banks
        base = np.where(d < 1.0, depth * (1.0 - d**2), -1.0)  # U-shaped base
        below_top = level - tau  # the top is flat at the level, the base below it
        mask |= (below_top <= 0) & (-below_top < base[:, :, None])
    z_sand = np.float32(np.quantile(logz, 0.1) - 0.08)
    return mask, z_sand


def _draw_salt(rng: np.random.Generator, ni: int, nx: int, nt: int) -> dict[str, Any]:
    size = min(ni, nx)
    return {
        "ci": float(rng.uniform(0.42, 0.58) * ni),
        "cj": float(rng.uniform(0.42, 0.58) * nx),
        "top": float(rng.uniform(0.38, 0.52) * nt),
        "radius": float(rng.uniform(0.2, 0.27) * size),
        "cap_height": float(rng.uniform(0.12, 0.2) * nt),
        "aspect": float(rng.uniform(0.75, 1.3)),
        "tilt": (float(rng.uniform(-0.08, 0.08) * size), float(rng.uniform(-0.08, 0.08) * size)),
        "overhang": float(rng.uniform(0.1, 0.3)),
        "waist": float(rng.uniform(0.05, 0.2)),
        "harm_amp": rng.uniform(0.04, 0.12, size=3) / np.array([1.0, 1.5, 2.0]),
        "harm_phase": rng.uniform(0, 2 * np.pi, size=3),
        "harm_twist": rng.uniform(-2.0, 2.0, size=3),
        "drag": float(rng.uniform(0.04, 0.07) * nt),
        "drag_width": float(rng.uniform(0.06, 0.1) * size),
        "dome_height": float(rng.uniform(0.15, 0.25) * nt),
    }


def _salt_distance(
    sp: dict[str, Any], ii: np.ndarray, jj: np.ndarray, tf: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal distance of every voxel to the diapir axis, and the body radius there."""
    nt_rel = np.maximum(tf - sp["top"], 0.0)
    # axis leans slightly with depth
    depth_frac = np.clip(nt_rel / max(tf[-1] - sp["top"], 1.0), 0.0, 1.0)
    ci = sp["ci"] + sp["tilt"][0] * depth_frac
    cj = sp["cj"] + sp["tilt"][1] * depth_frac
    di = (ii[:, :, None] - ci) / np.sqrt(sp["aspect"])
    dj = (jj[:, :, None] - cj) * np.sqrt(sp["aspect"])
    dist = np.sqrt(di**2 + dj**2)
    theta = np.arctan2(dj, di)
    # vertical profile: round crest, overhang just below it, a waist deeper down
    x = np.clip(nt_rel / sp["cap_height"], 0.0, 1.0)
    cap = np.sqrt(1.0 - (1.0 - x) ** 2)  # quarter ellipse: round crest, vertical below
    below = (nt_rel - sp["cap_height"]) / max(sp["cap_height"], 1.0)
    profile = cap * (
        1.0
        + sp["overhang"] * np.exp(-((below - 0.3) ** 2) / 0.5)
        - sp["waist"] * np.clip(below / 3.0, 0.0, 1.0)
    )
    harm = np.ones_like(dist)
    for k in range(3):
        phase = sp["harm_phase"][k] + sp["harm_twist"][k] * depth_frac
        harm += sp["harm_amp"][k] * np.cos((k + 2) * theta + phase)
    radius = sp["radius"] * profile * harm
    radius = np.where(tf > sp["top"], radius, 0.0)
    return dist.astype(np.float32), radius.astype(np.float32)


def _draw_faults(
    rng: np.random.Generator, n: int, ni: int, nx: int, nt: int
) -> list[dict[str, float]]:
    """Normal faults of one synthetic set (similar strikes, same dip direction), oldest first.

    Faults of one set do not cross inside the cube, which keeps the demo easy to read.
    """
    base_az = rng.uniform(0, 2 * np.pi)
    # extent of the cube along the fault-normal direction
    half = 0.5 * (abs(ni * np.cos(base_az)) + abs(nx * np.sin(base_az)))
    positions = np.linspace(-half, half, n + 2)[1:-1] if n else np.zeros(0)
    spacing = 2 * half / (n + 1) if n else 0.0
    faults = []
    for k in range(n):
        az = base_az + rng.normal(0.0, np.deg2rad(6.0))
        slope = rng.uniform(0.12, 0.3)  # horizontal voxels per sample
        listric = rng.uniform(0.0, 0.35) * slope
        # the fault trace at mid-depth sits near its slot, +-20% of the spacing
        u_mid = positions[k] + rng.uniform(-0.2, 0.2) * spacing
        u0 = u_mid - nt * (slope * 0.5 + listric * 0.25)
        faults.append(
            {
                "azimuth": float(az),
                "ci": ni / 2.0,
                "cj": nx / 2.0,
                "u0": float(u0),
                "slope": float(slope),
                "listric": float(listric),
                "throw": float(rng.uniform(0.04, 0.08) * nt),
                "throw_var": float(rng.uniform(0.1, 0.3)),
                "throw_wavelength": float(rng.uniform(2.0, 4.0) * max(ni, nx)),
                "throw_phase": float(rng.uniform(0, 2 * np.pi)),
            }
        )
    return faults
