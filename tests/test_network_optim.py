"""Optimizers against closed forms of torch.optim's update rules."""

import math

import numpy as np
import pytest

from rfsim.errors import RFSimError
from rfsim.network.optim import RMSprop, Adam, RAdam, clip_grad_norm, linear_decay_lr


def quadratic_grad(params, curvature):
    """Gradient of 0.5 * sum(curvature * p^2) for every parameter."""
    return {key: curvature[key] * value for key, value in params.items()}


# --- Adam ------------------------------------------------------------------------------


def test_adam_first_step_moves_by_lr_times_sign():
    # Step 1: m = 0.1 g, v = 0.001 g^2, so m / (1 - 0.9) = g and sqrt(v / (1 - 0.999)) = |g|,
    # and the step is lr * g / (|g| + eps), i.e. lr * sign(g) up to eps / |g|.
    grad = np.array([3.0, -0.02, 1e-3, 0.0])
    params = {"w": np.zeros(4)}
    Adam(params, lr=0.1).step({"w": grad})
    expected = -0.1 * grad / (np.abs(grad) + 1e-8)
    np.testing.assert_allclose(params["w"], expected, rtol=1e-14, atol=0)
    assert params["w"][0] == pytest.approx(-0.1, rel=1e-8)
    assert params["w"][3] == 0.0


def test_adam_matches_closed_form_on_quadratic():
    # Run the recursion by hand with scalars on f(p) = 0.5 c p^2, per coordinate.
    curvature = {"p": np.array([2.0, 0.5])}
    start = np.array([1.0, -3.0])
    params = {"p": start.copy()}
    lr, beta1, beta2, eps = 0.05, 0.8, 0.99, 1e-6
    optimizer = Adam(params, lr=lr, betas=(beta1, beta2), eps=eps)

    p = start.tolist()
    m, v = [0.0, 0.0], [0.0, 0.0]
    for t in range(1, 6):
        optimizer.step(quadratic_grad(params, curvature))
        for i in range(2):
            g = curvature["p"][i] * p[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            p[i] = p[i] - lr * (m[i] / (1 - beta1**t)) / (math.sqrt(v[i] / (1 - beta2**t)) + eps)
        np.testing.assert_allclose(params["p"], p, rtol=1e-13, atol=0, err_msg=f"step {t}")


def test_adam_weight_decay_adds_l2_gradient():
    params = {"w": np.array([2.0, -1.0])}
    reference = {"w": np.array([2.0, -1.0])}
    Adam(params, lr=0.01, weight_decay=0.1).step({"w": np.array([0.3, 0.3])})
    Adam(reference, lr=0.01).step({"w": np.array([0.3 + 0.2, 0.3 - 0.1])})
    np.testing.assert_array_equal(params["w"], reference["w"])


def test_adam_amsgrad_uses_max_second_moment():
    # A large then a small gradient: amsgrad keeps the larger v, so its second step is
    # smaller than plain Adam's.
    grads = [np.array([10.0]), np.array([0.1]), np.array([0.1])]
    plain, ams = {"w": np.zeros(1)}, {"w": np.zeros(1)}
    plain_optimizer, ams_optimizer = Adam(plain, lr=0.1), Adam(ams, lr=0.1, amsgrad=True)
    for grad in grads:
        before_plain, before_ams = plain["w"].copy(), ams["w"].copy()
        plain_optimizer.step({"w": grad})
        ams_optimizer.step({"w": grad})
    assert abs(ams["w"] - before_ams)[0] < abs(plain["w"] - before_plain)[0]
    # The maximum is v after the first step, (1 - 0.999) * 10^2.
    assert ams_optimizer.state["max_exp_avg_sq"]["w"][0] == pytest.approx(0.1, rel=1e-14)
    assert ams_optimizer.state["exp_avg_sq"]["w"][0] < 0.1


def test_adam_keeps_float32():
    params = {"w": np.ones(3, dtype=np.float32)}
    optimizer = Adam(params, lr=0.1)
    optimizer.step({"w": np.array([1.0, -1.0, 0.5])})
    assert params["w"].dtype == np.float32
    assert optimizer.state["exp_avg"]["w"].dtype == np.float32
    np.testing.assert_allclose(params["w"], [0.9, 1.1, 0.9], rtol=1e-6)


# --- RAdam -----------------------------------------------------------------------------


def rho(step, beta2=0.999):
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf - 2 * step * beta2**step / (1 - beta2**step)


def test_radam_threshold_at_step_six():
    # With beta2 = 0.999, rho_t first exceeds 5 at t = 6 (rho_5 = 4.99, rho_6 = 5.99).
    assert rho(5) < 5.0 < rho(6)


def test_radam_matches_closed_form():
    lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
    rho_inf = 2 / (1 - beta2) - 1
    params = {"w": np.array([1.5])}
    optimizer = RAdam(params, lr=lr)
    p, m, v = 1.5, 0.0, 0.0
    for t in range(1, 12):
        g = 3.0 * p - 1.0
        optimizer.step({"w": np.array([g])})

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        rho_t = rho(t)
        if rho_t > 5:
            r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            p = p - lr * m_hat * r * math.sqrt(1 - beta2**t) / (math.sqrt(v) + eps)
        else:
            p = p - lr * m_hat
        assert params["w"][0] == pytest.approx(p, rel=1e-13), t


def test_radam_early_steps_are_momentum_sgd():
    params = {"w": np.array([0.0])}
    optimizer = RAdam(params, lr=0.5)
    optimizer.step({"w": np.array([2.0])})
    # m_hat = g at step 1, so the first step is exactly -lr * g.
    assert params["w"][0] == pytest.approx(-1.0, rel=1e-15)


# --- RMSprop ---------------------------------------------------------------------------


def test_rmsprop_first_step():
    # s = (1 - 0.99) g^2, step = lr g / (sqrt(0.01) |g| + eps) = 10 lr sign(g) approximately.
    params = {"w": np.array([0.0, 0.0])}
    RMSprop(params).step({"w": np.array([4.0, -1.0])})
    expected = -0.01 * np.array([4.0, -1.0]) / (np.sqrt(0.01 * np.array([16.0, 1.0])) + 1e-8)
    np.testing.assert_allclose(params["w"], expected, rtol=1e-15)
    assert params["w"][0] == pytest.approx(-0.1, rel=1e-7)


def test_rmsprop_matches_closed_form_with_momentum_and_centering():
    lr, alpha, eps, mu = 0.02, 0.9, 1e-8, 0.5
    params = {"w": np.array([2.0])}
    optimizer = RMSprop(params, lr=lr, alpha=alpha, momentum=mu, centered=True)
    p, s, gbar, buf = 2.0, 0.0, 0.0, 0.0
    for t in range(8):
        g = p**3
        optimizer.step({"w": np.array([g])})
        s = alpha * s + (1 - alpha) * g * g
        gbar = alpha * gbar + (1 - alpha) * g
        buf = mu * buf + g / (math.sqrt(s - gbar * gbar) + eps)
        p = p - lr * buf
        assert params["w"][0] == pytest.approx(p, rel=1e-12), t


# --- state, learning rate, validation -------------------------------------------------


@pytest.mark.parametrize("optimizer_class", [Adam, RAdam, RMSprop])
def test_state_round_trip_resumes_exactly(optimizer_class, tmp_path):
    rng = np.random.default_rng(0)
    initial = {"a": rng.normal(size=(3, 4)), "b": rng.normal(size=5)}
    grads = [{key: rng.normal(size=value.shape) for key, value in initial.items()} for _ in range(10)]

    straight = {key: value.copy() for key, value in initial.items()}
    straight_optimizer = optimizer_class(straight, lr=0.03)
    for grad in grads:
        straight_optimizer.step(grad)

    first = {key: value.copy() for key, value in initial.items()}
    first_optimizer = optimizer_class(first, lr=0.03)
    for grad in grads[:4]:
        first_optimizer.step(grad)
    np.savez(tmp_path / "state.npz", **first_optimizer.state_dict())
    resumed = {key: value.copy() for key, value in first.items()}

    resumed_optimizer = optimizer_class(resumed, lr=1.0)
    with np.load(tmp_path / "state.npz") as saved:
        resumed_optimizer.load_state_dict(dict(saved))
    assert resumed_optimizer.lr == 0.03
    for grad in grads[4:]:
        resumed_optimizer.step(grad)
    for key in initial:
        np.testing.assert_array_equal(resumed[key], straight[key])


def test_state_dict_is_flat_arrays():
    optimizer = Adam({"w": np.zeros(2)})
    optimizer.step({"w": np.ones(2)})
    exported = optimizer.state_dict()
    assert all(isinstance(value, np.ndarray) for value in exported.values())
    assert exported["step/w"] == 1
    assert exported["hyper/beta2"] == 0.999
    np.testing.assert_allclose(exported["exp_avg/w"], [0.1, 0.1], rtol=1e-15)
    exported["exp_avg/w"][0] = 99.0
    assert optimizer.state["exp_avg"]["w"][0] != 99.0


def test_load_state_dict_rejects_mismatch():
    optimizer = Adam({"w": np.zeros(2)})
    state = optimizer.state_dict()
    with pytest.raises(RFSimError, match="missing keys"):
        Adam({"v": np.zeros(2)}).load_state_dict(state)
    with pytest.raises(RFSimError, match="shape"):
        Adam({"w": np.zeros(3)}).load_state_dict(state)
    with pytest.raises(RFSimError, match="unknown keys"):
        RAdam({"w": np.zeros(2)}).load_state_dict(state)


def test_learning_rate_settable_per_step():
    params = {"w": np.zeros(1)}
    optimizer = RAdam(params, lr=0.1)
    optimizer.step({"w": np.array([1.0])})
    optimizer.lr = 0.0
    before = params["w"].copy()
    optimizer.step({"w": np.array([1.0])})
    np.testing.assert_array_equal(params["w"], before)
    assert optimizer.steps["w"] == 2
    with pytest.raises(RFSimError, match="lr"):
        optimizer.lr = -0.1


def test_missing_gradient_skips_parameter():
    params = {"a": np.zeros(1), "b": np.zeros(1)}
    optimizer = Adam(params, lr=0.1)
    optimizer.step({"a": np.array([1.0])})
    assert params["b"][0] == 0.0
    assert optimizer.steps == {"a": 1, "b": 0}


@pytest.mark.parametrize("kwargs", [dict(lr=-1.0), dict(lr=float("nan")), dict(betas=(1.0, 0.999)),
                                    dict(betas=(0.9, -0.1)), dict(eps=-1e-8), dict(weight_decay=-0.1)])
def test_adam_rejects_invalid_hyperparameters(kwargs):
    with pytest.raises(RFSimError):
        Adam({"w": np.zeros(1)}, **kwargs)
    with pytest.raises(RFSimError):
        RAdam({"w": np.zeros(1)}, **kwargs)


def test_rmsprop_rejects_invalid_hyperparameters():
    for kwargs in (dict(alpha=1.5), dict(alpha=-0.1), dict(momentum=-1.0), dict(eps=-1.0), dict(lr=-1.0)):
        with pytest.raises(RFSimError):
            RMSprop({"w": np.zeros(1)}, **kwargs)


def test_rejects_invalid_params_and_grads():
    with pytest.raises(RFSimError, match="non-empty dict"):
        Adam({})
    with pytest.raises(RFSimError, match="floating-point"):
        Adam({"w": np.zeros(2, dtype=int)})
    with pytest.raises(RFSimError, match="floating-point"):
        Adam({"w": [0.0, 1.0]})
    frozen = np.zeros(2)
    frozen.flags.writeable = False
    with pytest.raises(RFSimError, match="read-only"):
        Adam({"w": frozen})
    optimizer = Adam({"w": np.zeros(2)})
    with pytest.raises(RFSimError, match="not a parameter"):
        optimizer.step({"v": np.zeros(2)})
    with pytest.raises(RFSimError, match="shape"):
        optimizer.step({"w": np.zeros(3)})
    assert optimizer.steps["w"] == 0


# --- schedule and clipping -------------------------------------------------------------


def test_linear_decay_lr():
    assert linear_decay_lr(0.1, 0, 400) == 0.1
    assert linear_decay_lr(0.1, 100, 400) == pytest.approx(0.075, rel=1e-15)
    assert linear_decay_lr(0.1, 399, 400) == pytest.approx(0.1 / 400, rel=1e-12)
    assert linear_decay_lr(0.1, 400, 400) == 0.0
    for epoch, epochs in ((-1, 10), (11, 10), (1.5, 10), (0, 0)):
        with pytest.raises(RFSimError):
            linear_decay_lr(0.1, epoch, epochs)


def test_clip_grad_norm_scales_above_max():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[0.0, 4.0]])}
    total = clip_grad_norm(grads, 1.0)
    assert total == 5.0
    scale = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(grads["a"], [3.0 * scale, 0.0], rtol=1e-15)
    np.testing.assert_allclose(grads["b"], [[0.0, 4.0 * scale]], rtol=1e-15)
    joint = math.sqrt((grads["a"] ** 2).sum() + (grads["b"] ** 2).sum())
    assert joint == pytest.approx(1.0, abs=1e-6)
    assert joint < 1.0


def test_clip_grad_norm_leaves_small_gradients():
    grads = {"a": np.array([0.3, 0.4])}
    total = clip_grad_norm(grads, 1.0)
    assert total == pytest.approx(0.5, rel=1e-15)
    np.testing.assert_array_equal(grads["a"], [0.3, 0.4])


def test_clip_grad_norm_inf_norm_and_errors():
    grads = {"a": np.array([-6.0, 2.0]), "b": np.array([3.0])}
    assert clip_grad_norm(grads, 3.0, norm_type=math.inf) == 6.0
    np.testing.assert_allclose(grads["a"], [-6.0 * 3.0 / (6.0 + 1e-6), 2.0 * 3.0 / (6.0 + 1e-6)], rtol=1e-15)

    with pytest.raises(RFSimError, match="max_norm"):
        clip_grad_norm({"a": np.ones(2)}, -1.0)
    with pytest.raises(RFSimError, match="norm_type"):
        clip_grad_norm({"a": np.ones(2)}, 1.0, norm_type=0.0)
    with pytest.raises(RFSimError, match="total gradient norm"):
        clip_grad_norm({"a": np.array([np.nan])}, 1.0, error_if_nonfinite=True)


def test_step_accepts_bound_params():
    params = {"w": np.zeros(1)}
    optimizer = Adam(params, lr=0.1)
    optimizer.step(params, {"w": np.array([1.0])})
    assert params["w"][0] == pytest.approx(-0.1, rel=1e-7)
    with pytest.raises(RFSimError, match="constructor"):
        optimizer.step({"w": np.zeros(1)}, {"w": np.array([1.0])})
    with pytest.raises(RFSimError, match="arguments"):
        optimizer.step()
