"""The words printed under a run's numbers: gaps to the twin and the traps of short runs."""

from __future__ import annotations

from omnijepa.eval.reading import read_run


def _sec(**values: float) -> dict:
    return {k: {"mean": v, "std": 0.0, "n": 1} for k, v in values.items()}


def test_gaps_are_listed_for_accuracy_like_sections_only() -> None:
    metrics = {
        "linear_probe": _sec(jepa=0.62, random_init=0.60, raw=0.48, chance=0.1),
        "linear_c": _sec(jepa=10.0, random_init=1e4),
        "knn": _sec(jepa=0.43, random_init=0.35),
        "epe": _sec(jepa=1.3, random_init=2.5),  # not a 0..1 score
        "probe_rmse": _sec(jepa=0.2, random_init=0.3),  # errors: lower is better
        "final_distance": _sec(jepa=0.1, random_init=0.2),
        "turn_variance_share": _sec(jepa=0.41, random_init=0.36),  # a diagnostic
        "collapse": {"rankme": {"mean": 4.0, "std": 0.0, "n": 1}},
    }
    lines = read_run(metrics, "linear_probe")
    assert lines == ["trained − random-init twin, points: linear_probe +2.0, knn +8.0"]


def test_each_trap_is_named_with_its_numbers() -> None:
    solved = {"svm": _sec(jepa=0.93, random_init=0.97, chance=0.25)}
    lines = read_run(solved, "svm")
    assert any("twin already reads 0.970 on svm (chance 0.250)" in line for line in lines)
    unsaid = read_run({"svm": _sec(jepa=0.93, random_init=0.97)}, "svm")  # no chance entry
    assert any("twin already reads 0.970 on svm: random" in line for line in unsaid)
    assert any("below its random-init twin on svm (0.930 against 0.970)" in x for x in lines)
    raw = {"linear_probe": _sec(jepa=0.83, random_init=0.82, raw=0.87, chance=0.1)}
    assert any("raw input reads 0.870" in line for line in read_run(raw, "linear_probe"))
    frozen = read_run(raw, "linear_probe", {"teacher_init_weight": 0.61})
    assert any("holds 61% of its random-init weights" in line for line in frozen)
    fine = {"linear_probe": _sec(jepa=0.70, random_init=0.60, raw=0.50, chance=0.1)}
    assert read_run(fine, "pct_1", {"teacher_init_weight": 0.001}) == [
        "trained − random-init twin, points: linear_probe +10.0"
    ]  # a missing main probe falls back to the linear one, and nothing is wrong here
