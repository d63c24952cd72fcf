"""Parallel driver of the BPTT engine: forward and backward sweeps over one time window.

The batch is cut into groups of ``GROUP_SIZE`` consecutive sequences (the last group
padded with silent rows). Each group runs its whole window on one thread: a forward
sweep that stores every step's state, spikes and readout, then a backward sweep that
walks the same steps in reverse. The only coupling between the sequences of a group
is the recurrent adjoint product, which handles the group's 4 rows at once.

Each worker takes the next group from a shared counter when it finishes one, so a
worker on a slower core runs fewer groups. It uses its own scratch buffers, and each
group accumulates its weight gradients into its own buffer. The engine sums those
buffers in group order afterwards, so the result does not depend on the number of
threads or on which thread ran which group.

Within a group the hidden-layer arrays are "wide": the 4 sequences side by side, so
the neuron kernels run over 4 h entries at once. The trajectory keeps u and v (ALIF:
its four variables) at every step. q of the BRF and BHRF is kept every ``Q_CHUNK``
steps only: the backward sweep replays the steps between from the stored spikes, one
multiply-add per neuron and step, with the forward step's arithmetic (same bits).
Memory per worker: about (T_w + 1) x 4 x (n_stored x h x itemsize + 5 h + C x itemsize)
bytes for the window's stored trajectory (T_w is the window length, n_stored is 2,
or 4 for ALIF; the 5 h bytes are the spikes and the int32 lists of spiking neurons),
(T_w / Q_CHUNK + Q_CHUNK + 3) x 4 h x itemsize bytes of q, and one set of gradient
accumulators;
per group, (m h + h^2 + 3 h + h C + 2 C) x itemsize bytes of gradient buffers.
"""

import numpy as np

from rfsim._numba import fetch_add, njit_kernel, njit_parallel, prange
from rfsim.network.kernels_alif import alif_backward_row, alif_forward_row
from rfsim.network.kernels_common import (
    ONE,
    THETA,
    ZERO,
    drive_row,
    leaky_readout_row,
    loss_and_softmax_row,
    loss_grad_row,
    loss_row,
    readout_adjoint_row,
    recurrent_adjoint,
    spike_list,
    weight_grad_row,
)
from rfsim.network.kernels_rf import (
    Q,
    bhrf_backward_row,
    bhrf_forward_row,
    brf_backward_row,
    brf_forward_row,
    replay_q_row,
    rf_after_reset,
    rf_backward_row,
    rf_forward_row,
)

GROUP_SIZE = 4
"""Sequences per group; ``recurrent_adjoint`` is blocked for exactly this many rows."""

MODEL_BRF, MODEL_RF, MODEL_BHRF, MODEL_ALIF = 0, 1, 2, 3
"""Integer codes of the hidden models."""

N_SLOTS = {MODEL_BRF: 3, MODEL_RF: 2, MODEL_BHRF: 3, MODEL_ALIF: 4}
"""State variables per neuron carried from one window to the next."""

N_STORED = {MODEL_BRF: 2, MODEL_RF: 2, MODEL_BHRF: 2, MODEL_ALIF: 4}
"""State variables per neuron stored at every step (the BRF and BHRF replay q instead)."""

Q_MODELS = (MODEL_BRF, MODEL_BHRF)
"""Models with the refractory variable q, which the engine replays instead of storing it."""

Q_CHUNK = 16
"""Steps between the stored copies of q from which the backward sweep replays it (BRF, BHRF)."""

N_ADJOINTS = 3
"""Adjoint slots per neuron (the largest any model needs)."""

N_CELL = {MODEL_BRF: 2, MODEL_RF: 2, MODEL_BHRF: 2, MODEL_ALIF: 4}
"""Rows of per-neuron constants passed to the cell kernels."""

N_CELL_GRAD = 2
"""Rows of per-neuron parameter gradients the cell kernels accumulate."""

STATE_NAMES = {MODEL_BRF: ("u", "v", "q"), MODEL_RF: ("u", "v"), MODEL_BHRF: ("u", "v", "q"), MODEL_ALIF: ("u", "a")}
"""Recorded state variables per model, in the order of the record array's first axis."""


@njit_kernel
def _copy_row(source, target):
    """Copy the 1-d array ``source`` into ``target`` (a slice assignment would allocate)."""
    for i in range(target.shape[0]):
        target[i] = source[i]


@njit_kernel
def _copy_rows(source, target):
    """Copy the 2-d array ``source`` into ``target`` row by row."""
    for row in range(target.shape[0]):
        _copy_row(source[row], target[row])


@njit_kernel
def _cell_forward(model, reset, drive, prev, q_prev, z_prev, new, q_new, z_new, cell, consts):
    if model == MODEL_BRF:
        return brf_forward_row(drive, prev, q_prev, new, q_new, z_new, cell, consts)
    if model == MODEL_RF:
        return rf_forward_row(drive, prev, z_prev, new, z_new, cell, consts, reset)
    if model == MODEL_BHRF:
        return bhrf_forward_row(drive, prev, q_prev, new, q_new, z_new, cell, consts)
    return alif_forward_row(drive, prev, z_prev, new, z_new, cell, consts)


@njit_kernel
def _cell_backward(model, reset, zbar, prev, q_prev, z_prev, new, z_new, adj, drive_bar, cell, cell_grad, consts,
                   surrogate):
    if model == MODEL_BRF:
        brf_backward_row(zbar, prev, q_prev, new, adj, drive_bar, cell, cell_grad, consts, surrogate)
    elif model == MODEL_RF:
        rf_backward_row(zbar, prev, z_prev, new, z_new, adj, drive_bar, cell, cell_grad, consts, surrogate, reset)
    elif model == MODEL_BHRF:
        bhrf_backward_row(zbar, prev, q_prev, new, adj, drive_bar, cell, cell_grad, consts, surrogate)
    else:
        alif_backward_row(zbar, prev, z_prev, new, z_new, adj, drive_bar, cell, cell_grad, consts, surrogate)


@njit_kernel
def _record_row(model, reset, new, q_new, z_new, z_sent, consts, record, record_z):
    """Copy one sequence's post-step state into its record rows, in the order of ``STATE_NAMES``.

    ``z_new`` holds the emitted spikes (for the RF reset) and ``z_sent`` the delivered ones, which are recorded.
    """
    theta, one, zero = consts[THETA], consts[ONE], consts[ZERO]
    for i in range(z_new.shape[0]):
        record_z[i] = z_sent[i]
        if model == MODEL_ALIF:
            record[0, i] = new[1, i]
            record[1, i] = new[2, i]
        elif model == MODEL_RF:
            u, v = rf_after_reset(new[0, i], new[1, i], z_new[i] != 0, reset, theta, one, zero)
            record[0, i] = u
            record[1, i] = v
        else:
            record[0, i] = new[0, i]
            record[1, i] = new[1, i]
            record[2, i] = q_new[i]


@njit_kernel
def _loss_active(t, n_steps, loss_offset, label_last, with_loss):
    if not with_loss:
        return False
    if label_last:
        return t == n_steps - 1
    return t >= loss_offset


@njit_kernel
def _readout_adjoint_step(k, t_start, rows, first, n_steps, loss_offset, label_last, with_loss, labels, soft, use_soft,
                          loss_scale, probs, out_hist, d_hist, z_hist, spiked, n_spiked, alpha_o, one_minus_alpha_o,
                          acc_w_out_t, acc_bias_o, acc_alpha_o, out_bar, loss_bar, d_bar, with_weights, event_driven):
    """Back-propagate the loss and the LI readout of step k of the window for every row; dL/dd_k goes to ``d_bar``.

    ``with_weights`` adds the readout weights' gradient to ``acc_w_out_t`` here; otherwise the caller does.
    """
    t = t_start + k
    active = _loss_active(t, n_steps, loss_offset, label_last, with_loss)
    n_hidden = z_hist.shape[1] // 4
    for r in range(rows):
        if active:
            b = first + r
            label = labels[t if labels.shape[0] > 1 else 0, b]
            loss_grad_row(probs[k, r], label, soft[b if use_soft else 0], use_soft, loss_scale, loss_bar)
        else:
            loss_bar[:] = 0.0
        z = z_hist[k + 1, r * n_hidden:(r + 1) * n_hidden]
        readout_adjoint_row(out_bar[r], loss_bar, out_hist[k, r], d_hist[k, r], z, spiked[k + 1, r], n_spiked[k + 1, r],
                            alpha_o, one_minus_alpha_o, acc_w_out_t, acc_bias_o, acc_alpha_o, d_bar[r], with_weights,
                            event_driven)


@njit_kernel
def _spike_pass(x, z, spiked, n_spiked, w_in_t, w_ext_t, bias_h, has_bias_h, event_driven, ext, drive):
    """Write [W_in x + W_rec z (+ b_h), W_o z] of one sequence into ``ext`` and its first h entries into ``drive``."""
    drive_row(x, z, spiked, n_spiked, w_in_t, w_ext_t, bias_h, has_bias_h, event_driven, ext)
    for i in range(drive.shape[0]):
        drive[i] = ext[i]


@njit_kernel
def _run_group(
    group, local, options, t_start, n_window, x, labels, soft, loss_scale,
    w_in_t, w_ext_t, w_rec, bias_h, cell, w_out, bias_o, alpha_o, one_minus_alpha_o, consts,
    init_state, init_z, init_out, final_state, final_z, final_out,
    outputs, losses, spikes, record, record_z, keep,
    hist, q_rot, q_saved, q_replay, z_hist, z_sent, spiked, n_spiked, out_hist, d_hist, probs, drive, ext, adj, d_bar,
    drive_bar, z_rec, out_bar, loss_bar, acc_w_in_t, acc_w_ext_t, acc_bias_h, acc_cell, bar_ext, acc_bias_o,
    acc_alpha_o, g_w_in_t, g_w_rec_t, g_bias_h, g_cell, g_w_out_t, g_bias_o, g_alpha_o,
):
    model, reset, surrogate = options[0], options[1], options[2]
    event_driven, backward, with_record = options[3] != 0, options[4] != 0, options[5] != 0
    label_last, use_soft, has_bias_h, has_bias_o = options[6] != 0, options[7] != 0, options[8] != 0, options[9] != 0
    n_steps, loss_offset, with_loss, use_keep = options[10], options[11], options[12] != 0, options[13] != 0
    batch = x.shape[1]
    n_hidden = w_rec.shape[0]
    n_stored = hist.shape[1]
    has_q = model in Q_MODELS
    first = group * 4
    rows = min(4, batch - first)

    # Initial state of the window; padding rows stay silent and zero. q (BRF, BHRF) lives
    # apart from u and v: in two alternating rows, and every Q_CHUNK steps in q_saved.
    hist[0] = 0.0
    q_rot[:] = 0.0
    z_hist[0] = 0
    out_hist[0] = 0.0
    drive[:] = 0.0
    for r in range(rows):
        lo, hi = r * n_hidden, (r + 1) * n_hidden
        _copy_rows(init_state[first + r, :n_stored], hist[0, :, lo:hi])
        if has_q:
            _copy_row(init_state[first + r, Q], q_rot[0, lo:hi])
        _copy_row(init_z[first + r], z_hist[0, lo:hi])
        _copy_row(init_out[first + r], out_hist[0, r])
    if backward and has_q:
        _copy_row(q_rot[0], q_saved[0])

    # Spike deletion (forward only, so two slots): the drive and the readout read the
    # delivered spikes z_t * keep_t, the neurons their own emitted spikes in z_hist.
    sent = z_hist
    if use_keep:
        z_sent[:] = 0
        _copy_row(z_hist[0], z_sent[0])
        sent = z_sent
    if event_driven:
        for r in range(4):
            n_spiked[0, r] = spike_list(sent[0, r * n_hidden:(r + 1) * n_hidden], spiked[0, r])

    # Drive of the first step; later steps get theirs with the readout drive of the step before.
    for r in range(rows):
        lo, hi = r * n_hidden, (r + 1) * n_hidden
        _spike_pass(x[t_start, first + r], sent[0, lo:hi], spiked[0, r], n_spiked[0, r], w_in_t, w_ext_t, bias_h,
                    has_bias_h, event_driven, ext[r], drive[lo:hi])

    # Forward sweep. Without a backward sweep only two time slots alternate.
    last = 0
    n_spikes = 0
    for k in range(n_window):
        t = t_start + k
        prev = k if backward else k & 1
        now = k + 1 if backward else (k + 1) & 1
        last = now
        q_prev, q_now = q_rot[k & 1], q_rot[(k + 1) & 1]
        n_emitted = _cell_forward(model, reset, drive, hist[prev], q_prev, z_hist[prev], hist[now], q_now, z_hist[now],
                                  cell, consts)
        if backward and has_q and (k + 1) % Q_CHUNK == 0:
            _copy_row(q_now, q_saved[(k + 1) // Q_CHUNK])
        if use_keep:
            for r in range(rows):
                lo = r * n_hidden
                for i in range(n_hidden):
                    delivered = z_hist[now, lo + i] & keep[t, first + r, i]
                    z_sent[now, lo + i] = delivered
                    n_spikes += delivered
        else:
            n_spikes += n_emitted
        if event_driven:
            for r in range(rows):
                n_spiked[now, r] = spike_list(sent[now, r * n_hidden:(r + 1) * n_hidden], spiked[now, r])
        for r in range(rows):
            lo, hi = r * n_hidden, (r + 1) * n_hidden
            # One pass over the spikes of step t gives the drive of t + 1 and the readout drive of t. The
            # window's last step has no next drive, so it reads no input (an empty row).
            x_next = x[t + 1, first + r] if k + 1 < n_window else x[t, first + r, :0]
            _spike_pass(x_next, sent[now, lo:hi], spiked[now, r], n_spiked[now, r], w_in_t, w_ext_t, bias_h,
                        has_bias_h, event_driven, ext[r], drive[lo:hi])
            d_now = d_hist[k if backward else 0, r]
            for c in range(d_now.shape[0]):
                d_now[c] = ext[r, n_hidden + c]
            leaky_readout_row(d_now, bias_o, has_bias_o, alpha_o, one_minus_alpha_o, out_hist[prev, r],
                              out_hist[now, r])
            _copy_row(out_hist[now, r], outputs[t, first + r])
            if _loss_active(t, n_steps, loss_offset, label_last, with_loss):
                b = first + r
                label = labels[t if labels.shape[0] > 1 else 0, b]
                if backward:
                    losses[t, first + r] = loss_and_softmax_row(out_hist[now, r], label, soft[b if use_soft else 0],
                                                                use_soft, probs[k, r])
                else:
                    losses[t, first + r] = loss_row(out_hist[now, r], label, soft[b if use_soft else 0], use_soft)
            if with_record:
                _record_row(model, reset, hist[now, :, lo:hi], q_now[lo:hi], z_hist[now, lo:hi], sent[now, lo:hi],
                            consts, record[:, group, t, r], record_z[group, t, r])
    spikes[group] += n_spikes

    for r in range(rows):
        lo, hi = r * n_hidden, (r + 1) * n_hidden
        _copy_rows(hist[last, :, lo:hi], final_state[first + r, :n_stored])
        if has_q:
            _copy_row(q_rot[n_window & 1, lo:hi], final_state[first + r, Q])
        _copy_row(z_hist[last, lo:hi], final_z[first + r])
        _copy_row(out_hist[last, r], final_out[first + r])
    if not backward:
        return

    # Backward sweep over the same steps in reverse; the window's initial state is a constant.
    adj[:] = 0.0
    drive_bar[:] = 0.0
    d_bar[:] = 0.0
    acc_w_in_t[:] = 0.0
    acc_w_ext_t[:] = 0.0
    bar_ext[:] = 0.0
    acc_bias_h[:] = 0.0
    acc_cell[:] = 0.0
    acc_w_out_t = acc_w_ext_t[:, n_hidden:]
    acc_bias_o[:] = 0.0
    acc_alpha_o[:] = 0.0
    drive_bar_wide = drive_bar.reshape(4 * n_hidden)
    z_bar_wide = z_rec.reshape(4 * n_hidden)
    out_bar[:] = 0.0

    # The last step's spikes reach only the readout: dL/dz = W_o^T dL/dd (drive_bar is zero).
    _readout_adjoint_step(n_window - 1, t_start, rows, first, n_steps, loss_offset, label_last, with_loss, labels,
                          soft, use_soft, loss_scale, probs, out_hist, d_hist, z_hist, spiked, n_spiked, alpha_o,
                          one_minus_alpha_o, acc_w_out_t, acc_bias_o, acc_alpha_o, out_bar, loss_bar, d_bar,
                          True, event_driven)
    recurrent_adjoint(drive_bar, w_rec, d_bar, w_out, z_rec)
    for k in range(n_window - 1, -1, -1):
        t = t_start + k

        # q_k of the BRF and BHRF: on entering a chunk from above, replay it from the chunk's
        # stored q and the stored spikes up to step k.
        chunk_step = k % Q_CHUNK
        if has_q and (k == n_window - 1 or chunk_step == Q_CHUNK - 1):
            start = k - chunk_step
            _copy_row(q_saved[start // Q_CHUNK], q_replay[0])
            for j in range(1, chunk_step + 1):
                replay_q_row(q_replay[j - 1], z_hist[start + j], q_replay[j], consts)

        # Neuron step of all rows from dL/dz_t, then the readout of step t - 1 up to dL/dd_{t-1}.
        _cell_backward(model, reset, z_bar_wide, hist[k], q_replay[chunk_step], z_hist[k], hist[k + 1], z_hist[k + 1],
                       adj, drive_bar_wide, cell, acc_cell, consts, surrogate)
        if k > 0:
            _readout_adjoint_step(k - 1, t_start, rows, first, n_steps, loss_offset, label_last, with_loss, labels,
                                  soft, use_soft, loss_scale, probs, out_hist, d_hist, z_hist, spiked, n_spiked,
                                  alpha_o, one_minus_alpha_o, acc_w_out_t, acc_bias_o, acc_alpha_o, out_bar, loss_bar,
                                  d_bar, False, event_driven)

        # Weights of I_t = W [x_t; z_{t-1}] + b_h and of d_{t-1} = W_o z_{t-1} + b_o, in one pass
        # over the spikes z_{t-1} with the row [dL/dI_t, dL/dd_{t-1}]. The first step of the
        # window has no d_{t-1} in it, so its row is dL/dI_t alone. The padding columns of
        # bar_ext stay zero.
        n_total = bar_ext.shape[1] if k > 0 else n_hidden
        n_readout = d_bar.shape[1] if k > 0 else 0
        for r in range(rows):
            lo, hi = r * n_hidden, (r + 1) * n_hidden
            for i in range(n_hidden):
                bar_ext[r, i] = drive_bar[r, i]
            for c in range(n_readout):
                bar_ext[r, n_hidden + c] = d_bar[r, c]
            weight_grad_row(bar_ext[r, :n_total], x[t, first + r], z_hist[k, lo:hi], spiked[k, r], n_spiked[k, r],
                            acc_w_in_t, acc_w_ext_t, acc_bias_h, has_bias_h, event_driven)

        # dL/dz_{t-1}: through W_rec into I_t and through W_o into the readout drive d_{t-1}.
        if k > 0:
            recurrent_adjoint(drive_bar, w_rec, d_bar, w_out, z_rec)

    # Hand the worker's sums to this group's buffers, rows in order.
    _copy_rows(acc_w_in_t, g_w_in_t[local])
    _copy_rows(acc_w_ext_t[:, :n_hidden], g_w_rec_t[local])
    _copy_row(acc_bias_h, g_bias_h[local])
    _copy_rows(acc_w_ext_t[:, n_hidden:n_hidden + g_w_out_t.shape[2]], g_w_out_t[local])
    _copy_row(acc_bias_o, g_bias_o[local])
    _copy_row(acc_alpha_o, g_alpha_o[local])
    g_cell[local] = 0.0
    for r in range(4):
        for row in range(g_cell.shape[1]):
            for i in range(n_hidden):
                g_cell[local, row, i] += acc_cell[row, r * n_hidden + i]


@njit_parallel
def run_window(
    group_start, group_stop, options, t_start, n_window, x, labels, soft, loss_scale,
    w_in_t, w_ext_t, w_rec, bias_h, cell, w_out, bias_o, alpha_o, one_minus_alpha_o, consts,
    init_state, init_z, init_out, final_state, final_z, final_out,
    outputs, losses, spikes, record, record_z, keep,
    hist, q_rot, q_saved, q_replay, z_hist, z_sent, spiked, n_spiked, out_hist, d_hist, probs, drive, ext, adj, d_bar,
    drive_bar, z_rec, out_bar, loss_bar, acc_w_in_t, acc_w_ext_t, acc_bias_h, acc_cell, bar_ext, acc_bias_o,
    acc_alpha_o, g_w_in_t, g_w_rec_t, g_bias_h, g_cell, g_w_out_t, g_bias_o, g_alpha_o, next_group,
):
    """Run groups ``group_start`` to ``group_stop - 1`` over steps ``t_start .. t_start + n_window - 1``.

    ``options`` (int64): model, reset, surrogate, event_driven, backward, record,
    label_last, use_soft, has_bias_h, has_bias_o, n_steps, loss_offset, with_loss, use_keep.
    With use_keep (forward only) ``keep`` (T, B, h) uint8 deletes the hidden spikes where
    it is 0 before they reach the next step's drive and the readout; ``spikes`` and the
    recorded spikes then count the delivered ones. Otherwise ``keep`` is a dummy.
    Worker buffers (see ``allocate_worker_buffers``) have a leading axis of length
    n_workers and the gradient buffers one of length ``group_stop - group_start``.
    ``next_group`` (1,) int64 must be 0: the workers count the groups they take on it.
    ``cell`` holds the per-neuron constants tiled 4 times, one copy per row of a group.
    ``outputs`` (T, 4 n_groups, C) and ``losses`` (T, 4 n_groups) are batch-major, so
    two groups share at most one cache line per step. The records (n_groups, T, 4, h)
    are group-major, so that no two threads write to the same cache line. ``spikes``
    (n_groups,) accumulates.
    """
    n_workers = hist.shape[0]
    n_groups = group_stop - group_start
    for worker in prange(n_workers):
        local = fetch_add(next_group, 0)
        while local < n_groups:
            _run_group(
                group_start + local, local, options, t_start, n_window, x, labels, soft, loss_scale,
                w_in_t, w_ext_t, w_rec, bias_h, cell, w_out, bias_o, alpha_o, one_minus_alpha_o, consts,
                init_state, init_z, init_out, final_state, final_z, final_out,
                outputs, losses, spikes, record, record_z, keep,
                hist[worker], q_rot[worker], q_saved[worker], q_replay[worker],
                z_hist[worker], z_sent[worker], spiked[worker], n_spiked[worker], out_hist[worker],
                d_hist[worker], probs[worker],
                drive[worker], ext[worker],
                adj[worker],
                d_bar[worker], drive_bar[worker], z_rec[worker], out_bar[worker], loss_bar[worker],
                acc_w_in_t[worker], acc_w_ext_t[worker], acc_bias_h[worker], acc_cell[worker],
                bar_ext[worker], acc_bias_o[worker], acc_alpha_o[worker],
                g_w_in_t, g_w_rec_t, g_bias_h, g_cell, g_w_out_t, g_bias_o, g_alpha_o,
            )
            local = fetch_add(next_group, 0)


LINE_BYTES = 64
"""Cache-line size the kernels' arrays are aligned to."""


def aligned_empty(shape, dtype):
    """Return an uninitialised C-contiguous array whose first element starts a cache line.

    NumPy aligns large arrays to 16 bytes only, so a 64-byte vector load from a row
    would straddle two cache lines. With rows of whole lines (``padded_width``) every
    row of the array starts a line.
    """
    dtype = np.dtype(dtype)
    n_bytes = int(np.prod(shape)) * dtype.itemsize
    raw = np.empty(n_bytes + LINE_BYTES, np.uint8)
    skip = -raw.ctypes.data % LINE_BYTES
    return raw[skip:skip + n_bytes].view(dtype).reshape(shape)


def aligned_copy(values):
    """Return a copy of ``values`` in an array from ``aligned_empty``."""
    out = aligned_empty(values.shape, values.dtype)
    out[...] = values
    return out


def padded_width(n, itemsize):
    """Return ``n`` entries of ``itemsize`` bytes rounded up to whole cache lines."""
    per_line = LINE_BYTES // itemsize
    return -(-n // per_line) * per_line


def q_rows(n_window, backward):
    """Return the row counts of ``q_saved`` (the stored copies of q) and ``q_replay`` (the replayed chunk)."""
    if not backward:
        return 1, 1
    return n_window // Q_CHUNK + 1, Q_CHUNK


def allocate_worker_buffers(n_workers, n_window, n_stored, with_q, n_in, n_hidden, n_out, dtype, backward):
    """Allocate the per-worker scratch of ``run_window`` (uninitialised where it is written first).

    Hidden-layer rows are "wide": the 4 sequences of a group side by side, 4 h entries.
    ``n_stored`` is ``N_STORED`` of the model; ``with_q`` (BRF, BHRF) gives the q rows
    their width, which is 0 otherwise. Without ``backward`` the gradient accumulators
    have no rows.
    """
    n_time = n_window + 1 if backward else 2
    wide = 4 * n_hidden
    q_wide = wide if with_q else 0
    n_saved, n_replay = q_rows(n_window, backward)
    ext_width = padded_width(n_hidden + n_out, np.dtype(dtype).itemsize)
    n_acc_in, n_acc_hidden, n_acc_cell = (n_in, n_hidden, N_CELL_GRAD) if backward else (0, 0, 0)
    return dict(
        hist=aligned_empty((n_workers, n_time, n_stored, wide), dtype),
        q_rot=aligned_empty((n_workers, 2, q_wide), dtype),
        q_saved=aligned_empty((n_workers, n_saved, q_wide), dtype),
        q_replay=aligned_empty((n_workers, n_replay, q_wide), dtype),
        z_hist=aligned_empty((n_workers, n_time, wide), np.uint8),
        z_sent=aligned_empty((n_workers, 2, wide), np.uint8),
        spiked=aligned_empty((n_workers, n_time, 4, n_hidden), np.int32),
        n_spiked=np.zeros((n_workers, n_time, 4), np.int64),
        out_hist=aligned_empty((n_workers, n_time, 4, n_out), dtype),
        d_hist=aligned_empty((n_workers, n_window if backward else 1, 4, n_out), dtype),
        probs=aligned_empty((n_workers, n_window if backward else 1, 4, n_out), np.float64),
        drive=aligned_empty((n_workers, wide), dtype),
        ext=aligned_empty((n_workers, 4, ext_width), dtype),
        adj=aligned_empty((n_workers, N_ADJOINTS, wide), dtype),
        d_bar=aligned_empty((n_workers, 4, n_out), dtype),
        drive_bar=aligned_empty((n_workers, 4, n_hidden), dtype),
        z_rec=aligned_empty((n_workers, 4, n_hidden), dtype),
        out_bar=aligned_empty((n_workers, 4, n_out), dtype),
        loss_bar=aligned_empty((n_workers, n_out), dtype),
        acc_w_in_t=aligned_empty((n_workers, n_acc_in, n_hidden), dtype),
        acc_w_ext_t=aligned_empty((n_workers, n_acc_hidden, ext_width), dtype),
        acc_bias_h=aligned_empty((n_workers, n_hidden), dtype),
        acc_cell=aligned_empty((n_workers, n_acc_cell, wide), dtype),
        bar_ext=aligned_empty((n_workers, 4, ext_width), dtype),
        acc_bias_o=aligned_empty((n_workers, n_out), dtype),
        acc_alpha_o=aligned_empty((n_workers, n_out), dtype),
    )


def worker_buffer_bytes(n_window, n_stored, with_q, n_in, n_hidden, n_out, itemsize, backward):
    """Return the bytes ``allocate_worker_buffers`` takes per worker."""
    n_time = n_window + 1 if backward else 2
    wide = 4 * n_hidden
    n_saved, n_replay = q_rows(n_window, backward)
    q_bytes = (2 + n_saved + n_replay) * wide * itemsize if with_q else 0
    per_step = n_stored * wide * itemsize + wide + 4 * wide + 4 * 8 + 4 * n_out * itemsize
    d_steps = n_window if backward else 1
    fixed = (N_ADJOINTS + 5) * wide * itemsize + 8 * 4 * n_out * itemsize + 2 * wide
    padding = (padded_width(n_hidden + n_out, itemsize) - n_hidden - n_out) * itemsize
    accumulators = (group_gradient_bytes(n_in, n_hidden, n_out, itemsize) + N_CELL_GRAD * wide * itemsize
                    + n_hidden * padding if backward else 0)
    # Up to one line of slack for each of the 25 arrays from ``aligned_empty``.
    alignment = 25 * LINE_BYTES
    return (n_time * per_step + q_bytes + d_steps * 4 * n_out * (itemsize + 8) + fixed + 8 * padding + accumulators
            + alignment)


def group_gradient_bytes(n_in, n_hidden, n_out, itemsize):
    """Return the bytes of one group's gradient buffers."""
    return (n_in * n_hidden + n_hidden * n_hidden + (N_CELL_GRAD + 1) * n_hidden + n_hidden * n_out
            + 2 * n_out) * itemsize
