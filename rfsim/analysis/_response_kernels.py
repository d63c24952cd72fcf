"""Numba kernels of the frequency-response sweep (``rfsim.analysis.response``).

Each (neuron, drive frequency) pair is one independent simulation from a zero
state. The input current is generated step by step and only the running sum
of |u| and the output spike count are kept, so no trace is stored. The neuron
updates are the scalar step functions of ``rfsim.neurons``, so every model's
equations exist once.
"""

import numpy as np

from rfsim._numba import njit, njit_parallel, prange
from rfsim.neurons.brf import brf_step
from rfsim.neurons.hrf import bhrf_step, hrf_step
from rfsim.neurons.rf import RESET_NONE, rf_step

MODEL_RF = 0
MODEL_BRF = 1
MODEL_HRF = 2
MODEL_BHRF = 3
MODEL_CODES = {"rf": MODEL_RF, "brf": MODEL_BRF, "hrf": MODEL_HRF, "bhrf": MODEL_BHRF}
"""Integer code of each model name, as passed to ``response_sweep``."""

INPUT_SPIKES = 0
INPUT_SINE = 1
INPUT_CODES = {"spikes": INPUT_SPIKES, "sine": INPUT_SINE}
"""Integer code of each drive name."""


@njit
def drive_current(n, next_spike, period_steps, phase_step, amplitude, input_kind):
    """Return the input current of step ``n`` and the index of the next input spike.

    Spikes: spike k arrives at step rint(k*period_steps), the step nearest to
    its time 2*pi*k/omega_drive; the caller guarantees period_steps > 2, so at
    most one spike falls on a step. Sine: amplitude*sin(phase_step*n).
    """
    if input_kind == INPUT_SINE:
        return amplitude * np.sin(phase_step * n), next_spike
    if n >= np.rint(next_spike * period_steps):
        return amplitude, next_spike + 1
    return 0.0, next_spike


@njit
def _sweep_rf(omega, b, dt, theta, n_steps, period_steps, phase_step, amplitude, input_kind):
    u = 0.0
    v = 0.0
    next_spike = 0
    total = 0.0
    spikes = 0.0
    for n in range(n_steps):
        current, next_spike = drive_current(n, next_spike, period_steps, phase_step, amplitude, input_kind)
        u, v, z = rf_step(u, v, current, omega, b, dt, theta, RESET_NONE, False)
        total += abs(u)
        spikes += z
    return total / n_steps, spikes


@njit
def _sweep_brf(omega, p, b_offset, dt, theta, gamma, n_steps, period_steps, phase_step, amplitude, input_kind):
    u = 0.0
    v = 0.0
    q = 0.0
    next_spike = 0
    total = 0.0
    spikes = 0.0
    for n in range(n_steps):
        current, next_spike = drive_current(n, next_spike, period_steps, phase_step, amplitude, input_kind)
        u, v, q, z = brf_step(u, v, q, current, omega, p, b_offset, dt, theta, gamma, True, True, True)
        total += abs(u)
        spikes += z
    return total / n_steps, spikes


@njit
def _sweep_hrf(omega, b, dt, theta, order, n_steps, period_steps, phase_step, amplitude, input_kind):
    u = 0.0
    v = 0.0
    next_spike = 0
    total = 0.0
    spikes = 0.0
    for n in range(n_steps):
        current, next_spike = drive_current(n, next_spike, period_steps, phase_step, amplitude, input_kind)
        u, v, z = hrf_step(u, v, current, omega, b, dt, theta, order)
        total += abs(u)
        spikes += z
    return total / n_steps, spikes


@njit
def _sweep_bhrf(omega, p_h, b_offset, dt, theta, gamma, order, damping_sign, n_steps, period_steps, phase_step,
                amplitude, input_kind):
    u = 0.0
    v = 0.0
    q = 0.0
    next_spike = 0
    total = 0.0
    spikes = 0.0
    for n in range(n_steps):
        current, next_spike = drive_current(n, next_spike, period_steps, phase_step, amplitude, input_kind)
        u, v, q, z = bhrf_step(u, v, q, current, omega, p_h, b_offset, dt, theta, gamma, order, damping_sign)
        total += abs(u)
        spikes += z
    return total / n_steps, spikes


@njit_parallel
def response_sweep(
    model, omega, base, b_offset, dt, period_steps, phase_step, n_steps, amplitude, input_kind, theta, gamma,
    order, damping_sign, mean_abs_out, spikes_out,
):
    """Simulate every (neuron, drive frequency) pair and store mean |u| and the spike count.

    Parameters
    ----------
    model : int
        ``MODEL_*`` code.
    omega, base, b_offset : ndarray, shape (N,)
        Angular frequency [rad/s], damping base [1/s] (p(omega) for the BRF,
        p_h(omega) for the BHRF, unused otherwise) and offset [1/s] per neuron.
    dt : float
        Time step [s].
    period_steps, phase_step : ndarray, shape (F,)
        Drive period 2*pi/(omega_drive*dt) [steps] and phase advance
        omega_drive*dt [rad] per step of each drive frequency.
    n_steps : int
        Steps per simulation.
    amplitude : float
        Input current of each spike, or peak current of the sine.
    input_kind : int
        ``INPUT_SPIKES`` or ``INPUT_SINE``.
    theta, gamma : float
        Threshold (base threshold for BRF and BHRF) and decay of q per step.
    order, damping_sign : int
        Harmonic update order and BHRF damping sign codes (``rfsim.neurons.hrf``).
    mean_abs_out, spikes_out : ndarray, shape (N, F)
        Filled with mean |u| over the steps and the number of output spikes.
    """
    n_freqs = period_steps.size
    for job in prange(omega.size * n_freqs):
        i = job // n_freqs
        j = job - i * n_freqs
        if model == MODEL_RF:
            mean_abs, spikes = _sweep_rf(
                omega[i], -b_offset[i], dt, theta, n_steps, period_steps[j], phase_step[j], amplitude, input_kind
            )
        elif model == MODEL_BRF:
            mean_abs, spikes = _sweep_brf(
                omega[i], base[i], b_offset[i], dt, theta, gamma, n_steps, period_steps[j], phase_step[j],
                amplitude, input_kind,
            )
        elif model == MODEL_HRF:
            mean_abs, spikes = _sweep_hrf(
                omega[i], b_offset[i], dt, theta, order, n_steps, period_steps[j], phase_step[j], amplitude,
                input_kind,
            )
        else:
            mean_abs, spikes = _sweep_bhrf(
                omega[i], base[i], b_offset[i], dt, theta, gamma, order, damping_sign, n_steps, period_steps[j],
                phase_step[j], amplitude, input_kind,
            )
        mean_abs_out[i, j] = mean_abs
        spikes_out[i, j] = spikes


def drive_input_reference(period_steps, phase_step, n_steps, amplitude, input_kind):
    """Return the drive currents of every frequency as a (T, F) array, written out in NumPy."""
    n = np.arange(n_steps)
    if input_kind == INPUT_SINE:
        return amplitude * np.sin(np.outer(n, phase_step))
    current = np.zeros((n_steps, period_steps.size))
    for j, period in enumerate(period_steps):
        spike_steps = np.rint(np.arange(int(n_steps / period) + 2) * period).astype(np.int64)
        current[spike_steps[spike_steps < n_steps], j] = amplitude
    return current


def response_sweep_reference(model, omega, b_offset, dt, period_steps, phase_step, n_steps, amplitude,
                             input_kind, theta, gamma, order, damping_sign, boundary):
    """Compute what ``response_sweep`` computes with the neurons' NumPy references (the test reference).

    Arguments are those of ``response_sweep`` without ``base``; ``order``,
    ``damping_sign`` and the BHRF ``boundary`` (the choice of p_h) are names.
    Returns (mean_abs, spikes), each of shape (N, F).
    """
    from rfsim.neurons.brf import brf_reference
    from rfsim.neurons.hrf import bhrf_reference, hrf_reference
    from rfsim.neurons.rf import rf_reference

    current = drive_input_reference(period_steps, phase_step, n_steps, amplitude, input_kind)
    n_freqs = period_steps.size
    mean_abs = np.empty((omega.size, n_freqs))
    spikes = np.empty((omega.size, n_freqs))
    for i in range(omega.size):
        omegas = np.full(n_freqs, omega[i])
        offsets = np.full(n_freqs, b_offset[i])
        if model == MODEL_RF:
            u, z = rf_reference(current, omegas, -offsets, dt, theta=theta)
            u = u.real
        elif model == MODEL_BRF:
            # brf_reference evaluates p(omega) itself with this dt.
            u, _, z, _ = brf_reference(current, omegas, offsets, dt, theta_c=theta, gamma=gamma)
            u = u.real
        elif model == MODEL_HRF:
            u, _, z = hrf_reference(current, omegas, offsets, dt, theta=theta, order=order)
        else:
            u, _, _, z, _ = bhrf_reference(current, omegas, offsets, dt, theta_c=theta, gamma=gamma, order=order,
                                           damping_sign=damping_sign, boundary=boundary)
        mean_abs[i] = np.mean(np.abs(u), axis=0)
        spikes[i] = np.sum(z, axis=0)
    return mean_abs, spikes
