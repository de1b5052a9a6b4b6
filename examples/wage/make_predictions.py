"""Build ``predictions.csv`` for the bundled wage (regression) example.

Reads the ``Wage`` data file shipped inside the PyPI package ``ISLP``
(``ISLP/data/Wage.csv``; read directly, without importing the package, which
pulls in torch). Nothing is downloaded.

Steps (all deterministic, seed 0):

1. Read the 3,000 rows. ``id`` is the 0-based row position in that file.
2. Clean the category strings: ISLP keeps R's numbered factor levels
   ("1. White", "2. Information"). The number is dropped from the unordered
   categories (race, jobclass, health, health_ins, maritl) and kept on the
   ordered ``education`` levels ("1. < HS Grad" ... "5. Advanced Degree"),
   where it makes a plain text sort follow the level order.
3. Predict ``wage`` (annual wage, thousands of US dollars) with a ridge
   regression: a cubic spline of ``age``, standardized ``year`` and one-hot
   ``education``, ``jobclass``, ``health``, ``health_ins`` and ``maritl``.
   ``race`` is not a feature; it is kept for the fairness section.
4. Every row gets an out-of-fold prediction: 5-fold cross-validation
   (shuffled, seed 0) with ``cross_val_predict``.
5. Write ``predictions.csv`` (wage and prediction rounded to 3 decimals,
   i.e. to the dollar) and print MAE, RMSE and R^2.

Usage::

    pip install --no-deps ISLP
    python examples/wage/make_predictions.py [--out DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, SplineTransformer, StandardScaler

SEED = 0
N_FOLDS = 5
DECIMALS = 3

LABEL = "wage"
PREDICTION = "predicted_wage"
UNORDERED = ["race", "jobclass", "health", "health_ins", "maritl"]
CATEGORICAL = ["education", "jobclass", "health", "health_ins", "maritl"]
# race is left out of the features on purpose; region has a single value
# ("2. Middle Atlantic"); logwage is the label in another form.
FEATURES = ["age", "year"] + CATEGORICAL
META = ["age", "education", "race", "jobclass", "health", "maritl", "year"]


def wage_csv() -> Path:
    """Locate ``ISLP/data/Wage.csv`` without importing the package."""
    spec = importlib.util.find_spec("ISLP")
    if spec is None or spec.origin is None:
        raise SystemExit(
            "The 'ISLP' package is not installed. Install its data with:\n"
            "    pip install --no-deps ISLP"
        )
    return Path(os.path.dirname(spec.origin)) / "data" / "Wage.csv"


def load_wage() -> pd.DataFrame:
    df = pd.read_csv(wage_csv())
    if df.shape != (3000, 11) or df.isna().any().any():
        raise SystemExit(f"unexpected Wage table: shape {df.shape}")
    for c in UNORDERED:
        stripped = df[c].str.replace(r"^\d+\. ", "", regex=True)
        if stripped.equals(df[c]):
            raise SystemExit(f"column {c!r} has no numbered levels to strip")
        df[c] = stripped
    df.insert(0, "id", np.arange(len(df), dtype=np.int64))
    return df


def make_model():
    encode = make_column_transformer(
        (SplineTransformer(n_knots=5, degree=3), ["age"]),
        (StandardScaler(), ["year"]),
        (OneHotEncoder(drop="first"), CATEGORICAL),
    )
    return make_pipeline(encode, Ridge(alpha=1.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent),
                        help="output directory (default: this script's folder)")
    args = parser.parse_args()

    df = load_wage()
    cv = KFold(n_splits=N_FOLDS, shuffle=True, random_state=SEED)
    predicted = cross_val_predict(make_model(), df[FEATURES], df[LABEL], cv=cv)

    out = pd.DataFrame({
        "id": df["id"].to_numpy(),
        LABEL: np.round(df[LABEL].to_numpy(), DECIMALS),
        PREDICTION: np.round(predicted, DECIMALS),
    })
    for c in META:
        out[c] = df[c].to_numpy()

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "predictions.csv"
    out.to_csv(path, index=False, float_format=f"%.{DECIMALS}f", lineterminator="\n")

    y, p = out[LABEL].to_numpy(), out[PREDICTION].to_numpy()
    residual = y - p
    print(f"rows: {len(out)}  wage mean {y.mean():.2f}  median {np.median(y):.2f} (thousand USD)")
    print(f"out-of-fold MAE:  {mean_absolute_error(y, p):.3f}")
    print(f"out-of-fold RMSE: {np.sqrt(mean_squared_error(y, p)):.3f}")
    print(f"out-of-fold R^2:  {r2_score(y, p):.4f}")
    by_race = pd.DataFrame({"race": out["race"], "abs_error": np.abs(residual),
                            "residual": residual})
    print("by race (residual = wage - predicted_wage):")
    print(by_race.groupby("race").agg(n=("residual", "size"), mae=("abs_error", "mean"),
                                      mean_residual=("residual", "mean")).round(3))
    print(f"wrote {path} ({path.stat().st_size / 1e3:.1f} kB)")


if __name__ == "__main__":
    main()
