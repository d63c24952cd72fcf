"""Input currents for single-neuron simulations.

Every generator returns a float64 array I of shape (T,), one value per time
step, with step n at time n*dt [s] and T = round(duration/dt). In the RF
family the input enters the membrane as dt*I per step, so a single spike of
amplitude A moves Re u by A*dt. In the ALIF neuron it moves u by (1 - alpha)*A.

In-phase spike trains: an impulse at time t0 starts a damped oscillation whose
real part peaks again after each full period 2*pi/omega. A train with one
spike per period, ``spike_train(omega_drive, ...)`` with omega_drive equal to the
neuron's oscillation frequency, therefore adds every spike at a peak of the
response to the earlier ones, and the neuron's response builds up. The Euler
RF oscillates slightly slower than omega: ``euler_oscillation_frequency`` returns
its discrete angular frequency, which is the drive frequency for an exactly
in-phase train.
"""

import os

import numpy as np

from rfsim.errors import DataError, RFSimError
from rfsim.stability import check_dt


def count_steps(duration, dt):
    """Return the number of steps T = round(duration/dt) of a simulation.

    Raises
    ------
    RFSimError
        If ``dt`` is not a positive time step or ``duration`` gives no step.
    """
    check_dt(dt)
    if not np.isfinite(duration) or duration <= 0:
        raise RFSimError(f"duration must be a finite positive time in seconds, got duration={duration!r}")
    n_steps = int(round(duration / dt))
    if n_steps < 1:
        raise RFSimError(
            f"duration={duration:g} s is shorter than one step of dt={dt:g} s; give a duration of at least dt"
        )
    return n_steps


def _check_frequency(omega_drive):
    if not np.isfinite(omega_drive) or omega_drive <= 0:
        raise RFSimError(
            f"drive frequency must be a finite positive angular frequency in rad/s, got {omega_drive!r}"
        )


def _check_amplitude(amplitude):
    if not np.isfinite(amplitude):
        raise RFSimError(f"amplitude must be finite, got amplitude={amplitude!r}")


def spikes_at_times(times, duration, dt, amplitude=1.0):
    """Build an input of spikes at explicit times.

    Parameters
    ----------
    times : array_like
        Spike times [s], each in [0, duration). A time maps to the nearest step
        round(t/dt); spikes that fall on the same step add up.
    duration : float
        Length of the input [s].
    dt : float
        Time step [s].
    amplitude : float, optional
        Input current of each spike.

    Returns
    -------
    I : ndarray, shape (T,)
    """
    n_steps = count_steps(duration, dt)
    _check_amplitude(amplitude)
    times = np.atleast_1d(np.asarray(times, dtype=float))
    if times.ndim != 1:
        raise RFSimError(f"spike times must be a 1-D list of times in seconds, got shape {times.shape}")

    bad = ~np.isfinite(times) | (times < 0) | (times >= duration)
    if bad.any():
        value = times[np.flatnonzero(bad)[0]]
        raise RFSimError(
            f"spike time {value!r} s lies outside the simulated interval [0, {duration:g}) s; "
            "give times inside it or a longer duration"
        )

    steps = np.rint(times / dt).astype(np.int64)
    steps = np.minimum(steps, n_steps - 1)
    current = np.zeros(n_steps)
    np.add.at(current, steps, amplitude)
    return current


def spike_train(omega_drive, duration, dt, amplitude=1.0, t0=0.0):
    """Build a periodic spike train with one spike per period 2*pi/omega_drive.

    Spikes fall at t0 + k*2*pi/omega_drive for k = 0, 1, ... below ``duration``,
    each rounded to the nearest step. Driven at its own oscillation frequency,
    a neuron receives every spike at a peak of its response (module docstring).

    Parameters
    ----------
    omega_drive : float
        Angular frequency of the train [rad/s].
    duration : float
        Length of the input [s].
    dt : float
        Time step [s].
    amplitude : float, optional
        Input current of each spike.
    t0 : float, optional
        Time of the first spike [s], in [0, duration).

    Returns
    -------
    I : ndarray, shape (T,)
    """
    _check_frequency(omega_drive)
    count_steps(duration, dt)
    if not np.isfinite(t0) or t0 < 0 or t0 >= duration:
        raise RFSimError(f"t0={t0!r} s must lie in the simulated interval [0, {duration:g}) s")
    period = 2.0 * np.pi / omega_drive
    times = t0 + period * np.arange(int(np.floor((duration - t0) / period)) + 1)
    times = times[times < duration]
    return spikes_at_times(times, duration, dt, amplitude)


def sine(omega_drive, duration, dt, amplitude=1.0, phase=0.0):
    """Build a sinusoidal input I_n = amplitude*sin(omega_drive*n*dt + phase).

    Parameters
    ----------
    omega_drive : float
        Angular frequency [rad/s].
    duration, dt : float
        Length of the input and time step [s].
    amplitude : float, optional
        Peak input current.
    phase : float, optional
        Phase at t = 0 [rad].

    Returns
    -------
    I : ndarray, shape (T,)
    """
    _check_frequency(omega_drive)
    _check_amplitude(amplitude)
    if not np.isfinite(phase):
        raise RFSimError(f"phase must be finite, got phase={phase!r}")
    n_steps = count_steps(duration, dt)
    return amplitude * np.sin(omega_drive * dt * np.arange(n_steps) + phase)


def euler_oscillation_frequency(omega, b, dt):
    """Return the angular frequency [rad/s] of the Euler RF's free oscillation.

    One Euler step multiplies u by 1 + dt*(b + i*omega), which turns it by
    atan2(omega*dt, 1 + b*dt) rad, so the discrete oscillation has angular
    frequency atan2(omega*dt, 1 + b*dt)/dt, slightly below omega.
    """
    check_dt(dt)
    return np.arctan2(np.multiply(omega, dt), 1.0 + np.multiply(b, dt)) / dt


def _read_csv(path):
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            fields = [field.strip() for field in text.split(",")]
            try:
                rows.append([float(field) for field in fields])
            except ValueError:
                if not rows and line_number == 1:
                    continue  # a header line
                raise DataError(
                    f"invalid number in input file {path} at line {line_number}: {text!r}; "
                    "the CSV must hold numbers, one column per neuron and one row per step"
                ) from None
    if not rows:
        raise DataError(f"input file {path} contains no numbers; give one value per time step")
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        raise DataError(f"input file {path} has rows of different lengths {sorted(widths)}; give one column")
    return np.array(rows, dtype=float)


def _read_npz(path):
    with np.load(path, allow_pickle=False) as archive:
        keys = list(archive.keys())
        if "I" in keys:
            return archive["I"]
        if len(keys) == 1:
            return archive[keys[0]]
    raise DataError(f"input file {path} contains the arrays {keys}; store the input current under the key 'I'")


def load_input(path):
    """Read an input current from a CSV, NPY or NPZ file.

    A CSV contains one value per line, and several comma-separated columns give
    several neurons. An optional header line and ``#`` comment lines are
    skipped. An NPZ file stores the current under the key ``I``, or as its only
    array.

    Returns
    -------
    I : ndarray, shape (T,) or (T, N)
        The current, float64. A single column is returned as shape (T,).

    Raises
    ------
    DataError
        If the file is missing, unreadable, has an unknown suffix, or contains no
        1-D or 2-D array of finite numbers.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"input file not found: {path}")
    suffix = os.path.splitext(path)[1].lower()

    try:
        if suffix in (".csv", ".txt"):
            current = _read_csv(path)
        elif suffix == ".npy":
            current = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            current = _read_npz(path)
        else:
            raise DataError(f"unknown input file type {suffix!r} of {path}; use .csv, .npy or .npz")
    except DataError:
        raise
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise DataError(f"failed to read input file {path}: {error}") from error

    try:
        current = np.asarray(current, dtype=float)
    except (TypeError, ValueError) as error:
        raise DataError(f"input file {path} does not hold numbers: {error}") from error
    if current.ndim == 2 and current.shape[1] == 1:
        current = current[:, 0]
    if current.ndim not in (1, 2) or current.shape[0] == 0:
        raise DataError(
            f"input file {path} contains an array of shape {current.shape}; expected (T,) or (T, N) with T >= 1"
        )
    if not np.all(np.isfinite(current)):
        raise DataError(f"input file {path} contains NaN or inf; every input value must be finite")
    return current
