"""Training settings a user may type: each bad one is one clear error naming its key, found
before any work, and a new run that fails before its first checkpoint leaves no folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnijepa.errors import OmniJepaError
from omnijepa.train.config import TrainConfig
from omnijepa.train.trainer import resolve_device
from tests.conftest import tiny
from tests.test_cli import assert_one_line_error, run_cli


@pytest.mark.parametrize(
    ("name", "match"),
    [("mps", "not supported"), ("garbage", "unknown device"), ("cuda:7", "cuda:7")],
)
def test_unusable_devices_are_refused_by_name(name: str, match: str) -> None:
    with pytest.raises(OmniJepaError, match=match):
        resolve_device(name)
    assert resolve_device("cpu").type == "cpu"


def test_bare_cuda_is_this_ranks_own_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under torchrun a bare ``device=cuda`` (or ``auto``) is ``cuda:$LOCAL_RANK``, made
    current; otherwise every rank of a node would train on GPU 0. CUDA is faked here."""
    import torch

    chosen: list[int] = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_device", chosen.append)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert resolve_device("cuda") == torch.device("cuda", 1)
    assert resolve_device("auto") == torch.device("cuda", 1)
    assert resolve_device("cuda:0") == torch.device("cuda", 0)  # an explicit index wins
    assert chosen == [1, 1, 0]
    monkeypatch.setenv("LOCAL_RANK", "2")
    with pytest.raises(OmniJepaError, match="LOCAL_RANK 2 needs GPU 2 but this machine has 2"):
        resolve_device("cuda")
    monkeypatch.setenv("LOCAL_RANK", "two")
    with pytest.raises(OmniJepaError, match="LOCAL_RANK='two' is not an integer"):
        resolve_device("cuda")
    monkeypatch.delenv("LOCAL_RANK")
    assert resolve_device("cuda") == torch.device("cuda", 0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"batch_size": 8, "accum_steps": 8}, "micro-batches of under 2"),
        ({"stop_at": -1}, "train.stop_at must be >= 0"),
        ({"probe_every": -5}, "train.probe_every must be >= 0"),
        ({"checkpoint_every": -1}, "train.checkpoint_every"),
        ({"clip_grad": -1.0}, "train.clip_grad"),
        ({"log_every": 0}, "train.log_every must be >= 1, got 0"),
        ({"num_workers": -2}, "train.num_workers must be >= -1"),
    ],
)
def test_bad_train_settings_name_their_key(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        TrainConfig(**kwargs)
    if "log_every" in kwargs:
        assert "num_workers" not in str(info.value)  # only the setting that is wrong
    TrainConfig(batch_size=8, accum_steps=4)  # micro-batches of 2 are fine


@pytest.mark.parametrize(
    ("variant", "extra", "match"),
    [
        ("ijepa:vit", "ema.target_layers=99", "ema.target_layers=99"),  # was a traceback
        ("ijepa", "ema.target_layers=2", "no stack of blocks"),  # the conv net has none
        ("ijepa:vit", "eval.layers=99", "eval.layers=99"),  # so was this, at the step-0 probe
        ("ijepa", "eval.layers=2", "eval.layers=2"),
        ("ijepa:vit", "model.patch=16", "model.patch"),  # a 1x1 grid: the error names it
        ("ijepa", "train.batch_size=200", "train.batch_size=200"),  # fails inside the trainer
    ],
)
def test_a_run_that_cannot_start_leaves_no_folder(tmp_path: Path, capsys, variant: str,
                                                  extra: str, match: str) -> None:  # fmt: skip
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "ijepa", *tiny(variant, extra), "--out", str(out))
    assert code != 0
    assert_one_line_error(err, match)
    assert not out.exists()


def test_adamw_is_fused_where_torch_allows_and_steps_like_the_default() -> None:
    import torch
    from torch import nn

    from omnijepa.train.optim import build_adamw, fusable

    torch.manual_seed(0)
    a, b = nn.Linear(8, 4), nn.Linear(8, 4)
    b.load_state_dict(a.state_dict())
    fused = build_adamw(a, 1e-2, 0.04)
    plain = torch.optim.AdamW([{"params": [b.weight], "weight_decay": 0.04},
                               {"params": [b.bias], "weight_decay": 0.0}], lr=1e-2)  # fmt: skip
    assert fused.defaults.get("fused") is True
    for _ in range(3):
        for model, opt in ((a, fused), (b, plain)):
            opt.zero_grad()
            model(torch.ones(2, 8)).square().sum().backward()
            opt.step()
    torch.testing.assert_close(a.weight, b.weight)
    assert not fusable([]) and not fusable([torch.zeros(2, dtype=torch.int64)])


def test_tokenizer_lr_scale_puts_the_tokenizer_in_groups_whose_lr_is_scaled() -> None:
    from torch import nn

    from omnijepa.train.config import TrainConfig
    from omnijepa.train.optim import build_adamw
    from omnijepa.train.trainer import _set_schedules

    model = nn.Module()
    model.encoder = nn.Module()
    model.encoder.tokenizer = nn.Linear(4, 8)
    model.encoder.head = nn.Linear(8, 2)
    same = build_adamw(model, 1e-3, 0.04)
    assert len(same.param_groups) == 2  # scale 1: the grouping of before
    opt = build_adamw(model, 1e-3, 0.04, tokenizer_lr_scale=10.0)
    ids = [{id(p) for p in g["params"]} for g in opt.param_groups]
    tok = {id(model.encoder.tokenizer.weight), id(model.encoder.tokenizer.bias)}
    assert ids[0] == {id(model.encoder.head.weight)} and ids[1] == {id(model.encoder.head.bias)}
    assert set().union(*ids[2:]) == tok
    cfg = TrainConfig(steps=10, warmup=0.0, lr_schedule="cosine")
    lr, _ = _set_schedules(opt, cfg, 0)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([lr, lr, 10 * lr, 10 * lr])
    assert [g["weight_decay"] > 0 for g in opt.param_groups] == [True, False, True, False]
    with pytest.raises(ValueError, match="tokenizer_lr_scale"):
        TrainConfig(tokenizer_lr_scale=0.0)


@pytest.mark.parametrize(
    ("extra", "match"),
    [("views.num_global=1 views.num_local=0", "nothing to compare"),
     ("objective.num_slices=0", "objective.num_slices"),
     ("views.local_size=64", "views.local_size=64")],  # larger than the global views
)  # fmt: skip
def test_lejepa_settings_that_cannot_work_are_refused(tmp_path: Path, capsys, extra: str,
                                                      match: str) -> None:  # fmt: skip
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "lejepa", *tiny("lejepa", *extra.split()),
                           "--out", str(out))  # fmt: skip
    assert code == 2
    assert_one_line_error(err, match)


def test_warnings_are_one_line_each_and_said_once(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """The evaluation's thin-split warnings used to repeat for every feature set, each with a
    Python source line under it."""
    args = tiny("ijepa", "eval.max_train=5", "eval.knn_k=50")
    code, _, err = run_cli(capsys, "train", "ijepa", *args, "--out", str(tmp_path / "run"))
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.strip()]
    warned = [line for line in lines if "warning" in line]
    assert any("eval.knn_k" in line for line in warned), err
    assert all(line.startswith(("omnijepa: warning: ", "warning (")) for line in warned)
    assert len(warned) == len(set(warned))
    assert not any(line.startswith("  ") for line in lines)  # no source lines


def test_resume_refuses_a_config_file_or_another_out(
    capsys, finished_run: Path, tmp_path: Path
) -> None:  # noqa: ANN001
    """Both used to be ignored without a word."""
    for extra in (["--config", "ijepa_vitb16_in1k"], ["--out", str(tmp_path / "other")]):
        code, _, err = run_cli(capsys, "train", "--resume", finished_run, *extra)
        assert code == 2
        assert_one_line_error(err, extra[0])


def test_repro_that_cannot_start_leaves_no_folder(capsys, tmp_path: Path) -> None:
    smoke = ["device=cpu", "data.name=canvas_digits", "data.image_size=16", "train.progress=false"]
    out = tmp_path / "fresh"
    code, _, err = run_cli(capsys, "repro", "ijepa", *smoke, "train.batch_size=100000",
                           "--quick", "--seeds", "1", "--out", out)  # fmt: skip
    assert code == 2 and "train.batch_size=100000" in err
    assert not out.exists()


def test_repro_refuses_a_train_run_or_another_repro(
    capsys,
    finished_run: Path,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    """Both used to be overwritten without a word."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "results.json").write_text('{"name": "ijepa", "verdict": "partial"}')
    for out, match in ((finished_run, "holds a train run"), (other, "'ijepa' reproduction")):
        kept = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
        code, _, err = run_cli(capsys, "repro", "sjepa", "--quick", "--seeds", "1",
                               "--out", str(out))  # fmt: skip
        assert code == 2
        assert_one_line_error(err, match)
        assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == kept


def test_report_names_a_missing_folder_and_a_hand_edited_file(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    code, _, err = run_cli(capsys, "report", str(tmp_path / "nope"))
    assert code == 2 and "does not exist" in err
    (tmp_path / "r").mkdir()
    text = '{"name": "x", "verdict": "partial", "checks": null}'
    (tmp_path / "r" / "results.json").write_text(text)
    code, _, err = run_cli(capsys, "report", str(tmp_path / "r"))
    assert code == 2
    assert_one_line_error(err, "not a mapping")
