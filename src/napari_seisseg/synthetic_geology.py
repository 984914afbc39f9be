"""The geology of a synthetic cube: salt, faults, folding, layers, channels and gas sands.

:func:`earth_model` builds, on a time grid :data:`OVERSAMPLE` times finer than the cube's
(with :data:`MARGIN` extra samples above and below), the log-impedance model and the dense
labels :func:`napari_seisseg.synthetic.make_synthetic_cube` turns into seismic.  Events are
undone youngest first: the salt's drag, then the faults, then the folding of the layer cake;
every random draw comes from the generator of its part, so switching a part off leaves the
others as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "ANOMALY",
    "CHANNEL",
    "FAULT",
    "MARGIN",
    "OVERSAMPLE",
    "SALT",
    "SEDIMENT",
    "ModelGrid",
    "earth_model",
]

SEDIMENT, SALT, FAULT, CHANNEL, ANOMALY = 1, 2, 3, 4, 5

#: Vertical oversampling of the impedance model before convolution.
OVERSAMPLE = 4
#: Extra samples modelled above and below the cube (cropped after convolution), so traces
#: near the top and bottom edges see a full wavelet.
MARGIN = 16
#: Half-width (voxels, perpendicular to the surface) of the fault-zone label.
_FAULT_HALF_WIDTH = 1.0


@dataclass(frozen=True)
class ModelGrid:
    """The model's grid: trace indices and the fine time axis.

    Parameters
    ----------
    ni, nx, nt : int
        The cube's shape (inlines, crosslines, output samples).
    """

    ni: int
    nx: int
    nt: int

    @property
    def ntf(self) -> int:
        """Samples of the fine time axis (margins included)."""
        return (self.nt + 2 * MARGIN) * OVERSAMPLE

    @property
    def tf(self) -> np.ndarray:
        """Fine time axis, in output-sample units (sample k of the cube is at t = k)."""
        return (np.arange(self.ntf, dtype=np.float64) / OVERSAMPLE - MARGIN).astype(np.float32)

    @property
    def ii(self) -> np.ndarray:
        """Inline indices, ``(ni, 1)``."""
        return np.arange(self.ni, dtype=np.float64)[:, None]

    @property
    def jj(self) -> np.ndarray:
        """Crossline indices, ``(1, nx)``."""
        return np.arange(self.nx, dtype=np.float64)[None, :]


def earth_model(
    grid: ModelGrid,
    rngs: dict[str, np.random.Generator],
    n_faults: int,
    salt: bool,
    bodies: tuple[int, int, np.random.SeedSequence],
    info: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray]:
    """Log-impedance and labels of the model on the fine grid, ``(ni, nx, ntf)`` each.

    Parameters
    ----------
    grid : ModelGrid
        The model's grid.
    rngs : dict
        Generators of the parts: ``"layers"``, ``"fold"``, ``"faults"``, ``"salt"``.
    n_faults : int
        Number of normal faults.
    salt : bool
        Include the salt diapir.
    bodies : (int, int, numpy.random.SeedSequence)
        Number of channels and of gas sands (amplitude anomalies), and the sequence their
        generators come from (the channels' is spawned only when there are channels, so
        cubes without them stay as they were; the gas sands' has its own spawn key).
    info : dict
        Receives what was drawn (``salt``, ``faults``, ``folding``, ``channels``,
        ``anomalies``).

    Returns
    -------
    z : numpy.ndarray
        Log-impedance, float32.
    labels : numpy.ndarray
        Labels, uint8 (salt over fault over gas sand over channel over sediment).
    """
    nt = grid.nt
    # source time of every voxel, undone event by event (youngest first)
    T = np.broadcast_to(grid.tf, (grid.ni, grid.nx, grid.ntf)).copy()
    inside = None
    if salt:
        sp = draw_salt(rngs["salt"], grid.ni, grid.nx, nt)
        info["salt"] = {k: v for k, v in sp.items() if not isinstance(v, np.ndarray)}
        inside, uplift = _salt_body(sp, grid)
        T += uplift
        del uplift
    faults = draw_faults(rngs["faults"], n_faults, grid.ni, grid.nx, nt)
    info["faults"] = [{k: v for k, v in f.items()} for f in faults]
    T, fault_zone = _fault(faults, T, grid)
    tau, info["folding"] = _fold(rngs["fold"], T, grid)
    # a fixed span, wide enough for every deformation, so the layer sequence does not
    # depend on the faults or the salt
    tops, logz = layer_model(rngs["layers"], -1.5 * nt - MARGIN, 2.5 * nt + MARGIN)
    idx = np.searchsorted(tops, tau, side="right") - 1
    z = logz[np.clip(idx, 0, len(logz) - 1)].astype(np.float32)
    del idx
    channel = gas = None
    n_channels, n_anomalies, seq = bodies
    if n_channels > 0:
        rng_channels = np.random.default_rng(seq.spawn(1)[0])
        channel, z_sand = draw_channels(
            rng_channels, int(n_channels), grid.ii, grid.jj, tau, nt, logz
        )
        info["channels"] = int(n_channels)
        z = np.where(channel, z_sand, z).astype(np.float32)
    if n_anomalies > 0:
        key = np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, 1000))
        gas, z_gas = draw_anomalies(np.random.default_rng(key), int(n_anomalies), grid, tau, logz)
        info["anomalies"] = int(n_anomalies)
        z = np.where(gas, z_gas, z).astype(np.float32)
    del tau
    if inside is not None:
        z_salt = float(np.quantile(logz, 0.9)) + rngs["salt"].uniform(0.12, 0.2)
        chaos = rngs["salt"].normal(0.0, 0.012, size=z.shape).astype(np.float32)
        z = np.where(inside, np.float32(z_salt) + chaos, z)
    labels = np.full((grid.ni, grid.nx, grid.ntf), SEDIMENT, dtype=np.uint8)
    if channel is not None:
        labels[channel] = CHANNEL
    if gas is not None:
        labels[gas] = ANOMALY
    labels[fault_zone] = FAULT  # faults cut the channels
    if inside is not None:
        labels[inside] = SALT  # salt wins over fault
    return z, labels


def _salt_body(sp: dict[str, Any], grid: ModelGrid) -> tuple[np.ndarray, np.ndarray]:
    """Where the diapir is, and the uplift of its drag (beside it) and dome (above it)."""
    tf = grid.tf
    dist, radius = salt_distance(sp, grid.ii, grid.jj, tf)  # (ni, nx, ntf) each
    inside = dist < radius
    # drag: layers beside the diapir pulled up, layers above it domed
    excess = np.maximum(dist - radius, 0.0)
    above = np.clip((sp["top"] - tf) / sp["dome_height"], 0.0, None)
    uplift = sp["drag"] * np.exp(-excess / sp["drag_width"]) * np.exp(-above)
    return inside, uplift.astype(np.float32)


def _fault(
    faults: list[dict[str, float]], T: np.ndarray, grid: ModelGrid
) -> tuple[np.ndarray, np.ndarray]:
    """Undo the faults' throws (youngest first): source times and the fault-zone mask."""
    ii, jj, nt = grid.ii, grid.jj, grid.nt
    fault_zone = np.zeros((grid.ni, grid.nx, grid.ntf), dtype=bool)
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
    return T, fault_zone


def _fold(
    rng: np.random.Generator, T: np.ndarray, grid: ModelGrid
) -> tuple[np.ndarray, dict[str, Any]]:
    """Fold, tilt and fan the layer cake: stratigraphic time ``tau`` and what was drawn."""
    ii, jj, ni, nx, nt = grid.ii, grid.jj, grid.ni, grid.nx, grid.nt
    size = float(min(ni, nx))
    n_bumps = int(rng.integers(4, 8))
    bumps = gaussian_bumps(rng, ii, jj, ni, nx, n_bumps)
    bumps = bumps / max(np.abs(bumps).max(), 1e-9)
    fold_amp = rng.uniform(0.08, 0.13) * nt
    dip_i, dip_j = rng.uniform(-0.12, 0.12, size=2) * (nt / size)
    fan = rng.uniform(-0.12, 0.12)
    xi = (ii - ni / 2) / ni
    plane = dip_i * (ii - ni / 2) + dip_j * (jj - nx / 2)
    tn = T / nt
    tau = (
        T * (1.0 + fan * xi[:, :, None])
        + plane[:, :, None]
        + fold_amp * (0.3 + 0.9 * tn) * bumps[:, :, None]
    ).astype(np.float32)
    folding = {"amplitude": float(fold_amp), "fan": float(fan),
               "dip": (float(dip_i), float(dip_j))}
    return tau, folding


def layer_model(rng: np.random.Generator, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
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


def gaussian_bumps(
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


def draw_channels(
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


def draw_anomalies(
    rng: np.random.Generator, n: int, grid: ModelGrid, tau: np.ndarray, logz: np.ndarray
) -> tuple[np.ndarray, np.float32]:
    """Gas sands (bright spots) in stratigraphic time ``tau``: a mask and their impedance.

    Each is a sand a few samples thick at a random stratigraphic level, inside a lobed
    ellipse of the map, filled with gas above a flat contact (in time, not in stratigraphy):
    the shallower part of the sand under the ellipse, so the body is highest where its layer
    is, and its base is flat where the contact cuts the layer (a flat spot).  The gas lowers
    the impedance well below any layer's, so its top and base are the brightest reflections
    around.
    """
    ni, nx, nt = grid.ni, grid.nx, grid.nt
    ii, jj, tf = grid.ii, grid.jj, grid.tf
    size = float(min(ni, nx))
    mask = np.zeros(tau.shape, dtype=bool)
    for _ in range(n):
        level = rng.uniform(0.12, 0.85) * nt
        thick = rng.uniform(4.0, 10.0)
        ci, cj = rng.uniform(0.1, 0.9) * ni, rng.uniform(0.1, 0.9) * nx
        ra, rb = rng.uniform(0.1, 0.25, size=2) * size
        az = rng.uniform(0, np.pi)
        u = ((ii - ci) * np.cos(az) + (jj - cj) * np.sin(az)) / ra
        v = (-(ii - ci) * np.sin(az) + (jj - cj) * np.cos(az)) / rb
        ang = np.arctan2(v, u)
        lobes = 1.0 + sum(rng.uniform(0.05, 0.15) * np.sin(k * ang + rng.uniform(0, 2 * np.pi))
                          for k in (2, 3))
        area = np.hypot(u, v) < lobes  # (ni, nx)
        if not area.any():
            continue
        below = tau[area] >= level  # (traces under the patch, ntf)
        top = tf[np.argmax(below, axis=-1)]  # time of the sand's top, per trace
        contact = float(np.quantile(top, rng.uniform(0.5, 0.85)))
        mask[area] |= below & (tau[area] < level + thick) & (tf < contact)
    z_gas = np.float32(np.quantile(logz, 0.05) - rng.uniform(0.15, 0.25))
    return mask, z_gas


def draw_salt(rng: np.random.Generator, ni: int, nx: int, nt: int) -> dict[str, Any]:
    """Parameters of the salt diapir (position, outline harmonics, drag) for a cube's shape."""
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


def salt_distance(
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


def draw_faults(
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
