"""omnijepa bench times the trainer's own step."""

from __future__ import annotations

from pathlib import Path

from omnijepa.recipes import RECIPES


def test_bench_times_the_trainers_step(monkeypatch, tmp_path: Path, tiny_overrides) -> None:  # noqa: ANN001
    """bench ran a plain fp32 step whatever train.precision/accum_steps said, and recorded
    them in bench.json as if used."""
    from omnijepa.recipes import bench
    from omnijepa.train import trainer

    seen = []

    def spy(model, opt, batch, step, cfg, scaler, device):  # noqa: ANN001, ANN202
        seen.append((cfg.precision, cfg.accum_steps))
        return trainer.optimizer_step(model, opt, batch, step, cfg, scaler, device)

    monkeypatch.setattr(bench, "optimizer_step", spy)
    overrides = tiny_overrides("ijepa", "train.precision=bf16", "train.accum_steps=2")
    bench.run_bench(RECIPES.get("ijepa"), overrides, tmp_path, steps=1)
    assert seen[0] == ("bf16", 2)
