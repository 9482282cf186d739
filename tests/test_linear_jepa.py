"""Deep linear JEPA vs MAE analysis: ODE fixed points, gradients, ordering, GD, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from omnijepa.analysis.deep_linear.critical_times import critical_times, crossing_time
from omnijepa.analysis.deep_linear.networks import moment_loss, train_gd
from omnijepa.analysis.deep_linear.ode import fixed_point, mode_layer_grads, solve_modes, w_rate
from omnijepa.config import load_config
from omnijepa.errors import ConfigError


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("rho", [0.3, 0.8])
def test_fixed_points(depth: int, rho: float) -> None:
    assert fixed_point("jepa", rho, depth) == pytest.approx(rho**depth)
    assert fixed_point("mae", rho, depth) == pytest.approx(rho ** (depth / (depth + 1)))
    for method in ("jepa", "mae"):
        w = fixed_point(method, rho, depth)
        assert w_rate(method, w, 0.7, rho, depth) == pytest.approx(0.0, abs=1e-12)
        u0 = 0.5 * rho  # start below both thresholds; run for many plateau timescales
        t_end = 100.0 / (0.7 * u0 ** (2 * depth - 1))
        lam, r = np.array([0.7]), np.array([rho])
        end = solve_modes(method, lam, r, depth, u0**depth, np.array([0.0, t_end]))
        assert end[-1, 0] == pytest.approx(w, rel=1e-4)


@pytest.mark.parametrize("method", ["jepa", "mae"])
@pytest.mark.parametrize("depth", [1, 3])
def test_hand_gradients_match_autograd(method: str, depth: int) -> None:
    rng = np.random.default_rng(0)
    lams, rhos = np.array([1.0, 0.6]), np.array([0.4, 0.9])
    vals = rng.uniform(0.2, 0.9, size=(depth, 2))
    vpred = rng.uniform(0.2, 0.9, size=2)
    layers = [torch.tensor(np.diag(v), requires_grad=True) for v in vals]
    pred = torch.tensor(np.diag(vpred), requires_grad=True)
    sxx, syx = torch.tensor(np.diag(lams / rhos)), torch.tensor(np.diag(lams))
    moment_loss(method, layers, pred, sxx, syx).backward()
    for i in range(2):
        g_layers, g_v = mode_layer_grads(method, vals[:, i], vpred[i], lams[i], rhos[i])
        auto = [float(layer.grad[i, i]) for layer in layers]
        np.testing.assert_allclose(g_layers, auto, rtol=1e-10)
        assert g_v == pytest.approx(float(pred.grad[i, i]), rel=1e-10)
        # balanced modes: the hand ODE equals the chain rule of autograd's layer gradients
        u = vals[0, i]
        bal = [torch.tensor(u, dtype=torch.float64, requires_grad=True) for _ in range(depth)]
        vb = torch.tensor(u, dtype=torch.float64)
        w = torch.stack(bal).prod()
        tgt = w.detach() if method == "jepa" else torch.tensor(1.0, dtype=torch.float64)
        loss = 0.5 * (vb * w) ** 2 * lams[i] / rhos[i] - vb * w * tgt * lams[i]
        grads = torch.autograd.grad(loss, bal)
        dw = -sum(float(w.detach() / b.detach()) * float(g) for b, g in zip(bal, grads))
        assert dw == pytest.approx(float(w_rate(method, u**depth, lams[i], rhos[i], depth)))


def test_order_follows_user_lambda_rho() -> None:
    rhos = np.array([0.6, 0.9, 0.4, 1.0])
    for depth in (2, 3):
        t = critical_times("jepa", np.ones(4), rhos, depth, 1e-3)
        assert list(np.argsort(t)) == list(np.argsort(-rhos))
    lams = np.array([0.5, 0.9, 0.7, 0.3])
    for depth in (1, 2, 3):
        t = critical_times("mae", lams, np.full(4, 0.8), depth, 1e-3)
        assert list(np.argsort(t)) == list(np.argsort(-lams))
    # quadrature agrees with the numerically solved ODE's crossing times
    t = critical_times("jepa", np.ones(4), rhos, 2, 1e-3)
    grid = np.linspace(0, 1.5 * t.max(), 20001)
    traj = solve_modes("jepa", np.ones(4), rhos, 2, 1e-3, grid) / rhos**2
    ode_t = [crossing_time(grid, traj[:, i]) for i in range(4)]
    np.testing.assert_allclose(ode_t, t, rtol=1e-3)


@pytest.mark.parametrize("method", ["jepa", "mae"])
def test_constant_lr_gd_matches_ode(method: str) -> None:
    lams, rhos = np.array([1.0, 0.8]), np.array([0.6, 1.0])
    t = critical_times(method, lams, rhos, 2, 0.05)
    run = train_gd(method, np.diag(lams / rhos), np.diag(lams), 2, 0.05, 1.5 * t.max(), 0.02, 10**5)
    ratio = run.products / fixed_point(method, rhos, 2)
    gd_t = [crossing_time(run.times, ratio[:, i]) for i in range(2)]
    np.testing.assert_allclose(gd_t, t, rtol=0.03)


def test_config_overrides_and_validation() -> None:
    from omnijepa.analysis.deep_linear.experiment import LinearJepaConfig

    cfg = load_config(LinearJepaConfig(), None, ["rhos=0.3,0.5,1.0", "lambdas=[1,1,1]"])
    assert cfg.rhos == (0.3, 0.5, 1.0) and cfg.lambdas == (1.0, 1.0, 1.0)
    with pytest.raises(ConfigError):
        load_config(LinearJepaConfig(), None, ["nope=1"])
    with pytest.raises(ConfigError):
        load_config(LinearJepaConfig(), None, ["rhos=[0.5,2.0,1,1]"])


def test_cli_quick(tmp_path) -> None:
    from omnijepa.cli.main import main

    assert main(["repro", "linear-jepa", "--quick", "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "results.json").read_text())
    for key in ("name", "claim", "reference", "metrics", "checks", "verdict", "seconds"):
        assert key in res
    assert list(tmp_path.glob("*.png"))
    assert (tmp_path / "analysis.json").exists()


@pytest.mark.parametrize("method", ["jepa", "mae"])
def test_shared_rotation_leaves_critical_times_unchanged(method: str) -> None:
    """Rotating both covariances by one Q is a change of basis: GD on the rotated problem,
    measured along the eigen-directions, must match the diagonal theory (fails if the
    projection or the rotated moments are wrong)."""
    from omnijepa.analysis.deep_linear.nondiagonal import run_rotated

    lams, rhos, depth, eps = np.array([1.0, 1.0]), np.array([0.5, 1.0]), 2, 0.01
    t_diag = critical_times(method, lams, rhos, depth, eps, 0.5)
    run = run_rotated(
        method,
        lams,
        rhos,
        depth,
        eps,
        2.0 * t_diag.max(),
        50.0,
        20000,
        0.005,
        0.5,
        seed=3,
        variant="shared",
    )
    assert np.allclose(run["t_star"], t_diag, rtol=0.03), (run["t_star"], t_diag)
    assert list(run["order"]) == list(np.argsort(t_diag))
