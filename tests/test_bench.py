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
    res = bench.run_bench(RECIPES.get("ijepa"), overrides, tmp_path, steps=1)
    assert seen[0] == ("bf16", 2)
    # MFU against the bf16 matmul rate, or the float32 units' where bf16 is only emulated
    assert res["matmul_dtype"] == ("float32" if res["precision_emulated"] else "bfloat16")


def test_bench_counts_the_flops_of_attention(tmp_path: Path, tiny_overrides) -> None:
    """torch's FLOP counter has no formula for the CPU flash kernel: attention counted as free,
    so float32 and bf16 runs of one model reported different FLOPs per sample."""
    from omnijepa.recipes import bench

    flops = [
        bench.run_bench(RECIPES.get("ijepa"), tiny_overrides("ijepa", f"train.precision={p}"),
                        tmp_path / p, steps=1)["flops_per_sample"]
        for p in ("fp32", "bf16")
    ]  # fmt: skip
    assert flops[0] == flops[1] > 0


def test_bench_counts_flops_on_the_batches_it_times(
    monkeypatch,  # noqa: ANN001
    tmp_path: Path,
    tiny_overrides,  # noqa: ANN001
) -> None:
    """FLOPs came from one warm-up batch while other batches were timed; a mask draw changes a
    step's work by up to 15 %, so MFU described a batch that was never timed."""
    from omnijepa.recipes import bench
    from omnijepa.train import trainer

    order = []

    def spy(model, opt, batch, step, cfg, scaler, device):  # noqa: ANN001, ANN202
        order.append(id(batch))
        return trainer.optimizer_step(model, opt, batch, step, cfg, scaler, device)

    monkeypatch.setattr(bench, "optimizer_step", spy)
    bench.run_bench(RECIPES.get("ijepa"), tiny_overrides("ijepa"), tmp_path, steps=3)
    counted, warm, timed = order[:3], order[3], order[4:]
    assert timed == counted and len(set(timed)) == 3 and warm == counted[0]
