"""Single-neuron analyses: convergence regions, transfer functions and frequency responses.

* ``boundary``: the interval of damping b in which the discretised RF, BRF,
  HRF and BHRF neurons converge, for each integration scheme and update order.
* ``transfer``: transfer functions of the linear subthreshold neuron and
  closed-form responses to spike trains and sines.
* ``response``: the frequency-response sweep (mean |u| under a periodic drive),
  its peak, -3 dB band and sub-harmonic peaks.
* ``plots``: figures of the boundary curves and response curves.

Network analyses of trained checkpoints live in their own modules, which this
package does not import, so that ``import rfsim.analysis`` stays light:

* ``spectral``: spectral radius of the state-transition map.
* ``landscape``: loss landscapes around a checkpoint.
* ``parameters``: omega and damping, input spectra, spike rasters.
* ``sparsity``: SOP and synaptic operations.
* ``convergence``: epochs to a share of the final accuracy.
* ``robustness``: perturbation sweeps; ``studies``: pruning and mechanism ablation.
* ``plots_network``: the figures of these analyses.
"""

from rfsim.analysis.boundary import (
    ConvergenceRegion,
    NeuronDamping,
    bhrf_boundary,
    boundary_curves,
    check_neuron_b_offset,
    harmonic_boundary_damping,
    neuron_damping,
    rf_boundary,
    save_boundary_csv,
)
from rfsim.analysis.response import (
    FrequencyResponse,
    HalfPowerBand,
    ResponsePeak,
    SubharmonicPeak,
    analyse_peak,
    frequency_grid,
    frequency_response,
    linear_frequency_response,
    load_omegas,
    save_response_csv,
    spread_omegas,
)
from rfsim.analysis.transfer import (
    StateSpace,
    effective_resonance,
    euler_factor,
    neuron_state_space,
    oscillation_frequency,
    periodic_response_from_transfer,
    periodic_spike_response,
    state_space_transfer,
    transfer_coefficients,
    transfer_function,
)

__all__ = [
    "ConvergenceRegion",
    "FrequencyResponse",
    "HalfPowerBand",
    "NeuronDamping",
    "ResponsePeak",
    "StateSpace",
    "SubharmonicPeak",
    "analyse_peak",
    "bhrf_boundary",
    "boundary_curves",
    "check_neuron_b_offset",
    "effective_resonance",
    "euler_factor",
    "frequency_grid",
    "frequency_response",
    "harmonic_boundary_damping",
    "linear_frequency_response",
    "load_omegas",
    "neuron_damping",
    "neuron_state_space",
    "oscillation_frequency",
    "periodic_response_from_transfer",
    "periodic_spike_response",
    "rf_boundary",
    "save_boundary_csv",
    "save_response_csv",
    "spread_omegas",
    "state_space_transfer",
    "transfer_coefficients",
    "transfer_function",
]
