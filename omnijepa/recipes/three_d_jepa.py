"""3D-JEPA (Hu, Cheng, Xie, Li, Zhu 2024; no public code): one informative context block and
several target blocks sampled in 3-D (a block = a seed patch plus its nearest patches), a
context-aware decoder that re-feeds the encoder's context at every layer, and a cosine loss
against the EMA target. Same harness and tokenizer as ``pointjepa``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omnijepa.recipes.point_common import PointJEPAConfig, PointMaskConfig, PointPredictorConfig
from omnijepa.recipes.point_repro import run_point_repro
from omnijepa.recipes.pointjepa import PointJEPARecipe


class ThreeDJEPARecipe(PointJEPARecipe):
    name = "3djepa"
    summary = "3D-JEPA: point clouds, 3-D multi-block masks, context-aware decoder (Hu 2024)"
    claim = (
        "frozen SVM accuracy beats random init by >= 10 points; context-aware decoder >= "
        "I-JEPA predictor; multi-block >= random-token masking; no collapse"
    )
    reference = {
        "scanobjectnn_pb_t50_rs": "88.65 (150 pre-training epochs)",
        "scale": "ShapeNet pre-training, ViT-S; other tables not read (see brief s.1)",
    }
    ablations = [
        ("ijepa_predictor", ["predictor.kind=mask_tokens"]),
        ("random_masking", ["mask.sampler=random_tokens"]),
    ]

    def default_config(self) -> PointJEPAConfig:
        return PointJEPAConfig(
            predictor=PointPredictorConfig(kind="context_aware"),
            mask=PointMaskConfig(sampler="point_blocks", order="none"),
            loss="cosine",
        )

    def repro(self, out: Path, seeds: int, quick: bool, overrides: list[str]) -> dict[str, Any]:
        ov = [*(self.quick_overrides() if quick else []), *overrides]
        return run_point_repro(self, out, seeds, ov, self.ablations)
