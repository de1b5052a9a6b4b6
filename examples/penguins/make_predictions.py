"""Build ``predictions.csv`` for the bundled penguins (multiclass) example.

Reads the Palmer penguins data file shipped inside the PyPI package
``palmerpenguins`` (``palmerpenguins/data/penguins.csv``; read directly, so
nothing is downloaded and the package's own loader is not needed).

Steps (all deterministic, seed 0):

1. Read the 344 penguins. ``id`` is the 0-based row position in that file.
   Drop the 11 rows with a missing measurement or sex, leaving 333.
2. Predict ``species`` (Adelie, Chinstrap, Gentoo) with a multinomial
   logistic regression on standardized ``bill_depth_mm``,
   ``flipper_length_mm`` and ``body_mass_g``. The feature set is limited on
   purpose: without ``bill_length_mm`` (and without ``island``) Adelie and
   Chinstrap penguins overlap, so the model makes realistic mistakes.
3. Every row gets an out-of-fold prediction: 5-fold stratified
   cross-validation (shuffled, seed 0) with ``cross_val_predict``.
4. Round the class probabilities to 6 decimals so that each row still sums
   to 1 (see ``rounded_probabilities``), take the argmax as ``predicted``,
   write ``predictions.csv`` and print accuracy, top-2 accuracy and log loss.

Usage::

    pip install palmerpenguins
    python examples/penguins/make_predictions.py [--out DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, log_loss
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = 0
N_FOLDS = 5
DECIMALS = 6

LABEL = "species"
CLASSES = ["Adelie", "Chinstrap", "Gentoo"]
# bill_length_mm is left out on purpose (it is what separates Adelie from
# Chinstrap), and so are island and sex: they are evaluation factors here.
FEATURES = ["bill_depth_mm", "flipper_length_mm", "body_mass_g"]
META = ["island", "sex", "body_mass_g", "year"]


def penguins_csv() -> Path:
    """Locate ``palmerpenguins/data/penguins.csv``."""
    spec = importlib.util.find_spec("palmerpenguins")
    if spec is None or spec.origin is None:
        raise SystemExit(
            "The 'palmerpenguins' package is not installed. Install it with:\n"
            "    pip install palmerpenguins"
        )
    return Path(os.path.dirname(spec.origin)) / "data" / "penguins.csv"


def load_penguins() -> pd.DataFrame:
    df = pd.read_csv(penguins_csv(), na_values=["NA"], keep_default_na=False)
    if len(df) != 344:
        raise SystemExit(f"unexpected row count {len(df)}, expected 344")
    if sorted(df[LABEL].unique()) != CLASSES:
        raise SystemExit(f"unexpected species: {sorted(df[LABEL].unique())}")
    df.insert(0, "id", np.arange(len(df), dtype=np.int64))
    df = df.dropna(subset=FEATURES + META).reset_index(drop=True)
    df["body_mass_g"] = df["body_mass_g"].astype(np.int64)
    return df


def rounded_probabilities(proba: np.ndarray, decimals: int) -> np.ndarray:
    """Round each row to `decimals` places, keeping the row sum at 1.

    Every entry but the row's largest is rounded; the largest becomes one
    minus the sum of the others. It is at least 1/3 before rounding, so it
    stays inside [0, 1].
    """
    out = np.round(proba, decimals)
    rows = np.arange(len(out))
    top = proba.argmax(axis=1)
    out[rows, top] = 0.0
    out[rows, top] = np.round(1.0 - out.sum(axis=1), decimals)
    if (out < 0).any() or (out > 1).any():
        raise SystemExit("rounded probabilities left [0, 1]")
    if np.abs(out.sum(axis=1) - 1.0).max() > 1e-9:
        raise SystemExit("rounded probabilities do not sum to 1")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent),
                        help="output directory (default: this script's folder)")
    args = parser.parse_args()

    df = load_penguins()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    cv = StratifiedKFold(n_splits=N_FOLDS, shuffle=True, random_state=SEED)
    raw = cross_val_predict(model, df[FEATURES], df[LABEL], cv=cv,
                            method="predict_proba")
    # cross_val_predict orders the columns by the sorted class labels.
    proba = rounded_probabilities(raw, DECIMALS)
    top2 = np.sort(proba, axis=1)[:, -2:]
    if (top2[:, 0] == top2[:, 1]).any():
        raise SystemExit("tied top probabilities after rounding")
    predicted = np.asarray(CLASSES)[proba.argmax(axis=1)]
    y = df[LABEL].to_numpy()

    out = pd.DataFrame({"id": df["id"].to_numpy(), LABEL: y, "predicted": predicted})
    for k, c in enumerate(CLASSES):
        out[f"p_{c}"] = proba[:, k]
    for c in META:
        out[c] = df[c].to_numpy()

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "predictions.csv"
    out.to_csv(path, index=False, float_format=f"%.{DECIMALS}f", lineterminator="\n")

    label_index = np.searchsorted(CLASSES, y)
    in_top2 = (proba > proba[np.arange(len(y)), label_index][:, None]).sum(axis=1) < 2
    print(f"rows: {len(out)}  classes: {out[LABEL].value_counts().sort_index().to_dict()}")
    print(f"out-of-fold accuracy:       {accuracy_score(y, predicted):.4f}")
    print(f"out-of-fold top-2 accuracy: {in_top2.mean():.4f}")
    print(f"out-of-fold log loss:       {log_loss(y, proba, labels=CLASSES):.4f}")
    print("confusion matrix (rows: true, columns: predicted; "
          + ", ".join(CLASSES) + "):")
    print(confusion_matrix(y, predicted, labels=CLASSES))
    print(f"wrote {path} ({path.stat().st_size / 1e3:.1f} kB)")


if __name__ == "__main__":
    main()
