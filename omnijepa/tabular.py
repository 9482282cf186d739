"""T-JEPA as a scikit-learn transformer: ``make_pipeline(TJEPA(), LogisticRegression())``.

``TJEPA.fit(X)`` types and encodes the columns of ``X`` (a NumPy array or a pandas DataFrame,
strings, categories and NaN allowed in DataFrames), trains a T-JEPA model (recipe ``tjepa``,
self-supervised: ``y`` is ignored) and keeps its EMA target encoder. ``transform(X)`` encodes
``X`` with the same fitted statistics and returns the encoder's output tokens per row,
flattened (``representation="flatten"``, ``n_features * dim`` columns) or averaged
(``"mean"``, ``dim`` columns).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from omnijepa.config import apply_dict
from omnijepa.data.table_encoding import TableEncoder
from omnijepa.data.tabular_data import TabularData, TabularSplit

__all__ = ["TJEPA"]

REPRESENTATIONS = ("flatten", "mean")

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn

    def _validate_data(estimator: Any, X: Any, **kwargs: Any) -> Any:
        return estimator._validate_data(X, **kwargs)


def _is_dataframe(X: Any) -> bool:
    return isinstance(X, pd.DataFrame)


class TJEPA(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Self-supervised T-JEPA table encoder (Thimonier et al., ICLR 2025) as a transformer.

    Parameters
    ----------
    steps, batch_size, lr : training length, rows per step (clipped to the number of rows),
        peak learning rate.
    dim, depth, heads, reg_tokens : encoder width, blocks, attention heads, regularization
        tokens (0 = the paper's ablation).
    predictor_dim, predictor_depth : the predictor's width and blocks.
    representation : ``"flatten"`` (all column tokens, ``n_features * dim`` outputs) or
        ``"mean"`` (their mean, ``dim`` outputs).
    categorical : columns forced categorical (names for DataFrames, or positions).
    max_categories : integer columns with at most this many distinct values are categorical.
    random_state : int (or None / RandomState) seeding weights, data order and masks.
    device : ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
    verbose : print training progress.
    """

    def __init__(
        self,
        *,
        steps: int = 300,
        batch_size: int = 128,
        lr: float = 1e-3,
        dim: int = 64,
        depth: int = 4,
        heads: int = 2,
        reg_tokens: int = 1,
        predictor_dim: int = 32,
        predictor_depth: int = 2,
        representation: str = "flatten",
        categorical: list | None = None,
        max_categories: int = 32,
        random_state: Any = 0,
        device: str = "cpu",
        verbose: bool = False,
    ) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.dim = dim
        self.depth = depth
        self.heads = heads
        self.reg_tokens = reg_tokens
        self.predictor_dim = predictor_dim
        self.predictor_depth = predictor_depth
        self.representation = representation
        self.categorical = categorical
        self.max_categories = max_categories
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def __sklearn_tags__(self):  # noqa: ANN204 - sklearn.utils.Tags (sklearn >= 1.6)
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN = missing, embedded by a learned token
        tags.input_tags.categorical = True
        tags.input_tags.string = True  # string columns (in DataFrames) are categorical
        return tags

    # ---- input handling -------------------------------------------------------------------

    def _check_input(self, X: Any, reset: bool) -> pd.DataFrame:
        """Validated ``X`` as a DataFrame (positional columns); sets/checks n_features_in_."""
        if _is_dataframe(X):
            _validate_data(self, X, reset=reset, skip_check_array=True)
            if X.shape[0] < 2 and reset:
                raise ValueError(
                    f"Found array with {X.shape[0]} sample(s) (shape={X.shape}) while a "
                    "minimum of 2 is required by TJEPA."
                )
            if X.shape[0] < 1:
                raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}).")
            if X.shape[1] < 2 and reset:
                raise ValueError(
                    f"Found array with {X.shape[1]} feature(s) (shape={X.shape}) while a "
                    "minimum of 2 is required by TJEPA (its masks split the columns into "
                    "context and targets)."
                )
            for name in X.columns:
                col = X[name]
                if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
                    values = col.to_numpy(dtype=np.float64, na_value=np.nan)
                    if np.isinf(values).any():
                        raise ValueError(f"Input X contains infinity in column {name!r}.")
            frame = X.reset_index(drop=True)
            frame.columns = range(X.shape[1])
            return frame
        arr = _validate_data(
            self,
            X,
            reset=reset,
            dtype=None,
            ensure_all_finite="allow-nan",
            ensure_min_samples=2 if reset else 1,
            ensure_min_features=2 if reset else 1,
        )
        if arr.dtype.kind == "O":
            return pd.DataFrame(arr).infer_objects()
        return pd.DataFrame(arr)

    def _forced_positions(self, X: Any) -> list[int]:
        if self.categorical is None:
            return []
        names = [str(c) for c in X.columns] if _is_dataframe(X) else []
        out = []
        for c in self.categorical:
            if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
                if not 0 <= int(c) < X.shape[1]:
                    raise ValueError(f"categorical position {c} out of range for {X.shape[1]}")
                out.append(int(c))
            elif str(c) in names:
                out.append(names.index(str(c)))
            else:
                raise ValueError(f"categorical names unknown column {c!r}; columns: {names}")
        return out

    def _seed(self) -> int:
        rs = self.random_state
        if isinstance(rs, (int, np.integer)) and not isinstance(rs, bool):
            return int(rs) % (2**31)
        return int(check_random_state(rs).randint(0, 2**31 - 1))

    # ---- fit / transform ------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None) -> TJEPA:
        """Fit the column encoding on ``X`` and train T-JEPA on it (``y`` is ignored)."""
        from omnijepa.masks.collator import MaskCollator
        from omnijepa.masks.feature_subsets import FeatureSubsetMaskSampler
        from omnijepa.recipes.tjepa import TabularTensorDataset, TJEPAConfig, build_objective
        from omnijepa.train.trainer import TrainParts, resolve_device, train

        if self.representation not in REPRESENTATIONS:
            raise ValueError(
                f"representation must be one of {REPRESENTATIONS}, got {self.representation!r}"
            )
        forced = self._forced_positions(X)
        frame = self._check_input(X, reset=True)
        n, f = frame.shape
        encoder = TableEncoder(self.max_categories, forced).fit(frame)
        x = torch.from_numpy(encoder.transform(frame))
        seed = self._seed()
        cfg = apply_dict(
            TJEPAConfig(),
            {
                "seed": seed,
                "device": self.device,
                "model": {
                    "dim": self.dim,
                    "depth": self.depth,
                    "heads": self.heads,
                    "reg_tokens": self.reg_tokens,
                },
                "predictor": {"dim": self.predictor_dim, "depth": self.predictor_depth},
                "train": {
                    "steps": self.steps,
                    "batch_size": max(2, min(int(self.batch_size), n)),
                    "lr": self.lr,
                    "start_lr": min(1e-4, float(self.lr)),
                    "progress": bool(self.verbose),
                },
                "eval": {"representation": self.representation},
            },
        )
        split = TabularSplit(x, torch.zeros(n, dtype=torch.int64))
        empty = TabularSplit(x[:0], torch.zeros(0, dtype=torch.int64))
        data = TabularData(
            train=split,
            val=empty,
            test=empty,
            feature_names=[str(j) for j in range(f)],
            categorical=encoder.categorical,
            cardinalities=encoder.cardinalities,
            task="classification",
            classes=[],
            target_name="",
            target_scale=(0.0, 1.0),
            source="TJEPA.fit",
        )
        device = resolve_device(self.device)
        # Keep the caller's global RNG untouched: build_objective and train reseed it.
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            objective = build_objective(cfg, data)
            sampler = FeatureSubsetMaskSampler((f,), cfg.mask)
            parts = TrainParts(objective, TabularTensorDataset(split), MaskCollator(sampler, seed))
            with tempfile.TemporaryDirectory(prefix="tjepa-") as run_dir:
                train(parts, cfg.train, seed, device, Path(run_dir))
        self.encoding_ = encoder
        self.encoder_ = objective.eval_encoder().eval()
        self.device_ = device
        self._n_features_out = int(self._encode(x[:1]).shape[1])
        return self

    @torch.no_grad()
    def _encode(self, x: torch.Tensor, batch: int = 1024) -> np.ndarray:
        outs = []
        for i in range(0, x.shape[0], batch):
            z = self.encoder_(x[i : i + batch].to(self.device_))
            z = z.flatten(1) if self.representation == "flatten" else z.mean(dim=1)
            outs.append(z.double().cpu().numpy())
        return np.concatenate(outs) if outs else np.zeros((0, self._n_features_out))

    def transform(self, X: Any) -> np.ndarray:
        """Frozen T-JEPA representation of every row: float64 ``(n_samples, n_features_out)``."""
        check_is_fitted(self, "encoder_")
        frame = self._check_input(X, reset=False)
        x = torch.from_numpy(self.encoding_.transform(frame))
        return self._encode(x)
