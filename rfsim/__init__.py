"""rfsim: a NumPy/Numba simulator and analysis toolkit for resonate-and-fire neurons.

The package covers the resonate-and-fire (RF) neuron family of Higuchi, Kairat,
Bohté and Otte, "Balanced Resonate-and-Fire Neurons" (ICML 2024): RF, balanced RF
(BRF), harmonic RF (HRF), balanced harmonic RF (BHRF) and the adaptive LIF (ALIF)
baseline, as single neurons and as recurrent spiking networks trained with a
hand-written back-propagation-through-time engine.
"""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("rfsim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

from rfsim.errors import DivergenceWarning, RFSimError, RFSimWarning

__all__ = ["__version__", "DivergenceWarning", "RFSimError", "RFSimWarning"]
