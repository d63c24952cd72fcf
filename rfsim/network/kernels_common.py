"""Numba kernels shared by every hidden model: hidden drive, LI readout, loss and weight gradients.

Per sequence and step::

    I_t = W_in x_t + W_rec z_{t-1} + b_h                  hidden drive
    d_t = W_o z_t + b_o                                    readout drive
    o_t = o_{t-1} alpha_o + d_t (1 - alpha_o)              LI readout (unit time step)
    l_t = -sum_c y_c log softmax(o_t)_c                    loss of one sequence and step

The weights are stored transposed (``w_in_t`` (m, h), and ``w_rec_t`` (h, h) or the
recurrent and readout weights side by side (h, h + C)), so the row of presynaptic unit
j is contiguous. With ``event_driven`` the drive and the weight gradients add only the
rows of nonzero inputs and of neurons that spiked. The dense path multiplies every row
by its 0/1 spike instead. Both visit the rows in the same order, so for finite weights
they return the same bits.

``consts`` is a small array of the working dtype that carries the scalar constants
(indices below), so float32 kernels never promote to float64 through a Python float.
"""

import math

import numpy as np

from rfsim._numba import FASTMATH_FMA, njit_kernel

DT, TWO_DT, THETA, GAMMA, ALIF_THETA, ALIF_BETA, ONE, ZERO, REFRACTORY, SMOOTH_RESET = range(10)
"""Indices into ``consts``: dt, 2 dt, theta, gamma, ALIF base threshold, ALIF beta, 1, 0,
and the BRF switches as 1.0 (on) or 0.0 (off): q_{t-1} in the threshold, q_{t-1} in the damping."""

N_CONSTS = 10


@njit_kernel
def drive_row(x, z_prev, spiked, n_spiked, w_in_t, w_rec_t, bias, has_bias, event_driven, out):
    """Write the hidden drive I_t = W_in x_t + W_rec z_{t-1} (+ b_h) of one sequence into ``out``.

    ``spiked[:n_spiked]`` lists the neurons with z_{t-1} = 1 in ascending order (see ``spike_list``).
    With ``w_rec_t`` of shape (h, h + C), the transposed recurrent and readout weights side by
    side, ``out`` has h + C entries and its last C receive the readout drive W_o z_{t-1}
    (without b_o). Zero columns past h + C (rows padded to whole cache lines) give zero
    entries when ``out`` covers them.
    """
    n_hidden = w_in_t.shape[1]
    n_total = out.shape[0]
    for i in range(n_total):
        out[i] = 0.0

    # Input weights, skipping zero inputs on the event-driven path.
    for k in range(x.shape[0]):
        xk = x[k]
        if event_driven and xk == 0:
            continue
        for i in range(n_hidden):
            out[i] += w_in_t[k, i] * xk

    # Recurrent weights of the neurons that spiked at t - 1.
    add_spike_rows(z_prev, spiked, n_spiked, w_rec_t, event_driven, out)

    if has_bias:
        for i in range(n_hidden):
            out[i] += bias[i]


@njit_kernel
def spike_list(z, spiked):
    """Write the indices i with z[i] != 0 into ``spiked`` in ascending order; return their number.

    Branch-free: every index is written and the count advances only past the spikes.
    """
    n = 0
    for i in range(z.shape[0]):
        spiked[n] = i
        n += z[i] != 0
    return n


@njit_kernel
def add_spike_rows(z, spiked, n_spiked, w_t, event_driven, out):
    """Add the rows w_t[j] of the neurons j with z[j] = 1 to ``out``, in ascending j.

    ``spiked[:n_spiked]`` lists those neurons (see ``spike_list``). The event-driven path adds
    four rows per pass over ``out``, which cuts its stores to a quarter. Each entry still
    receives its terms one by one in ascending j, so both paths give the same bits.
    """
    n_total = out.shape[0]
    if event_driven:
        n_quads = n_spiked - n_spiked % 4
        for e in range(0, n_quads, 4):
            w_0, w_1, w_2, w_3 = w_t[spiked[e]], w_t[spiked[e + 1]], w_t[spiked[e + 2]], w_t[spiked[e + 3]]
            for i in range(n_total):
                out[i] = (((out[i] + w_0[i]) + w_1[i]) + w_2[i]) + w_3[i]
        for e in range(n_quads, n_spiked):
            j = spiked[e]
            for i in range(n_total):
                out[i] += w_t[j, i]
    else:
        for j in range(z.shape[0]):
            zj = out.dtype.type(z[j])
            for i in range(n_total):
                out[i] += w_t[j, i] * zj


@njit_kernel
def leaky_readout_row(d, bias, has_bias, alpha, one_minus_alpha, o_prev, o_new):
    """Add b_o to the readout drive ``d`` (with ``has_bias``) and write o_t = o_{t-1} alpha_o + d_t (1 - alpha_o)."""
    n_out = d.shape[0]
    if has_bias:
        for c in range(n_out):
            d[c] += bias[c]

    for c in range(n_out):
        o_new[c] = o_prev[c] * alpha[c] + d[c] * one_minus_alpha[c]


@njit_kernel
def readout_adjoint_row(out_bar, loss_bar, o_prev, d, z, spiked, n_spiked, alpha, one_minus_alpha, g_w_out_t, g_bias,
                        g_alpha, d_bar, with_weights, event_driven):
    """Back-propagate the LI readout of one sequence at one step, up to its drive d_t.

    ``out_bar`` holds alpha_o times the adjoint of o_{t+1} and becomes that of o_t
    times alpha_o; ``loss_bar`` is dL/do_t of this step's loss. Writes dL/dd_t into
    ``d_bar``; its path to the spikes, W_o^T dL/dd_t, is added by ``recurrent_adjoint``.
    Without ``with_weights`` the caller accumulates the readout weights' gradient
    (``weight_grad_row`` with an extended row).
    """
    n_out = d.shape[0]
    for c in range(n_out):
        o_bar = loss_bar[c] + out_bar[c]
        d_bar[c] = o_bar * one_minus_alpha[c]
        g_alpha[c] += o_bar * (o_prev[c] - d[c])
        g_bias[c] += d_bar[c]
        out_bar[c] = o_bar * alpha[c]

    # Readout weights of the neurons that spiked at t.
    if with_weights:
        scatter_add_spike_rows(d_bar, z, spiked, n_spiked, event_driven, g_w_out_t)


@njit_kernel
def scatter_add_spike_rows(values, z, spiked, n_spiked, event_driven, acc):
    """Scatter-add ``values`` to the first entries of acc[j] for every neuron j with z[j] = 1, in ascending j.

    This adds the outer product z values^T to ``acc``, the reverse of ``add_spike_rows``,
    which gathers rows. ``spiked[:n_spiked]`` lists
    those neurons (see ``spike_list``). The dense path adds values z[j] to every row
    instead, which gives the same bits for finite values.
    """
    n_values = values.shape[0]
    if event_driven:
        for e in range(n_spiked):
            j = spiked[e]
            for i in range(n_values):
                acc[j, i] += values[i]
    else:
        for j in range(z.shape[0]):
            zj = values.dtype.type(z[j])
            for i in range(n_values):
                acc[j, i] += values[i] * zj


@njit_kernel
def weight_grad_row(drive_bar, x, z_prev, spiked, n_spiked, g_w_in_t, g_w_rec_t, g_bias, has_bias, event_driven):
    """Accumulate the gradients of W_in, W_rec and (with ``has_bias``) b_h from dL/dI_t of one sequence.

    ``spiked[:n_spiked]`` lists the neurons with z_{t-1} = 1 in ascending order. A
    ``drive_bar`` of h + C entries, [dL/dI_t, dL/dd_{t-1}], with ``g_w_rec_t`` of shape
    (h, h + C) also accumulates the transposed readout weights' gradient, because the
    spikes z_{t-1} feed both I_t and d_{t-1}. Zero entries past h + C add zeros to
    matching padding columns of ``g_w_rec_t``.
    """
    n_hidden = g_w_in_t.shape[1]
    for k in range(x.shape[0]):
        xk = x[k]
        if event_driven and xk == 0:
            continue
        xk = drive_bar.dtype.type(xk)
        for i in range(n_hidden):
            g_w_in_t[k, i] += drive_bar[i] * xk

    scatter_add_spike_rows(drive_bar, z_prev, spiked, n_spiked, event_driven, g_w_rec_t)

    if has_bias:
        for i in range(n_hidden):
            g_bias[i] += drive_bar[i]


@njit_kernel
def log_softmax_parts(o):
    """Return (max, log sum exp(o - max)) of one output row, in float64."""
    peak = -math.inf
    for c in range(o.shape[0]):
        if o[c] > peak:
            peak = np.float64(o[c])
    total = 0.0
    for c in range(o.shape[0]):
        total += math.exp(o[c] - peak)
    return peak, math.log(total)


@njit_kernel
def _cross_entropy(o, label, soft, use_soft, peak, log_total):
    """Return -sum_c y_c log softmax(o)_c from log softmax(o)_c = (o_c - peak) - log_total."""
    if not use_soft:
        return -((o[label] - peak) - log_total)
    loss = 0.0
    for c in range(o.shape[0]):
        if soft[c] != 0:
            loss -= soft[c] * ((o[c] - peak) - log_total)
    return loss


@njit_kernel
def loss_row(o, label, soft, use_soft):
    """Return -sum_c y_c log softmax(o)_c of one output row, y one-hot at ``label`` or ``soft``."""
    peak, log_total = log_softmax_parts(o)
    return _cross_entropy(o, label, soft, use_soft, peak, log_total)


@njit_kernel
def loss_and_softmax_row(o, label, soft, use_soft, probs):
    """Return ``loss_row(o, ...)`` and write softmax(o) into ``probs`` (float64), with one exp per class."""
    peak = -math.inf
    for c in range(o.shape[0]):
        if o[c] > peak:
            peak = np.float64(o[c])
    total = 0.0
    for c in range(o.shape[0]):
        probs[c] = math.exp(o[c] - peak)
        total += probs[c]
    log_total = math.log(total)
    for c in range(o.shape[0]):
        probs[c] = probs[c] / total
    return _cross_entropy(o, label, soft, use_soft, peak, log_total)


@njit_kernel
def loss_grad_row(probs, label, soft, use_soft, scale, out):
    """Write scale * d(loss_row)/do into ``out`` from p = softmax(o): scale (p sum(y) - y)."""
    if not use_soft:
        for c in range(probs.shape[0]):
            out[c] = (probs[c] - 1.0) * scale if c == label else probs[c] * scale
        return
    mass = 0.0
    for c in range(probs.shape[0]):
        mass += soft[c]
    for c in range(probs.shape[0]):
        out[c] = (probs[c] * mass - soft[c]) * scale


@njit_kernel(fastmath=FASTMATH_FMA)
def _add_transposed_product(a, w, out):
    """Add sum_i a[r, i] w[i, j] to out[r, j] for the 4 rows r, four rows of ``w`` at a time.

    The loop over j is the vectorised one, so no horizontal sums are needed. The four
    partial products of a block of i are added before they reach ``out``, which cuts
    the loads and stores of ``out`` per multiply-add to a quarter.
    """
    n_i, n_j = w.shape
    n_blocked = n_i - n_i % 4
    for i in range(0, n_blocked, 4):
        a00, a01, a02, a03 = a[0, i], a[0, i + 1], a[0, i + 2], a[0, i + 3]
        a10, a11, a12, a13 = a[1, i], a[1, i + 1], a[1, i + 2], a[1, i + 3]
        a20, a21, a22, a23 = a[2, i], a[2, i + 1], a[2, i + 2], a[2, i + 3]
        a30, a31, a32, a33 = a[3, i], a[3, i + 1], a[3, i + 2], a[3, i + 3]
        for j in range(n_j):
            w0, w1, w2, w3 = w[i, j], w[i + 1, j], w[i + 2, j], w[i + 3, j]
            out[0, j] += a00 * w0 + a01 * w1 + a02 * w2 + a03 * w3
            out[1, j] += a10 * w0 + a11 * w1 + a12 * w2 + a13 * w3
            out[2, j] += a20 * w0 + a21 * w1 + a22 * w2 + a23 * w3
            out[3, j] += a30 * w0 + a31 * w1 + a32 * w2 + a33 * w3

    for i in range(n_blocked, n_i):
        a0, a1, a2, a3 = a[0, i], a[1, i], a[2, i], a[3, i]
        for j in range(n_j):
            out[0, j] += a0 * w[i, j]
            out[1, j] += a1 * w[i, j]
            out[2, j] += a2 * w[i, j]
            out[3, j] += a3 * w[i, j]


@njit_kernel(fastmath=FASTMATH_FMA)
def recurrent_adjoint(drive_bar, w_rec, d_bar, w_out, out):
    """Write out[r, j] = sum_i drive_bar[r, i] W_rec[i, j] + sum_c d_bar[r, c] W_o[c, j].

    This is dL/dz_{t-1} of the 4 sequences of a group: the spikes z_{t-1} reach the
    drive I_t through W_rec (h, h) and the readout drive d_{t-1} through W_o (C, h),
    so ``drive_bar`` is dL/dI_t and ``d_bar`` is dL/dd_{t-1}. Both weights are in
    their natural (postsynaptic, presynaptic) layout. ``drive_bar``, ``d_bar`` and
    ``out`` have exactly 4 rows (zero-padded). The sums may be reordered and fused
    (fast-math), which keeps the result deterministic but changes the last bits
    relative to a plain loop.
    """
    for r in range(4):
        for j in range(out.shape[1]):
            out[r, j] = 0.0
    _add_transposed_product(drive_bar, w_rec, out)
    _add_transposed_product(d_bar, w_out, out)
