"""Which axis a set of clouds is turned about, read from the clouds themselves.

Point-JEPA turns every training cloud about the up axis (y, ShapeNet's convention), and the
invariance term teaches the encoder that turn. Shapes stood on z (trimesh, many ModelNet
exports) and turned about y would tumble instead: the encoder would learn an invariance the
data never shows and lose what tells its classes apart. ``augment.rotate_axis=auto`` asks the
clouds.

The test, per axis ``a``: in the plane across ``a`` (coordinates b, c) each cloud's second
circular moment ``m2 = mean(z²) / mean(|z|²)`` with ``z = b + i c`` measures its elongation
and direction there; its doubled phase (4θ) is axial, so "long along b" and "long along c"
read alike. Clouds turned uniformly about ``a`` have uniform 4θ; in a plane holding the up
axis, the shapes' upright stance keeps 4θ near one value. Rayleigh's statistic weighted by
the elongation, ``S = |Σ w u|² / Σ w²`` with ``w = |m2|``, gives ``p ≈ exp(-S)`` for
"uniform". Two axes clearly not uniform: turned about the third. None uniform: the
clouds share one pose (no turn augmentation). All three uniform in at least ``FEW_CLOUDS``
clouds: they come in every pose (any rotation, ``so3``). Anything else: the convention, y.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

AXIS_NAMES = ("x", "y", "z")
UNIFORM_P = 0.01  # above on every axis: the clouds may come in every pose
CONSISTENT_P = 1e-3  # below: clearly not uniform (the shapes keep a stance in this plane)
CONVENTION = 1  # y, ShapeNet's and Point-JEPA's up axis
MAX_CLOUDS = 4096  # read at most this many (spread over the set): plenty for the test
FEW_CLOUDS = 20  # below, uniform phases on every axis may mean too few clouds, not every pose


@dataclass(frozen=True)
class TurnAxisReading:
    """The axis to turn about (``"so3"``: any rotation; None: no turns), each axis'
    uniformity p, and why, in words."""

    axis: int | str | None
    p_uniform: tuple[float, float, float]
    reason: str


def turn_uniformity(points: torch.Tensor | np.ndarray, chunk: int = 4096) -> np.ndarray:
    """p-value per axis (3,) that the clouds (N, P, 3) are turned uniformly about it."""
    shape = tuple(points.shape)
    if len(shape) != 3 or shape[-1] != 3:
        raise ValueError(f"clouds must be (N, P, 3), got {shape}")
    sums = np.zeros(3, dtype=np.complex128)
    squares = np.zeros(3)
    for i in range(0, shape[0], chunk):  # float64 a chunk at a time, not the whole set
        part = np.asarray(points[i : i + chunk], dtype=np.float64)
        part = part - part.mean(axis=1, keepdims=True)
        for a in range(3):
            b, c = (k for k in range(3) if k != a)
            z = part[..., b] + 1j * part[..., c]
            m2 = (z**2).mean(axis=1) / np.maximum((np.abs(z) ** 2).mean(axis=1), 1e-300)
            w = np.abs(m2)
            phase4 = (m2 / np.maximum(w, 1e-300)) ** 2
            sums[a] += (w * phase4).sum()
            squares[a] += (w**2).sum()
    stat = np.abs(sums) ** 2 / np.maximum(squares, 1e-300)
    return np.where(squares > 0, np.exp(-stat), 1.0)


def detect_turn_axis(points: torch.Tensor | np.ndarray) -> TurnAxisReading:
    """Read the turn axis of clouds (N, P, 3), at most ``MAX_CLOUDS`` of them spread over the
    set; see the module docstring for the rule."""
    if len(points) > MAX_CLOUDS:
        pick = np.linspace(0, len(points) - 1, MAX_CLOUDS).round().astype(np.int64)
        points = points[torch.from_numpy(pick) if torch.is_tensor(points) else pick]
    p = turn_uniformity(points)
    ps = tuple(float(v) for v in p)
    uniform = [a for a in range(3) if p[a] > UNIFORM_P]
    consistent = [a for a in range(3) if p[a] < CONSISTENT_P]
    shown = ", ".join(f"{AXIS_NAMES[a]} {ps[a]:.2g}" for a in range(3))
    if len(consistent) == 2:  # the third axis is the one their stance turns about
        axis = next(a for a in range(3) if a not in consistent)
        reason = f"augment turns clouds about {AXIS_NAMES[axis]}, the axis they turn about"
        return TurnAxisReading(axis, ps, f"{reason} (uniformity p {shown})")
    if len(consistent) == 3:
        reason = "augment does not turn clouds: they share one pose"
        return TurnAxisReading(None, ps, f"{reason} (uniformity p {shown}); "
                                         "augment.rotate_axis=x|y|z turns them")  # fmt: skip
    n = len(points)
    if len(uniform) == 3 and n >= FEW_CLOUDS:
        reason = "augment turns clouds every way (so3): they come in every pose"
        return TurnAxisReading("so3", ps, f"{reason} (uniformity p {shown})")
    reason = f"augment turns clouds about {AXIS_NAMES[CONVENTION]}, the convention"
    return TurnAxisReading(CONVENTION, ps, f"{reason}: no clear turn axis in {n} clouds "
                                           f"(uniformity p {shown})")  # fmt: skip
