"""The fitted model a config names (`[model] artifact`), loaded without running code the user has not trusted.

A .skops file is read by skops' secure loader, which builds only the types skops trusts (scikit-learn's
estimators, numpy arrays, ...) and those the user lists in `[model] trusted`: any other type the file needs is
refused, and listed by name, before anything is built. A pickle (.pkl, .pickle, .joblib) runs whatever code it
holds while it loads, so it is read only with `[model] allow_pickle = true`, and the card says so.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from reportgen.config import ModelSection
from reportgen.errors import InputError, quoted_list, shown

SKOPS = (".skops",)
PICKLES = (".pkl", ".pickle", ".joblib")


@dataclass(frozen=True)
class LoadedModel:
    """A fitted model and how it was loaded.

    Attributes
    ----------
    model : object
        The estimator (it has ``predict``).
    source : str
        The artifact as the config names it.
    loader : str
        "skops" (the secure loader), "pickle" (`[model] allow_pickle`) or "memory" (given to `reportgen.evaluate`).
    trusted : list of str
        The types beyond skops' own that the file needed and `[model] trusted` allowed (skops only).
    features : list of str
        The model's input columns, in its order.
    versions : tuple of str, optional
        (the scikit-learn that saved it, the one that loaded it) where they differ; None where they agree.
    """

    model: object
    source: str
    loader: str
    trusted: list[str]
    features: list[str]
    versions: tuple[str, str] | None = None

    @property
    def warnings(self) -> list[str]:
        """What the card says of a pickled model, and of one saved by another scikit-learn."""
        found = []
        if self.loader == "pickle":
            found.append(f'The model "{self.source}" was loaded from a pickle ([model] allow_pickle = true), which '
                         "runs any code it holds: only the user's trust in the file vouches for it. Save it with "
                         "skops instead.")
        if self.versions is not None:
            found.append(f'The model "{self.source}" was saved with scikit-learn {self.versions[0]} and loaded with '
                         f"{self.versions[1]}: scikit-learn does not promise the same predictions across versions; "
                         "the share of predictions it gives again (above) says whether they changed.")
        return found


def load_model(path: Path, settings: ModelSection, *, source: str) -> LoadedModel:
    """The model `[model] artifact` names, at `path`.

    Raises
    ------
    InputError
        If the file is missing or of another kind, needs a type neither skops nor `[model] trusted` trusts, is a
        pickle without `[model] allow_pickle`, cannot be read, or holds no fitted model (nothing with ``predict``).
    """
    suffix = path.suffix.lower()
    if suffix not in SKOPS + PICKLES:
        raise InputError(f'{source}: [model] artifact is a "{shown(suffix or path.name)}" file; save the model with '
                         "skops (skops.io.dump) as .skops")
    if not path.is_file():
        raise InputError(f"{source}: no such file ([model] artifact)")
    if suffix not in SKOPS and not settings.allow_pickle:
        raise InputError(f"{source}: a pickle runs any code it holds when it is loaded, so it is not read; save "
                         "the model with skops (skops.io.dump) as .skops, or, only for a file you trust, set "
                         "[model] allow_pickle = true")
    from sklearn.exceptions import InconsistentVersionWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InconsistentVersionWarning)
        if suffix in SKOPS:
            model, trusted = _skops(path, settings.trusted, source)
            loader = "skops"
        else:
            model, trusted, loader = _pickle(path, source), [], "pickle"
    if not callable(getattr(model, "predict", None)):
        raise InputError(f"{source}: holds a {shown(type(model).__name__)}, not a fitted model (it has no predict)")
    mismatch = next((w.message for w in caught if isinstance(w.message, InconsistentVersionWarning)), None)
    versions = None if mismatch is None else (str(mismatch.original_sklearn_version),
                                              str(mismatch.current_sklearn_version))
    for other in caught:  # the model's other warnings reach the user as they would have
        if not isinstance(other.message, InconsistentVersionWarning):
            warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    return LoadedModel(model, source, loader, trusted, list(settings.features or []), versions)


def in_memory(model: object, settings: ModelSection) -> LoadedModel:
    """A fitted model given in memory (`reportgen.evaluate`'s ``model={"fitted": ...}``): nothing is loaded.

    Raises
    ------
    InputError
        If it has no ``predict``.
    """
    if not callable(getattr(model, "predict", None)):
        raise InputError(f'model["fitted"]: a {shown(type(model).__name__)}, not a fitted model (it has no predict)')
    return LoadedModel(model, "fitted model", "memory", [], list(settings.features or []))


def _skops(path: Path, trusted: list[str], source: str) -> tuple[object, list[str]]:
    """The model in a .skops file, and the extra types it needed (all in `trusted`)."""
    import skops.io

    try:
        needed = skops.io.get_untrusted_types(file=path)
    except Exception as exc:  # a damaged or foreign file: skops raises whatever its reader met
        raise InputError(f"{source}: not a skops file skops can read ({_first_line(exc)})") from None
    refused = [name for name in needed if name not in trusted]
    if refused:
        raise InputError(f"{source}: needs {len(refused)} type{'s' if len(refused) > 1 else ''} that skops does not "
                         f"trust: {quoted_list(refused, limit=8)}; list in [model] trusted only those you have "
                         "reviewed and trust")
    try:
        return skops.io.load(path, trusted=needed), needed
    except Exception as exc:
        raise InputError(f"{source}: skops could not load the model ({_first_line(exc)})") from None


def _pickle(path: Path, source: str) -> object:
    """The object in a pickle or joblib file (the user trusts it: `[model] allow_pickle`)."""
    import joblib

    try:
        return joblib.load(path)
    except Exception as exc:
        raise InputError(f"{source}: the pickle could not be loaded ({_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return shown(f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__, 160)
