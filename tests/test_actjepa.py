"""ACT-JEPA recipe: step windows and their padding, the chunked policy's losses and EMA, the
rollouts and probe on each control task (Reacher, Pendulum without a goal token), the task
defaults, user trajectory files and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from omnijepa.data.trajectories import Trajectories
from omnijepa.modalities.trajectory import ObsLayout, TrajectoryEncoder, step_windows
from omnijepa.objectives.chunked_policy import ChunkedPolicy
from omnijepa.objectives.teacher import TeacherConfig
from tests.conftest import ACTJEPA_TINY
from tests.test_cli import assert_one_line_error, run_cli

pytest.importorskip("gymnasium")
pytest.importorskip("mujoco")


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIJEPA_CACHE", str(tmp_path / "cache"))


def _traj(lengths: tuple[int, ...] = (4, 3), dims: int = 3) -> Trajectories:
    n = sum(lengths)
    starts = np.zeros(n, bool)
    starts[np.cumsum([0, *lengths[:-1]])] = True
    obs = np.arange(n * dims, dtype=np.float32).reshape(n, dims)
    return Trajectories(obs, obs[:, :2] * 10, starts)


def test_windows_pad_history_before_and_chunks_after_each_episode() -> None:
    tr = _traj()
    layout = ObsLayout((2,), 3)
    w = step_windows(tr, layout, history=2, chunk=3, mean=np.zeros(3), std=np.ones(3),
                     probe_dims=(0,))  # fmt: skip
    assert len(w) == 7
    assert w.history_pad[0].tolist() == [True, False]  # step 0 has no past
    assert w.history[1, :, 0].tolist() == [0.0, 3.0]  # states of steps 0, 1
    assert w.goal[1].tolist() == [5.0]  # the goal dim of step 1
    assert w.actions_pad[2].tolist() == [False, False, True]  # episode 1 ends at step 3
    assert w.future_pad[3].tolist() == [True, True, True]
    assert w.history_pad[4].tolist() == [True, False]  # a new episode starts at step 4
    assert w.probe[4, :, 0].tolist() == [15.0, 18.0, 18.0]  # raw future values, clamped
    assert w.probe_now[4, 0].item() == 12.0
    from omnijepa.recipes.actjepa import PROBE_TARGETS

    assert PROBE_TARGETS.get("displacement")(w)[4, :, 0].tolist() == [3.0, 6.0, 6.0]
    with pytest.raises(Exception, match="goal dims"):
        ObsLayout((0, 1, 2), 3)


def _policy(latent_weight: float, latent_only: int = 0) -> ChunkedPolicy:
    torch.manual_seed(0)
    enc = TrajectoryEncoder(2, 1, 3, 16, 1, 2)
    return ChunkedPolicy(enc, 2, 3, 8, 1, 2, TeacherConfig(), latent_weight, latent_only)


def _batch() -> dict:
    tr = _traj()
    w = step_windows(tr, ObsLayout((2,), 3), 2, 3, np.zeros(3), np.full(3, 10.0))
    names = ("history", "history_pad", "goal", "actions", "actions_pad", "future", "future_pad")
    return {k: getattr(w, k) for k in names}


def test_the_policy_losses_and_its_ema() -> None:
    batch = _batch()
    act = _policy(0.0)
    loss, stats = act(batch, 0)
    assert "latent_loss" not in stats and torch.isclose(loss, stats["action_loss"])
    assert act.after_optimizer_step(1, 10)["ema_momentum"] == 1.0  # ACT: no target to move
    jepa = _policy(1.0)
    loss, stats = jepa(batch, 0)
    assert torch.isclose(loss, stats["action_loss"] + stats["latent_loss"])
    loss.backward()
    assert jepa.predictor.head.weight.grad is not None
    assert all(p.grad is None for p in jepa.target_encoder.parameters())
    before = [p.clone() for p in jepa.target_encoder.parameters()]
    with torch.no_grad():
        for p in jepa.encoder.parameters():
            p.add_(1.0)
    assert jepa.after_optimizer_step(1, 10)["ema_momentum"] < 1.0
    assert any(not torch.equal(a, b) for a, b in zip(before, jepa.target_encoder.parameters()))
    staged = _policy(1.0, latent_only=5)
    loss, stats = staged(batch, 0)
    assert torch.isclose(loss, stats["latent_loss"])  # two-stage: actions wait


def test_train_rolls_out_probes_and_draws(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "actjepa", *ACTJEPA_TINY, "--out", out)
    assert code == 0, err
    res = json.loads((out / "results.json").read_text())
    m = res["metrics"]
    for key in ("probe_rmse", "heldout_action_l1", "success_rate", "mean_return"):
        assert set(m[key]) == {"jepa", "random_init"}
    assert "Reacher-v5 scripted demonstrations" in res["data"]
    assert (out / "rollouts.png").stat().st_size > 0


def test_train_on_the_pendulum_task_without_a_goal_token(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "actjepa", *ACTJEPA_TINY, "data.task=pendulum",
                           "--out", out)  # fmt: skip
    assert code == 0, err
    res = json.loads((out / "results.json").read_text())
    assert "Pendulum-v1 swing-up scripted demonstrations" in res["data"]
    assert "obs 3 (goal dims [])" in res["data"] and "actions 1" in res["data"]
    assert set(res["metrics"]["success_rate"]) == {"jepa", "random_init"}
    assert (out / "rollouts.png").stat().st_size > 0


def test_task_defaults_fill_only_unset_keys() -> None:
    from omnijepa.config import load_config
    from omnijepa.recipes.actjepa import ACTJEPAConfig, resolve_task

    def data(*ov: str):  # noqa: ANN202
        return resolve_task(load_config(ACTJEPAConfig(), None, list(ov)))[1].data

    d = data()
    assert (d.steps, d.goal_dims, d.probe_dims) == (50, (4, 5), (8, 9))  # Reacher, as before
    d = data("data.task=pendulum")
    assert (d.steps, d.goal_dims, d.probe_dims) == (100, (), (0, 1))
    d = data("data.task=pendulum", "data.steps=30", "data.probe_dims=[2]")
    assert (d.steps, d.goal_dims, d.probe_dims) == (30, (), (2,))
    assert data("data.goal_dims=[]").goal_dims == ()  # explicitly none, not the task's


def test_an_unknown_task_is_one_error_listing_the_tasks(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "actjepa", *ACTJEPA_TINY, "data.task=cartpole",
                           "--out", out)  # fmt: skip
    assert code != 0
    assert_one_line_error(err, "valid: pendulum, reacher")
    assert not (out / "results.json").exists()


def test_rollout_seeds_are_disjoint_from_the_demonstrations() -> None:
    from omnijepa.recipes.actjepa import eval_seeds

    seeds = eval_seeds(0, 100)
    assert min(seeds) >= 2**31 and len(set(seeds)) == 100  # demos draw below 2^31


def _user_file(path: Path, episodes: int = 6, nan: bool = False) -> None:
    rng = np.random.default_rng(0)
    steps = 10
    obs = rng.normal(size=(episodes * steps, 5)).cumsum(0).astype(np.float32)
    if nan:
        obs[7, 2] = np.nan
    starts = np.zeros(episodes * steps, bool)
    starts[::steps] = True
    np.savez(path, obs=obs, actions=rng.uniform(-1, 1, (episodes * steps, 2)),
             episode_starts=starts)  # fmt: skip


def test_train_on_a_user_trajectory_file(tmp_path: Path, capsys) -> None:
    _user_file(tmp_path / "t.npz")
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "actjepa", *ACTJEPA_TINY, f"data.path={tmp_path}/t.npz",
                           "data.goal_dims=[4]", "data.probe_dims=[0,1]", "--out", out)  # fmt: skip
    assert code == 0, err
    res = json.loads((out / "results.json").read_text())
    assert "5 train / 1 held-out" in res["data"] or "4 train / 2 held-out" in res["data"]
    assert "success_rate" not in res["metrics"]  # no simulator for a user's file
    assert set(res["metrics"]["probe_rmse"]) == {"jepa", "random_init"}


def test_a_user_file_takes_no_layout_from_the_reacher_task(tmp_path: Path, capsys) -> None:
    _user_file(tmp_path / "t.npz")  # 5 observation dims; Reacher's goal dims are [4, 5]
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "actjepa", *ACTJEPA_TINY,
                           f"data.path={tmp_path}/t.npz", "--out", out)  # fmt: skip
    assert code == 0, err
    res = json.loads((out / "results.json").read_text())
    assert "goal dims [], probe dims [0, 1, 2, 3, 4]" in res["data"]
    code, _, err = run_cli(capsys, "train", "actjepa", *ACTJEPA_TINY, f"data.path={tmp_path}/t.npz",
                           "data.probe_dims=[]", "--out", tmp_path / "r2")  # fmt: skip
    assert_one_line_error(err, "needs at least one of the 5 observation dims")


def _short_heldout_file(path: Path) -> None:
    """Seed 0 holds out episodes 0 and 3: one step each, no future step to probe."""
    rng = np.random.default_rng(6)
    lengths = [1, 30, 30, 1, 30, 30, 30, 30]
    starts = np.zeros(sum(lengths), bool)
    starts[np.cumsum([0, *lengths[:-1]])] = True
    np.savez(path, obs=rng.normal(size=(sum(lengths), 5)), episode_starts=starts,
             actions=rng.normal(size=(sum(lengths), 2)))  # fmt: skip


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (_short_heldout_file, "no held-out step has a future step"),  # scored RMSE 0.000
        (lambda p: _user_file(p, nan=True), "NaN"),
        (lambda p: np.savez(p, obs=np.ones((4, 2))), "missing array"),
        (lambda p: _user_file(p, episodes=1), "2 episodes"),
        (
            lambda p: np.savez(
                p, obs=np.ones((12, 5)), actions=np.ones((12, 2)), episode_starts=np.ones(12, bool)
            ),
            "model.chunk",
        ),  # 1-step episodes
    ],
)
def test_a_bad_trajectory_file_is_one_clear_error(tmp_path: Path, make, match, capsys) -> None:
    make(tmp_path / "t.npz")
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "actjepa", *ACTJEPA_TINY, f"data.path={tmp_path}/t.npz",
                           "data.goal_dims=[4]", "data.probe_dims=[0]", "--out", out)  # fmt: skip
    assert code != 0
    assert_one_line_error(err, match)
    assert not (out / "results.json").exists()


def test_a_quick_repro_judges_every_arm(tmp_path: Path, capsys) -> None:
    out = tmp_path / "repro"
    code, _, err = run_cli(capsys, "repro", "actjepa", *ACTJEPA_TINY, "--quick", "--seeds", "2",
                           "--out", out)  # fmt: skip
    assert code == 0, err
    res = json.loads((out / "results.json").read_text())
    assert len(res["checks"]) == 5 and res["verdict"] in ("reproduced", "not reproduced", "partial")
    m = res["metrics"]
    assert m["success_gap_vs_act"]["n"] == 2 and "probe_rmse" in m["two_stage"]
    assert isinstance(m["ceiling"], bool)


def test_the_linear_probe_reads_a_linear_future_and_not_noise() -> None:
    from omnijepa.eval.future_probe import linear_future_rmse

    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 6, generator=g)
    y = (x[:, :2] * 0.5)[:, None, :].repeat(1, 3, 1)  # 3 future steps, 2 dims
    pad = torch.zeros(400, 3, dtype=torch.bool)
    pad[::7, 2] = True  # some windows end early: fitted without them, scored on real steps
    good = linear_future_rmse((x[:300], x[300:]), (y[:300], y[300:]), (pad[:300], pad[300:]))
    noise = torch.randn(400, 6, generator=g)
    bad = linear_future_rmse((noise[:300], noise[300:]), (y[:300], y[300:]),
                             (pad[:300], pad[300:]))  # fmt: skip
    assert good < 0.01 < 0.3 < bad
