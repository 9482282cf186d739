"""The teacher (target encoder): schedule fitted to the run length, the frozen and shared
controls, drift diagnostics, and the optional anti-collapse term."""

from __future__ import annotations

import math

import pytest
import torch

from omnijepa.config import load_config
from omnijepa.errors import ConfigError
from omnijepa.objectives.collapse_penalty import (
    PENALTIES,
    AntiCollapseConfig,
    build_penalty,
    variance_covariance,
)
from omnijepa.objectives.teacher import TeacherConfig, TeacherSchedule, fitted_start
from omnijepa.recipes import RECIPES
from omnijepa.recipes.ijepa import build_objective


def brute_init_weight(start: float, end: float, total: int) -> float:
    w = 1.0
    for t in range(1, total + 1):
        w *= start + (end - start) * t / total
    return w


@pytest.mark.parametrize("total", [50, 250, 1000])
def test_fitted_schedule_leaves_the_capped_weight_on_init(total: int) -> None:
    sched = TeacherSchedule(TeacherConfig(start=0.996, end=1.0, max_init_weight=1e-3))
    start, end = sched.bounds(total)
    assert start < 0.996 and end == 1.0
    assert sched.init_weight(total, total) == pytest.approx(1e-3, rel=1e-6)
    assert brute_init_weight(start, end, total) == pytest.approx(1e-3, rel=1e-6)


def test_long_runs_keep_the_paper_schedule() -> None:
    # 0.996 -> 1 over 100k steps leaves exp(-200) on the init: nothing to fit
    assert fitted_start(0.996, 1.0, 100_000, 1e-3) == 0.996
    sched = TeacherSchedule(TeacherConfig(max_init_weight=0.0))  # 0 = always the paper's
    assert sched.bounds(250) == (0.996, 1.0)
    assert sched.init_weight(250, 250) == pytest.approx(brute_init_weight(0.996, 1.0, 250))
    assert sched.init_weight(250, 250) > 0.5  # the short-run problem this module fixes


def test_rescaling_with_run_length_keeps_the_end_weight() -> None:
    sched = TeacherSchedule(TeacherConfig(start=0.9995, end=0.99999, max_init_weight=1e-2))
    for total in (100, 300, 3000):
        assert sched.init_weight(total, total) == pytest.approx(1e-2, rel=1e-6)
    assert sched.bounds(300)[0] < sched.bounds(3000)[0]  # longer run -> slower teacher


def test_momentum_is_linear_between_the_fitted_bounds() -> None:
    sched = TeacherSchedule(TeacherConfig(max_init_weight=1e-3))
    start, end = sched.bounds(100)
    assert sched.momentum(0, 100) == pytest.approx(start)
    assert sched.momentum(50, 100) == pytest.approx((start + end) / 2)
    assert sched.momentum(100, 100) == pytest.approx(end)
    assert sched.init_weight(0, 100) == 1.0


def test_controls_have_fixed_momenta() -> None:
    assert TeacherSchedule(TeacherConfig(mode="frozen")).momentum(7, 10) == 1.0
    assert TeacherSchedule(TeacherConfig(mode="frozen")).init_weight(10, 10) == 1.0
    assert TeacherSchedule(TeacherConfig(mode="shared")).momentum(7, 10) == 0.0
    assert TeacherSchedule(TeacherConfig(mode="shared")).init_weight(1, 10) == 0.0


def test_bad_teacher_config_is_a_config_error() -> None:
    base = RECIPES.get("ijepa").default_config()
    with pytest.raises(ConfigError, match="ema"):
        load_config(base, None, ["ema.start=1.2"])
    with pytest.raises(ConfigError, match="ema.mode"):
        load_config(base, None, ["ema.mode=slow"])
    with pytest.raises(ConfigError, match="max_init_weight"):
        load_config(base, None, ["ema.max_init_weight=1"])


def _perturb(module: torch.nn.Module, scale: float = 0.1) -> None:
    torch.manual_seed(3)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn_like(p))


@pytest.mark.parametrize("mode", ["frozen", "shared", "ema"])
def test_teacher_modes_update_the_target_as_named(mode: str, tiny_overrides) -> None:
    cfg = load_config(RECIPES.get("ijepa").default_config(), None,
                      tiny_overrides("ijepa", f"ema.mode={mode}"))  # fmt: skip
    objective = build_objective(cfg)
    init = [p.detach().clone() for p in objective.target_encoder.parameters()]
    _perturb(objective.encoder)
    objective.after_optimizer_step(1, 10)
    target = list(objective.target_encoder.parameters())
    online = list(objective.encoder.parameters())
    if mode == "frozen":
        assert all(torch.equal(a, b) for a, b in zip(init, target))
        assert objective.eval_encoder() is objective.encoder  # the target is the random twin
    elif mode == "shared":
        assert all(torch.equal(a, b) for a, b in zip(online, target))
        assert objective.eval_encoder() is objective.target_encoder
    else:
        assert not any(torch.equal(a, b) for a, b in zip(online, target) if a.numel() > 1)
        assert not all(torch.equal(a, b) for a, b in zip(init, target))


def test_drift_diagnostics(tiny_overrides) -> None:
    cfg = load_config(RECIPES.get("ijepa").default_config(), None, tiny_overrides("ijepa"))
    objective = build_objective(cfg)
    d0 = objective.diagnostics(0, 10)
    assert d0 == {"teacher_init_weight": 1.0, "target_drift": 0.0, "online_drift": 0.0}
    _perturb(objective.encoder)
    objective.after_optimizer_step(1, 10)
    d1 = objective.diagnostics(1, 10)
    assert d1["online_drift"] > d1["target_drift"] > 0.0
    m = objective.momentum(1, 10)
    assert d1["teacher_init_weight"] == pytest.approx(m)
    # the target moved (1 - m) of the way: its drift is (1 - m) x the online encoder's
    assert d1["target_drift"] == pytest.approx((1 - m) * d1["online_drift"], rel=1e-4)


def test_tokenizer_drift_is_reported_for_an_encoder_with_a_tokenizer(tiny_overrides) -> None:
    overrides = [*tiny_overrides("ijepa"), "model.backbone=vit"]
    objective = build_objective(load_config(RECIPES.get("ijepa").default_config(), None, overrides))
    assert objective.diagnostics(0, 10)["tokenizer_drift"] == 0.0
    with torch.no_grad():
        for p in objective.encoder.tokenizer.parameters():
            p.mul_(1.5)  # the tokenizer alone moves: +50 % of its init
    d1 = objective.diagnostics(1, 10)
    assert d1["tokenizer_drift"] == pytest.approx(0.5, rel=1e-4)
    assert 0.0 < d1["online_drift"] < d1["tokenizer_drift"]


def test_variance_covariance_penalty() -> None:
    torch.manual_seed(0)
    constant = torch.ones(256, 8)
    assert float(variance_covariance(constant)) == pytest.approx(1.0 - math.sqrt(1e-4), abs=1e-4)
    gauss = torch.randn(4096, 8) * 1.5
    assert float(variance_covariance(gauss)) < 0.05  # std > 1, nearly uncorrelated
    x = torch.randn(64, 8, requires_grad=True)
    variance_covariance(x * 0.1).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_std_floor_sets_where_the_variance_hinge_starts() -> None:
    torch.manual_seed(0)
    x = torch.randn(4096, 8) * 0.1  # std 0.1 per dim, nearly uncorrelated
    assert float(variance_covariance(x)) == pytest.approx(0.9, abs=0.02)  # VICReg's floor 1
    assert float(variance_covariance(x, floor=0.05)) < 1e-4  # above the floor: silent
    assert float(variance_covariance(x, floor=0.2)) == pytest.approx(0.1, abs=0.01)
    penalty = build_penalty(AntiCollapseConfig(kind="vc", std_floor=0.05), 8)
    assert float(penalty(x.view(4096, 1, 8), step=0)) < 1e-4
    with pytest.raises(ValueError, match="std_floor"):
        AntiCollapseConfig(kind="vc", std_floor=0.0)


@pytest.mark.parametrize("kind", PENALTIES.names())
def test_penalties_pool_and_backpropagate(kind: str) -> None:
    penalty = build_penalty(AntiCollapseConfig(kind=kind, weight=1.0), 8)
    z = torch.randn(16, 5, 8, requires_grad=True)
    value = penalty(z, step=0)
    assert value.ndim == 0 and torch.isfinite(value)
    value.backward()
    assert z.grad.abs().sum() > 0
    assert build_penalty(AntiCollapseConfig(kind="none"), 8) is None
    assert build_penalty(AntiCollapseConfig(kind=kind, weight=0.0), 8) is None


def test_projector_meets_the_floor_that_the_rows_miss() -> None:
    """With a projector the term scores projected rows: pooled rows of std 0.1 fail VICReg's
    floor on their own, and training the projector alone (the rows fixed) meets it."""
    torch.manual_seed(0)
    z = (torch.randn(256, 4, 8) * 0.1).requires_grad_(True)
    bare = build_penalty(AntiCollapseConfig(kind="vc"), 8)
    projected = build_penalty(AntiCollapseConfig(kind="vc", projector=32), 8)
    assert float(bare(z, step=0)) > 0.8
    value = projected(z, step=0)
    value.backward()
    assert z.grad.abs().sum() > 0  # the encoder still gets the term's gradient
    opt = torch.optim.Adam(projected.parameters(), lr=1e-2)
    for _ in range(100):
        opt.zero_grad()
        projected(z.detach(), step=0).backward()
        opt.step()
    assert float(projected(z.detach(), step=0)) < 0.1 < float(value)
    constant = torch.ones(256, 4, 8)  # a collapsed encoder: no projector can undo it
    assert float(projected(constant, step=0)) > 0.9
    with pytest.raises(ValueError, match="projector"):
        AntiCollapseConfig(kind="vc", projector=-1)


def test_unknown_penalty_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="vc"):
        build_penalty(AntiCollapseConfig(kind="barlow"), 8)


@pytest.mark.parametrize("on", ["context", "prediction"])
def test_anti_collapse_term_is_added_to_the_loss(on: str, tiny_overrides) -> None:
    ov = tiny_overrides(
        "ijepa:vit", "anti_collapse.kind=vc", "anti_collapse.weight=2", f"anti_collapse.on={on}"
    )
    cfg = load_config(RECIPES.get("ijepa").default_config(), None, ov)
    built = RECIPES.get("ijepa").build(cfg, torch.device("cpu"))
    ds = built.parts.dataset
    batch = built.parts.collate([ds[i] for i in range(cfg.train.batch_size)], 0)
    loss, stats = built.parts.objective(batch, 0)
    assert float(loss.detach()) == pytest.approx(
        float(stats["prediction_loss"]) + 2 * float(stats["anti_collapse"]), rel=1e-5
    )


def test_anti_collapse_alone_keeps_prediction_gradients_out_of_the_encoder(tiny_overrides) -> None:
    def encoder_grads(alone: bool, vc_only: bool = False) -> list[torch.Tensor]:
        ov = tiny_overrides("ijepa:vit", f"anti_collapse.alone={str(alone).lower()}")
        cfg = load_config(RECIPES.get("ijepa").default_config(), None, ov)
        built = RECIPES.get("ijepa").build(cfg, torch.device("cpu"))
        ds, obj = built.parts.dataset, built.parts.objective
        batch = built.parts.collate([ds[i] for i in range(cfg.train.batch_size)], 0)
        if vc_only:  # the VC term of the context, by hand
            z = obj.encoder(batch["x"], keep=batch["context"])
            loss = cfg.anti_collapse.weight * obj.penalty(z, 0)
        else:
            loss, _ = obj(batch, 0)
        loss.backward()
        preds = [p.grad for p in obj.predictor.parameters()]
        assert vc_only or all(g is not None and float(g.abs().sum()) > 0 for g in preds)
        return [p.grad.clone() for p in obj.encoder.parameters()]

    alone, vc, full = encoder_grads(True), encoder_grads(False, True), encoder_grads(False)
    for a, v in zip(alone, vc):
        torch.testing.assert_close(a, v)  # the encoder hears only the VC term
    assert any(not torch.allclose(f, v) for f, v in zip(full, vc))
    with pytest.raises(ConfigError, match="alone"):
        load_config(RECIPES.get("ijepa").default_config(), None,
                    ["anti_collapse.kind=none", "anti_collapse.alone=true"])  # fmt: skip


def test_encoder_gradient_norms_are_logged_and_name_the_dominant_term(tiny_overrides,
                                                                     tmp_path) -> None:  # fmt: skip
    from omnijepa.train.metrics_log import read_metrics

    ov = tiny_overrides("ijepa:vit", "train.probe_every=2")
    cfg = load_config(RECIPES.get("ijepa").default_config(), None, ov)
    built = RECIPES.get("ijepa").build(cfg, torch.device("cpu"))
    ds, obj = built.parts.dataset, built.parts.objective
    batch = built.parts.collate([ds[i] for i in range(cfg.train.batch_size)], 0)
    before = {k: v.clone() for k, v in obj.state_dict().items()}
    norms = obj.encoder_gradients(batch, 0)
    assert all(torch.equal(before[k], v) for k, v in obj.state_dict().items())
    z = obj.encoder(batch["x"], keep=batch["context"])
    vc = cfg.anti_collapse.weight * obj.penalty(z, 0)
    grads = torch.autograd.grad(vc, list(obj.encoder.parameters()))
    direct = sum(float(g.square().sum()) for g in grads) ** 0.5
    assert norms["encoder_grad_anti_collapse"] == pytest.approx(direct, rel=1e-4)
    assert norms["encoder_grad_prediction"] > 0
    alone = load_config(cfg, None, ["anti_collapse.alone=true"])
    built = RECIPES.get("ijepa").build(alone, torch.device("cpu"))
    assert built.parts.objective.encoder_gradients(batch, 0)["encoder_grad_prediction"] == 0
    from omnijepa.cli.main import main

    main(["train", "ijepa", *ov, "--out", str(tmp_path / "run")])
    logged = [r for r in read_metrics(tmp_path / "run" / "metrics.jsonl")
              if "encoder_grad_prediction" in r]  # fmt: skip
    assert logged and all(r["encoder_grad_anti_collapse"] > 0 for r in logged)


def test_batch_standardised_targets_ignore_padding() -> None:
    from omnijepa.objectives.target_norms import standardise_channels

    h = torch.randn(2, 5, 3) * 4 + 7
    pad = torch.tensor([[False] * 5, [False, False, True, True, True]])
    h_padded = h.clone()
    h_padded[1, 2:] = 1e6  # padded tokens must not move the statistics
    out = standardise_channels(h_padded, pad)
    real = out[~pad]
    torch.testing.assert_close(real.mean(0), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(real.std(0, unbiased=False), torch.ones(3), atol=1e-3, rtol=0)
    torch.testing.assert_close(standardise_channels(h, pad)[~pad], real)


def test_invariance_gradient_is_measured_beside_the_others(tiny_overrides) -> None:
    """The default I-JEPA (C-JEPA's two views) learns from three terms: each one's gradient on
    the encoder is measured, so the diagnostic cannot hide the invariance term."""
    cfg = load_config(RECIPES.get("ijepa").default_config(), None, tiny_overrides("ijepa"))
    assert cfg.anti_collapse.invariance > 0
    built = RECIPES.get("ijepa").build(cfg, torch.device("cpu"))
    ds, obj = built.parts.dataset, built.parts.objective
    batch = built.parts.collate([ds[i] for i in range(cfg.train.batch_size)], 0)
    norms = obj.encoder_gradients(batch, 0)
    names = {f"encoder_grad_{t}" for t in ("prediction", "anti_collapse", "invariance")}
    assert set(norms) == names and all(v > 0 for v in norms.values())
