"""The checks of ``omnijepa repro sjepa`` (S-JEPA, Guetschel et al. 2024) on per-seed runs.

- the contextual encoder on a montage it never saw (positions from channel names) stays above
  chance + 10 points; its gap to the twin there is recorded;
- the controlled cross-montage test (heads fine-tuned on a few trials recorded with another
  headset): pre-trained full-pre-local beats the same head trained from scratch by >= 2 points,
  and pre-local beats contextual (both full) by >= 3 points — the paper's ranking;
- the paper's null on the mask radius: the probe moves by at most 3 points over the radii
  (its own reproduction, ``sjepa-radius``, so that each fits 10 minutes);
- real recordings (``REAL_DATA``) are their own reproduction, ``sjepa-real``
  (``recipes.sjepa_real``).
"""

from __future__ import annotations

from typing import Any

from omnijepa.eval.significance import Check, beats, paired_gap, threshold
from omnijepa.recipes.paired_checks import Runs, per_seed
from omnijepa.recipes.repro_runs import Variant
from omnijepa.recipes.summary import aggregate

REAL_DATA: list[Variant] = [
    ("scp1", ["data.name=scp1", "data.center=none"]),  # slow potentials live in the offsets
    ("eyes_open_shut", ["data.name=eyes_open_shut"]),
]
RADIUS_SPREAD = 0.03
RADIUS_VARIANTS: list[Variant] = [("radius_0.4", ["mask.radius=0.4"])]  # repro sjepa-radius
# (check, (head, encoder) that should win, (head, encoder) it beats, margin, metrics key)
HEAD_CHECKS = [
    ("cross-montage: pre-trained full-pre-local beats it from scratch by >= 0.02",
     ("pre_local_full", "jepa"), ("pre_local_full", "random_init"), 0.02,
     "heads_gap_pretrained_vs_scratch"),
    ("cross-montage: full-pre-local beats full-contextual by >= 0.03",
     ("pre_local_full", "jepa"), ("contextual_full", "jepa"), 0.03,
     "heads_gap_pre_local_vs_contextual"),
]  # fmt: skip  # the paper: "mask radius has no clear effect"


def _unseen_montage(runs: dict[str, Runs], probe: str, metrics: dict[str, Any]) -> list[Check]:
    name = "unseen montage: probe above chance + 0.10"
    if any("unseen_montage" not in r for r in runs["default"]):  # a user's data: none
        return [Check(name, None, "skipped: only the generated task has an unseen montage")]
    acc = per_seed(runs["default"], "unseen_montage", probe, "jepa")
    chance = per_seed(runs["default"], "unseen_montage", probe, "chance")
    twin = per_seed(runs["default"], "unseen_montage", probe, "random_init")
    metrics["unseen_montage_gap_vs_random_init"] = paired_gap(acc, twin)  # reported
    mean, floor = sum(acc) / len(acc), sum(chance) / len(chance) + 0.10
    return [threshold(name, mean, ">", floor, "probe")]


def _heads(runs: Runs, metrics: dict[str, Any]) -> list[Check]:
    if "heads" not in runs[0]:
        return []
    heads = runs[0]["heads"]
    metrics["heads"] = {h: aggregate([r["heads"][h] for r in runs]) for h in heads}
    checks = []
    for label, better, worse, margin, key in HEAD_CHECKS:
        if {better[0], worse[0]} <= set(heads):
            check, gap = beats(label, per_seed(runs, "heads", *better),
                               per_seed(runs, "heads", *worse), margin)  # fmt: skip
            checks.append(check)
            metrics[key] = gap
    return checks


def radius_checks(runs: dict[str, Runs], probe: str, metrics: dict[str, Any]) -> list[Check]:
    """The paper's null on the radius: the probe's spread over the radii run (the default and
    every ``radius_*`` arm) stays below ``RADIUS_SPREAD``; each arm's gap recorded."""
    arms = {"default": runs["default"]} | {n: r for n, r in runs.items() if n.startswith("radius")}
    if len(arms) < 2:
        return []
    means = {n: sum(per_seed(r, probe, "jepa")) / len(r) for n, r in arms.items()}
    metrics["radius_probe"] = means
    for name in arms:
        if name != "default":
            metrics[f"gap_vs_{name}"] = paired_gap(
                per_seed(runs["default"], probe, "jepa"), per_seed(runs[name], probe, "jepa")
            )
    spread = max(means.values()) - min(means.values())
    return [threshold("mask radius has no clear effect: probe spread over radii < 0.03",
                      spread, "<", RADIUS_SPREAD, "max - min")]  # fmt: skip


def judge_sjepa(
    runs: dict[str, Runs], variants: list[Variant], probe: str, metrics: dict[str, Any]
) -> list[Check]:
    """All checks of the module docstring; every variant's probe and gap recorded."""
    checks = _unseen_montage(runs, probe, metrics)
    checks += _heads(runs["default"], metrics)
    checks += radius_checks(runs, probe, metrics)
    for name, _ in variants:
        metrics[f"{name}_{probe}"] = aggregate(runs[name])[probe]
    return checks


__all__ = ["RADIUS_VARIANTS", "REAL_DATA", "judge_sjepa", "radius_checks"]
