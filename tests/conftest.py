"""Shared test configuration: hypothesis profiles and common fixtures."""

from __future__ import annotations

import os

import numpy as np
import pytest
import skip_policy
from hypothesis import HealthCheck, settings

# CI runs a fixed, moderate number of examples per property; `dev` is quicker still.
settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: pytest.Config) -> None:
    skip_policy.install(config)  # under CI=true a skip fails the run unless allow-listed


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
