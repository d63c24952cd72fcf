"""Measure the CPU time of one BPTT step of the engine on one thread, split into forward and backward.

CPU time on one thread depends much less than wall time on other processes that
share the machine, so this script complements ``bench_bptt.py`` when the machine is
loaded. For each configuration it reports the minimum over the repeats of:

* forward: ``rfsim.network.forward`` (no gradient, two time slots per thread),
* step: ``rfsim.network.value_and_grad`` (forward with stored trajectory + backward).

Configurations: ECG BRF 4-36-6, batch 16, T = 1300, sequence loss, binary input
channels firing with probability 0.3 per step (scaled to make about 11 % of the
hidden neuron-steps spike); S-MNIST BRF 1-256-10, batch 256, T = 784, label-last,
19 % nonzero input values in [0, 2000] (about 5 % of the hidden neuron-steps spike). With n threads on an idle machine the wall time of a
step is about the CPU time divided by n, because the groups of 4 sequences are
independent.

Usage::

    python benchmarks/bench_engine_cpu.py [--repeats N] [--only ecg|smnist]
"""

import argparse
import time

import numpy as np

from rfsim.network import RSNNConfig, forward, init_params, value_and_grad


def ecg_case(dtype, rng):
    config = RSNNConfig(model="brf", n_in=4, n_hidden=36, n_out=6, dtype=dtype, n_threads=1)
    params = init_params(config, rng, omega_range=(3.0, 5.0), tau_out=(20.0, 1.0))
    x = (300.0 * (rng.random((1300, 16, 4)) < 0.3)).astype(dtype)
    targets = rng.integers(0, 6, (1300, 16))
    return config, params, x, targets


def smnist_case(dtype, rng):
    config = RSNNConfig(model="brf", n_in=1, n_hidden=256, n_out=10, loss="label-last", dtype=dtype, n_threads=1)
    params = init_params(config, rng)
    pixels = rng.random((784, 256, 1))
    x = (2000.0 * np.where(rng.random((784, 256, 1)) < 0.19, pixels, 0.0)).astype(dtype)
    targets = rng.integers(0, 10, 256)
    return config, params, x, targets


def min_cpu_seconds(function, repeats):
    function()
    times = []
    for _ in range(repeats):
        started = time.process_time()
        function()
        times.append(time.process_time() - started)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per measurement (default 5)")
    parser.add_argument("--only", choices=("ecg", "smnist"), help="run one configuration only")
    args = parser.parse_args()

    cases = {"ecg": ecg_case, "smnist": smnist_case}
    print("configuration | dtype | spike rate | forward CPU [s] | step CPU [s]")
    for name, make in cases.items():
        if args.only and name != args.only:
            continue
        for dtype in ("float64", "float32"):
            config, params, x, targets = make(dtype, np.random.default_rng(0))
            result, _ = value_and_grad(config, params, x, targets)
            rate = result.spike_count / (x.shape[0] * x.shape[1] * config.n_hidden)
            forward_seconds = min_cpu_seconds(lambda: forward(config, params, x), args.repeats)
            step_seconds = min_cpu_seconds(lambda: value_and_grad(config, params, x, targets), args.repeats)
            print(f"{name} | {dtype} | {rate:.3f} | {forward_seconds:.4f} | {step_seconds:.4f}")


if __name__ == "__main__":
    main()
