"""SIGReg: Sketched Isotropic Gaussian Regularisation (LeJEPA, Balestriero & LeCun 2025).

LeJEPA drops the EMA teacher and the stop-gradient and prevents collapse by pushing the
embedding distribution towards an isotropic Gaussian N(0, I). A K-dimensional distribution
is N(0, I) iff every 1-D projection onto a unit direction is N(0, 1) (Cramér-Wold), so SIGReg
draws M random unit directions, projects the batch onto them and averages a univariate
normality test over the slices. The test is Epps-Pulley, a weighted L2 distance between the
empirical characteristic function and exp(-t²/2)::

    T = N ∫ |φ̂_N(t) − exp(−t²/2)|² exp(−t²/2) dt,       φ̂_N(t) = mean_n exp(i t x_n)

It is smooth in the samples, needs only means of cos/sin (so it is linear-time and trivially
all-reducible across ranks), and bounded per sample, hence stable to optimise.

Written from the math in the paper brief; no code was taken from the (CC BY-NC) reference repo.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from omnijepa.distributed import all_reduce_max_int, all_reduce_sum_int, all_reduce_sum_with_grad

__all__ = ["SIGReg", "epps_pulley", "epps_pulley_null_mean", "epps_pulley_weights"]


def _compute_dtype(x: Tensor) -> torch.dtype:
    """float64 stays float64; everything else (fp16, bf16, fp32) is computed in float32."""
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def epps_pulley_weights(
    t_max: float = 3.0,
    n_points: int = 17,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[Tensor, Tensor]:
    """Knots ``t_j = linspace(0, t_max, n_points)`` and quadrature weights ``w_j``.

    ``w_j`` are trapezoid weights on [0, t_max] doubled for the mirrored half [-t_max, 0]
    (interior ``2·dt``, both endpoints ``dt``; the integrand is even in t), times the window
    ``exp(-t_j²/2)``. Hence ``Σ_j w_j f(t_j)`` is the trapezoid rule for
    ``∫_{-t_max}^{t_max} f(t) exp(-t²/2) dt`` on the symmetric grid of ``2·n_points − 1`` knots.
    """
    if n_points < 2:
        raise ValueError(f"n_points must be >= 2, got {n_points}")
    if not t_max > 0:
        raise ValueError(f"t_max must be > 0, got {t_max}")
    t = torch.linspace(0.0, float(t_max), n_points, device=device, dtype=dtype)
    dt = float(t_max) / (n_points - 1)
    w = torch.full((n_points,), 2.0 * dt, device=device, dtype=dtype)
    w[0] = dt
    w[-1] = dt
    return t, w * torch.exp(-0.5 * t * t)


def epps_pulley(x: Tensor, t_max: float = 3.0, n_points: int = 17) -> Tensor:
    """Epps-Pulley statistic of each column of ``x`` against N(0, 1).

    Args:
        x: samples, shape ``(N, M)`` (``M`` independent 1-D slices); extra leading dims
            ``(*B, N, M)`` are allowed and treated as independent groups.
        t_max: integrate over ``[-t_max, t_max]``.
        n_points: knots on ``[0, t_max]`` (17 in LeJEPA; odd by convention).

    Returns:
        ``(M,)`` (or ``(*B, M)``): ``T = N_global · Σ_j w_j err(t_j)`` with
        ``err(t) = (mean_n cos(t x_n) − e^{−t²/2})² + (mean_n sin(t x_n))²`` and ``w_j`` from
        :func:`epps_pulley_weights`. Under the null its expectation is
        ``Σ_j w_j (1 − e^{−t_j²}) ≈ 1.05`` for the defaults, independent of N.

    Under ``torch.distributed`` the cos/sin *sums* and N are summed over ranks (the sums with
    gradient), so every rank gets the statistic of the concatenated global batch, even with
    unequal local batch sizes. Gradient convention: see
    :func:`omnijepa.distributed.all_reduce_sum_with_grad` (local grad = world_size × the
    single-process grad, which DDP's averaging turns into the exact global gradient).
    Computed in float32 (float64 inputs stay float64).
    """
    if x.ndim < 2:
        raise ValueError(f"epps_pulley expects x of shape (N, M), got {tuple(x.shape)}")
    x = x.to(_compute_dtype(x))
    n_global = all_reduce_sum_int(x.shape[-2])
    if n_global == 0:
        raise ValueError("epps_pulley needs at least one sample (global batch is empty)")
    t, w = epps_pulley_weights(t_max, n_points, device=x.device, dtype=x.dtype)
    xt = x.unsqueeze(-1) * t  # (*B, N, M, J)
    sums = torch.stack((torch.cos(xt).sum(dim=-3), torch.sin(xt).sum(dim=-3)))  # (2, *B, M, J)
    cos_mean, sin_mean = all_reduce_sum_with_grad(sums) / n_global
    err = (cos_mean - torch.exp(-0.5 * t * t)).square() + sin_mean.square()
    return n_global * (err @ w)


class SIGReg(nn.Module):
    """Sliced Epps-Pulley regulariser towards N(0, I) (LeJEPA's anti-collapse term).

    ``forward(z, step)`` draws ``A ∈ R^{K×M}`` with i.i.d. N(0, 1) entries, normalises its
    columns to unit norm, and returns ``mean_m epps_pulley(z @ A)[m]``. The directions come
    from a CPU ``torch.Generator`` seeded with ``step``: they are resampled every step (so the
    whole sphere is covered over training) yet reproducible and identical on every rank
    (under DDP the step is all-reduced with MAX first, in case ranks disagree). They are
    generated on CPU and moved to ``z``'s device, so results do not depend on the device.

    The loss is computed in float32 even under autocast (inputs are cast up; float64 stays
    float64). ``z`` may also carry leading view dims ``(*V, N, K)``: the statistic is computed
    per view and averaged, as in LeJEPA.
    """

    def __init__(self, num_slices: int = 256, t_max: float = 3.0, n_points: int = 17) -> None:
        super().__init__()
        if num_slices < 1:
            raise ValueError(f"num_slices must be >= 1, got {num_slices}")
        epps_pulley_weights(t_max, n_points)  # validates t_max / n_points early
        self.num_slices = int(num_slices)
        self.t_max = float(t_max)
        self.n_points = int(n_points)
        self._cache: tuple[tuple[object, ...], Tensor] | None = None

    def directions(
        self,
        dim: int,
        step: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> Tensor:
        """Unit-norm random directions ``(dim, num_slices)`` for ``step`` (no collectives)."""
        device = torch.device("cpu") if device is None else torch.device(device)
        key = (int(dim), int(step), device, dtype)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        gen = torch.Generator(device="cpu")
        gen.manual_seed(int(step))
        a = torch.randn(int(dim), self.num_slices, generator=gen, dtype=torch.float32)
        a = a / a.norm(dim=0, keepdim=True)
        a = a.to(device=device, dtype=dtype)
        self._cache = (key, a)
        return a

    def forward(self, z: Tensor, step: int) -> Tensor:
        """SIGReg loss (scalar) of embeddings ``z`` of shape ``(N, K)`` or ``(*V, N, K)``."""
        if z.ndim < 2:
            raise ValueError(f"SIGReg expects z of shape (N, K), got {tuple(z.shape)}")
        step = all_reduce_max_int(int(step))
        with torch.autocast(device_type=z.device.type, enabled=False):
            z = z.to(_compute_dtype(z))
            a = self.directions(z.shape[-1], step, device=z.device, dtype=z.dtype)
            x = z @ a
            return epps_pulley(x, self.t_max, self.n_points).mean()

    def extra_repr(self) -> str:
        return f"num_slices={self.num_slices}, t_max={self.t_max}, n_points={self.n_points}"


def epps_pulley_null_mean(t_max: float = 3.0, n_points: int = 17) -> float:
    """Expected :func:`epps_pulley` value for i.i.d. N(0, 1) samples (any N).

    ``E[N·err(t)] = Var cos(tX) + Var sin(tX) = 1 − e^{−t²}``, so ``E[T] = Σ_j w_j (1 − e^{−t_j²})``
    (≈ 1.05 for t_max=3, n_points=17). A SIGReg value near this means "as Gaussian as a
    sample of that size can be"; collapsed or shifted embeddings give values ∝ N.
    """
    t, w = epps_pulley_weights(t_max, n_points, dtype=torch.float64)
    return float((w * (1.0 - torch.exp(-t * t))).sum())
