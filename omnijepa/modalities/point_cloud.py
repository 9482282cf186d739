"""Point-cloud tokenizer: FPS centres -> kNN patches -> mini-PointNet, one token per patch.

Pipeline (Point-BERT / Point-MAE / Point-JEPA): ``farthest_point_sample`` picks ``G`` patch
centres, ``knn_indices`` groups each centre with its ``k`` nearest points (the centre itself
first), the groups are centre-subtracted, and :class:`PointPatchTokenizer` embeds each group
with a shared mini-PointNet. A token's coordinate is its patch centre ``(x, y, z)``, so
coordinates differ per sample (``shared_coords = False``), unlike image patches.

A batch travels as one packed tensor ``x`` of shape ``(B, G, k + 1, 3)``: ``x[:, :, 0]`` is
the patch centre and ``x[:, :, 1:]`` the ``k`` centre-subtracted neighbours (``pack_patches`` /
``unpack_patches``). Point-JEPA orders patches with a *sequencer* before masking; the orders
live in ``PATCH_ORDERS`` and return a permutation to apply with ``permute_patches``.

Everything here is batched, pure torch and device-agnostic; randomness comes only from the
``torch.Generator`` passed in (drawn on the CPU, then moved to the points' device).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from omnijepa.nn.tokens import TOKENIZERS, Axis, Tokenizer
from omnijepa.registry import Registry

__all__ = [
    "PATCH_ORDERS",
    "PointPatchTokenizer",
    "augment_points",
    "farthest_point_sample",
    "group_patches",
    "knn_indices",
    "normalize_unit_sphere",
    "order_patches",
    "pack_patches",
    "permute_patches",
    "rotation_matrices",
    "unpack_patches",
]

PatchOrder = Callable[[torch.Tensor, torch.Generator | None], torch.Tensor]
PATCH_ORDERS: Registry[PatchOrder] = Registry("patch order")


def _check_cloud(points: torch.Tensor, name: str = "points") -> None:
    if points.dim() != 3 or points.shape[-1] != 3:
        raise ValueError(f"{name} must have shape (B, P, 3), got {tuple(points.shape)}")


def _sq_dists(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Exact squared distances (B, N, M) by differences (no ``a² + b² - 2ab`` cancellation)."""
    return (a[:, :, None, :] - b[:, None, :, :]).pow(2).sum(-1)


def farthest_point_sample(
    points: torch.Tensor,
    n: int,
    start: str | int = "first",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Indices (B, n) of ``n`` farthest-point-sampled points of each cloud ``(B, P, 3)``.

    ``start`` is the first pick: ``"first"`` (index 0), ``"random"`` (uniform per sample from
    ``generator``) or an int index. Picked points are masked out, so indices are distinct even
    when the cloud holds duplicate points. Loops over ``n``; each step is vectorised over B, P.
    """
    _check_cloud(points)
    b, p, _ = points.shape
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"farthest_point_sample needs an int n >= 1, got {n!r}")
    if n > p:
        raise ValueError(f"cannot sample {n} distinct points from clouds of {p} points")
    device = points.device
    if start == "first":
        cur = torch.zeros(b, dtype=torch.long, device=device)
    elif start == "random":
        cur = torch.randint(p, (b,), generator=generator).to(device)
    elif isinstance(start, int) and not isinstance(start, bool) and 0 <= start < p:
        cur = torch.full((b,), start, dtype=torch.long, device=device)
    else:
        raise ValueError(f"start must be 'first', 'random' or an index in [0, {p}), got {start!r}")
    rows = torch.arange(b, device=device)
    idx = torch.empty(b, n, dtype=torch.long, device=device)
    dist = torch.full((b, p), math.inf, dtype=points.dtype, device=device)
    for i in range(n):
        idx[:, i] = cur
        d = (points - points[rows, cur][:, None, :]).pow(2).sum(-1)
        dist = torch.minimum(dist, d)
        dist[rows, cur] = -1.0  # never picked again, even if a duplicate is farther
        cur = dist.argmax(dim=1)
    return idx


def knn_indices(query: torch.Tensor, points: torch.Tensor, k: int) -> torch.Tensor:
    """Indices (B, G, k) of the ``k`` points nearest each query, nearest first.

    A query that is one of the points gets itself first (distance 0).
    """
    _check_cloud(query, "query")
    _check_cloud(points)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= points.shape[1]:
        raise ValueError(f"k must be an int in [1, {points.shape[1]}], got {k!r}")
    d = torch.cdist(query, points, compute_mode="donot_use_mm_for_euclid_dist")
    return d.topk(k, dim=-1, largest=False, sorted=True).indices


def group_patches(
    points: torch.Tensor,
    num_groups: int,
    group_size: int,
    start: str | int = "first",
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """FPS centres (B, G, 3) and their kNN groups (B, G, k, 3), centre-subtracted."""
    centre_idx = farthest_point_sample(points, num_groups, start, generator)
    centres = torch.gather(points, 1, centre_idx[..., None].expand(-1, -1, 3))
    nbr = knn_indices(centres, points, group_size)
    b, g, k = nbr.shape
    patches = torch.gather(points, 1, nbr.reshape(b, g * k, 1).expand(-1, -1, 3))
    return centres, patches.reshape(b, g, k, 3) - centres[:, :, None, :]


def pack_patches(centres: torch.Tensor, patches: torch.Tensor) -> torch.Tensor:
    """One tensor (B, G, k + 1, 3): the centre in slot 0, then the k neighbours."""
    return torch.cat([centres[:, :, None, :], patches], dim=2)


def unpack_patches(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of :func:`pack_patches`: ``(centres (B, G, 3), patches (B, G, k, 3))``."""
    return x[:, :, 0], x[:, :, 1:]


def permute_patches(x: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Reorder dim 1 of ``x`` (B, G, ...) by ``perm`` (B, G), per sample."""
    idx = perm.reshape(*perm.shape, *([1] * (x.dim() - 2))).expand_as(x)
    return torch.gather(x, 1, idx)


def normalize_unit_sphere(points: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Centre each cloud (..., P, 3) at its mean and scale its largest norm to 1."""
    centred = points - points.mean(dim=-2, keepdim=True)
    radius = centred.norm(dim=-1).amax(dim=-1, keepdim=True)[..., None]
    return centred / radius.clamp_min(eps)


def rotation_matrices(angles: torch.Tensor, axis: int) -> torch.Tensor:
    """Rotation matrices (B, 3, 3) by ``angles`` (B,) about coordinate ``axis``."""
    c, s = torch.cos(angles), torch.sin(angles)
    i, j = [a for a in range(3) if a != axis]
    rot = torch.zeros(angles.shape[0], 3, 3, dtype=angles.dtype)
    rot[:, axis, axis] = 1.0
    rot[:, i, i], rot[:, i, j], rot[:, j, i], rot[:, j, j] = c, -s, s, c
    return rot


def quaternion_rotation_entries(w: Any, x: Any, y: Any, z: Any) -> list[Any]:
    """The 9 entries, row by row, of the rotation matrix of the unit quaternion (w, x, y, z);
    each entry is whatever the arithmetic gives (a float, a numpy array, a tensor)."""
    return [
        1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
        2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
        2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
    ]  # fmt: skip


def random_rotations(b: int, generator: torch.Generator) -> torch.Tensor:
    """``b`` rotation matrices (b, 3, 3) float64, uniform in SO(3) (normalised Gaussian
    quaternions)."""
    q = torch.randn(b, 4, generator=generator, dtype=torch.float64)
    entries = quaternion_rotation_entries(*(q / q.norm(dim=1, keepdim=True)).unbind(1))
    return torch.stack(entries, dim=1).reshape(b, 3, 3)


def augment_points(
    points: torch.Tensor,
    generator: torch.Generator,
    scale: tuple[float, float] | None = (0.8, 1.2),
    rotate_axis: int | str | None = 1,
    jitter: float = 0.0,
) -> torch.Tensor:
    """Randomly scale, rotate and jitter each cloud (B, P, 3) independently.

    Scale is *anisotropic*: one factor per sample and per axis, uniform in ``scale`` (as the
    Point-MAE/Point-JEPA ``PointcloudScaleAndTranslate`` does), so shapes also stretch.
    Rotation is by a uniform angle in [0, 2π) about ``rotate_axis`` (y = 1, the up axis of
    ShapeNet/ModelNet), drawn per sample: the official code draws one angle per batch;
    ``"so3"`` draws any rotation, for clouds that come in every pose.
    ``jitter`` > 0 adds Gaussian noise of that std. ``None``/0 disables a step.
    """
    _check_cloud(points)
    b = points.shape[0]
    out = points
    if scale is not None:
        lo, hi = float(scale[0]), float(scale[1])
        if not 0.0 < lo <= hi:
            raise ValueError(f"scale must be a (lo, hi) pair with 0 < lo <= hi, got {scale!r}")
        s = lo + (hi - lo) * torch.rand(b, 1, 3, generator=generator, dtype=torch.float64)
        out = out * s.to(points.device, points.dtype)
    if rotate_axis == "so3":
        rot = random_rotations(b, generator).to(points.device, points.dtype)
        out = out @ rot.transpose(1, 2)
    elif rotate_axis is not None:
        if rotate_axis not in (0, 1, 2):
            raise ValueError(f"rotate_axis must be 0, 1, 2, 'so3' or None, got {rotate_axis!r}")
        angles = 2.0 * math.pi * torch.rand(b, generator=generator, dtype=torch.float64)
        rot = rotation_matrices(angles, rotate_axis).to(points.device, points.dtype)
        out = out @ rot.transpose(1, 2)
    if jitter < 0:
        raise ValueError(f"jitter must be >= 0, got {jitter!r}")
    if jitter > 0:
        noise = torch.randn(points.shape, generator=generator, dtype=torch.float64) * jitter
        out = out + noise.to(points.device, points.dtype)
    return out


# -- sequencers -------------------------------------------------------------------------------
@PATCH_ORDERS.register("nn_chain")
def nn_chain_order(centres: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Point-JEPA's greedy sequencer: start at the min ``x+y+z`` centre, then repeatedly go to
    the nearest unvisited centre. Vectorised over the batch, loops over G steps."""
    _check_cloud(centres, "centres")
    b, g, _ = centres.shape
    d = _sq_dists(centres, centres)
    rows = torch.arange(b, device=centres.device)
    perm = torch.empty(b, g, dtype=torch.long, device=centres.device)
    visited = torch.zeros(b, g, dtype=torch.bool, device=centres.device)
    cur = centres.sum(-1).argmin(dim=1)
    for step in range(g):
        perm[:, step] = cur
        visited[rows, cur] = True
        if step + 1 < g:
            cur = d[rows, cur].masked_fill(visited, math.inf).argmin(dim=1)
    return perm


def _spread_bits(q: torch.Tensor, bits: int) -> torch.Tensor:
    """Put bit ``i`` of ``q`` at bit ``3 i`` (one axis of a 3-D Morton code)."""
    out = torch.zeros_like(q)
    for i in range(bits):
        out |= ((q >> i) & 1) << (3 * i)
    return out


@PATCH_ORDERS.register("morton")
def morton_order(
    centres: torch.Tensor, generator: torch.Generator | None = None, bits: int = 10
) -> torch.Tensor:
    """Z-order: quantise centres to ``2**bits`` cells per axis of each sample's bounding box,
    interleave the bits (x lowest) and sort by the code (stable, so ties keep FPS order)."""
    _check_cloud(centres, "centres")
    lo = centres.amin(dim=1, keepdim=True)
    span = (centres.amax(dim=1, keepdim=True) - lo).clamp_min(1e-12)
    q = ((centres - lo) / span * (2**bits - 1)).round().long()
    code = sum(_spread_bits(q[..., a], bits) << a for a in range(3))
    return torch.sort(code, dim=1, stable=True).indices


@PATCH_ORDERS.register("random")
def random_order(centres: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A uniform random permutation per sample (the ablation: no spatial order)."""
    _check_cloud(centres, "centres")
    b, g, _ = centres.shape
    return torch.rand(b, g, generator=generator).argsort(dim=1).to(centres.device)


@PATCH_ORDERS.register("none")
def identity_order(centres: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Keep the FPS order."""
    _check_cloud(centres, "centres")
    b, g, _ = centres.shape
    return torch.arange(g, device=centres.device).expand(b, g).clone()


def order_patches(
    name: str, centres: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Permutation (B, G) from the sequencer registered as ``name`` (ConfigError if unknown)."""
    return PATCH_ORDERS.get(name)(centres, generator)


# -- tokenizer --------------------------------------------------------------------------------
def _point_mlp(widths: tuple[int, ...]) -> nn.Sequential:
    """Shared per-point MLP: Linear -> LayerNorm -> GELU between layers, plain last Linear."""
    layers: list[nn.Module] = []
    for i, (w_in, w_out) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(w_in, w_out))
        if i < len(widths) - 2:
            layers.extend([nn.LayerNorm(w_out), nn.GELU()])
    return nn.Sequential(*layers)


@TOKENIZERS.register("point_patch")
class PointPatchTokenizer(Tokenizer):
    """Mini-PointNet patch embedding (Point-MAE's ``Encoder``): (B, G, k+1, 3) -> (B, G, dim).

    Per point: 3 -> h0 -> h1, max-pool over the patch, concatenate the pooled feature to every
    point (2 h1), then 2 h1 -> h2 -> dim and max-pool again; ``hidden = (h0, h1, h2)``. Only the
    centre-subtracted neighbours are embedded; the centre is the token's coordinate
    (``coords``, per sample), encoded by the positional module. LayerNorm replaces the reference
    BatchNorm so tokens never depend on the other samples in the batch (matters for EMA
    targets and batch size 1).
    """

    def __init__(
        self, dim: int, group_size: int, hidden: tuple[int, int, int] = (128, 256, 512)
    ) -> None:
        super().__init__()
        if len(hidden) != 3:
            raise ValueError(f"hidden must be three widths (h0, h1, h2), got {hidden!r}")
        h0, h1, h2 = hidden
        self.dim, self.group_size = dim, group_size
        self.axes = (Axis("x", "continuous"), Axis("y", "continuous"), Axis("z", "continuous"))
        self.shared_coords = False
        self.per_token_input = True  # a patch's token reads only that patch
        self.first = _point_mlp((3, h0, h1))
        self.second = _point_mlp((2 * h1, h2, dim))

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() != 4 or x.shape[-1] != 3 or x.shape[2] != self.group_size + 1:
            raise ValueError(
                f"expected packed patches (B, G, {self.group_size + 1}, 3), got {tuple(x.shape)}"
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens (B, G, dim) of packed patches ``x`` (B, G, k + 1, 3)."""
        self._check(x)
        feat = self.first(x[:, :, 1:])  # (B, G, k, h1)
        pooled = feat.amax(dim=2, keepdim=True)  # (B, G, 1, h1)
        # second[0] on [pooled ‖ feat], split by its two input halves: the pooled half is one
        # product per patch instead of one per point (a third of the tokenizer's FLOPs)
        lin, h1 = self.second[0], feat.shape[-1]
        hidden = F.linear(feat, lin.weight[:, h1:]) + F.linear(pooled, lin.weight[:, :h1], lin.bias)
        return self.second[1:](hidden).amax(dim=2)

    def coords(self, x: torch.Tensor) -> torch.Tensor:
        """Per-sample token coordinates: the patch centres (B, G, 3)."""
        self._check(x)
        return x[:, :, 0]
