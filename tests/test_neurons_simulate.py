"""simulate(): input checks, shapes, the Trace fields and save_trace.

"The paper" is Higuchi et al., "Balanced Resonate-and-Fire Neurons" (ICML 2024).
"""

import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfsim.errors import DivergenceWarning, RFSimError
from rfsim.neurons import MODELS, save_trace, simulate
from rfsim.stability import b_offset_interval

PULSES = np.zeros(300)
PULSES[[10, 72, 134, 196]] = 80.0


@pytest.mark.parametrize("model", MODELS)
def test_single_neuron_trace_shapes(model):
    trace = simulate(model, PULSES)
    assert trace.model == model
    assert trace.t.shape == (300,)
    assert trace.t[1] == pytest.approx(0.01, rel=1e-15)
    for name in ("I", "u", "z"):
        assert getattr(trace, name).shape == (300,)
    assert np.iscomplexobj(trace.u) == (model in ("rf", "brf"))
    assert (trace.v is None) == (model in ("alif", "li"))
    assert (trace.q is None) == (model not in ("brf", "bhrf"))
    assert (trace.a is None) == (model != "alif")
    assert (trace.b is None) == (model in ("alif", "li"))
    assert isinstance(trace.spike_times, np.ndarray)
    np.testing.assert_array_equal(trace.spike_times, np.flatnonzero(trace.z) * 0.01)


def test_many_neurons_equal_single_runs():
    # N independent neurons in one call give exactly the N single-neuron runs.
    omega = np.array([5.0, 10.0, 30.0])
    b_offset = np.array([0.5, 1.0, 2.0])
    current = np.column_stack([PULSES, 0.5 * PULSES, np.roll(PULSES, 7)])
    batch = simulate("brf", current, omega=omega, b_offset=b_offset)
    assert batch.u.shape == (300, 3)
    assert isinstance(batch.spike_times, tuple) and len(batch.spike_times) == 3
    for k in range(3):
        single = simulate("brf", current[:, k], omega=omega[k], b_offset=b_offset[k])
        np.testing.assert_array_equal(batch.u[:, k], single.u)
        np.testing.assert_array_equal(batch.spike_times[k], single.spike_times)


def test_scalar_parameters_broadcast_over_neurons():
    current = np.column_stack([PULSES, PULSES])
    trace = simulate("rf", current, omega=10.0, b_offset=1.0)
    np.testing.assert_array_equal(trace.u[:, 0], trace.u[:, 1])


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(dt=0.0), "dt must be a finite positive"),
        (dict(dt=-0.01), "dt must be a finite positive"),
        (dict(omega=0.0), "omega must be a finite positive"),
        (dict(omega=-3.0), "omega must be a finite positive"),
        (dict(omega=150.0), r"omega \* dt must be <= 1"),
        (dict(omega=np.nan), "omega must be"),
        (dict(b_offset=np.inf), "b_offset must be finite"),
        (dict(b_offset=-0.5), "b_offset=-0.5"),
        (dict(b_offset=250.0), "b_offset=250"),
        (dict(gamma=1.5), "gamma must lie in"),
        (dict(theta=np.nan), "theta must be finite"),
        (dict(order="backward"), "order must be one of"),
        (dict(reset="partial"), "reset must be one of"),
        (dict(omega=np.ones(3)), r"omega must be a scalar or have shape \(1,\)"),
    ],
)
def test_brf_rejects_invalid_parameters(kwargs, pattern):
    with pytest.raises(RFSimError, match=pattern):
        simulate("brf", PULSES, **kwargs)


@pytest.mark.parametrize(
    "current, pattern",
    [
        (np.array([0.0, np.nan, 1.0]), "non-finite value nan at index"),
        (np.array([0.0, np.inf]), "non-finite value inf"),
        (np.zeros((3, 2, 2)), r"shape \(T,\) for one neuron or \(T, N\)"),
        (np.zeros(0), "at least one step"),
        (np.array([1.0 + 1j]), "real input current"),
        (["a", "b"], "array of numbers"),
    ],
)
def test_rejects_invalid_input(current, pattern):
    with pytest.raises(RFSimError, match=pattern):
        simulate("brf", current)


def test_rejects_unknown_model():
    with pytest.raises(RFSimError, match="model must be one of"):
        simulate("lif", PULSES)


def test_divergent_b_offset_raises_or_warns():
    _, high = b_offset_interval(10.0, 0.01)
    with pytest.raises(RFSimError, match="diverges"):
        simulate("brf", PULSES, b_offset=high * 1.01)
    with pytest.warns(DivergenceWarning, match="diverges"):
        trace = simulate("brf", PULSES, b_offset=high * 1.01, allow_divergent=True)
    # Beyond the upper root the Euler step overshoots: |u| grows.
    assert np.abs(trace.u[-1]) > np.abs(trace.u[20])


def test_rf_divergence_interval_is_shifted_by_p():
    # RF with b = -b_offset converges for b_offset in [-p, -p + 2r/dt]; at omega = 40 rad/s
    # -p = 8.348..., so b_offset = 5 diverges and 9 converges.
    with pytest.raises(RFSimError, match=r"converges only for b_offset in \[8.34849, 191.652\]"):
        simulate("rf", PULSES, omega=40.0, b_offset=5.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        simulate("rf", PULSES, omega=40.0, b_offset=9.0)


def test_exact_rf_accepts_fast_omega_but_not_negative_damping():
    trace = simulate("rf", PULSES, omega=150.0, b_offset=0.5, scheme="exact")
    assert np.all(np.isfinite(trace.u))
    with pytest.raises(RFSimError, match="exact-exponential RF diverges"):
        simulate("rf", PULSES, omega=150.0, b_offset=-0.5, scheme="exact")


def test_bhrf_paper_sign_diverges_without_permission():
    # The paper's literal damping p_h - b_offset - q drops below the sustained value.
    with pytest.raises(RFSimError, match="eigenvalue of modulus"):
        simulate("bhrf", PULSES, omega=20.0, b_offset=0.5, order="paper", damping_sign="paper")
    with pytest.warns(DivergenceWarning):
        simulate("bhrf", PULSES, omega=20.0, b_offset=0.5, order="paper", damping_sign="paper", allow_divergent=True)


def test_hrf_without_damping_in_paper_order_diverges():
    with pytest.raises(RFSimError, match="diverges"):
        simulate("hrf", PULSES, omega=20.0, b_offset=0.0, order="paper")


def test_alif_rejects_zero_time_constant():
    with pytest.raises(RFSimError, match="tau_mem must be non-zero"):
        simulate("alif", PULSES, tau_mem=0.0)
    with pytest.raises(RFSimError, match="tau_adp must be non-zero"):
        simulate("alif", PULSES, tau_adp=0.0)


def test_alif_default_threshold_is_yin_base():
    trace = simulate("alif", np.zeros(5))
    np.testing.assert_array_equal(trace.threshold, np.full(5, 0.01))


def test_trace_parameters_record_options():
    trace = simulate("bhrf", PULSES, omega=20.0, b_offset=0.5, order="paper")
    assert trace.parameters["order"] == "paper"
    assert trace.parameters["omega"] == 20.0
    assert json.dumps(trace.parameters)


def test_save_trace_csv_round_trip(tmp_path):
    trace = simulate("brf", PULSES)
    path = tmp_path / "trace.csv"
    save_trace(trace, path)
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    assert header == ["t", "I", "u_re", "u_im", "q", "z", "b", "threshold"]
    np.testing.assert_array_equal(data[:, header.index("u_re")], trace.u.real)
    np.testing.assert_array_equal(data[:, header.index("z")], trace.z)


def test_save_trace_csv_many_neurons(tmp_path):
    trace = simulate("hrf", np.column_stack([PULSES, PULSES]))
    path = tmp_path / "trace.csv"
    save_trace(trace, path)
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
    assert header[:4] == ["t", "I_0", "I_1", "u_0"]
    assert "v_1" in header


def test_save_trace_npz_round_trip(tmp_path):
    trace = simulate("rf", PULSES, reset="soft")
    path = tmp_path / "trace.npz"
    save_trace(trace, path)
    with np.load(path) as stored:
        np.testing.assert_array_equal(stored["u"], trace.u)
        np.testing.assert_array_equal(stored["spike_times"], trace.spike_times)
        meta = json.loads(str(stored["meta_json"]))
    assert meta["model"] == "rf"
    assert meta["reset"] == "soft"


def test_save_trace_rejects_unknown_suffix(tmp_path):
    with pytest.raises(RFSimError, match="use .csv or .npz"):
        save_trace(simulate("li", PULSES), tmp_path / "trace.json")


@settings(max_examples=40)
@given(
    omega=st.floats(1.0, 99.0),
    fraction=st.floats(0.0, 1.0),
)
def test_brf_inside_interval_stays_bounded(omega, fraction):
    """Theorem: for b_offset in [0, 2r/dt] and no input after the first step, |u_n| <= |u_0|.

    With q = 0 (no spike: the threshold is out of reach) each Euler step multiplies u by
    lambda with |lambda| <= 1, so the modulus never grows.
    """
    _, high = b_offset_interval(omega, 0.01)
    current = np.zeros(400)
    current[0] = 1.0
    trace = simulate("brf", current, omega=omega, b_offset=fraction * high, theta=1e300)
    assert np.max(np.abs(trace.u)) <= 0.01 * (1.0 + 1e-12)


@pytest.mark.parametrize(
    "model, kwargs",
    [
        ("brf", dict(b_offset=250.0)),
        ("brf", dict(b_offset=0.1, use_boundary=False)),
        ("rf", dict(b_offset=0.1)),
        ("hrf", dict(b_offset=0.0, order="paper")),
        ("bhrf", dict(b_offset=0.5, damping_sign="paper", order="paper")),
    ],
)
def test_divergence_warning_points_at_caller(model, kwargs):
    with pytest.warns(DivergenceWarning) as record:
        simulate(model, PULSES[:50], allow_divergent=True, **kwargs)
    assert record[0].filename == __file__
