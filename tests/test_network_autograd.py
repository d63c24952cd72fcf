"""The engine's hand-written BPTT gradients against autograd on the NumPy reference.

``rfsim.network.reference`` is a plain float64 forward differentiated by autograd
(checked against the authors' PyTorch traces in ``test_network_reference.py``). Here
the Numba engine's ``value_and_grad`` must give the same loss, spikes, outputs and
gradients on small random networks, for every model, RF reset, surrogate, loss, bias
and pruning option. Both compute the same float64 sums in different orders, so the
gradients agree to rounding: 1e-9 relative to each gradient array's largest entry.

Finite differences close the loop. The loss is piecewise constant in the hidden
parameters, because spikes are steps. Central differences are therefore taken on a
smooth variant of the reference whose spike function is the antiderivative of the
surrogate, and its autograd gradient must match the directional derivatives. For the engine itself,
the readout parameters do not act through any spike, so their gradient must equal
central differences of the engine's own loss while no spike flips.
"""

import dataclasses

import autograd.numpy as anp
import numpy as np
import pytest
from autograd.scipy.special import erf

from rfsim.network import RSNNConfig, forward, init_params, train_step_tbptt, value_and_grad
from rfsim.network import reference
from rfsim.network.kernels_bptt import Q_CHUNK

GRADIENT_RTOL = 1e-9
FLOAT32_GRADIENT_RTOL = 2.5e-5

MODEL_VARIANTS = [("brf", "none"), ("rf", "none"), ("rf", "soft"), ("rf", "hard"), ("bhrf", "none"),
                  ("alif", "none")]
SURROGATES = ["reference", "paper", "fast-sigmoid", "triangle"]
INPUT_SCALES = [0.5, 1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000, 2000]
TARGET_RATE = 0.10


def variant_id(variant):
    model, reset = variant
    return model if reset == "none" else f"{model}-{reset}"


def make_config(model, reset="none", **overrides):
    fields = dict(model=model, n_in=3, n_hidden=5, n_out=3, rf_reset=reset, dtype="float64")
    fields.update(overrides)
    return RSNNConfig(**fields)


def make_targets(config, rng, n_steps, batch):
    """Targets in the shape the loss takes: per step (T, B) or per sequence (B,)."""
    if config.loss == "sequence":
        return rng.integers(0, config.n_out, (n_steps, batch))
    return rng.integers(0, config.n_out, batch)


def make_network(config, seed, n_steps=32, batch=2, mask_fraction=0.0):
    """Initialise parameters and pick an input scale that makes about 10 % of neuron-steps spike.

    The input pattern is sparse and signed. Among the candidate scales, the one whose
    hidden spike rate is closest to ``TARGET_RATE`` is used, so the surrogate acts at
    spiking and at silent steps alike.
    """
    rng = np.random.default_rng(seed)
    params = init_params(config, rng)
    for key in ("hidden.linear.bias", "out.linear.bias"):
        if key in params:
            params[key] = rng.normal(0.0, 0.3, params[key].shape)
    pattern = rng.choice([-1.0, 0.0, 1.0], size=(n_steps, batch, config.n_in), p=[0.15, 0.7, 0.15])
    targets = make_targets(config, rng, n_steps, batch)

    mask = None
    if mask_fraction > 0.0:
        mask = (rng.random(params["hidden.linear.weight"].shape) >= mask_fraction).astype(np.float64)
        mask[:, : config.n_in] = 1.0

    best = None
    for scale in INPUT_SCALES:
        rate = reference.reference_forward(config, params, scale * pattern, mask=mask)["z"].mean()
        if best is None or abs(rate - TARGET_RATE) < abs(best[1] - TARGET_RATE):
            best = (scale, rate)
    scale, rate = best
    assert 0.03 <= rate <= 0.2, f"no input scale gives a usable spike rate (best {rate:.3f} at scale {scale})"
    return params, scale * pattern, targets, mask


def assert_engine_matches_reference(config, params, x, targets, mask=None):
    """Compare loss, spikes, outputs, accuracy counts and every gradient."""
    expected_loss, expected_grads = reference.reference_value_and_grad(config, params, x, targets, mask=mask)
    states = reference.reference_forward(config, params, x, mask=mask)
    metrics = reference.reference_metrics(config, states["out"], targets)

    result, grads = value_and_grad(config, params, x, targets, mask=mask)

    assert result.loss_sum == pytest.approx(expected_loss, rel=1e-12, abs=0)
    assert result.loss_reported == pytest.approx(metrics["loss_reported"], rel=1e-12, abs=0)
    assert result.spike_count == states["spike_count"]
    np.testing.assert_allclose(result.outputs, states["out"], rtol=0, atol=1e-12)
    assert result.n_correct == metrics["n_correct"]
    assert result.n_total == metrics["n_total"]

    assert set(grads) == set(expected_grads)
    for key, expected in expected_grads.items():
        scale = np.abs(expected).max()
        error = np.abs(grads[key] - expected).max()
        assert error <= GRADIENT_RTOL * scale, (
            f"{key}: max |engine - autograd| = {error:.3e}, largest |autograd| = {scale:.3e}")


# --- the grid of options ---------------------------------------------------------------


@pytest.mark.parametrize("surrogate", SURROGATES)
@pytest.mark.parametrize("variant", MODEL_VARIANTS, ids=variant_id)
def test_gradient_every_surrogate(variant, surrogate):
    config = make_config(*variant, surrogate=surrogate, loss="sequence", loss_offset=5)
    params, x, targets, _ = make_network(config, seed=11)
    assert_engine_matches_reference(config, params, x, targets)


@pytest.mark.parametrize("loss", ["label-last", "cross-entropy"])
@pytest.mark.parametrize("variant", MODEL_VARIANTS, ids=variant_id)
def test_gradient_every_loss(variant, loss):
    offset = 4 if loss == "cross-entropy" else 0
    config = make_config(*variant, loss=loss, loss_offset=offset)
    params, x, targets, _ = make_network(config, seed=12)
    assert_engine_matches_reference(config, params, x, targets)


@pytest.mark.parametrize("hidden_bias,output_bias", [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("variant", MODEL_VARIANTS, ids=variant_id)
def test_gradient_with_biases(variant, hidden_bias, output_bias):
    config = make_config(*variant, hidden_bias=hidden_bias, output_bias=output_bias)
    params, x, targets, _ = make_network(config, seed=13)
    assert_engine_matches_reference(config, params, x, targets)


@pytest.mark.parametrize("variant", MODEL_VARIANTS, ids=variant_id)
def test_gradient_with_pruning_mask(variant):
    config = make_config(*variant, hidden_bias=True, loss="cross-entropy", surrogate="paper")
    params, x, targets, mask = make_network(config, seed=14, mask_fraction=0.4)
    assert (mask == 0.0).any()
    assert_engine_matches_reference(config, params, x, targets, mask=mask)


def test_gradient_wider_network():
    # A rectangular case with more hidden than input units and a longer sequence.
    config = make_config("brf", n_in=2, n_hidden=9, n_out=4, loss="sequence", loss_offset=10)
    params, x, targets, _ = make_network(config, seed=15, n_steps=45, batch=3)
    assert_engine_matches_reference(config, params, x, targets)


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("n_hidden,n_out", [(6, 10), (7, 9), (22, 10)])
def test_gradient_row_widths_around_cache_lines(n_hidden, n_out, dtype_name):
    # The engine pads the h + C columns of its [W_rec^T | W_o^T] rows to whole 64-byte
    # lines: 16 fills exactly one float32 line, 32 two, and 16 two float64 lines.
    config = make_config("brf", n_hidden=n_hidden, n_out=n_out, loss="sequence", loss_offset=3, dtype=dtype_name)
    params, x, targets, _ = make_network(dataclasses.replace(config, dtype="float64"), seed=31 + n_hidden)
    if dtype_name == "float64":
        assert_engine_matches_reference(config, params, x, targets)
    else:
        assert_float32_engine_near_reference(config, params, x, targets)


def test_gradient_with_negative_raw_parameters():
    # Published checkpoints hold negative raw omega and b_offset; abs() must flip their gradient.
    config = make_config("brf")
    params, x, targets, _ = make_network(config, seed=16)
    params["hidden.omega"][::2] *= -1.0
    params["hidden.b_offset"][1::2] *= -1.0
    params["out.tau_mem"][0] *= -1.0
    params["hidden.b_offset"][2] = 0.0
    assert_engine_matches_reference(config, params, x, targets)

    # d|w|/dw is 0 at w = 0, as torch's sign(0) makes it.
    _, grads = value_and_grad(config, params, x, targets)
    assert grads["hidden.b_offset"][2] == 0.0


@pytest.mark.parametrize("variant", MODEL_VARIANTS, ids=variant_id)
def test_gradient_dense_kernels(variant):
    # event_driven=False runs the dense loops instead of skipping zero inputs and spikes.
    config = make_config(*variant, event_driven=False, hidden_bias=True, loss="sequence", loss_offset=2)
    params, x, targets, _ = make_network(config, seed=23)
    assert_engine_matches_reference(config, params, x, targets)


@pytest.mark.parametrize("boundary_dt", [None, 0.01])
@pytest.mark.parametrize("model", ["brf", "bhrf"])
def test_gradient_other_time_step(model, boundary_dt):
    # At dt = 0.005 s the default dt_p = dt and the authors' dt_p = 0.01 s differ.
    config = make_config(model, dt=0.005, boundary_dt=boundary_dt)
    params, x, targets, _ = make_network(config, seed=24)
    assert_engine_matches_reference(config, params, x, targets)


def test_gradient_non_default_constants():
    config = make_config("brf", theta=0.8, gamma=0.7)
    params, x, targets, _ = make_network(config, seed=25)
    assert_engine_matches_reference(config, params, x, targets)
    config = make_config("alif", alif_theta=0.05, alif_beta=1.2)
    params, x, targets, _ = make_network(config, seed=25)
    assert_engine_matches_reference(config, params, x, targets)


@pytest.mark.parametrize("loss", ["sequence", "cross-entropy"])
def test_gradient_per_step_and_soft_targets(loss):
    rng = np.random.default_rng(26)
    config = make_config("rf", "soft", loss=loss, loss_offset=3)
    params, x, _, _ = make_network(config, seed=26)
    if loss == "sequence":
        targets = rng.integers(0, config.n_out, x.shape[:2])
    else:
        targets = rng.random((x.shape[1], config.n_out))
        targets[0, 1] = 0.0
    assert_engine_matches_reference(config, params, x, targets)
    if loss == "cross-entropy":
        per_step = rng.integers(0, config.n_out, x.shape[:2])
        assert_engine_matches_reference(config, params, x, per_step)


@pytest.mark.parametrize("variant", MODEL_VARIANTS, ids=variant_id)
def test_float32_engine_near_float64_reference(variant):
    # float32 states and gradients carry rounding of order eps32 = 1.2e-7 per operation,
    # accumulated over 32 recurrent steps. With no spike flipped, the largest deviations
    # from the float64 reference on these cases are 1.6e-8 (loss) and 2.3e-6 (gradient,
    # relative to the largest entry), and the bounds are about 10 times those.
    config = make_config(*variant, dtype="float32", hidden_bias=True, output_bias=True)
    params, x, targets, _ = make_network(dataclasses.replace(config, dtype="float64"), seed=27)
    assert_float32_engine_near_reference(config, params, x, targets)


def assert_float32_engine_near_reference(config, params, x, targets):
    """Compare a float32 engine run with the float64 reference at the bounds above."""
    expected_loss, expected_grads = reference.reference_value_and_grad(config, params, x, targets)
    expected = reference.reference_forward(config, params, x)

    params32 = {key: value.astype(np.float32) for key, value in params.items()}
    result, grads = value_and_grad(config, params32, x.astype(np.float32), targets)
    assert result.spike_count == expected["spike_count"]
    assert result.outputs.dtype == np.float32
    assert result.loss_sum == pytest.approx(expected_loss, rel=2e-7)
    for key, value in expected_grads.items():
        assert grads[key].dtype == np.float32
        error = np.abs(grads[key] - value).max() / np.abs(value).max()
        assert error < FLOAT32_GRADIENT_RTOL, f"{key}: {error:.2e}"


@pytest.mark.parametrize("variant", MODEL_VARIANTS, ids=variant_id)
def test_recorded_states_match_reference(variant):
    config = make_config(*variant)
    params, x, _, _ = make_network(config, seed=17)
    expected = reference.reference_forward(config, params, x)
    result = forward(config, params, x, record=True)

    np.testing.assert_array_equal(result.states["z"], expected["z"])
    for name in reference.STATE_NAMES[config.model]:
        np.testing.assert_allclose(result.states[name], expected[name], rtol=0, atol=1e-11, err_msg=name)
    np.testing.assert_allclose(result.outputs, expected["out"], rtol=0, atol=1e-12)
    assert result.spike_count == expected["spike_count"]


@pytest.mark.parametrize("window", [1, 7, 16])
@pytest.mark.parametrize("variant", [("brf", "none"), ("alif", "none")], ids=variant_id)
def test_truncated_gradient_matches_reference(variant, window):
    config = make_config(*variant, loss="sequence")
    params, x, targets, _ = make_network(config, seed=18)
    expected_loss, expected_grads = reference.reference_value_and_grad(
        config, params, x, targets, tbptt_window=window)
    result, grads = value_and_grad(config, params, x, targets, tbptt_window=window)
    assert result.loss_sum == pytest.approx(expected_loss, rel=1e-12, abs=0)
    for key, expected in expected_grads.items():
        error = np.abs(grads[key] - expected).max()
        assert error <= GRADIENT_RTOL * np.abs(expected).max(), f"{key}: {error:.3e}"


@pytest.mark.parametrize("window", [None, Q_CHUNK + 1])
@pytest.mark.parametrize("n_steps", [Q_CHUNK - 1, Q_CHUNK, Q_CHUNK + 1, 2 * Q_CHUNK + 1])
@pytest.mark.parametrize("model", ["brf", "bhrf"])
def test_replayed_q_gives_reference_gradient(model, n_steps, window):
    # The engine stores q only every Q_CHUNK steps and replays it in the backward sweep.
    # Windows that end just before, at and after a stored copy must give the gradient
    # of the reference, which keeps q at every step.
    config = make_config(model, loss="sequence")
    params, x, targets, _ = make_network(config, seed=19, n_steps=n_steps, batch=3)
    _, expected_grads = reference.reference_value_and_grad(config, params, x, targets, tbptt_window=window)
    result, grads = value_and_grad(config, params, x, targets, tbptt_window=window)

    assert result.spike_count > 0
    for key, expected in expected_grads.items():
        error = np.abs(grads[key] - expected).max()
        assert error <= GRADIENT_RTOL * np.abs(expected).max(), f"{key}: {error:.3e}"


@pytest.mark.parametrize("variant", [("brf", "none"), ("rf", "hard"), ("alif", "none")], ids=variant_id)
def test_tbptt_step_window_gradients(variant):
    # With an update that leaves the parameters alone, window k's gradient is that of
    # the loss terms of steps [start, end) with no gradient through step start. The
    # reference gets it from the first `end` steps with loss_offset = start and the
    # same truncation, because later steps cannot act on earlier ones.
    config = make_config(*variant, loss="sequence")
    params, x, targets, _ = make_network(config, seed=28, n_steps=30)
    window = 12
    received = []
    result = train_step_tbptt(config, params, x, targets, window, lambda grads: received.append(grads))

    starts = [0, 12, 24]
    assert len(received) == len(starts)
    for start, grads in zip(starts, received):
        end = min(start + window, x.shape[0])
        window_config = dataclasses.replace(config, loss_offset=start)
        _, expected_grads = reference.reference_value_and_grad(
            window_config, params, x[:end], targets[:end], tbptt_window=window)
        for key, expected in expected_grads.items():
            error = np.abs(grads[key] - expected).max()
            assert error <= GRADIENT_RTOL * np.abs(expected).max(), f"window at {start}, {key}: {error:.3e}"

    expected_loss = reference.reference_loss(config, params, x, targets)
    assert result.loss_sum == pytest.approx(expected_loss, rel=1e-12)


def test_tbptt_step_label_last_updates_once():
    config = make_config("brf", loss="label-last")
    params, x, targets, _ = make_network(config, seed=29, n_steps=30)
    received = []
    train_step_tbptt(config, params, x, targets, 8, lambda grads: received.append(grads))
    assert len(received) == 1

    _, expected_grads = reference.reference_value_and_grad(config, params, x, targets, tbptt_window=8)
    for key, expected in expected_grads.items():
        error = np.abs(received[0][key] - expected).max()
        assert error <= GRADIENT_RTOL * np.abs(expected).max(), f"{key}: {error:.3e}"


# --- finite differences ----------------------------------------------------------------


def smooth_spike(s):
    """Antiderivative of the reference surrogate, a smooth step from 0 to 0.425.

    0.5 [1.15 Phi(s / 0.5) - 0.30 Phi(s / 3)] with Phi the standard normal CDF, so its
    derivative is exactly ``reference.surrogate_reference``.
    """
    def normal_cdf(value):
        return 0.5 * (1.0 + erf(value / np.sqrt(2.0)))

    return 0.5 * (1.15 * normal_cdf(s / 0.5) - 0.30 * normal_cdf(s / 3.0))


def random_direction(params, rng):
    """A unit-norm direction in parameter space (dict of arrays)."""
    direction = {key: rng.normal(size=np.shape(value)) for key, value in params.items()}
    norm = np.sqrt(sum((value**2).sum() for value in direction.values()))
    return {key: value / norm for key, value in direction.items()}


def shifted(params, direction, step):
    return {key: params[key] + step * direction.get(key, 0.0) for key in params}


@pytest.mark.parametrize("variant", MODEL_VARIANTS, ids=variant_id)
def test_smooth_reference_matches_central_differences(variant, monkeypatch):
    # With a smooth spike function the loss is differentiable, and its autograd
    # gradient must match central differences (error O(eps^2) plus rounding
    # O(1e-16 L / eps), about 1e-8 relative for eps = 1e-5).
    monkeypatch.setitem(reference.SURROGATES, "smooth-test", reference.surrogate_reference)
    monkeypatch.setitem(reference.SPIKE_FUNCTIONS, "smooth-test", smooth_spike)
    base = make_config(*variant)
    params, x, targets, _ = make_network(base, seed=19)
    config = _with_surrogate(base, "smooth-test")

    _, grads = reference.reference_value_and_grad(config, params, x, targets)
    rng = np.random.default_rng(20)
    for _ in range(3):
        direction = random_direction(params, rng)
        eps = 1e-5
        plus = reference.reference_loss(config, shifted(params, direction, eps), x, targets)
        minus = reference.reference_loss(config, shifted(params, direction, -eps), x, targets)
        numeric = (plus - minus) / (2 * eps)
        analytic = sum((grads[key] * direction[key]).sum() for key in grads)
        assert numeric == pytest.approx(analytic, rel=1e-6, abs=1e-9), (numeric, analytic)


def _with_surrogate(config, name):
    """A stand-in with the config's attributes and another surrogate name.

    ``RSNNConfig`` may validate the surrogate name, so the test-only surrogate
    goes through a plain namespace that the duck-typed reference accepts.
    """
    from types import SimpleNamespace

    fields = {field.name: getattr(config, field.name) for field in dataclasses.fields(config)}
    fields["surrogate"] = name
    return SimpleNamespace(**fields)


@pytest.mark.parametrize("variant", MODEL_VARIANTS, ids=variant_id)
def test_engine_readout_gradient_matches_central_differences(variant):
    # The readout parameters act on the loss only through the output membrane, not
    # through any spike, so while no spike flips the loss is smooth in them and the
    # engine's gradient is the true derivative.
    config = make_config(*variant, output_bias=True, loss="sequence", loss_offset=3)
    params, x, targets, _ = make_network(config, seed=21)
    result, grads = value_and_grad(config, params, x, targets)
    readout = [key for key in params if key.startswith("out.")]

    rng = np.random.default_rng(22)
    for _ in range(3):
        direction = random_direction({key: params[key] for key in readout}, rng)
        eps = 1e-6
        plus_params, minus_params = shifted(params, direction, eps), shifted(params, direction, -eps)
        plus, _ = value_and_grad(config, plus_params, x, targets)
        minus, _ = value_and_grad(config, minus_params, x, targets)
        spikes_plus = forward(config, plus_params, x, record=True).states["z"]
        spikes_minus = forward(config, minus_params, x, record=True).states["z"]
        np.testing.assert_array_equal(spikes_plus, spikes_minus)

        numeric = (plus.loss_sum - minus.loss_sum) / (2 * eps)
        analytic = sum((grads[key] * direction[key]).sum() for key in readout)
        assert numeric == pytest.approx(analytic, rel=1e-6, abs=1e-9), (numeric, analytic)
    assert result.spike_count > 0


def test_smooth_spike_derivative_is_reference_surrogate():
    import autograd

    s = np.linspace(-5.0, 5.0, 101)
    derivative = autograd.elementwise_grad(smooth_spike)(s)
    np.testing.assert_allclose(derivative, reference.surrogate_reference(s), rtol=1e-12, atol=1e-15)
    assert float(smooth_spike(anp.array(50.0))) == pytest.approx(0.425, rel=1e-12)
