"""Loading `[model] artifact` without running code the user has not trusted: skops' secure loader with its list of
untrusted types, pickles only with `allow_pickle`, one-line errors for files that are not a model."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import skops.io
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from reportgen.config import ModelSection
from reportgen.errors import InputError
from reportgen.model_artifact import load_model

FEATURES = ["a", "b"]


def _xy() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    return X, (X[:, 0] > 0).astype(int)


def _settings(**keys: object) -> ModelSection:
    return ModelSection(artifact="model", features=FEATURES, **keys)


class Hostile:
    """Unpickling it makes a folder: what any code in a pickle could do instead."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.mkdir, (str(self.marker),)


def test_a_pipeline_saved_with_skops_loads_securely(tmp_path: Path) -> None:
    X, y = _xy()
    path = tmp_path / "model.skops"
    skops.io.dump(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), path)
    loaded = load_model(path, _settings(), source="model.skops")
    assert (loaded.loader, loaded.trusted, loaded.features, loaded.warnings) == ("skops", [], FEATURES, [])
    np.testing.assert_array_equal(loaded.model.predict(X), make_pipeline(StandardScaler(), LogisticRegression())
                                  .fit(X, y).predict(X))


def test_a_type_skops_does_not_trust_is_refused_and_named_unless_listed(tmp_path: Path) -> None:
    X, y = _xy()
    path = tmp_path / "model.skops"
    skops.io.dump(HistGradientBoostingClassifier(max_iter=3).fit(X, y), path)
    needed = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"
    with pytest.raises(InputError) as raised:
        load_model(path, _settings(), source="model.skops")
    message = str(raised.value)
    assert message.startswith("model.skops: needs 1 type that skops does not trust") and needed in message
    assert "\n" not in message
    loaded = load_model(path, _settings(trusted=[needed]), source="model.skops")
    assert loaded.trusted == [needed] and loaded.model.predict(X).shape == (200,)


def test_a_skops_file_naming_a_function_of_the_os_is_refused_before_it_is_built(tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    skops.io.dump({"predict": os.system}, path)  # a dump that would hand back os.system
    with pytest.raises(InputError, match="skops does not trust") as raised:
        load_model(path, _settings(), source="model.skops")
    assert "system" in str(raised.value)


def test_a_hostile_pickle_is_refused_by_default_and_runs_only_when_allowed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for suffix in (".pkl", ".pickle", ".joblib"):
        path = tmp_path / f"model{suffix}"
        path.write_bytes(pickle.dumps(Hostile(marker)))
        with pytest.raises(InputError, match="a pickle runs any code it holds when it is loaded, so it is not read"):
            load_model(path, _settings(), source=path.name)
        assert not marker.exists()  # nothing in the file ran
    with pytest.raises(InputError, match="not a fitted model"):  # allowed: it runs, and is no model
        load_model(tmp_path / "model.pkl", _settings(allow_pickle=True), source="model.pkl")
    assert marker.exists()


def test_a_pickle_allowed_loads_and_the_card_is_told(tmp_path: Path) -> None:
    X, y = _xy()
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(LogisticRegression().fit(X, y)))
    loaded = load_model(path, _settings(allow_pickle=True), source="model.pkl")
    assert loaded.loader == "pickle" and "allow_pickle = true" in loaded.warnings[0] and len(loaded.warnings) == 1


@pytest.mark.parametrize(("name", "content", "words"), [
    ("model.skops", b"not a zip", "not a skops file skops can read"),
    ("model.onnx", b"", 'is a ".onnx" file; save the model with skops'),
    ("missing.skops", None, "no such file ([model] artifact)"),
])
def test_files_that_are_not_a_model_are_one_line_errors(tmp_path: Path, name: str, content: bytes | None,
                                                        words: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as raised:
        load_model(path, _settings(), source=name)
    assert str(raised.value).startswith(f"{name}: ") and words in str(raised.value)
    assert "\n" not in str(raised.value)


def test_an_object_without_predict_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    skops.io.dump(StandardScaler().fit(np.ones((3, 2))), path)
    with pytest.raises(InputError, match="holds a StandardScaler, not a fitted model"):
        load_model(path, _settings(), source="model.skops")


def test_the_artifact_needs_its_features() -> None:
    with pytest.raises(ValueError, match="artifact needs features"):
        ModelSection(artifact="model.skops")
    with pytest.raises(ValueError, match='features lists "a" more than once'):
        ModelSection(artifact="model.skops", features=["a", "a"])


def test_a_model_saved_by_another_scikit_learn_is_said_so(tmp_path: Path) -> None:
    """A file whose estimator records another scikit-learn version (written here by editing a skops file's schema):
    it loads, the user sees no raw warning, and the card names both versions."""
    import json
    import warnings
    import zipfile

    import sklearn

    X, y = _xy()
    saved = tmp_path / "saved.skops"
    skops.io.dump(LogisticRegression().fit(X, y), saved)
    with zipfile.ZipFile(saved) as source:
        files = {name: source.read(name) for name in source.namelist()}
    schema = files["schema.json"].decode()  # the version is stored as JSON text in a JSON string: \"1.9.1\"
    text = schema.replace(json.dumps(json.dumps(sklearn.__version__))[1:-1], json.dumps(json.dumps("0.24.2"))[1:-1])
    assert text != schema, "the estimator's version is in the schema"
    files["schema.json"] = text.encode()
    path = tmp_path / "model.skops"
    with zipfile.ZipFile(path, "w") as target:
        for name, content in files.items():
            target.writestr(name, content)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no InconsistentVersionWarning escapes
        loaded = load_model(path, _settings(), source="model.skops")
    assert loaded.versions == ("0.24.2", sklearn.__version__)
    assert loaded.warnings == [f'The model "model.skops" was saved with scikit-learn 0.24.2 and loaded with '
                               f"{sklearn.__version__}: scikit-learn does not promise the same predictions across "
                               "versions; the share of predictions it gives again (above) says whether they changed."]
