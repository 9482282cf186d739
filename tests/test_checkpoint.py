"""Checkpoints: round trip, corrupt / foreign / pickled files, atomic writes."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
import torch
from torch import nn

from omnijepa.config import load_config
from omnijepa.errors import CheckpointError
from omnijepa.recipes import RECIPES
from omnijepa.recipes.ijepa import build_objective
from omnijepa.train import checkpoint as ckpt
from omnijepa.train.checkpoint import (
    MODEL_FILE,
    OPTIM_FILE,
    STATE_FILE,
    atomic_write_text,
    load_model_weights,
    load_optimizer,
    read_state,
    save_checkpoint,
    set_rng_state,
)
from omnijepa.train.optim import build_adamw


def tiny_model(seed: int = 0, width: int = 8) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, width), nn.LayerNorm(width), nn.Linear(width, 3))


def trained(model: nn.Module) -> torch.optim.Optimizer:
    """One AdamW step so that the optimizer has moments to save."""
    opt = build_adamw(model, 1e-2, 0.1)
    model(torch.randn(5, 4)).square().mean().backward()
    opt.step()
    return opt


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, nn.Module, torch.optim.Optimizer]:
    model = tiny_model()
    opt = trained(model)
    save_checkpoint(tmp_path, model, opt, {"step": 7, "finished": False, "recipe": "x"})
    return tmp_path, model, opt


def test_round_trip_restores_weights_optimizer_and_state(saved) -> None:
    run_dir, model, opt = saved
    fresh = tiny_model(seed=1)
    assert not torch.equal(fresh[0].weight, model[0].weight)
    state = load_model_weights(run_dir, fresh)
    assert state["step"] == 7 and state["finished"] is False and state["recipe"] == "x"
    for (k, a), (_, b) in zip(model.state_dict().items(), fresh.state_dict().items()):
        assert torch.equal(a, b), k
    fresh_opt = build_adamw(fresh, 1.0, 0.0)
    load_optimizer(run_dir, fresh_opt, state)
    want, got = opt.state_dict(), fresh_opt.state_dict()
    # lr, weight decay, betas, ... (JSON turns the betas tuple into a list)
    assert json.loads(json.dumps(want["param_groups"])) == got["param_groups"]
    assert want["state"].keys() == got["state"].keys()
    for pid, st in want["state"].items():
        for key, val in st.items():
            assert torch.equal(torch.as_tensor(val), torch.as_tensor(got["state"][pid][key]))


def test_state_json_records_signature_and_rng(saved) -> None:
    run_dir, model, _ = saved
    state = read_state(run_dir)
    assert state["signature"] == {k: list(v.shape) for k, v in model.state_dict().items()}
    torch.manual_seed(123)
    expected = torch.rand(4)
    torch.manual_seed(123)
    save_checkpoint(run_dir, model, None, {"step": 1})
    torch.rand(4)  # move the RNG on
    set_rng_state(read_state(run_dir)["rng"])
    assert torch.equal(torch.rand(4), expected)


def test_checkpoint_files_are_safetensors_not_pickle(saved) -> None:
    run_dir, _, _ = saved
    for name in (MODEL_FILE, OPTIM_FILE):
        raw = (run_dir / name).read_bytes()
        header_len = int.from_bytes(raw[:8], "little")  # safetensors: u64 + JSON header
        assert 0 < header_len < len(raw)
        header = json.loads(raw[8 : 8 + header_len])
        assert isinstance(header, dict) and header
        assert not raw.startswith(b"PK")  # not a torch.save zip


@pytest.mark.parametrize("damage", ["random", "truncated", "empty", "bad_header"])
def test_corrupt_weights_name_the_file(saved, damage: str) -> None:
    run_dir, _, _ = saved
    path = run_dir / MODEL_FILE
    raw = path.read_bytes()
    damaged = {
        "random": os.urandom(len(raw)),
        "truncated": raw[: len(raw) // 2],
        "empty": b"",
        "bad_header": raw[:8] + b"{not json" + raw[17:],
    }[damage]
    path.write_bytes(damaged)
    with pytest.raises(CheckpointError) as err:
        load_model_weights(run_dir, tiny_model())
    assert str(path) in str(err.value)


def test_corrupt_optimizer_file_is_a_checkpoint_error(saved) -> None:
    run_dir, model, _ = saved
    (run_dir / OPTIM_FILE).write_bytes(b"\x00" * 40)
    state = load_model_weights(run_dir, model)
    with pytest.raises(CheckpointError, match=OPTIM_FILE):
        load_optimizer(run_dir, build_adamw(model, 1e-3, 0.0), state)


def test_missing_weights_file(saved) -> None:
    run_dir, _, _ = saved
    (run_dir / MODEL_FILE).unlink()
    with pytest.raises(CheckpointError, match="missing"):
        load_model_weights(run_dir, tiny_model())


def test_different_architecture_does_not_match(tmp_path: Path, tiny_overrides) -> None:
    recipe = RECIPES.get("ijepa")
    cfg32 = load_config(recipe.default_config(), None, tiny_overrides("ijepa:vit", "model.dim=32"))
    cfg16 = load_config(recipe.default_config(), None, tiny_overrides("ijepa:vit", "model.dim=16"))
    save_checkpoint(tmp_path, build_objective(cfg32), None, {"step": 1})
    other = build_objective(cfg16)
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(CheckpointError) as err:
        load_model_weights(tmp_path, other)
    msg = str(err.value)
    assert "does not match" in msg and str(tmp_path / MODEL_FILE) in msg
    assert "shape mismatch" in msg and "encoder." in msg
    assert all(torch.equal(before[k], v) for k, v in other.state_dict().items())
    # the same architecture loads fine
    load_model_weights(tmp_path, build_objective(cfg32))


def test_missing_and_unexpected_parameters_are_reported(tmp_path: Path) -> None:
    save_checkpoint(tmp_path, nn.Sequential(nn.Linear(4, 4)), None, {"step": 1})
    with pytest.raises(CheckpointError, match="does not match") as err:
        load_model_weights(tmp_path, nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4)))
    assert "1.weight" in str(err.value)


class _WritesMarker:
    """Unpickling this object opens (creates) the marker file: a stand-in for arbitrary code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("fmt", ["pickle", "torch.save"])
def test_pickle_renamed_to_safetensors_is_rejected_unopened(saved, tmp_path: Path, fmt) -> None:
    run_dir, _, _ = saved
    # the payload is live: unpickling it really does create a file
    probe = tmp_path / "probe_marker"
    pickle.loads(pickle.dumps(_WritesMarker(probe))).close()
    assert probe.exists()

    marker = tmp_path / "pwned_marker"
    payload = {"0.weight": _WritesMarker(marker)}
    if fmt == "pickle":
        (run_dir / MODEL_FILE).write_bytes(pickle.dumps(payload))
    else:
        torch.save(payload, run_dir / MODEL_FILE)
    with pytest.raises(CheckpointError) as err:
        load_model_weights(run_dir, tiny_model())
    assert str(run_dir / MODEL_FILE) in str(err.value)
    assert not marker.exists(), "the checkpoint loader unpickled a file"


@pytest.mark.parametrize(
    "content",
    ['{"step": 3, "signa', "[1, 2, 3]", '{"rng": {}}', b"\xff\xfe\x00garbage"],
    ids=["truncated", "list", "missing_keys", "binary"],
)
def test_corrupt_state_json(saved, content) -> None:
    run_dir, _, _ = saved
    path = run_dir / STATE_FILE
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(CheckpointError) as err:
        read_state(run_dir)
    assert str(path) in str(err.value)
    with pytest.raises(CheckpointError):
        load_model_weights(run_dir, tiny_model())


def test_missing_state_json(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=STATE_FILE):
        read_state(tmp_path)


def test_save_leaves_no_temporary_files(saved) -> None:
    run_dir, model, opt = saved
    save_checkpoint(run_dir, model, opt, {"step": 8})  # overwrite an existing checkpoint
    names = sorted(p.name for p in run_dir.iterdir())
    assert names == sorted([MODEL_FILE, OPTIM_FILE, STATE_FILE])
    assert read_state(run_dir)["step"] == 8


def test_failed_atomic_write_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "results.json"
    atomic_write_text(path, "old")

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(ckpt.os, "replace", crash)
    with pytest.raises(OSError):
        atomic_write_text(path, "new")
    assert path.read_text() == "old"
    monkeypatch.undo()
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


@pytest.mark.parametrize("rng", [None, {}, {"torch": "not base64!", "numpy": [1]}, [1, 2]])
def test_a_missing_or_damaged_rng_record_is_one_checkpoint_error(rng: object) -> None:
    """A state.json with step and signature but no rng resumed into ``KeyError: 'rng'``."""
    before = torch.get_rng_state()
    with pytest.raises(CheckpointError, match="run/state.json: its random-number state"):
        ckpt.set_rng_state(rng, "run/state.json")
    assert torch.equal(torch.get_rng_state(), before)
