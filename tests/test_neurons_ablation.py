"""BRF ablation switches remove exactly the mechanism they name."""

import numpy as np
import pytest

from rfsim.neurons import simulate
from rfsim.neurons.brf import ABLATIONS
from rfsim.stability import p_omega

OMEGA, B_OFFSET, DT = 10.0, 1.0, 0.01


def drive(n_steps=1500, seed=5):
    """Return strong random input spikes that make the neuron fire often."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n_steps) < 0.15, 120.0, 0.0)


def run(variant, current=None):
    use_boundary, use_refractory, use_smooth_reset = ABLATIONS[variant]
    return simulate(
        "brf", drive() if current is None else current, omega=OMEGA, b_offset=B_OFFSET, dt=DT,
        use_boundary=use_boundary, use_refractory=use_refractory, use_smooth_reset=use_smooth_reset,
    )


def previous(q):
    return np.concatenate([[0.0], q[:-1]])


def test_all_switches_off_is_plain_rf():
    # b = -b_offset constant, threshold theta_c, no reset: the vanilla RF, bit for bit.
    brf = run("none")
    rf = simulate("rf", drive(), omega=OMEGA, b_offset=B_OFFSET, dt=DT)
    assert brf.z.sum() > 10
    np.testing.assert_array_equal(brf.u, rf.u)
    np.testing.assert_array_equal(brf.z, rf.z)
    np.testing.assert_array_equal(brf.b, np.full(brf.z.shape, -B_OFFSET))
    np.testing.assert_array_equal(brf.threshold, np.full(brf.z.shape, 1.0))


def test_full_brf_damping_and_threshold():
    trace = run("all")
    q_prev = previous(trace.q)
    np.testing.assert_array_equal(trace.b, (p_omega(OMEGA, DT) - B_OFFSET) - q_prev)
    np.testing.assert_array_equal(trace.threshold, 1.0 + q_prev)


def test_no_boundary_replaces_p_by_zero():
    trace = run("no_boundary")
    q_prev = previous(trace.q)
    np.testing.assert_array_equal(trace.b, -B_OFFSET - q_prev)
    np.testing.assert_array_equal(trace.threshold, 1.0 + q_prev)


def test_refractory_only_keeps_damping_constant():
    trace = run("refractory_only")
    assert trace.q.max() >= 1.0
    np.testing.assert_array_equal(trace.b, np.full(trace.z.shape, -B_OFFSET))
    np.testing.assert_array_equal(trace.threshold, 1.0 + previous(trace.q))


def test_smooth_reset_only_keeps_threshold_constant():
    trace = run("smooth_reset_only")
    assert trace.q.max() >= 1.0
    np.testing.assert_array_equal(trace.b, -B_OFFSET - previous(trace.q))
    np.testing.assert_array_equal(trace.threshold, np.full(trace.z.shape, 1.0))
    # The spike condition is the plain threshold: z_t = H(Re u_t - 1).
    np.testing.assert_array_equal(trace.z, (trace.u.real > 1.0).astype(float))


def test_refractory_period_reduces_firing():
    # Without the smooth reset the damping is that of the plain RF, so u is unchanged.
    # The raised threshold after each spike can then only suppress spikes.
    plain = run("none")
    refractory = run("refractory_only")
    np.testing.assert_array_equal(refractory.u, plain.u)
    assert refractory.z.sum() < plain.z.sum()
    assert np.all(refractory.z <= plain.z)


def test_smooth_reset_shrinks_membrane_after_spikes():
    # Deeper damping after spikes pulls |u| down compared with the plain RF on the same input.
    plain = run("none")
    smooth = run("smooth_reset_only")
    assert np.max(np.abs(smooth.u)) < 0.9 * np.max(np.abs(plain.u))
    assert smooth.z.sum() < plain.z.sum()


@pytest.mark.parametrize("variant", ["no_boundary", "refractory_only", "smooth_reset_only", "none"])
def test_ablation_differs_from_full_brf(variant):
    assert not np.array_equal(run(variant).u, run("all").u)
