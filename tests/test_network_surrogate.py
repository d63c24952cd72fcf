"""Surrogate derivatives: the authors' values (traces from their public PyTorch implementation),
the BRF paper's printed formula, and the vectorised row kernel."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rfsim.errors import RFSimError
from rfsim.surrogate import (
    SURROGATE_CODES,
    SURROGATES,
    exp_row,
    exp_row_float32,
    heaviside,
    surrogate_derivative,
    surrogate_derivative_row,
    surrogate_grad,
)

GOLDEN = Path(__file__).parent / "data" / "golden" / "surrogate.npz"


def row(code, s):
    out = np.empty(s.size)
    surrogate_derivative_row(code, s, out)
    return out


def test_reference_surrogate_bitwise_golden():
    # The scalar kernel reproduces the authors' float64 spike-function backward exactly.
    data = np.load(GOLDEN)
    values = np.array([surrogate_derivative(SURROGATE_CODES["reference"], s) for s in data["x"]])
    np.testing.assert_array_equal(values, data["dfdx"])
    np.testing.assert_array_equal(values, data["dfdx_fgi"])


def test_reference_surrogate_numpy_and_row_golden():
    data = np.load(GOLDEN)
    np.testing.assert_allclose(surrogate_grad(data["x"]), data["dfdx"], rtol=0, atol=1e-16)
    np.testing.assert_allclose(row(0, data["x"]), data["dfdx"], rtol=0, atol=1e-15)


def test_step_is_strict_golden():
    data = np.load(GOLDEN)
    np.testing.assert_array_equal(heaviside(data["x"]), data["step"])
    assert heaviside(0.0) == 0.0
    assert heaviside(np.nextafter(0.0, 1.0)) == 1.0


def test_reference_surrogate_landmarks():
    # g(0) = 0.5 (1.15 / (0.5 sqrt(2 pi)) - 0.30 / (3 sqrt(2 pi))) = 0.4388365.
    assert surrogate_grad(0.0) == pytest.approx(0.4388365, abs=5e-8)
    assert surrogate_grad(1.2699) == pytest.approx(0.0, abs=2e-5)
    s = np.linspace(-40.0, 40.0, 400001)
    integral = surrogate_grad(s).sum() * (s[1] - s[0])
    assert integral == pytest.approx(0.425, abs=1e-9)
    assert surrogate_grad(s).min() == pytest.approx(-0.01601, abs=1e-5)


def test_paper_surrogate_formula():
    # (1 + h) exp(-s^2 / (2 sigma^2)) - 2 h exp(-s^2 / (2 (6 sigma)^2)), h = 0.15, sigma = 0.5.
    s = np.linspace(-5.0, 5.0, 41)
    expected = 1.15 * np.exp(-s**2 / 0.5) - 0.30 * np.exp(-s**2 / 18.0)
    np.testing.assert_allclose(surrogate_grad(s, "paper"), expected, rtol=1e-14, atol=1e-16)
    assert surrogate_grad(0.0, "paper") == pytest.approx(0.85, rel=1e-15)


def test_fast_sigmoid_and_triangle_formulas():
    s = np.array([-2.0, -0.5, 0.0, 0.1, 1.0, 3.0])
    np.testing.assert_allclose(surrogate_grad(s, "fast-sigmoid"), 1.0 / (1.0 + 10.0 * np.abs(s)) ** 2, rtol=1e-15)
    np.testing.assert_array_equal(surrogate_grad(s, "triangle"), [0.0, 0.5, 1.0, 0.9, 0.0, 0.0])


@pytest.mark.parametrize("name", SURROGATES)
def test_scalar_row_and_numpy_agree(name):
    code = SURROGATE_CODES[name]
    s = np.linspace(-30.0, 30.0, 6001)
    scalar = np.array([surrogate_derivative(code, value) for value in s])
    np.testing.assert_allclose(row(code, s), scalar, rtol=0, atol=1e-14)
    np.testing.assert_allclose(surrogate_grad(s, name), scalar, rtol=0, atol=1e-15)


def test_float32_argument_evaluated_in_float64():
    s = np.linspace(-3.0, 3.0, 61).astype(np.float32)
    expected = surrogate_grad(s.astype(np.float64))
    scalar = np.array([surrogate_derivative(0, value) for value in s])
    np.testing.assert_allclose(scalar, expected, rtol=0, atol=1e-16)
    np.testing.assert_allclose(row(0, s), expected, rtol=0, atol=1e-15)


@given(st.lists(st.floats(min_value=-700.0, max_value=700.0), min_size=1, max_size=50))
def test_exp_row_within_one_ulp(values):
    """exp_row(x) is within 1 ulp of the correctly rounded exp(x) for x in [-700, 700]."""
    x = np.array(values)
    result = x.copy()
    exp_row(result)
    expected = np.exp(x)
    assert np.all(np.abs(result - expected) <= np.spacing(expected))


def test_exp_row_special_values():
    x = np.array([np.nan, 0.0, -800.0])
    exp_row(x)
    assert np.isnan(x[0])
    assert x[1] == 1.0
    assert 0.0 <= x[2] <= 3.4e-308


@given(st.lists(st.floats(min_value=-80.0, max_value=88.0, width=32), min_size=1, max_size=50))
def test_exp_row_float32_within_two_ulp(values):
    """exp_row_float32(x) is within 2 float32 ulp of exp(x) for x in [-80, 88]."""
    x = np.array(values, dtype=np.float32)
    result = x.copy()
    exp_row_float32(result)
    expected = np.exp(x.astype(np.float64))
    assert np.all(np.abs(result - expected) <= 2 * np.spacing(expected.astype(np.float32)))


def test_exp_row_float32_sweep_and_special_values():
    x = np.linspace(-80.0, 88.0, 200001).astype(np.float32)
    result = x.copy()
    exp_row_float32(result)
    expected = np.exp(x.astype(np.float64))
    assert np.max(np.abs(result - expected) / np.spacing(expected.astype(np.float32))) <= 2.0

    # Below exp(-80) the result is flushed to zero, never subnormal.
    special = np.array([np.nan, 0.0, -80.5, -100.0, -np.inf], dtype=np.float32)
    exp_row_float32(special)
    assert np.isnan(special[0])
    assert special[1] == 1.0
    np.testing.assert_array_equal(special[2:], 0.0)


@pytest.mark.parametrize("name", SURROGATES)
def test_float32_row_close_to_float64(name):
    # The float32 kernel computes in float32, as the authors' float32 runs do.
    code = SURROGATE_CODES[name]
    s = np.linspace(-30.0, 30.0, 6001).astype(np.float32)
    out = np.empty(s.size, np.float32)
    surrogate_derivative_row(code, s, out)
    expected = surrogate_grad(s.astype(np.float64), name)
    np.testing.assert_allclose(out, expected, rtol=0, atol=2e-7)

    # Far from the threshold g is zero or a normal float32, never subnormal.
    tiny = np.finfo(np.float32).tiny
    assert np.all((out == 0.0) | (np.abs(out) >= tiny))


def test_unknown_surrogate_raises():
    with pytest.raises(RFSimError, match="surrogate"):
        surrogate_grad(0.0, "sigmoid")
