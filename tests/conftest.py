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


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def synthetic_runs(tmp_path_factory):
    """Train tiny BRF, RF and ALIF networks on the synthetic task once per test session.

    Returns a dict from model name to the run folder, which contains ``init.npz``,
    ``best.npz``, ``state.npz``, ``log.csv`` and ``summary.json``. Analyses are
    tested on these checkpoints, so the folders must not be modified.
    """
    from rfsim.training.loop import train
    from rfsim.training.presets import resolve_config

    root = tmp_path_factory.mktemp("synthetic_runs")
    runs = {}
    for model in ("brf", "rf", "alif"):
        config = resolve_config("synthetic", model, overrides=dict(
            epochs=2, n_hidden=12, batch_size=8, limit_train=32, limit_eval=16, seed=11))
        train(config, root / model)
        runs[model] = root / model
    return runs
