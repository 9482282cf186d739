"""The printed summary of a run holds whatever the recipe measured."""

from __future__ import annotations

from omnijepa.recipes.summary import metric_lines


def _s(mean: float) -> dict:
    return {"mean": mean, "std": 0.0, "n": 1}


def test_every_measured_section_is_printed_and_nested_ones_are_prefixed() -> None:
    metrics = {
        "linear_probe": {"jepa": _s(0.5), "random_init": _s(0.4)},
        "linear_c": {"jepa": _s(100.0)},
        "svm": {"jepa": _s(0.9), "random_init": _s(0.95)},
        "success_rate": {"jepa": _s(0.25)},
        "best_unimodal": _s(0.6),
        "heads": {"pre_local_full": {"jepa": _s(0.7), "random_init": _s(0.6)}},
        "projection": {"collapse": {"rankme": _s(9.0)}},
        "collapse": {"feature_std": _s(0.1), "rankme": _s(3.0), "rankme_ratio": _s(0.1)},
        "note": "text is not a metric",
    }
    assert metric_lines(metrics) == [
        "linear_probe: jepa 0.500, random_init 0.400",
        "svm: jepa 0.900, random_init 0.950",
        "success_rate: jepa 0.250",
        "best_unimodal: 0.600",
        "heads/pre_local_full: jepa 0.700, random_init 0.600",
        "projection/collapse: rankme 9.000",  # only the top-level one has its own line
    ]
