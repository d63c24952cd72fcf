"""Shared pytest configuration: hypothesis profiles and test-wide settings."""

import os

import matplotlib
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

# Property tests run derandomized so that a CI failure reproduces on any machine;
# RFSIM_HYPOTHESIS_PROFILE=explore draws fresh examples for local bug hunting.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("RFSIM_HYPOTHESIS_PROFILE", "ci"))
