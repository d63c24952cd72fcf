"""RSNNConfig validation, parameter initialisation and pruning masks."""

import math

import numpy as np
import pytest

from rfsim.errors import RFSimError
from rfsim.network import RSNNConfig, init_params, make_pruning_mask, parameter_shapes


def test_config_defaults_follow_reference():
    config = RSNNConfig(model="brf", n_in=4, n_hidden=36, n_out=6)
    assert config.dt == 0.01
    assert config.rf_reset == "none"
    assert config.surrogate == "reference"
    assert config.loss == "sequence"
    # float32 is the faster mode and passes the float32 parity tests, so it is the default.
    assert config.dtype == "float32"
    assert (config.theta, config.gamma, config.alif_theta, config.alif_beta) == (1.0, 0.9, 0.01, 1.8)
    assert config.p_dt == 0.01
    assert config.uses_event_driven


@pytest.mark.parametrize("field,value", [
    ("model", "lif"), ("n_in", 0), ("n_hidden", 2.5), ("n_out", -1), ("dt", 0.0), ("dt", math.inf),
    ("rf_reset", "zero"), ("hidden_bias", 1), ("surrogate", "sigmoid"), ("loss", "mse"),
    ("loss_offset", -1), ("loss_offset", 1.5), ("dtype", "float16"), ("theta", 0.0), ("gamma", 1.0),
    ("alif_theta", -0.01), ("alif_beta", math.nan), ("boundary_dt", 0.0), ("event_driven", "yes"),
    ("n_threads", 0), ("memory_limit_bytes", -5), ("brf_boundary", 0), ("brf_refractory", "no"),
])
def test_config_rejects_bad_value(field, value):
    fields = dict(model="brf", n_in=2, n_hidden=3, n_out=2)
    fields[field] = value
    with pytest.raises(RFSimError, match=field):
        RSNNConfig(**fields)


def test_brf_switches_only_for_brf():
    RSNNConfig(model="brf", n_in=1, n_hidden=2, n_out=2, brf_smooth_reset=False)
    with pytest.raises(RFSimError, match="brf_smooth_reset"):
        RSNNConfig(model="bhrf", n_in=1, n_hidden=2, n_out=2, brf_smooth_reset=False)


def test_reset_only_for_rf():
    RSNNConfig(model="rf", n_in=1, n_hidden=2, n_out=2, rf_reset="soft")
    with pytest.raises(RFSimError, match="rf_reset"):
        RSNNConfig(model="brf", n_in=1, n_hidden=2, n_out=2, rf_reset="hard")


@pytest.mark.parametrize("model", ["brf", "rf", "bhrf", "alif"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_init_params_shapes_and_dtype(model, dtype):
    config = RSNNConfig(model=model, n_in=3, n_hidden=5, n_out=4, hidden_bias=True, output_bias=True, dtype=dtype)
    params = init_params(config, np.random.default_rng(0))
    assert list(params) == list(parameter_shapes(config))
    for key, shape in parameter_shapes(config).items():
        assert params[key].shape == shape, key
        assert params[key].dtype == np.dtype(dtype), key
    np.testing.assert_array_equal(params["out.linear.bias"], 0.0)


def test_init_params_distributions():
    config = RSNNConfig(model="brf", n_in=50, n_hidden=200, n_out=30, hidden_bias=True)
    params = init_params(config, np.random.default_rng(1), omega_range=(3.0, 5.0), b_offset_range=(0.1, 1.0),
                         tau_out=(20.0, 1.0))
    bound = math.sqrt(6.0 / (250 + 200))
    weight = params["hidden.linear.weight"]
    assert np.abs(weight).max() <= bound
    assert np.abs(weight).max() > 0.99 * bound
    assert np.abs(params["hidden.linear.bias"]).max() <= 1.0 / math.sqrt(250)
    assert params["hidden.omega"].min() >= 3.0
    assert params["hidden.omega"].max() <= 5.0
    assert params["hidden.b_offset"].min() >= 0.1
    assert params["hidden.b_offset"].max() <= 1.0
    # 30 draws of N(20, 1): the mean is within 4 standard errors (4 / sqrt(30)) of 20.
    assert abs(params["out.tau_mem"].mean() - 20.0) < 4.0 / math.sqrt(30)
    out_bound = math.sqrt(6.0 / (200 + 30))
    assert np.abs(params["out.linear.weight"]).max() <= out_bound


def test_init_params_alif_taus():
    config = RSNNConfig(model="alif", n_in=2, n_hidden=400, n_out=3)
    params = init_params(config, np.random.default_rng(2), tau_mem=(20.0, 0.5), tau_adp=(7.0, 0.2))
    assert abs(params["hidden.tau_mem"].mean() - 20.0) < 4 * 0.5 / 20
    assert abs(params["hidden.tau_adp"].mean() - 7.0) < 4 * 0.2 / 20
    assert "hidden.omega" not in params


def test_init_params_reproducible():
    config = RSNNConfig(model="bhrf", n_in=2, n_hidden=6, n_out=3)
    first = init_params(config, np.random.default_rng(7))
    second = init_params(config, np.random.default_rng(7))
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])


def test_init_params_rejects_bad_arguments():
    config = RSNNConfig(model="brf", n_in=2, n_hidden=3, n_out=2)
    with pytest.raises(RFSimError, match="Generator"):
        init_params(config, 0)
    with pytest.raises(RFSimError, match="omega_range"):
        init_params(config, np.random.default_rng(0), omega_range=(50.0, 15.0))
    with pytest.raises(RFSimError, match="1/dt"):
        init_params(config, np.random.default_rng(0), omega_range=(15.0, 150.0))
    with pytest.raises(RFSimError, match="tau_out"):
        init_params(config, np.random.default_rng(0), tau_out=(20.0, -1.0))


def test_pruning_mask_fraction_and_reproducibility():
    mask = make_pruning_mask(100, 0.3, np.random.default_rng(0))
    assert mask.shape == (100, 100)
    assert set(np.unique(mask)) <= {0.0, 1.0}
    # 10 000 Bernoulli(0.7) draws: the kept fraction is within 5 standard errors (0.0046) of 0.7.
    assert abs(mask.mean() - 0.7) < 5 * math.sqrt(0.21 / 10_000)
    np.testing.assert_array_equal(mask, make_pruning_mask(100, 0.3, np.random.default_rng(0)))
    np.testing.assert_array_equal(make_pruning_mask(5, 0.0, np.random.default_rng(0)), 1.0)
    np.testing.assert_array_equal(make_pruning_mask(5, 1.0, np.random.default_rng(0)), 0.0)


def test_pruning_mask_rejects_bad_probability():
    with pytest.raises(RFSimError, match="p"):
        make_pruning_mask(5, 1.5, np.random.default_rng(0))
