"""The compute probe of benchmarks/bench_bptt.py: a second process that times a fixed kernel on request."""

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_bptt  # noqa: E402


@pytest.fixture(scope="module")
def probe_server():
    server = bench_bptt.start_probe_server()
    yield server
    if server.poll() is None:
        server.kill()


def test_probe_rate_per_request(probe_server):
    rates = [bench_bptt.probe_rate(probe_server) for _ in range(3)]

    # Each thread does PROBE_CALLS products of 4 x 272 x 256 multiply-adds. With 1 to 64
    # threads, any real CPU needs more than a microsecond and less than a minute for them.
    multiply_adds = bench_bptt.PROBE_CALLS * 4 * 272 * 256
    for rate in rates:
        assert math.isfinite(rate)
        assert rate > multiply_adds / 60.0
        assert rate < multiply_adds * 64 / 1e-6


def test_probe_server_exits_on_eof():
    server = bench_bptt.start_probe_server()
    server.stdin.close()

    assert server.wait(timeout=60) == 0


def test_dead_probe_server_raises():
    server = bench_bptt.start_probe_server()
    server.kill()
    server.wait(timeout=60)

    with pytest.raises(RuntimeError, match="probe process exited with code"):
        bench_bptt.probe_rate(server)
