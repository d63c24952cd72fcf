"""Time one BPTT training step of the Numba engine on the ECG and S-MNIST network sizes.

A training step is forward + backward (``rfsim.network.value_and_grad``) + an Adam
update (``rfsim.network.optim.Adam``), as in the authors' training scripts:

* ECG: BRF 4-36-6, batch 16, T = 1300, per-step targets, sequence loss; the input is
  4 binary channels with random sparse spikes (a stand-in for the level-crossing
  encoded QTDB signal, whose rate is set by ``--ecg-rate``). 35 steps make one
  epoch (557 training sequences / 16).
* S-MNIST: BRF 1-256-10, batch 256, T = 784, label-last loss, gradient norm clipped
  to 1.0; the input is random values in [0, 1] with MNIST's share of zero pixels.
  211 steps make one epoch (54 000 / 256).

At initialisation these networks hardly spike, which would flatter an engine that
skips silent neurons. The input weights are therefore scaled before timing, by the
factor from a fixed list whose hidden spike rate on the batch is closest to
``--hidden-rate`` (default 5 %). The measured rate is printed.

Each configuration runs in its own subprocess, so the peak resident memory
(``ru_maxrss``) reported for it is that configuration's own. The same step is also
timed with a plain vectorised NumPy implementation: the autograd reference
``rfsim.network.reference.reference_value_and_grad`` plus the same Adam. That
implementation keeps every intermediate array of the whole sequence for the backward
pass, so for S-MNIST it runs on a smaller batch and its time is scaled linearly to
batch 256 (labelled as such).

Between the engine's timed steps a second process runs a compute probe: a fixed
float32 matrix product on every Numba thread, bound by arithmetic alone. Its rate
(GMAC/s) shows how much compute the host granted during the run. On the 2-core
development host (a KVM guest) it reads about 110 GMAC/s when both cores are the
guest's own, and about 40 to 90 when other guests share them. The S-MNIST step is
slower in those phases (benchmarks/RESULTS.md).

Usage::

    python benchmarks/bench_bptt.py            # full run, printed table
    python benchmarks/bench_bptt.py --quick    # fewer repeats
    python benchmarks/bench_bptt.py --json     # one JSON object
    python benchmarks/bench_bptt.py --dtype float64   # the float64 mode

The engine runs in float32, its default dtype, unless ``--dtype float64`` is given.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

ECG_STEPS_PER_EPOCH = 35
SMNIST_STEPS_PER_EPOCH = 211

# The authors' PyTorch implementation (TorchScript, 2 threads) on a 2-core machine,
# and the speed-ups rfsim must reach over it.
TORCH_ECG_STEP_SECONDS = 0.94
TORCH_ECG_EPOCH_SECONDS = 33.0
TORCH_SMNIST_STEP_SECONDS = 1.65
TARGET_ECG_EPOCH_SPEEDUP = 50.0
# NOTE: on the 2-core AMD EPYC (KVM) development host the float32 S-MNIST step met this
# in 18 of 25 runs of the current engine, all while other guests shared the host. The
# misses had a compute probe below 51 GMAC/s or a high CPU time per step (benchmarks/RESULTS.md).
TARGET_SMNIST_STEP_SPEEDUP = 5.0

MNIST_NONZERO_FRACTION = 0.19
"""Approximate share of nonzero pixels in an MNIST digit (about 150 of 784), for the random S-MNIST input."""


def ecg_case(rng, batch, rate, dtype):
    """Return the ECG configuration, parameters, input and targets."""
    from rfsim.network import RSNNConfig, init_params

    config = RSNNConfig(model="brf", n_in=4, n_hidden=36, n_out=6, loss="sequence", dtype=dtype)
    params = init_params(config, rng, omega_range=(3.0, 5.0), b_offset_range=(0.1, 1.0), tau_out=(20.0, 1.0))
    x = (rng.random((1300, batch, 4)) < rate).astype(dtype)
    targets = rng.integers(0, 6, (1300, batch))
    return config, params, x, targets, None


def smnist_case(rng, batch, dtype):
    """Return the S-MNIST configuration, parameters, input and targets."""
    from rfsim.network import RSNNConfig, init_params

    config = RSNNConfig(model="brf", n_in=1, n_hidden=256, n_out=10, loss="label-last", dtype=dtype)
    params = init_params(config, rng, omega_range=(15.0, 50.0), b_offset_range=(0.1, 1.0), tau_out=(20.0, 5.0))
    pixels = rng.random((784, batch, 1))
    x = np.where(rng.random((784, batch, 1)) < MNIST_NONZERO_FRACTION, pixels, 0.0).astype(dtype)
    targets = rng.integers(0, 10, batch)
    return config, params, x, targets, 1.0


INPUT_GAINS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
"""Candidate factors for the input weights when calibrating the hidden spike rate."""


def calibrate_input_gain(config, params, x, hidden_rate):
    """Scale the input columns of ``hidden.linear.weight`` in place toward ``hidden_rate``.

    Returns the chosen gain and the hidden spike rate it gives on the first 16 sequences.
    """
    from rfsim.network import forward

    sample = x[:, :16]
    original = params["hidden.linear.weight"][:, : config.n_in].copy()
    best = None
    for gain in INPUT_GAINS:
        params["hidden.linear.weight"][:, : config.n_in] = gain * original
        count = forward(config, params, sample).spike_count
        rate = count / (sample.shape[0] * sample.shape[1] * config.n_hidden)
        if best is None or abs(rate - hidden_rate) < abs(best[1] - hidden_rate):
            best = (gain, rate)
    params["hidden.linear.weight"][:, : config.n_in] = best[0] * original
    return best


def make_step(implementation, config, params, x, targets, grad_clip):
    """Return a function that runs one training step and returns its summed loss."""
    from rfsim.network.optim import Adam, clip_grad_norm

    optimizer = Adam(params, lr=0.01)

    if implementation == "engine":
        from rfsim.network import value_and_grad

        def gradient():
            result, grads = value_and_grad(config, params, x, targets)
            return result.loss_sum, grads
    else:
        from rfsim.network.reference import reference_value_and_grad

        def gradient():
            return reference_value_and_grad(config, params, x, targets)

    def step():
        loss_sum, grads = gradient()
        if grad_clip is not None:
            clip_grad_norm(grads, grad_clip)
        optimizer.step(grads)
        return loss_sum

    return step


PROBE_CALLS = 4000
"""Calls of the probe's matrix product per thread and probe (about 20 ms on the development host)."""


def make_compute_probe():
    """Return a function that times a fixed float32 multiply-add kernel on every Numba thread.

    Each thread runs the engine's recurrent adjoint product (4 x 256 adjoints through a
    256 x 256 and a 16 x 256 matrix) ``PROBE_CALLS`` times on its own data. The
    function returns the multiply-adds per second of all threads together. The kernel is
    bound by arithmetic alone, because its operands stay in each core's cache. So its rate
    shows how much compute the host granted in that moment. On a shared virtual machine
    it drops when other guests load the physical cores, and the engine's steps slow too.
    """
    import numba

    from rfsim.network.kernels_common import recurrent_adjoint

    @numba.njit(parallel=True)
    def probe_kernel(adjoints, w_rec, readout_adjoints, w_out, out, n_calls):
        for worker in numba.prange(out.shape[0]):
            for _ in range(n_calls):
                recurrent_adjoint(adjoints[worker], w_rec, readout_adjoints[worker], w_out, out[worker])

    n_workers = numba.get_num_threads()
    rng = np.random.default_rng(1)
    adjoints = rng.standard_normal((n_workers, 4, 256)).astype(np.float32)
    w_rec = rng.standard_normal((256, 256)).astype(np.float32)
    readout_adjoints = rng.standard_normal((n_workers, 4, 16)).astype(np.float32)
    w_out = rng.standard_normal((16, 256)).astype(np.float32)
    out = np.zeros((n_workers, 4, 256), np.float32)
    multiply_adds = n_workers * PROBE_CALLS * 4 * (256 + 16) * 256
    probe_kernel(adjoints, w_rec, readout_adjoints, w_out, out, 1)

    def probe():
        started = time.perf_counter()
        probe_kernel(adjoints, w_rec, readout_adjoints, w_out, out, PROBE_CALLS)
        return multiply_adds / (time.perf_counter() - started)

    return probe


def serve_probe():
    """Print one probe rate in multiply-adds per second for every line read from stdin (``--probe-server``)."""
    probe = make_compute_probe()
    print("ready", flush=True)
    for _ in sys.stdin:
        print(repr(probe()), flush=True)


def start_probe_server():
    """Start the compute probe in its own process, so that its compilation stays out of this one's peak memory."""
    server = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--probe-server"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if server.stdout.readline().strip() != "ready":
        server.kill()
        raise RuntimeError("the compute probe process failed to start (see its error output above)")
    return server


def probe_rate(server):
    """Run the probe once in ``server`` (the other process waits meanwhile) and return its rate."""
    try:
        server.stdin.write("probe\n")
        server.stdin.flush()
        answer = server.stdout.readline()
    except BrokenPipeError:
        answer = ""
    if not answer:
        raise RuntimeError(f"the compute probe process exited with code {server.wait(timeout=60)} "
                           "(see its error output above)")
    return float(answer)


def run_part(part, repeats, batch, rate, dtype, hidden_rate):
    """Time one configuration with one implementation in this process; return a dict."""
    rng = np.random.default_rng(0)
    name, implementation = part.split("-")
    if name == "ecg":
        case = ecg_case(rng, batch, rate, dtype)
    else:
        case = smnist_case(rng, batch, dtype)
    config, params, x = case[:3]
    gain, calibrated_rate = calibrate_input_gain(config, params, x, hidden_rate)
    step = make_step(implementation, *case)

    # The first step compiles the backward kernels (or loads them from the cache), so it is
    # timed apart. The forward kernels were compiled by the calibration.
    started = time.perf_counter()
    first_loss = step()
    first_seconds = time.perf_counter() - started

    # CPU time (all threads of this process) is reported beside the wall time, because
    # it is less sensitive to other processes competing for the cores. The engine's
    # steps alternate with the compute probe, which records the host's state.
    probe_server = start_probe_server() if implementation == "engine" else None
    times, cpu_times, probe_rates = [], [], []
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - cpu_started)
        if probe_server is not None:
            probe_rates.append(probe_rate(probe_server))
    if probe_server is not None:
        probe_server.stdin.close()
        probe_server.wait()

    threads = None
    if implementation == "engine":
        import numba

        threads = numba.get_num_threads()
    return {
        "part": part, "batch": batch, "dtype": dtype, "repeats": repeats,
        "input_gain": gain, "hidden_rate": calibrated_rate,
        "first_step_seconds": first_seconds, "first_loss_sum": float(first_loss),
        "median": statistics.median(times), "min": min(times), "max": max(times),
        "cpu_median": statistics.median(cpu_times),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "numba_threads": threads,
        "probe_gmac_per_s": statistics.median(probe_rates) / 1e9 if probe_rates else None,
        "probe_gmac_per_s_max": max(probe_rates) / 1e9 if probe_rates else None,
    }


def run_in_subprocess(part, repeats, batch, rate, dtype, hidden_rate):
    """Run ``run_part`` in a fresh interpreter so that its peak memory is its own.

    The NumPy parts run with one BLAS thread: their matrix products are small, and a
    multi-threaded OpenBLAS on a loaded 2-core machine was measured to slow them down
    tenfold, which would inflate the engine's advantage.
    """
    command = [sys.executable, os.path.abspath(__file__), "--part", part, "--repeats", str(repeats),
               "--batch", str(batch), "--ecg-rate", str(rate), "--dtype", dtype, "--hidden-rate", str(hidden_rate)]
    env = dict(os.environ)
    if part.endswith("numpy"):
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    completed = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if completed.returncode != 0:
        raise RuntimeError(f"benchmark part {part} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def measure(quick, rate, dtype, smnist_numpy_batch, hidden_rate):
    """Run every part and collect the numbers."""
    engine_repeats = 3 if quick else 10
    numpy_repeats = 1 if quick else 3
    common = (rate, dtype, hidden_rate)
    results = {
        "ecg_engine": run_in_subprocess("ecg-engine", engine_repeats, 16, *common),
        "smnist_engine": run_in_subprocess("smnist-engine", engine_repeats, 256, *common),
        "ecg_numpy": run_in_subprocess("ecg-numpy", numpy_repeats, 16, *common),
        "smnist_numpy": run_in_subprocess("smnist-numpy", numpy_repeats, smnist_numpy_batch, *common),
    }
    return results


def summarise(results):
    """Derive the per-epoch times, ratios and speed-ups from the raw timings."""
    ecg, smnist = results["ecg_engine"], results["smnist_engine"]
    ecg_numpy, smnist_numpy = results["ecg_numpy"], results["smnist_numpy"]
    smnist_numpy_scaled = smnist_numpy["median"] * 256 / smnist_numpy["batch"]
    ecg_epoch = ecg["median"] * ECG_STEPS_PER_EPOCH
    return {
        "ecg_step_seconds": ecg["median"],
        "ecg_step_seconds_min": ecg["min"],
        "ecg_step_seconds_max": ecg["max"],
        "ecg_epoch_seconds": ecg_epoch,
        "ecg_step_cpu_seconds": ecg["cpu_median"],
        "smnist_step_seconds": smnist["median"],
        "smnist_step_seconds_min": smnist["min"],
        "smnist_step_seconds_max": smnist["max"],
        "smnist_epoch_seconds": smnist["median"] * SMNIST_STEPS_PER_EPOCH,
        "smnist_step_cpu_seconds": smnist["cpu_median"],
        "peak_rss_mb": max(ecg["peak_rss_mb"], smnist["peak_rss_mb"]),
        "ecg_peak_rss_mb": ecg["peak_rss_mb"],
        "smnist_peak_rss_mb": smnist["peak_rss_mb"],
        "ecg_first_step_seconds": ecg["first_step_seconds"],
        "smnist_first_step_seconds": smnist["first_step_seconds"],
        "numpy_ecg_step_seconds": ecg_numpy["median"],
        "numpy_ratio_ecg": ecg_numpy["median"] / ecg["median"],
        "numpy_smnist_batch": smnist_numpy["batch"],
        "numpy_smnist_step_seconds_at_batch": smnist_numpy["median"],
        "numpy_smnist_step_seconds_scaled_to_256": smnist_numpy_scaled,
        "numpy_ratio_smnist_scaled": smnist_numpy_scaled / smnist["median"],
        "speedup_ecg_epoch_vs_torch": TORCH_ECG_EPOCH_SECONDS / ecg_epoch,
        "speedup_smnist_step_vs_torch": TORCH_SMNIST_STEP_SECONDS / smnist["median"],
        "ecg_hidden_rate": ecg["hidden_rate"],
        "smnist_hidden_rate": smnist["hidden_rate"],
        "ecg_input_gain": ecg["input_gain"],
        "smnist_input_gain": smnist["input_gain"],
        "numba_threads": ecg["numba_threads"],
        "ecg_probe_gmac_per_s": ecg["probe_gmac_per_s"],
        "smnist_probe_gmac_per_s": smnist["probe_gmac_per_s"],
        "smnist_probe_gmac_per_s_max": smnist["probe_gmac_per_s_max"],
        "dtype": ecg["dtype"],
        "repeats_engine": ecg["repeats"],
    }


def print_report(summary, rate):
    """Print the numbers as a readable table."""
    ok_ecg = summary["speedup_ecg_epoch_vs_torch"] >= TARGET_ECG_EPOCH_SPEEDUP
    ok_smnist = summary["speedup_smnist_step_vs_torch"] >= TARGET_SMNIST_STEP_SPEEDUP
    print(f"BPTT training step (forward + backward + Adam), dtype {summary['dtype']}, "
          f"{summary['numba_threads']} Numba threads, {summary['repeats_engine']} timed repeats after one warm-up step")
    print()

    print(f"ECG     BRF 4-36-6,   batch 16,  T=1300 (input spike rate {rate:g} per channel and step, "
          f"input weights x{summary['ecg_input_gain']:g}, hidden spike rate {100 * summary['ecg_hidden_rate']:.1f} %)")
    print(f"  engine step      median {summary['ecg_step_seconds']:.4f} s  "
          f"(min {summary['ecg_step_seconds_min']:.4f}, max {summary['ecg_step_seconds_max']:.4f})")
    print(f"  engine CPU time  {summary['ecg_step_cpu_seconds']:.4f} s per step (all threads)")
    print(f"  engine epoch     {summary['ecg_epoch_seconds']:.3f} s  ({ECG_STEPS_PER_EPOCH} steps)")
    print(f"  first step       {summary['ecg_first_step_seconds']:.2f} s (includes compiling or loading the backward kernels)")
    print(f"  compute probe    {summary['ecg_probe_gmac_per_s']:.1f} GMAC/s median between the steps")
    print(f"  peak RSS         {summary['ecg_peak_rss_mb']:.0f} MB")
    print(f"  NumPy step       {summary['numpy_ecg_step_seconds']:.3f} s  (autograd reference + Adam, 1 BLAS thread), "
          f"ratio {summary['numpy_ratio_ecg']:.1f}x")
    print()

    print(f"S-MNIST BRF 1-256-10, batch 256, T=784, label-last, grad-norm clip 1.0 (input weights "
          f"x{summary['smnist_input_gain']:g}, hidden spike rate {100 * summary['smnist_hidden_rate']:.1f} %)")
    print(f"  engine step      median {summary['smnist_step_seconds']:.4f} s  "
          f"(min {summary['smnist_step_seconds_min']:.4f}, max {summary['smnist_step_seconds_max']:.4f})")
    print(f"  engine CPU time  {summary['smnist_step_cpu_seconds']:.4f} s per step (all threads)")
    print(f"  engine epoch     {summary['smnist_epoch_seconds']:.1f} s  ({SMNIST_STEPS_PER_EPOCH} steps)")
    print(f"  first step       {summary['smnist_first_step_seconds']:.2f} s")
    print(f"  compute probe    {summary['smnist_probe_gmac_per_s']:.1f} GMAC/s median between the steps "
          f"(max {summary['smnist_probe_gmac_per_s_max']:.1f}; see below)")
    print(f"  peak RSS         {summary['smnist_peak_rss_mb']:.0f} MB")
    print(f"  NumPy step       {summary['numpy_smnist_step_seconds_at_batch']:.3f} s at batch "
          f"{summary['numpy_smnist_batch']}, scaled linearly to batch 256: "
          f"{summary['numpy_smnist_step_seconds_scaled_to_256']:.2f} s, ratio {summary['numpy_ratio_smnist_scaled']:.1f}x")
    print()

    print("Targets: the authors' PyTorch implementation (TorchScript, 2 threads, 2-core machine) takes a median")
    print(f"  {TORCH_ECG_STEP_SECONDS} s per ECG BRF step (about {TORCH_ECG_EPOCH_SECONDS:.0f} s per epoch) and "
          f"{TORCH_SMNIST_STEP_SECONDS} s per S-MNIST step.")
    print(f"  ECG epoch speed-up     {summary['speedup_ecg_epoch_vs_torch']:.1f}x "
          f"(target >= {TARGET_ECG_EPOCH_SPEEDUP:.0f}x, < {TORCH_ECG_EPOCH_SECONDS / TARGET_ECG_EPOCH_SPEEDUP:.2f} s/epoch): "
          f"{'met' if ok_ecg else 'NOT met'}")
    print(f"  S-MNIST step speed-up  {summary['speedup_smnist_step_vs_torch']:.1f}x "
          f"(target >= {TARGET_SMNIST_STEP_SPEEDUP:.0f}x, < {TORCH_SMNIST_STEP_SECONDS / TARGET_SMNIST_STEP_SPEEDUP:.2f} s/step): "
          f"{'met' if ok_smnist else 'NOT met'}")
    print()
    print("The compute probe times a fixed float32 matrix product on every Numba thread between the")
    print("timed steps. It needs no memory traffic, so a rate below this machine's usual one means the")
    print("host granted less compute during the run, and the step times above are slower than they")
    print("would be on an idle host.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="run fewer repeats")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--ecg-rate", type=float, default=0.05,
                        help="probability of an input spike per ECG channel and step (default 0.05)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                        help="floating-point type of the engine run (default float32, the engine's default)")
    parser.add_argument("--hidden-rate", type=float, default=0.05,
                        help="hidden spike rate the input weights are scaled toward (default 0.05)")
    parser.add_argument("--smnist-numpy-batch", type=int, default=16,
                        help="batch of the NumPy S-MNIST timing, scaled to 256 (default 16)")
    # Internal: run one part in this process and print its JSON result.
    parser.add_argument("--part", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=16, help=argparse.SUPPRESS)
    parser.add_argument("--probe-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.probe_server:
        serve_probe()
        return
    if args.part:
        print(json.dumps(run_part(args.part, args.repeats, args.batch, args.ecg_rate, args.dtype,
                                  args.hidden_rate)))
        return

    results = measure(args.quick, args.ecg_rate, args.dtype, args.smnist_numpy_batch, args.hidden_rate)
    summary = summarise(results)
    if args.json:
        print(json.dumps(summary))
    else:
        print_report(summary, args.ecg_rate)


if __name__ == "__main__":
    main()
