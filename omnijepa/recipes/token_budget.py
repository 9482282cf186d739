"""A guard against inputs whose token count makes full attention hopeless on the device.

Every encoder here attends over all tokens of a sample, so a step costs about N² per layer:
4,800 tokens are already 23M scores per head. On a CPU, more than ``CPU_TOKENS`` tokens per
sample would look like a hang, so it is one error with the keys that shrink the grid; on a GPU
the fused attention kernel keeps memory linear and the run goes on with a warning above it.
"""

from __future__ import annotations

import warnings

import torch

from omnijepa.errors import ConfigError

CPU_TOKENS = 8192


def check_tokens(tokens: int, device: torch.device, what: str, advice: str) -> None:
    """ConfigError on a CPU (a warning elsewhere) when a sample of ``what`` has more than
    ``CPU_TOKENS`` tokens; ``advice`` names the keys that reduce them."""
    if tokens <= CPU_TOKENS:
        return
    message = (
        f"{what} make {tokens} tokens per sample; full attention over more than {CPU_TOKENS} "
        f"is impractically slow on a {device.type.upper()} ({advice})"
    )
    if device.type == "cpu":
        raise ConfigError(message)
    warnings.warn(message, stacklevel=2)


__all__ = ["CPU_TOKENS", "check_tokens"]
