"""Time a loss landscape of a trained checkpoint for several worker counts.

Each run calls ``rfsim.analysis.landscape.network_landscape`` with a GRID x GRID
grid (default 21 x 21 = 441 points) of filter-normalised directions on one split
(default: the whole test split; ECG has 141 sequences x 1300 steps). Every grid
point is one forward pass of the network over all evaluated sequences. The
reported time is that of the grid alone (``LandscapeGrid.seconds``); loading the
data and evaluating the checkpoint once are not included. The script checks that
every worker count gives the same grid bit for bit. The machine's load is read
from ``os.getloadavg`` before and after, because other processes slow the run.

Usage::

    RFSIM_DATA_DIR=/path/to/data python benchmarks/bench_landscape.py runs/ecg-brf-seed0/best.npz
    python benchmarks/bench_landscape.py CHECKPOINT --grid 7 --workers 1 2 --subset 16
"""

import argparse
import os
import platform

import numba
import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="trained checkpoint .npz with its .json sidecar")
    parser.add_argument("--grid", type=int, default=21, help="odd number of points per axis")
    parser.add_argument("--span", type=float, default=1.0, help="half-width of the grid")
    parser.add_argument("--split", choices=["test", "valid", "train"], default="test", help="dataset split")
    parser.add_argument("--subset", type=int, default=None, help="evaluate only the first N sequences")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to time")
    arguments = parser.parse_args()

    from rfsim.analysis.landscape import network_landscape

    load_before = os.getloadavg()
    grids = {}
    for workers in arguments.workers:
        result = network_landscape(arguments.checkpoint, grid=arguments.grid, span=arguments.span,
                                   split=arguments.split, subset=arguments.subset, workers=workers)
        grids[workers] = result.grid
    load_after = os.getloadavg()

    print(f"checkpoint {arguments.checkpoint} ({result.model}), {arguments.split} split, "
          f"{result.n_sequences} sequences per point")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"numba {numba.__version__} with {numba.get_num_threads()} threads, "
          f"threading layer {numba.threading_layer()}")
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    for workers, grid in grids.items():
        print(f"workers {workers} (effective {grid.workers}): {grid.loss.size} points in {grid.seconds:.2f} s, "
              f"{grid.seconds / grid.loss.size:.3f} s per point")
    reference = grids[arguments.workers[0]]
    identical = all(np.array_equal(grid.loss, reference.loss) and np.array_equal(grid.accuracy, reference.accuracy)
                    for grid in grids.values())
    print(f"grids identical for every worker count: {identical}")


if __name__ == "__main__":
    main()
