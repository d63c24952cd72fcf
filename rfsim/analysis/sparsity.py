"""Sparsity measures of an RSNN on a dataset: spike counts, firing rate and synaptic operations.

For N sequences of T steps and a hidden layer of H neurons with spikes z_t[j]:

* SOP (hidden spikes per sequence), the measure of Higuchi et al. (ICML 2024):
  the hidden spikes of all steps and neurons, summed over the sequences, / N.
  It counts no input events and gives each spike the weight 1.
* hidden spikes per step: SOP / T.
* firing rate: all hidden spikes / (N * T * H), spikes per neuron and step
  (divide by dt for spikes per second).
* synaptic operations per sequence: each hidden spike of neuron j counts its
  fan-out, the number of non-zero outgoing weights, summed over spikes / N.
  The fan-out of neuron j is the number of non-zero entries in column j of
  the recurrent block of ``hidden.linear.weight`` after the pruning mask
  (entry [i, j] is the weight j -> i, self-connection included) plus the
  number of non-zero entries in column j of ``out.linear.weight`` (readout).
* input synaptic operations per sequence, reported separately: each input
  event (a non-zero input value x_t[c]) counts the number of non-zero entries
  in column c of the input block of ``hidden.linear.weight``, summed / N.
"""

from dataclasses import dataclass

import numpy as np

from rfsim.errors import RFSimError

RECORD_BUDGET_BYTES = 64 * 2**20
"""Memory that one recorded forward pass may use; it sets the batch size of ``sparsity_measures``."""


@dataclass(frozen=True)
class SparsityReport:
    """Spike counts and synaptic operations of a network on a dataset (definitions in the module docstring).

    Attributes
    ----------
    model : str
        Hidden neuron model.
    dataset : str
        Name of the dataset, such as ``'ecg/test'``.
    n_sequences, n_steps, n_hidden, n_in : int
        N, T, H and the number of input channels C.
    dt : float
        Time step of the RF-type neurons [s].
    hidden_spikes : int
        All hidden spikes over the N sequences.
    sop : float
        Hidden spikes per sequence.
    sop_per_step : float
        SOP / T.
    firing_rate : float
        Hidden spikes per neuron and step, hidden_spikes / (N T H).
    recurrent_synaptic_ops, readout_synaptic_ops : float
        Per sequence: hidden spikes weighted by the recurrent and the readout fan-out.
    synaptic_ops : float
        Their sum: synaptic operations of the hidden spikes per sequence.
    input_events : float
        Non-zero input values per sequence.
    input_synaptic_ops : float
        Per sequence: input events weighted by the input fan-out.
    spikes_per_neuron : ndarray of int, shape (H,)
        Spikes of each hidden neuron over the N sequences.
    fan_out_recurrent, fan_out_readout : ndarray of int, shape (H,)
        Non-zero recurrent (after the mask) and readout weights leaving each neuron.
    fan_out_input : ndarray of int, shape (C,)
        Non-zero input weights leaving each input channel.
    input_events_per_channel : ndarray of int, shape (C,)
        Non-zero input values of each channel over the N sequences.
    """

    model: str
    dataset: str
    n_sequences: int
    n_steps: int
    n_hidden: int
    n_in: int
    dt: float
    hidden_spikes: int
    sop: float
    sop_per_step: float
    firing_rate: float
    recurrent_synaptic_ops: float
    readout_synaptic_ops: float
    synaptic_ops: float
    input_events: float
    input_synaptic_ops: float
    spikes_per_neuron: np.ndarray
    fan_out_recurrent: np.ndarray
    fan_out_readout: np.ndarray
    fan_out_input: np.ndarray
    input_events_per_channel: np.ndarray

    def lines(self):
        """Return the measures as text lines, each with its definition."""
        n, t, h = self.n_sequences, self.n_steps, self.n_hidden
        rate_hz = f" ({self.firing_rate / self.dt:.4g} Hz at dt = {self.dt:g} s)" if self.model != "alif" else ""
        return [
            f"sparsity on {self.dataset} ({n} sequences of T = {t} steps, H = {h} hidden neurons):",
            f"  SOP = {self.sop:.6g} hidden spikes per sequence "
            f"(all {self.hidden_spikes} hidden spikes over all steps / {n} sequences)",
            f"  hidden spikes per step = {self.sop_per_step:.6g} (SOP / T)",
            f"  firing rate = {self.firing_rate:.6g} spikes per neuron per step{rate_hz} (spikes / (N T H))",
            f"  synaptic operations = {self.synaptic_ops:.6g} per sequence (each hidden spike times its fan-out, "
            f"the non-zero outgoing weights): {self.recurrent_synaptic_ops:.6g} recurrent (after the pruning "
            f"mask, mean fan-out {self.fan_out_recurrent.mean():.4g}) + {self.readout_synaptic_ops:.6g} readout "
            f"(mean fan-out {self.fan_out_readout.mean():.4g})",
            f"  input: {self.input_events:.6g} events per sequence (non-zero input values), "
            f"{self.input_synaptic_ops:.6g} synaptic operations per sequence (each event times the channel's "
            "non-zero input weights; not included above)",
        ]


def fan_outs(net_config, params, mask=None):
    """Count the non-zero outgoing weights of every hidden neuron and input channel.

    Parameters
    ----------
    net_config : rfsim.network.RSNNConfig
    params : dict of str to ndarray
        Raw parameters.
    mask : ndarray, optional
        Recurrent pruning mask (H, H), or a full mask (H, C + H); entry [i, j] gates j -> i.

    Returns
    -------
    recurrent, readout : ndarray of int, shape (H,)
        Non-zero entries in each column of the masked recurrent block and of ``out.linear.weight``.
    inputs : ndarray of int, shape (C,)
        Non-zero entries in each column of the input block.
    """
    n_in, n_hidden = net_config.n_in, net_config.n_hidden
    weight = np.asarray(params["hidden.linear.weight"], dtype=float)
    if weight.shape != (n_hidden, n_in + n_hidden):
        raise RFSimError(f"hidden.linear.weight must have shape {(n_hidden, n_in + n_hidden)}, got {weight.shape}")
    if mask is not None:
        mask = np.asarray(mask, dtype=float)
        if mask.shape == (n_hidden, n_hidden):
            weight = np.concatenate([weight[:, :n_in], weight[:, n_in:] * mask], axis=1)
        elif mask.shape == weight.shape:
            weight = weight * mask
        else:
            raise RFSimError(f"mask must have shape {(n_hidden, n_hidden)} or {weight.shape}, got {mask.shape}")
    readout = np.asarray(params["out.linear.weight"], dtype=float)
    return (np.count_nonzero(weight[:, n_in:], axis=0), np.count_nonzero(readout, axis=0),
            np.count_nonzero(weight[:, :n_in], axis=0))


def _record_batch_size(net_config, n_steps):
    """Sequences per recorded forward pass so that the recorded states fit ``RECORD_BUDGET_BYTES``."""
    per_sequence = n_steps * net_config.n_hidden * net_config.np_dtype.itemsize * 5
    return int(max(1, min(256, RECORD_BUDGET_BYTES // per_sequence)))


def sparsity_measures(net_config, params, dataset, *, mask=None, name=None, batch_size=None):
    """Measure the sparsity of a network on every sequence of a dataset.

    Parameters
    ----------
    net_config : rfsim.network.RSNNConfig
    params : dict of str to ndarray
        Raw parameters.
    dataset : rfsim.data.Dataset or array_like of shape (N, T, C)
        Input sequences, sample-major.
    mask : ndarray, optional
        Recurrent pruning mask.
    name : str, optional
        Name of the dataset in the report (the Dataset's own name by default).
    batch_size : int, optional
        Sequences per forward pass; by default as many as fit in ``RECORD_BUDGET_BYTES``.

    Returns
    -------
    SparsityReport
    """
    from rfsim.network import forward

    x_all = dataset.x if hasattr(dataset, "x") else np.asarray(dataset)
    if x_all.ndim != 3 or x_all.shape[0] < 1 or x_all.shape[1] < 1:
        raise RFSimError(f"the dataset must hold inputs of shape (N, T, C) with N, T >= 1, got {x_all.shape}")
    n_sequences, n_steps, n_channels = x_all.shape
    if n_channels != net_config.n_in:
        raise RFSimError(f"the dataset has {n_channels} input channels, the network {net_config.n_in}")
    if batch_size is None:
        batch_size = _record_batch_size(net_config, n_steps)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise RFSimError(f"batch_size must be a positive integer, got batch_size={batch_size!r}")

    fan_out_recurrent, fan_out_readout, fan_out_input = fan_outs(net_config, params, mask)
    spikes_per_neuron = np.zeros(net_config.n_hidden, dtype=np.int64)
    events_per_channel = np.zeros(n_channels, dtype=np.int64)
    for start in range(0, n_sequences, batch_size):
        block = np.asarray(x_all[start:start + batch_size])
        events_per_channel += np.count_nonzero(block, axis=(0, 1))
        x = np.ascontiguousarray(block.transpose(1, 0, 2), dtype=net_config.np_dtype)
        result = forward(net_config, params, x, mask=mask, record=True)
        spikes_per_neuron += result.states["z"].sum(axis=(0, 1)).astype(np.int64)

    hidden_spikes = int(spikes_per_neuron.sum())
    sop = hidden_spikes / n_sequences
    recurrent_ops = float(spikes_per_neuron @ fan_out_recurrent) / n_sequences
    readout_ops = float(spikes_per_neuron @ fan_out_readout) / n_sequences
    return SparsityReport(
        model=net_config.model, dataset=name or getattr(dataset, "name", "inputs"), n_sequences=int(n_sequences),
        n_steps=int(n_steps), n_hidden=net_config.n_hidden, n_in=net_config.n_in, dt=float(net_config.dt),
        hidden_spikes=hidden_spikes, sop=sop, sop_per_step=sop / n_steps,
        firing_rate=hidden_spikes / (n_sequences * n_steps * net_config.n_hidden),
        recurrent_synaptic_ops=recurrent_ops, readout_synaptic_ops=readout_ops,
        synaptic_ops=recurrent_ops + readout_ops, input_events=float(events_per_channel.sum()) / n_sequences,
        input_synaptic_ops=float(events_per_channel @ fan_out_input) / n_sequences,
        spikes_per_neuron=spikes_per_neuron, fan_out_recurrent=fan_out_recurrent, fan_out_readout=fan_out_readout,
        fan_out_input=fan_out_input, input_events_per_channel=events_per_channel,
    )


def sparsity_report(checkpoint, split="test", *, task=None, data_dir=None, max_sequences=None):
    """Measure the sparsity of a checkpoint on one split of its task (``sparsity_measures``).

    Parameters
    ----------
    checkpoint : str, Path or rfsim.analysis._checkpoints.AnalysisCheckpoint
        Checkpoint ``.npz`` with its sidecar, or one already loaded.
    split : {'test', 'valid', 'train'}
    task, data_dir : optional
        As for ``load_analysis_checkpoint``.
    max_sequences : int, optional
        Use only the first sequences of the split.

    Returns
    -------
    SparsityReport
    """
    from rfsim.analysis._checkpoints import SPLITS, AnalysisCheckpoint, load_analysis_checkpoint

    if split not in SPLITS:
        raise RFSimError(f"invalid split {split!r}; choose one of {', '.join(SPLITS)}")
    loaded = checkpoint
    if not isinstance(checkpoint, AnalysisCheckpoint):
        loaded = load_analysis_checkpoint(checkpoint, task=task, data_dir=data_dir)
    dataset = getattr(loaded.task, split)
    if max_sequences is not None:
        if isinstance(max_sequences, bool) or not isinstance(max_sequences, (int, np.integer)) or max_sequences < 1:
            raise RFSimError(f"max_sequences must be a positive integer, got {max_sequences!r}")
        if max_sequences < len(dataset):
            dataset = dataset.subset(np.arange(max_sequences))
    return sparsity_measures(loaded.net_config, loaded.params, dataset, mask=loaded.mask, name=dataset.name)
