"""Checkpoints without pickle: ``model.safetensors``, ``optimizer.safetensors``, ``state.json``.

Each file is written to a temporary name and renamed into place, and ``state.json`` is written
last, so a crash mid-save leaves the previous checkpoint intact. Loading checks that the
weights match the model (names and shapes) and names the offending file otherwise.

Tensors are always stored whole: under FSDP2 the shards are gathered on save and re-sharded on
load, so a checkpoint does not depend on the strategy (single process, DDP, FSDP) or the world
size that wrote it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from omnijepa.distributed import full_tensor, shard_like
from omnijepa.errors import CheckpointError, ModelMismatchError

MODEL_FILE = "model.safetensors"
OPTIM_FILE = "optimizer.safetensors"
STATE_FILE = "state.json"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and rename (atomic on POSIX)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # unique per writing process
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def atomic_write_text(path: Path, text: str) -> None:
    """Text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode())


def _atomic_save_tensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(tmp))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # as readable as the run's other files (it was 0600)
    os.replace(tmp, path)


def model_signature(model: nn.Module) -> dict[str, list[int]]:
    """Parameter/buffer names and shapes: identifies the architecture of a checkpoint."""
    return {k: list(v.shape) for k, v in model.state_dict().items()}


def rng_state() -> dict[str, Any]:
    """RNG states of torch, numpy and random as JSON-safe values."""
    return {
        "torch": base64.b64encode(torch.get_rng_state().numpy().tobytes()).decode(),
        "numpy": [
            int(x) if not isinstance(x, np.ndarray) else x.tolist()
            for x in np.random.get_state()[1:]
        ],
        "python": repr(random.getstate()),
    }


def set_rng_state(state: Any, where: str = STATE_FILE) -> None:
    """Restore what :func:`rng_state` saved (torch and numpy; python's is best effort); a
    missing or damaged record is one CheckpointError naming ``where``."""
    try:
        raw = np.frombuffer(base64.b64decode(state["torch"]), dtype=np.uint8).copy()
        torch.set_rng_state(torch.from_numpy(raw))
        keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state(("MT19937", np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    except (KeyError, TypeError, ValueError, RuntimeError, binascii.Error):
        raise CheckpointError(
            f"{where}: its random-number state is missing or damaged, so the run cannot "
            "resume exactly (evaluate it, or start a new run)"
        ) from None


def _whole(tensors: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Every entry as a whole CPU tensor (shards gathered, one tensor at a time)."""
    out = {}
    for key, val in tensors.items():
        val = full_tensor(val.detach()) if torch.is_tensor(val) else torch.tensor(val)
        out[key] = val.cpu()
    return out


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    sd = optimizer.state_dict()
    flat = {f"{pid}.{key}": val for pid, st in sd["state"].items() for key, val in st.items()}
    return _whole(flat), {"param_groups": sd["param_groups"]}


def save_checkpoint(
    run_dir: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    state: dict[str, Any],
    write: bool = True,
) -> None:
    """Write weights, optimizer moments and ``state.json`` (step, RNG, signature, …).

    Under FSDP every rank must call it (the shards are gathered); only ``write=True`` writes.
    """
    weights = _whole(model.state_dict())
    optim = _optimizer_tensors(optimizer) if optimizer is not None else None
    if not write:
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    _atomic_save_tensors(weights, run_dir / MODEL_FILE)
    full_state = dict(state)
    full_state["signature"] = model_signature(model)
    full_state["rng"] = rng_state()
    if optim is not None:
        tensors, meta = optim
        _atomic_save_tensors(tensors or {"_empty": torch.zeros(0)}, run_dir / OPTIM_FILE)
        full_state["optimizer"] = meta
    atomic_write_text(run_dir / STATE_FILE, json.dumps(full_state, indent=1))


def read_state(run_dir: Path) -> dict[str, Any]:
    """Parse ``state.json`` or raise CheckpointError naming the file."""
    path = run_dir / STATE_FILE
    if not path.is_file():
        raise CheckpointError(f"no checkpoint in {run_dir}: {STATE_FILE} is missing")
    try:
        state = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"corrupt checkpoint state {path}: {exc}") from None
    if not isinstance(state, dict) or "step" not in state or "signature" not in state:
        raise CheckpointError(f"{path} is not an omnijepa checkpoint state")
    step = state["step"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise CheckpointError(f"{path}: step {step!r} is not a step count (an int >= 0)")
    return state


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointError(f"checkpoint file missing: {path}")
    if not os.access(path, os.R_OK):
        raise CheckpointError(f"cannot read checkpoint {path}: permission denied")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"corrupt or non-safetensors checkpoint {path}: {msg}") from None


def load_model_weights(run_dir: Path, model: nn.Module) -> dict[str, Any]:
    """Load ``model.safetensors`` into ``model`` after checking names and shapes."""
    state = read_state(run_dir)
    tensors = _load_tensors(run_dir / MODEL_FILE)
    expected = model_signature(model)
    got = {k: list(v.shape) for k, v in tensors.items()}
    if got != expected:
        missing = sorted(set(expected) - set(got))[:3]
        extra = sorted(set(got) - set(expected))[:3]
        shape = [k for k in expected if k in got and got[k] != expected[k]][:3]
        raise ModelMismatchError(
            f"checkpoint {run_dir / MODEL_FILE} does not match this model "
            f"(missing {missing}, unexpected {extra}, shape mismatch {shape})"
        )
    current = model.state_dict()
    model.load_state_dict({k: shard_like(v, current[k]) for k, v in tensors.items()})
    return state


def load_optimizer(run_dir: Path, optimizer: torch.optim.Optimizer, state: dict) -> None:
    """Restore optimizer moments and param-group settings saved by :func:`save_checkpoint`."""
    tensors = _load_tensors(run_dir / OPTIM_FILE)
    per_param: dict[int, dict[str, torch.Tensor]] = {}
    for key, val in tensors.items():
        if key == "_empty":
            continue
        pid, name = key.split(".", 1)
        per_param.setdefault(int(pid), {})[name] = val
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for pid, st in per_param.items():  # moments of sharded parameters are sharded like them
        if pid < len(params):
            st.update({k: shard_like(v, params[pid]) for k, v in st.items() if v.dim() > 0})
    try:
        optimizer.load_state_dict(
            {"state": per_param, "param_groups": state["optimizer"]["param_groups"]}
        )
    except (KeyError, ValueError) as exc:
        raise CheckpointError(f"optimizer state in {run_dir} does not fit: {exc}") from None
