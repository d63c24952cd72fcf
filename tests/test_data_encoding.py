"""Tests of the level-crossing encoders on hand-made signals and random ones."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rfsim.data.encoding import level_crossing_encode, level_crossing_reference
from rfsim.errors import RFSimError

signals = arrays(
    np.float64,
    st.tuples(st.integers(1, 60), st.integers(1, 3)),
    elements=st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False),
)
thresholds = st.floats(0.05, 5.0)


def test_difference_ramp_steep():
    # Slope 0.3 per step >= L = 0.25: one up event per difference, none at the last step.
    signal = 0.3 * np.arange(10)
    events = level_crossing_encode(signal, 0.25)
    assert events.dtype == np.uint8
    assert events[:, 0].tolist() == [1] * 9 + [0]
    assert events[:, 1].sum() == 0


def test_difference_ramp_shallow_has_no_events():
    # Slope 0.2 per step < L = 0.25: every difference stays below the threshold.
    events = level_crossing_encode(0.2 * np.arange(10), 0.25)
    assert events.sum() == 0


def test_difference_step_gives_one_event():
    # A jump of 3 L still gives a single event, at the step before the jump.
    signal = np.array([0.0, 0.0, 0.0, 3.0, 3.0, 3.0, 0.0])
    events = level_crossing_encode(signal, 1.0)
    assert events[:, 0].tolist() == [0, 0, 1, 0, 0, 0, 0]
    assert events[:, 1].tolist() == [0, 0, 0, 0, 0, 1, 0]


def test_difference_threshold_inclusive():
    # d = L exactly counts as a crossing (>=); values are exact binary fractions.
    events = level_crossing_encode([0.0, 0.5, 0.0], 0.5)
    assert events[:, 0].tolist() == [1, 0, 0]
    assert events[:, 1].tolist() == [0, 1, 0]


def test_level_unit_staircase_counts_rise():
    # Unit steps of height L: one up event per step, total = rise / L.
    L = 0.5
    signal = L * np.array([0, 1, 2, 3, 4, 4, 3, 2])
    events = level_crossing_encode(signal, L, mode="level")
    assert events[:, 0].tolist() == [0, 1, 1, 1, 1, 0, 0, 0]
    assert events[:, 1].tolist() == [0, 0, 0, 0, 0, 0, 1, 1]
    assert events[:, 0].sum() == (signal.max() - signal[0]) / L


def test_level_step_counts_height():
    # A step of height 3 L gives three up events at the step, then three down events.
    signal = np.array([0.0, 0.0, 3.0, 3.0, 0.0])
    events = level_crossing_encode(signal, 1.0, mode="level")
    assert events[:, 0].tolist() == [0, 0, 3, 0, 0]
    assert events[:, 1].tolist() == [0, 0, 0, 0, 3]


def test_level_ramp_events_spread():
    # Ramp of slope 0.1 per step with L = 0.25: a rise of 0.9 gives floor(0.9 / 0.25) = 3
    # up events, one at a time, at the steps where the signal passes 0.25, 0.5 and 0.75.
    signal = 0.1 * np.arange(10)
    events = level_crossing_encode(signal, 0.25, mode="level")
    assert events[:, 0].sum() == 3
    assert events[:, 1].sum() == 0
    assert events[:, 0].max() == 1
    assert np.flatnonzero(events[:, 0]).tolist() == [3, 5, 8]


def test_sine_events_balance():
    # Four sine periods start and end at 0. The events conserve the change up to the
    # final level offset: |L (ups - downs) - (s[-1] - s[0])| < L, so ups and downs
    # differ by at most one. Each period rises by 2 (from -1 to 1), about 2 / L ups,
    # give or take one event per period for where the level sits.
    t = np.linspace(0.0, 4 * 2 * np.pi, 4001)
    signal = np.sin(t)
    L = 0.1
    events = level_crossing_encode(signal, L, mode="level").astype(np.int64)
    ups, downs = events[:, 0].sum(), events[:, 1].sum()
    assert abs(L * (ups - downs) - (signal[-1] - signal[0])) < L
    assert abs(ups - downs) <= 1
    assert abs(ups - 4 * 2 / L) <= 4


def test_sine_difference_mode_detects_fast_phase_only():
    # Difference mode on a sine with max slope per sample 2π·f·Δt: only samples whose
    # difference reaches L fire, so a threshold above the max slope gives no events.
    t = np.arange(200) * 0.01
    signal = np.sin(2 * np.pi * 1.0 * t)
    max_difference = np.abs(np.diff(signal)).max()
    assert level_crossing_encode(signal, max_difference * 1.01).sum() == 0
    events = level_crossing_encode(signal, max_difference * 0.9)
    assert events[:, 0].sum() > 0
    assert events[:, 1].sum() > 0


def test_multi_lead_layout():
    lead_up = np.array([0.0, 1.0, 2.0])
    lead_down = np.array([0.0, -1.0, -2.0])
    events = level_crossing_encode(np.stack([lead_up, lead_down], axis=1), 1.0)
    assert events.shape == (3, 4)
    assert events[:, 0].tolist() == [1, 1, 0]
    assert events[:, 1].sum() == 0
    assert events[:, 2].sum() == 0
    assert events[:, 3].tolist() == [1, 1, 0]


def test_savgol_smoothing_applied():
    from scipy.signal import savgol_filter

    rng = np.random.default_rng(3)
    signal = np.cumsum(rng.normal(size=50))
    smoothed = savgol_filter(signal, 5, 3)
    direct = level_crossing_encode(smoothed, 0.4)
    assert np.array_equal(level_crossing_encode(signal, 0.4, savgol_window=5), direct)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 0.0}, "threshold"),
        ({"threshold": -1.0}, "threshold"),
        ({"threshold": float("nan")}, "threshold"),
        ({"threshold": 1.0, "mode": "sigma-delta"}, "mode"),
        ({"threshold": 1.0, "savgol_window": 4}, "odd"),
        ({"threshold": 1.0, "savgol_window": 5, "savgol_order": 5}, "savgol_order"),
    ],
)
def test_invalid_options_rejected(kwargs, message):
    with pytest.raises(RFSimError, match=message):
        level_crossing_encode(np.arange(10.0), **kwargs)


def test_invalid_signals_rejected():
    with pytest.raises(RFSimError, match="shape"):
        level_crossing_encode(np.zeros((2, 2, 2)), 1.0)
    with pytest.raises(RFSimError, match="finite"):
        level_crossing_encode([0.0, np.nan], 1.0)
    with pytest.raises(RFSimError, match="too small"):
        level_crossing_encode([1e20, 1e20 + 1e6], 1.0, mode="level")


@given(signal=signals, threshold=thresholds)
def test_level_kernel_matches_reference(signal, threshold):
    """The Numba kernel performs the reference loop's additions in the same order: equal counts."""
    assert np.array_equal(level_crossing_encode(signal, threshold, mode="level"),
                          level_crossing_reference(signal, threshold))


@given(signal=signals, threshold=thresholds)
def test_level_conserves_change(signal, threshold):
    """Theorem: L · (ups - downs) summed to step t equals r_t - s[0] with |s[t] - r_t| < L.

    So the reconstruction s[0] + L · cumsum(ups - downs) tracks the signal within L
    (plus rounding of the repeated additions, bounded here by 1e-9).
    """
    events = level_crossing_encode(signal, threshold, mode="level").astype(np.int64)
    net = events[:, 0::2] - events[:, 1::2]
    reconstruction = signal[0] + threshold * np.cumsum(net, axis=0)
    assert np.all(np.abs(signal - reconstruction) < threshold + 1e-9)
    assert np.all(events[0] == 0)


@given(signal=signals, threshold=thresholds)
def test_level_never_both_directions(signal, threshold):
    """Theorem: after the up loop the level is within L below s[t], so no down event follows."""
    events = level_crossing_encode(signal, threshold, mode="level")
    assert not np.any((events[:, 0::2] > 0) & (events[:, 1::2] > 0))


@given(signal=signals, threshold=thresholds)
def test_difference_events_follow_rule(signal, threshold):
    """Theorem: up[t] = [s[t+1] - s[t] >= L], down[t] = [s[t] - s[t+1] >= L], last step empty."""
    events = level_crossing_encode(signal, threshold)
    differences = np.diff(signal, axis=0)
    assert np.array_equal(events[:-1, 0::2], (differences >= threshold).astype(np.uint8))
    assert np.array_equal(events[:-1, 1::2], (-differences >= threshold).astype(np.uint8))
    assert np.all(events[-1] == 0)


@given(signal=signals, threshold=thresholds)
def test_difference_events_bounded_by_variation(signal, threshold):
    """Theorem: each up (down) event needs a rise (fall) of at least L between two samples,
    so L times the up (down) events is at most the total rise (fall) of the signal."""
    events = level_crossing_encode(signal, threshold).astype(np.int64)
    differences = np.diff(signal, axis=0)
    total_rise = np.clip(differences, 0.0, None).sum(axis=0)
    total_fall = np.clip(-differences, 0.0, None).sum(axis=0)
    assert np.all(threshold * events[:, 0::2].sum(axis=0) <= total_rise + 1e-12)
    assert np.all(threshold * events[:, 1::2].sum(axis=0) <= total_fall + 1e-12)
