"""Invalidation of the on-disk Numba cache when a kernel module changes."""

import os

import pytest

from rfsim._numba import STAMP_NAME, purge_stale_cache


def _package(tmp_path):
    package = tmp_path / "package"
    (package / "sub" / "__pycache__").mkdir(parents=True)
    (package / "__pycache__").mkdir()
    (package / "kernels.py").write_text("from rfsim._numba import njit\n")
    (package / "sub" / "driver.py").write_text("from rfsim._numba import njit_parallel\n")
    (package / "cli.py").write_text("import click\n")
    return package


def _write_cache(package):
    files = [package / "__pycache__" / "kernels.step-10.py311.nbi",
             package / "__pycache__" / "kernels.step-10.py311.1.nbc",
             package / "sub" / "__pycache__" / "driver.run-20.py311.nbi"]
    for path in files:
        path.write_bytes(b"cached")
    return files


def _touch(path, text):
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


def test_first_call_purges_and_stamps(tmp_path):
    package = _package(tmp_path)
    files = _write_cache(package)
    assert purge_stale_cache(package) == 3
    assert not any(path.exists() for path in files)
    assert (package / "__pycache__" / STAMP_NAME).is_file()


def test_unchanged_sources_keep_cache(tmp_path):
    package = _package(tmp_path)
    purge_stale_cache(package)
    files = _write_cache(package)
    assert purge_stale_cache(package) == 0
    assert all(path.exists() for path in files)


@pytest.mark.parametrize(("name", "expected"), [("kernels.py", 3), ("cli.py", 0)])
def test_edit_purges_only_for_kernel_modules(tmp_path, name, expected):
    # kernels.py imports rfsim._numba, so its edit may change a cached kernel; cli.py does not.
    package = _package(tmp_path)
    purge_stale_cache(package)
    files = _write_cache(package)
    path = package / name
    _touch(path, path.read_text() + "# edited\n")
    assert purge_stale_cache(package) == expected
    assert all(file.exists() == (expected == 0) for file in files)
    assert purge_stale_cache(package) == 0


def test_damaged_stamp_purges_and_rewrites(tmp_path):
    package = _package(tmp_path)
    purge_stale_cache(package)
    files = _write_cache(package)
    (package / "__pycache__" / STAMP_NAME).write_bytes(b"\xff\xfe not a fingerprint")
    assert purge_stale_cache(package) == 3
    assert not any(path.exists() for path in files)
    assert purge_stale_cache(package) == 0
