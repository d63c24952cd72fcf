"""Numba kernels shared by every hidden model: hidden drive, LI readout, loss and weight gradients.

Per sequence and step::

    I_t = W_in x_t + W_rec z_{t-1} + b_h                  hidden drive
    d_t = W_o z_t + b_o                                    readout drive
    o_t = o_{t-1} alpha_o + d_t (1 - alpha_o)              LI readout (unit time step)
    l_t = -sum_c y_c log softmax(o_t)_c                    loss of one sequence and step

The weights are stored transposed (``w_in_t`` (m, h), ``w_rec_t`` (h, h), ``w_out_t``
(h, C)), so the row of presynaptic unit j is contiguous. With ``event_driven`` the
drive and the weight gradients add only the rows of nonzero inputs and of neurons
that spiked; the dense path multiplies every row by its 0/1 spike instead. Both
visit the rows in the same order, so for finite weights they return the same bits.

``consts`` is a small array of the working dtype that carries the scalar constants
(indices below), so float32 kernels never promote to float64 through a Python float.
"""

import math

import numpy as np

from rfsim._numba import FASTMATH_FMA, njit

DT, TWO_DT, THETA, GAMMA, ALIF_THETA, ALIF_BETA, ONE, ZERO, REFRACTORY, SMOOTH_RESET = range(10)
"""Indices into ``consts``: dt, 2 dt, theta, gamma, ALIF base threshold, ALIF beta, 1, 0,
and the BRF switches as 1.0 (on) or 0.0 (off): q_{t-1} in the threshold, q_{t-1} in the damping."""

N_CONSTS = 10


@njit
def drive_row(x, z_prev, w_in_t, w_rec_t, bias, has_bias, event_driven, out):
    """Write the hidden drive I_t = W_in x_t + W_rec z_{t-1} (+ b_h) of one sequence into ``out``."""
    n_hidden = out.shape[0]
    for i in range(n_hidden):
        out[i] = 0.0

    # Input weights, skipping zero inputs on the event-driven path.
    for k in range(x.shape[0]):
        xk = x[k]
        if event_driven and xk == 0:
            continue
        for i in range(n_hidden):
            out[i] += w_in_t[k, i] * xk

    # Recurrent weights of the neurons that spiked at t - 1.
    for j in range(n_hidden):
        if event_driven:
            if z_prev[j] == 0:
                continue
            for i in range(n_hidden):
                out[i] += w_rec_t[j, i]
        else:
            zj = out.dtype.type(z_prev[j])
            for i in range(n_hidden):
                out[i] += w_rec_t[j, i] * zj

    if has_bias:
        for i in range(n_hidden):
            out[i] += bias[i]


@njit
def readout_forward_row(z, w_out_t, bias, has_bias, alpha, one_minus_alpha, o_prev, o_new, d, event_driven):
    """Advance the LI readout of one sequence: write d_t into ``d`` and o_t into ``o_new``."""
    n_out = d.shape[0]
    for c in range(n_out):
        d[c] = 0.0
    for j in range(z.shape[0]):
        if event_driven:
            if z[j] == 0:
                continue
            for c in range(n_out):
                d[c] += w_out_t[j, c]
        else:
            zj = d.dtype.type(z[j])
            for c in range(n_out):
                d[c] += w_out_t[j, c] * zj
    if has_bias:
        for c in range(n_out):
            d[c] += bias[c]

    for c in range(n_out):
        o_new[c] = o_prev[c] * alpha[c] + d[c] * one_minus_alpha[c]


@njit
def readout_backward_row(out_bar, loss_bar, o_prev, d, z, w_out, alpha, one_minus_alpha,
                         g_w_out_t, g_bias, g_alpha, z_bar, event_driven):
    """Back-propagate the LI readout of one sequence at one step.

    ``out_bar`` holds alpha_o times the adjoint of o_{t+1} and becomes that of o_t
    times alpha_o; ``loss_bar`` is dL/do_t of this step's loss. Writes W_o^T dbar_t
    into ``z_bar``; ``loss_bar`` is reused as scratch for dbar_t.
    """
    n_out = d.shape[0]
    for c in range(n_out):
        o_bar = loss_bar[c] + out_bar[c]
        d_bar = o_bar * one_minus_alpha[c]
        g_alpha[c] += o_bar * (o_prev[c] - d[c])
        g_bias[c] += d_bar
        out_bar[c] = o_bar * alpha[c]
        loss_bar[c] = d_bar

    # Readout weights of the neurons that spiked at t.
    for j in range(z.shape[0]):
        if event_driven:
            if z[j] == 0:
                continue
            for c in range(n_out):
                g_w_out_t[j, c] += loss_bar[c]
        else:
            zj = loss_bar.dtype.type(z[j])
            for c in range(n_out):
                g_w_out_t[j, c] += loss_bar[c] * zj

    # z_t reaches the readout through W_o.
    for j in range(z_bar.shape[0]):
        z_bar[j] = 0.0
    for c in range(n_out):
        d_bar = loss_bar[c]
        for j in range(z_bar.shape[0]):
            z_bar[j] += d_bar * w_out[c, j]


@njit
def weight_grad_row(drive_bar, x, z_prev, g_w_in_t, g_w_rec_t, g_bias, event_driven):
    """Accumulate the gradients of W_in, W_rec and b_h from dL/dI_t of one sequence."""
    n_hidden = drive_bar.shape[0]
    for k in range(x.shape[0]):
        xk = x[k]
        if event_driven and xk == 0:
            continue
        xk = drive_bar.dtype.type(xk)
        for i in range(n_hidden):
            g_w_in_t[k, i] += drive_bar[i] * xk

    for j in range(n_hidden):
        if event_driven:
            if z_prev[j] == 0:
                continue
            for i in range(n_hidden):
                g_w_rec_t[j, i] += drive_bar[i]
        else:
            zj = drive_bar.dtype.type(z_prev[j])
            for i in range(n_hidden):
                g_w_rec_t[j, i] += drive_bar[i] * zj

    for i in range(n_hidden):
        g_bias[i] += drive_bar[i]


@njit
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


@njit
def loss_row(o, label, soft, use_soft):
    """Return -sum_c y_c log softmax(o)_c of one output row, y one-hot at ``label`` or ``soft``."""
    peak, log_total = log_softmax_parts(o)
    if not use_soft:
        return -((o[label] - peak) - log_total)
    loss = 0.0
    for c in range(o.shape[0]):
        if soft[c] != 0:
            loss -= soft[c] * ((o[c] - peak) - log_total)
    return loss


@njit
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

    if not use_soft:
        return -((o[label] - peak) - log_total)
    loss = 0.0
    for c in range(o.shape[0]):
        if soft[c] != 0:
            loss -= soft[c] * ((o[c] - peak) - log_total)
    return loss


@njit
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


@njit(fastmath=FASTMATH_FMA)
def recurrent_adjoint(drive_bar, w_rec_t, out):
    """Write out[r, j] = sum_i drive_bar[r, i] w_rec_t[j, i], the recurrent part of dL/dz_{t-1}.

    ``drive_bar`` and ``out`` have exactly 4 rows (one group of sequences, zero-padded),
    so every output is a separate 4 x 4 register-blocked dot product over i. The sums
    may be reordered and fused (fast-math), which keeps the result deterministic but
    changes the last bits relative to a plain loop.
    """
    n_hidden = w_rec_t.shape[0]
    n_blocked = n_hidden - n_hidden % 4
    for j0 in range(0, n_blocked, 4):
        c00 = c01 = c02 = c03 = out.dtype.type(0.0)
        c10 = c11 = c12 = c13 = out.dtype.type(0.0)
        c20 = c21 = c22 = c23 = out.dtype.type(0.0)
        c30 = c31 = c32 = c33 = out.dtype.type(0.0)
        for i in range(n_hidden):
            a0, a1, a2, a3 = drive_bar[0, i], drive_bar[1, i], drive_bar[2, i], drive_bar[3, i]
            w0, w1, w2, w3 = w_rec_t[j0, i], w_rec_t[j0 + 1, i], w_rec_t[j0 + 2, i], w_rec_t[j0 + 3, i]
            c00 += a0 * w0
            c01 += a0 * w1
            c02 += a0 * w2
            c03 += a0 * w3
            c10 += a1 * w0
            c11 += a1 * w1
            c12 += a1 * w2
            c13 += a1 * w3
            c20 += a2 * w0
            c21 += a2 * w1
            c22 += a2 * w2
            c23 += a2 * w3
            c30 += a3 * w0
            c31 += a3 * w1
            c32 += a3 * w2
            c33 += a3 * w3
        out[0, j0], out[0, j0 + 1], out[0, j0 + 2], out[0, j0 + 3] = c00, c01, c02, c03
        out[1, j0], out[1, j0 + 1], out[1, j0 + 2], out[1, j0 + 3] = c10, c11, c12, c13
        out[2, j0], out[2, j0 + 1], out[2, j0 + 2], out[2, j0 + 3] = c20, c21, c22, c23
        out[3, j0], out[3, j0 + 1], out[3, j0 + 2], out[3, j0 + 3] = c30, c31, c32, c33

    for j in range(n_blocked, n_hidden):
        c0 = c1 = c2 = c3 = out.dtype.type(0.0)
        for i in range(n_hidden):
            w = w_rec_t[j, i]
            c0 += drive_bar[0, i] * w
            c1 += drive_bar[1, i] * w
            c2 += drive_bar[2, i] * w
            c3 += drive_bar[3, i] * w
        out[0, j], out[1, j], out[2, j], out[3, j] = c0, c1, c2, c3
