"""The scikit-learn T-JEPA transformer: sklearn's estimator checks, pipelines, DataFrames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from omnijepa.tabular import TJEPA

FAST = {"steps": 3, "dim": 8, "depth": 1, "heads": 2, "batch_size": 16, "predictor_dim": 8}


@parametrize_with_checks([TJEPA(steps=2, dim=8, depth=1, heads=2, batch_size=8)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _frame(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    num = rng.normal(size=n)
    num[::7] = np.nan
    city = rng.choice(["paris", "lyon", "nice"], size=n).astype(object)
    city[3] = None
    return pd.DataFrame(
        {
            "num": num,
            "count": rng.integers(0, 5, size=n),
            "city": city,
            "level": pd.Categorical(rng.choice(["lo", "hi"], size=n)),
            "big": rng.integers(0, 10_000, size=n),
        }
    )


def test_pipeline_on_breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X, y = X[:200], y[:200]
    pipe = make_pipeline(TJEPA(**FAST), LogisticRegression(max_iter=200))
    pipe.fit(X, y)
    score = pipe.score(X, y)
    assert 0.0 <= score <= 1.0
    assert pipe[0].transform(X).shape == (200, 30 * 8)


def test_clone_and_params_round_trip():
    est = TJEPA(steps=7, dim=16, categorical=["city"], representation="mean", random_state=3)
    params = est.get_params()
    assert params["steps"] == 7 and params["categorical"] == ["city"]
    twin = clone(est)
    assert twin.get_params() == params and twin is not est
    twin.set_params(steps=9, lr=5e-4)
    assert twin.steps == 9 and twin.lr == 5e-4 and est.steps == 7


def test_dataframe_with_strings_nans_and_categories():
    df = _frame()
    est = TJEPA(**FAST, categorical=["big"]).fit(df)
    assert est.n_features_in_ == 5
    assert list(est.feature_names_in_) == list(df.columns)
    assert est.encoding_.categorical == [1, 2, 3, 4]
    z = est.transform(df)
    assert z.shape == (40, 5 * 8) and z.dtype == np.float64
    assert np.isfinite(z).all()
    unseen = df.copy()
    unseen.loc[0, "city"] = "marseille"  # unseen category -> missing, still finite
    assert np.isfinite(est.transform(unseen)).all()
    assert len(est.get_feature_names_out()) == 5 * 8


def test_mean_representation_shape():
    X = np.random.default_rng(0).normal(size=(30, 4))
    z = TJEPA(**FAST, representation="mean").fit(X).transform(X)
    assert z.shape == (30, 8)


def test_wrong_column_count_raises():
    X = np.random.default_rng(0).normal(size=(30, 4))
    est = TJEPA(**FAST).fit(X)
    with pytest.raises(ValueError, match="4 features"):
        est.transform(X[:, :3])
    with pytest.raises(ValueError, match="4"):
        est.transform(np.hstack([X, X[:, :1]]))


def test_one_feature_raises_clearly():
    with pytest.raises(ValueError, match="1 feature"):
        TJEPA(**FAST).fit(np.arange(20.0).reshape(-1, 1))


def test_bad_representation_raises():
    X = np.random.default_rng(0).normal(size=(30, 4))
    with pytest.raises(ValueError, match="representation"):
        TJEPA(**FAST, representation="max").fit(X)


def test_deterministic_under_random_state():
    df = _frame()
    a = TJEPA(**FAST, random_state=5).fit(df).transform(df)
    b = TJEPA(**FAST, random_state=5).fit(df).transform(df)
    c = TJEPA(**FAST, random_state=6).fit(df).transform(df)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize(
    "name",
    [
        "check_dataframe_column_names_consistency",
        "check_transformer_get_feature_names_out",
        "check_transformer_get_feature_names_out_pandas",
        "check_set_output_transform",
    ],
)
def test_sklearn_pandas_checks(name):
    """Checks parametrize_with_checks does not yield (they need pandas): names and set_output."""
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, name)(name, TJEPA(steps=2, dim=8, depth=1, heads=2, batch_size=8))
