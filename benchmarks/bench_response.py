"""Time the default frequency-response sweep of one neuron.

The sweep is ``rfsim.analysis.frequency_response(omega=10)`` at its defaults:
1000 drive frequencies (0.1 to 100 rad/s in steps of 0.1) x 20 s at dt = 0.001 s,
that is 20 000 steps per frequency and 2e7 neuron-steps per sweep. The first call
compiles (or loads from the cache) the Numba kernel and is timed separately as the
warm-up. Each repeat then times one whole call, including validation and the peak
analysis. The machine's other load is reported from ``os.getloadavg`` before and
after the run, because a busy core slows a prange sweep down.

Usage::

    python benchmarks/bench_response.py                # BRF, 20 repeats
    python benchmarks/bench_response.py --model bhrf   # another model
    python benchmarks/bench_response.py --repeats 5 --input sine
"""

import argparse
import os
import platform
import statistics
import time

import numba


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["rf", "brf", "hrf", "bhrf"], default="brf", help="neuron model")
    parser.add_argument("--input", choices=["spikes", "sine"], default="spikes", help="drive kind")
    parser.add_argument("--repeats", type=int, default=20, help="timed repeats after the warm-up")
    parser.add_argument("--omega", type=float, default=10.0, help="neuron angular frequency [rad/s]")
    arguments = parser.parse_args()

    from rfsim.analysis import frequency_response

    load_before = os.getloadavg()
    start = time.perf_counter()
    result = frequency_response(arguments.omega, model=arguments.model, input=arguments.input)
    warm_up = time.perf_counter() - start

    times = []
    for _ in range(arguments.repeats):
        start = time.perf_counter()
        result = frequency_response(arguments.omega, model=arguments.model, input=arguments.input)
        times.append(time.perf_counter() - start)
    load_after = os.getloadavg()

    neuron_steps = result.drive_omega.size * result.n_steps * result.omega.size
    median = statistics.median(times)
    print(f"model {arguments.model}, {arguments.input} drive, omega = {arguments.omega:g} rad/s")
    print(f"sweep: {result.drive_omega.size} frequencies x {result.n_steps} steps = {neuron_steps:.3g} neuron-steps")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"numba {numba.__version__} with {numba.get_num_threads()} threads")
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(f"warm-up (compile or cache load + first sweep): {warm_up:.3f} s")
    print(f"sweep time over {len(times)} repeats: median {median:.4f} s, min {min(times):.4f} s, "
          f"max {max(times):.4f} s")
    print(f"throughput at the median: {neuron_steps / median:.3g} neuron-steps/s")
    print(f"peak at {result.peaks[0].peak_omega:g} rad/s")


if __name__ == "__main__":
    main()
