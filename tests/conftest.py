"""Test configuration: `--update-golden` rewrites the golden files instead of comparing; a Chromium fixture; the
Hypothesis settings every property test starts from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.helpers import CHROMIUM, CHROMIUM_ARGS

# Hypothesis' timing checks (a deadline per example, "data generation is too slow") fail on a busy 2-core machine and
# say nothing about correctness; every other health check stays on.
settings.register_profile("reportgen", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("reportgen")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="module")
def browser():
    """Chromium (headless, via Playwright), one per test module; skipped where it is not installed, except in CI."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError("Chromium is missing in CI: .ci/run should have installed it")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()
