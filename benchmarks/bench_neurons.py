"""Time the single-neuron kernels of ``rfsim.neurons`` against their NumPy references.

For each model, N independent neurons are simulated for T steps from a zero state
with sparse random input spikes. One run goes through ``rfsim.neurons.simulate``,
that is the Numba kernel plus input checks and output assembly. The other runs the
model's plain NumPy reference, a Python loop over time vectorised over neurons. The
first kernel call, which compiles or loads the cache, is timed separately and
excluded from the repeats.

Two sizes are run by default: one neuron for T = 200 000 steps, where the NumPy
reference pays Python's per-step overhead, and N = 1000 neurons for T = 5000 steps,
where both write about 200 MB of traces and memory bandwidth dominates.

Usage::

    python benchmarks/bench_neurons.py                          # both default sizes
    python benchmarks/bench_neurons.py --neurons 100 --steps 2000 --repeats 3
"""

import argparse
import os
import statistics
import time

import numpy as np

from rfsim.neurons import simulate
from rfsim.neurons.alif import alif_reference
from rfsim.neurons.brf import brf_reference
from rfsim.neurons.hrf import bhrf_reference
from rfsim.neurons.rf import rf_reference
from rfsim.stability import p_omega


def make_case(n_neurons, n_steps, seed=0):
    """Return the input, omegas and offsets of a convergent run with spikes."""
    rng = np.random.default_rng(seed)
    current = np.where(rng.random((n_steps, n_neurons)) < 0.1, 120.0, 0.0)
    omega = rng.uniform(5.0, 50.0, n_neurons)
    b_offset = -p_omega(omega, 0.01) + rng.uniform(0.1, 1.0, n_neurons)
    return current, omega, b_offset


def time_call(function, repeats):
    """Return the median wall time [s] of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=None, help="Number of independent neurons N.")
    parser.add_argument("--steps", type=int, default=None, help="Number of time steps T.")
    parser.add_argument("--repeats", type=int, default=5, help="Timed repeats of each kernel call.")
    args = parser.parse_args()

    if args.neurons is None and args.steps is None:
        sizes = [(1, 200_000), (1000, 5000)]
    else:
        sizes = [(args.neurons or 1000, args.steps or 5000)]
    for n_neurons, n_steps in sizes:
        run_size(n_neurons, n_steps, args.repeats)
        print()


def run_size(n_neurons, n_steps, repeats):
    """Time every model at one size and print a table."""
    current, omega, b_offset = make_case(n_neurons, n_steps)
    alif_input = current / 60.0
    cases = {
        "rf": (
            lambda: simulate("rf", current, omega=omega, b_offset=b_offset),
            lambda: rf_reference(current, omega, -b_offset, 0.01),
        ),
        "brf": (
            lambda: simulate("brf", current, omega=omega, b_offset=b_offset),
            lambda: brf_reference(current, omega, b_offset, 0.01),
        ),
        "bhrf": (
            lambda: simulate("bhrf", current, omega=omega, b_offset=b_offset),
            lambda: bhrf_reference(current, omega, b_offset, 0.01),
        ),
        "alif": (
            lambda: simulate("alif", alif_input, tau_mem=20.0, tau_adp=20.0),
            lambda: alif_reference(alif_input, np.full(n_neurons, 20.0), np.full(n_neurons, 20.0)),
        ),
    }

    neuron_steps = n_neurons * n_steps
    print(f"N = {n_neurons} neurons, T = {n_steps} steps, {os.cpu_count()} CPUs, "
          f"median of {repeats} kernel runs, 1 reference run")
    print(f"{'model':6} {'first call [s]':>15} {'kernel [s]':>11} {'ns/neuron-step':>15} "
          f"{'NumPy ref [s]':>14} {'speed-up':>9}")
    for model, (kernel, reference) in cases.items():
        start = time.perf_counter()
        kernel()
        first = time.perf_counter() - start
        kernel_time = time_call(kernel, repeats)
        reference_time = time_call(reference, 1)
        print(f"{model:6} {first:15.3f} {kernel_time:11.4f} {1e9 * kernel_time / neuron_steps:15.2f} "
              f"{reference_time:14.3f} {reference_time / kernel_time:9.1f}")


if __name__ == "__main__":
    main()
