"""Encoders that turn sampled signals into up/down spike channels.

Both encoders map a signal s of shape (T,) or (T, n_leads) to events of shape
(T, 2 * n_leads), laid out lead by lead as ``[up_0, down_0, up_1, down_1, ...]``. This is
the channel order of the QTDB ECG files, whose pairs (0, 1) and (2, 3) are the two leads.
L > 0 is the threshold in the signal's unit.

``mode="difference"`` (Yin et al. 2021, the rule of their public ECG preprocessing):
each successive difference d_t = s[t+1] - s[t], t = 0 … T-2, gives at most one event
at step t:

    up[t] = 1 if d_t >= L,    down[t] = 1 if -d_t >= L,    and no event at t = T-1.

A difference of several L still gives one event, and a slow drift with |d_t| < L
gives none. Yin et al. smooth the signal first with a Savitzky-Golay filter (window 5,
polynomial order 3); pass ``savgol_window=5`` for that. rfsim cannot check whether the
published QTDB files were made with exactly this rule, because the raw recordings
are not part of them.

``mode="level"`` (send-on-delta level crossing): a reference level r starts at s[0]
and follows the signal in multiples of L. At each step t >= 1,

    while s[t] - r >= L:  up[t] += 1,   r += L
    while r - s[t] >= L:  down[t] += 1, r -= L

so step t may carry several events. Afterwards |s[t] - r_t| < L, and the events
conserve the signal's change: L * (sum(up) - sum(down)) = r_{T-1} - s[0], which is
within L of s[T-1] - s[0]. Step 0 never has an event.
"""

from __future__ import annotations

import numpy as np

from rfsim._numba import njit
from rfsim.errors import RFSimError

__all__ = ["level_crossing_encode", "level_crossing_reference"]


@njit
def _level_kernel(signal, threshold, events):
    """Send-on-delta encoding of (T, n_leads) float64 into (T, 2 n_leads) int32 counts."""
    n_steps, n_leads = signal.shape
    for lead in range(n_leads):
        level = signal[0, lead]
        for t in range(1, n_steps):
            value = signal[t, lead]
            # One addition per event, as in the rule, so the level carries the same
            # rounding as the reference loop.
            while value - level >= threshold:
                events[t, 2 * lead] += 1
                level += threshold
            while level - value >= threshold:
                events[t, 2 * lead + 1] += 1
                level -= threshold
    return events


def level_crossing_reference(signal, threshold: float) -> np.ndarray:
    """Send-on-delta encoding with one loop iteration per event (slow, for tests).

    Same contract as ``level_crossing_encode(signal, threshold, mode="level")``.
    """
    values = _as_signal_matrix(signal)
    _check_threshold(threshold)
    n_steps, n_leads = values.shape
    events = np.zeros((n_steps, 2 * n_leads), dtype=np.int32)
    for lead in range(n_leads):
        level = values[0, lead]
        for t in range(1, n_steps):
            while values[t, lead] - level >= threshold:
                events[t, 2 * lead] += 1
                level += threshold
            while level - values[t, lead] >= threshold:
                events[t, 2 * lead + 1] += 1
                level -= threshold
    return events


def _as_signal_matrix(signal) -> np.ndarray:
    values = np.asarray(signal, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise RFSimError(f"signal must have shape (T,) or (T, n_leads), got shape {values.shape}")
    if values.shape[0] < 1 or values.shape[1] < 1:
        raise RFSimError(f"signal must have at least one step and one lead, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise RFSimError("signal must be finite; it contains NaN or inf")
    return values


def _check_threshold(threshold: float) -> None:
    if not np.isfinite(threshold) or threshold <= 0:
        raise RFSimError(f"threshold L must be a positive finite number in the signal's unit, got {threshold}")


def level_crossing_encode(
    signal,
    threshold: float,
    *,
    mode: str = "difference",
    savgol_window: int | None = None,
    savgol_order: int = 3,
) -> np.ndarray:
    """Encode a sampled signal into up/down event channels.

    The rules of both modes are stated in the module docstring.

    Parameters
    ----------
    signal : array_like, shape (T,) or (T, n_leads)
        Samples, one row per time step.
    threshold : float
        Threshold L (> 0), in the signal's unit.
    mode : {"difference", "level"}
        ``"difference"``: one event per step where a successive difference reaches L
        (Yin et al. 2021). ``"level"``: send-on-delta level crossing, several events per
        step possible, conserving the signal's change in units of L.
    savgol_window : int, optional
        Smooth each lead with a Savitzky-Golay filter of this odd window length
        (``scipy.signal.savgol_filter``) before encoding; Yin et al. use 5.
    savgol_order : int
        Polynomial order of the filter (Yin et al. use 3).

    Returns
    -------
    events : ndarray, shape (T, 2 * n_leads)
        ``[up_0, down_0, up_1, down_1, ...]``: uint8 in {0, 1} for
        ``"difference"``, int32 counts for ``"level"``.

    Examples
    --------
    >>> level_crossing_encode([0.0, 1.0, 1.0, 0.0], 0.5)[:, 0].tolist()
    [1, 0, 0, 0]
    >>> level_crossing_encode([0.0, 1.0, 1.0, 0.0], 0.5, mode="level")[:, 0].tolist()
    [0, 2, 0, 0]
    """
    values = _as_signal_matrix(signal)
    _check_threshold(threshold)
    if savgol_window is not None:
        values = _smooth(values, savgol_window, savgol_order)

    if mode == "difference":
        differences = np.diff(values, axis=0)
        events = np.zeros((values.shape[0], 2 * values.shape[1]), dtype=np.uint8)
        events[:-1, 0::2] = differences >= threshold
        events[:-1, 1::2] = -differences >= threshold
    elif mode == "level":
        _check_level_resolution(values, threshold)
        events = _level_kernel(np.ascontiguousarray(values), float(threshold),
                               np.zeros((values.shape[0], 2 * values.shape[1]), dtype=np.int32))
    else:
        raise RFSimError(f"mode must be 'difference' or 'level', got {mode!r}")
    return events


_MAX_LEVEL_EVENTS = 10**9


def _check_level_resolution(values: np.ndarray, threshold: float) -> None:
    # The event loops add L to a level of the signal's magnitude, so L must exceed the
    # float64 spacing there or the level never moves. The loops also run once per event.
    magnitude = float(np.max(np.abs(values)))
    if threshold <= 8 * np.finfo(np.float64).eps * magnitude:
        raise RFSimError(
            f"threshold L={threshold} is too small for a signal of magnitude {magnitude:g}: "
            "level + L rounds to level in float64; use a larger L or remove the offset"
        )
    n_events = float(np.abs(np.diff(values, axis=0)).sum()) / threshold
    if n_events > _MAX_LEVEL_EVENTS:
        raise RFSimError(
            f"threshold L={threshold} would produce about {n_events:.3g} events "
            f"(more than {_MAX_LEVEL_EVENTS}); use a larger L"
        )


def _smooth(values: np.ndarray, window: int, order: int) -> np.ndarray:
    from scipy.signal import savgol_filter

    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1 or window % 2 == 0:
        raise RFSimError(f"savgol_window must be a positive odd integer, got {window!r}")
    if not 0 <= order < window:
        raise RFSimError(f"savgol_order must lie in [0, savgol_window), got {order} with window {window}")
    if values.shape[0] < window:
        raise RFSimError(f"signal has {values.shape[0]} steps, fewer than savgol_window={window}")
    return savgol_filter(values, window, order, axis=0)
