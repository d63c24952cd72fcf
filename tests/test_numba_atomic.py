"""The atomic counter that hands out work items to the engine's threads."""

import numpy as np

from rfsim._numba import fetch_add, njit, njit_parallel, prange


@njit_parallel
def _take_all(n_items, n_workers, taken, counter):
    for worker in prange(n_workers):
        item = fetch_add(counter, 0)
        while item < n_items:
            taken[item] += 1
            item = fetch_add(counter, 0)


@njit
def _add_twice(counter, index):
    first = fetch_add(counter, index)
    second = fetch_add(counter, index)
    return first, second


def test_fetch_add_returns_previous_value():
    counter = np.array([5, 7], dtype=np.int64)
    assert _add_twice(counter, 1) == (7, 8)
    np.testing.assert_array_equal(counter, [5, 9])


def test_workers_take_each_item_once():
    taken = np.zeros(1000, dtype=np.int64)
    counter = np.zeros(1, dtype=np.int64)
    _take_all(taken.size, 4, taken, counter)
    np.testing.assert_array_equal(taken, 1)
    assert counter[0] == taken.size + 4
