"""Shared fixtures of the oracle tests."""

from __future__ import annotations

import warnings

import pytest
import sklearn


@pytest.fixture
def quiet_sklearn():
    """scikit-learn without its warnings and input validation (the tests pass clean, finite data)."""
    with warnings.catch_warnings(), sklearn.config_context(skip_parameter_validation=True, assume_finite=True):
        warnings.simplefilter("ignore")
        yield
