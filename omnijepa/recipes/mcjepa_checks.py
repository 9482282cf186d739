"""The checks of ``omnijepa repro mcjepa``: MC-JEPA's claims, each a paired test over seeds.

- the self-supervised flow halves the zero-flow end-point error on held-out photo pairs;
- without the per-level variance-covariance term the features collapse (their std falls below
  half the default's) or the EPE worsens by >= 20%;
- joint training keeps the EPE within 10% of flow-only training (non-inferiority);
- joint training beats content-only training, and the random-init twin, on dense-probe mIoU.
"""

from __future__ import annotations

from typing import Any

from omnijepa.eval.significance import Check, beats, not_worse, paired_gap
from omnijepa.recipes.paired_checks import Runs, beats_reference, per_seed
from omnijepa.recipes.summary import aggregate

VARIANTS = [
    ("flow_only", ["objective.content=false"]),
    ("content_only", ["objective.flow=false"]),
    ("no_level_vc", ["objective.level_vc=0"]),
]
TWIN_MARGIN = 0.02  # dense mIoU points over the random-init twin


def _epe(runs: Runs) -> list[float]:
    return per_seed(runs, "epe", "jepa")


def _std(runs: Runs) -> list[float]:
    return per_seed(runs, "feature_std", "min_level")


def halves_zero_flow(default: Runs) -> Check:
    """Mean per-seed (0.5 x zero-flow EPE - EPE) > 0, paired t-test."""
    half = [0.5 * z for z in per_seed(default, "epe", "zero")]
    return beats("EPE <= 0.5 x zero-flow EPE on held-out pairs", half, _epe(default))[0]


def level_vc_matters(default: Runs, no_vc: Runs, metrics: dict[str, Any]) -> Check:
    """Passes when removing the term collapses the features (std below half the default's,
    paired) or worsens the EPE by >= 20% (paired)."""
    collapse, std_gap = beats("", [0.5 * s for s in _std(default)], _std(no_vc))
    worse, epe_gap = beats("", _epe(no_vc), [1.2 * e for e in _epe(default)])
    metrics["no_level_vc_std_vs_half_default"] = std_gap
    metrics["no_level_vc_epe_vs_1.2x_default"] = epe_gap
    outcomes = (collapse.passed, worse.passed)
    passed = True if True in outcomes else (None if None in outcomes else False)
    detail = f"collapse: {collapse.detail}; EPE +20%: {worse.detail}"
    return Check("no per-level VC: features collapse or EPE worsens >= 20%", passed, detail)


def joint_keeps_flow(default: Runs, flow_only: Runs, metrics: dict[str, Any]) -> Check:
    """Joint EPE not worse than flow-only EPE by more than 10% of the latter."""
    tol = 0.1 * sum(_epe(flow_only)) / len(flow_only)
    neg = lambda xs: [-x for x in xs]  # noqa: E731  (higher is better for not_worse)
    check, gap = not_worse(f"joint EPE within 10% of flow-only (tolerance {tol:.3f} px)",
                           neg(_epe(default)), neg(_epe(flow_only)), tol)  # fmt: skip
    metrics["gap_joint_vs_flow_only_neg_epe"] = gap
    return check


def judge_mcjepa(runs: dict[str, Runs], metrics: dict[str, Any]) -> list[Check]:
    """Every check of the repro; records the variants' figures and gaps in ``metrics``."""
    default = runs["default"]
    for name, _ in VARIANTS:
        metrics[name] = _summaries(runs[name])
    dense = per_seed(default, "dense_miou", "jepa")
    content, gap = beats("joint beats content-only on dense mIoU", dense,
                         per_seed(runs["content_only"], "dense_miou", "jepa"))  # fmt: skip
    metrics["gap_dense_joint_vs_content_only"] = gap
    metrics["gap_dense_joint_vs_flow_only"] = paired_gap(
        dense, per_seed(runs["flow_only"], "dense_miou", "jepa")
    )
    twin = beats_reference(default, "dense_miou", "random_init", TWIN_MARGIN, "dense probe")[0]
    return [
        halves_zero_flow(default),
        level_vc_matters(default, runs["no_level_vc"], metrics),
        joint_keeps_flow(default, runs["flow_only"], metrics),
        content,
        twin,
    ]


def _summaries(runs: Runs) -> dict[str, Any]:
    keep = ("epe", "dense_miou", "linear_probe", "feature_std")
    agg = aggregate(runs)
    return {k: agg[k] for k in keep if k in agg}
