"""Loss landscapes of trained networks: 2-D slices along random directions and 1-D interpolations.

A 2-D slice evaluates the loss on the plane through the trained parameters theta*
spanned by two directions d1 and d2::

    theta(alpha, beta) = theta* + alpha d1 + beta d2,   alpha, beta in [-span, span]

on an odd n x n grid, so the centre (alpha = beta = 0) is theta* itself. A 1-D
interpolation between two parameter sets (for example the initial and the
trained network) evaluates::

    theta(a) = (1 - a) theta_0 + a theta_1

on a grid of a that contains 0 and 1 exactly, so both endpoints are the two
checkpoints bit for bit, and may extend beyond [0, 1].

Directions follow the filter normalisation of Li et al. (2018): each direction
starts as a standard normal draw of every parameter array from a seeded
``numpy.random.Generator`` and is then rescaled filter by filter, so that a step
of alpha = 1 changes each filter by as much as the filter's own trained norm.
A filter here is one row of a weight matrix (``hidden.linear.weight``, whose row
i contains the input and recurrent weights into hidden neuron i, and
``out.linear.weight``)::

    d[i, :] <- d[i, :] * ||theta*[i, :]|| / ||d[i, :]||

The per-neuron vectors (``hidden.omega``, ``hidden.b_offset``, ``hidden.tau_mem``,
``hidden.tau_adp``, ``out.tau_mem`` and the biases) are one-dimensional. The
reference tool of Li et al. gives every one-dimensional parameter a zero
direction, which would remove exactly the resonator parameters omega and
b_offset from the landscape, so this module offers three choices (``vectors``):

* ``'filter'`` (default): the whole vector is one filter,
  d <- d ||theta*|| / ||d||.
* ``'elementwise'``: each entry is a filter of its own, so d_i = sign(g_i) |theta*_i|
  for the standard normal draw g_i. Every neuron moves by its own magnitude.
* ``'exclude'``: the vector gets a zero direction and keeps its trained value
  across the plane, as in the reference tool.

The ``'omega-b'`` plane (RF-family models only) uses d1 nonzero only in
``hidden.omega`` and d2 nonzero only in ``hidden.b_offset``, each normalised as
chosen by ``vectors`` (``'filter'`` or ``'elementwise'``).

The random draws do not depend on ``vectors``: every parameter array is drawn
in sorted name order for d1, then for d2, so the weight components of a
``'filter'`` and an ``'exclude'`` direction with the same seed are identical.
Weights removed by a pruning mask stay zero in both directions, and the row
norms are those of the masked trained weights, which the network actually uses.

The engine applies ``abs()`` to omega, b_offset and the time constants, so a
raw value that a direction moves through zero acts as its magnitude.

A step can carry BRF neurons out of the convergence region of their core
dynamics (q = 0): 0 <= |b_offset| <= 2 sqrt(1 - (dt omega)^2) / dt with
|omega| dt < 1. Beyond omega = 1/dt the boundary p(omega) is undefined, the
neuron's state becomes NaN and it never spikes again, so the loss stays finite
there. ``NetworkLandscape.grid_outside`` and ``curve_outside`` count such
neurons at every point, so a figure can be read against them.

Parallel evaluation: ``workers`` grid points run at the same time in a
``concurrent.futures.ThreadPoolExecutor``. The engine's Numba kernels release the
GIL, so the threads run in parallel. With one worker each point uses all of
Numba's threads, because the engine splits the sequences into groups of four
across them. With w workers each point's engine call gets
``numba.get_num_threads() // w`` threads (at least one). The engine's result
does not depend on its thread count and every point is computed on its own, so
the landscape is identical bit for bit for any number of workers. Numba's ``workqueue`` threading layer aborts
the process on concurrent launches, so under that layer the network functions
fall back to one worker with an ``RFSimWarning``.

References
----------
H. Li, Z. Xu, G. Taylor, C. Studer, T. Goldstein, "Visualizing the Loss
Landscape of Neural Nets", NeurIPS 2018.
"""

import hashlib
import math
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rfsim.errors import RFSimError, RFSimWarning

PLANES = ("weights", "omega-b")
"""Planes of a 2-D slice: filter-normalised directions in all parameters, or omega against b_offset."""

VECTOR_MODES = ("filter", "elementwise", "exclude")
"""Treatments of the one-dimensional (per-neuron) parameters in a direction."""

OMEGA = "hidden.omega"
B_OFFSET = "hidden.b_offset"
HIDDEN_WEIGHT = "hidden.linear.weight"


# --- named results -------------------------------------------------------------------------


@dataclass(frozen=True)
class Directions:
    """Two directions in parameter space that span a 2-D slice.

    Attributes
    ----------
    first, second : dict of str to ndarray
        Direction d1 (along alpha) and d2 (along beta), one array per parameter,
        shaped like the parameter.
    plane : str
        ``'weights'`` or ``'omega-b'`` (see ``PLANES``).
    vectors : str
        Treatment of the one-dimensional parameters (see ``VECTOR_MODES``).
    seed : int or None
        Seed of the ``numpy.random.Generator`` that drew them, or None if unknown.
    reference_digest : str
        SHA-256 of the trained parameters the directions were normalised for
        (``parameter_digest``).
    """

    first: dict
    second: dict
    plane: str
    vectors: str
    seed: int | None
    reference_digest: str


@dataclass(frozen=True)
class PointMetrics:
    """Loss, accuracy and hidden spike count of one parameter set.

    Attributes
    ----------
    loss : float
        Loss, as the evaluation function returns it (NaN if it diverged).
    accuracy : float
        Accuracy [%], or NaN when the evaluation function returns only a loss.
    sop : float
        Hidden spikes per sequence, or NaN when the evaluation function does not report it.
    """

    loss: float
    accuracy: float = float("nan")
    sop: float = float("nan")


@dataclass(frozen=True)
class LandscapeGrid:
    """Loss and accuracy on a 2-D slice theta* + alpha d1 + beta d2.

    Attributes
    ----------
    alpha, beta : ndarray, shape (n,) and (m,)
        Coordinates along d1 and d2 [multiples of the directions].
    loss, accuracy, sop : ndarray, shape (n, m)
        Values at (alpha[i], beta[j]); accuracy in [%], sop in hidden spikes per
        sequence, NaN where the evaluation does not report them.
    seconds : float
        Wall time of the evaluation [s].
    workers : int
        Grid points evaluated at the same time.
    """

    alpha: np.ndarray
    beta: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    sop: np.ndarray
    seconds: float
    workers: int

    @property
    def centre_index(self):
        """Index (i, j) of the point nearest to alpha = beta = 0."""
        return int(np.argmin(np.abs(self.alpha))), int(np.argmin(np.abs(self.beta)))

    @property
    def centre_loss(self):
        """Loss at the grid point nearest to alpha = beta = 0 (exactly there for an odd grid)."""
        return float(self.loss[self.centre_index])


@dataclass(frozen=True)
class InterpolationCurve:
    """Loss and accuracy along theta(a) = (1 - a) theta_0 + a theta_1.

    Attributes
    ----------
    alpha : ndarray, shape (n,)
        Interpolation coefficients a, increasing, containing 0 and 1 exactly.
    loss, accuracy, sop : ndarray, shape (n,)
        Values at each a (accuracy in [%], sop in hidden spikes per sequence).
    seconds : float
        Wall time of the evaluation [s].
    workers : int
        Points evaluated at the same time.
    """

    alpha: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    sop: np.ndarray
    seconds: float
    workers: int

    def value_at(self, a, metric="loss"):
        """Return ``metric`` ('loss', 'accuracy' or 'sop') at the grid point a (0 and 1 always exist)."""
        index = np.flatnonzero(self.alpha == a)
        if index.size == 0:
            raise RFSimError(f"a = {a!r} is not a point of the interpolation grid; the grid has {self.alpha.size} "
                             f"points from {self.alpha[0]:g} to {self.alpha[-1]:g}")
        return float(getattr(self, metric)[index[0]])


@dataclass(frozen=True)
class NetworkLandscape:
    """Loss landscape of a checkpoint on one dataset split.

    Attributes
    ----------
    checkpoint : str
        Path of the trained checkpoint (the centre of the grid, a = 1 of the curve).
    model : str
        Hidden neuron model.
    split : str
        Dataset split evaluated.
    n_sequences : int
        Number of sequences evaluated at each point.
    subset : ndarray or None
        Indices of the evaluated sequences within the split, or None for the whole split.
    subset_seed : int or None
        Seed of a random subset, or None for the first sequences or the whole split.
    checkpoint_metrics : PointMetrics
        Loss, accuracy and SOP of the trained parameters themselves.
    grid : LandscapeGrid or None
        The 2-D slice, or None when only the interpolation was requested.
    directions : Directions or None
        Directions of the 2-D slice.
    span : float or None
        Half-width of the grid [multiples of the directions].
    curve : InterpolationCurve or None
        The 1-D interpolation, or None when no start checkpoint was given.
    start_checkpoint : str or None
        Path of the start checkpoint of the interpolation (a = 0).
    grid_outside, curve_outside : ndarray of int or None
        BRF only: number of hidden neurons outside the convergence region of the
        core dynamics at each grid or curve point (see the module docstring).
        None for the other models, or when ``boundary_dt`` differs from dt.
    """

    checkpoint: str
    model: str
    split: str
    n_sequences: int
    subset: np.ndarray | None
    subset_seed: int | None
    checkpoint_metrics: PointMetrics
    grid: LandscapeGrid | None
    directions: Directions | None
    span: float | None
    curve: InterpolationCurve | None
    start_checkpoint: str | None
    grid_outside: np.ndarray | None = None
    curve_outside: np.ndarray | None = None


# --- checks and coordinates ----------------------------------------------------------------


def check_grid_size(n_points):
    """Return ``n_points`` as an int, or raise ``RFSimError`` unless it is an odd integer >= 3."""
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 3 \
            or n_points % 2 == 0:
        raise RFSimError(f"grid must be an odd number of points per axis, at least 3, so that the checkpoint "
                         f"itself (alpha = beta = 0) is a grid point; got grid={n_points!r}. Use 3, 5, ..., 21")
    return int(n_points)


def check_span(span):
    """Return ``span`` as a float, or raise ``RFSimError`` unless it is finite and positive."""
    if isinstance(span, bool) or not isinstance(span, (int, float, np.integer, np.floating)) \
            or not math.isfinite(span) or span <= 0:
        raise RFSimError(f"span must be a finite positive half-width of the grid (in multiples of the "
                         f"directions), got span={span!r}; 1.0 is the usual choice")
    return float(span)


def check_workers(workers):
    """Return ``workers`` as an int, or raise ``RFSimError`` unless it is a positive integer."""
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise RFSimError(f"workers must be a positive number of grid points evaluated at the same time, "
                         f"got workers={workers!r}")
    return int(workers)


def _check_choice(name, value, choices):
    if value not in choices:
        raise RFSimError(f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {name}={value!r}")


def grid_coordinates(n_points, span):
    """Return n symmetric coordinates from -span to span with the middle one exactly 0.

    Parameters
    ----------
    n_points : int
        Odd number of points, at least 3.
    span : float
        Half-width [multiples of a direction].

    Returns
    -------
    ndarray, shape (n_points,)
    """
    n_points = check_grid_size(n_points)
    span = check_span(span)
    half = (n_points - 1) // 2
    # Integer offsets divided by the half-width: the centre is 0.0 and the ends are +-span exactly.
    return span * (np.arange(n_points, dtype=float) - half) / half


def interpolation_coordinates(n_points=21, start=0.0, stop=1.0):
    """Return an increasing grid of interpolation coefficients that contains 0 and 1 exactly.

    Parameters
    ----------
    n_points : int
        Points of the evenly spaced grid from ``start`` to ``stop`` (at least 2); 0
        and 1 are added where the grid misses them.
    start, stop : float
        Range of a; ``start <= 0`` and ``stop >= 1`` so that both checkpoints are on
        the curve. Values below 0 or above 1 extrapolate beyond the checkpoints.

    Returns
    -------
    ndarray
    """
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise RFSimError(f"the interpolation needs at least 2 points, got n_points={n_points!r}")
    for name, value in (("start", start), ("stop", stop)):
        if not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value):
            raise RFSimError(f"the interpolation {name} must be a finite number, got {name}={value!r}")
    if start > 0 or stop < 1:
        raise RFSimError(f"the interpolation range must contain [0, 1] so that both checkpoints lie on the "
                         f"curve, got start={start!r}, stop={stop!r}; use start <= 0 and stop >= 1")
    points = np.linspace(float(start), float(stop), int(n_points))
    return np.unique(np.concatenate([points, [0.0, 1.0]]))


# --- directions ----------------------------------------------------------------------------


def parameter_digest(params):
    """Return the SHA-256 (hex) of a parameter dict: its sorted names, shapes and float64 values."""
    digest = hashlib.sha256()
    for name in sorted(params):
        value = np.ascontiguousarray(params[name], dtype=np.float64)
        digest.update(name.encode("utf-8"))
        digest.update(repr(value.shape).encode("ascii"))
        digest.update(value.tobytes())
    return digest.hexdigest()


def _weight_masks(params, mask):
    """Return {name: 0/1 array} for the parameters a recurrent pruning mask touches (empty without a mask)."""
    if mask is None:
        return {}
    if HIDDEN_WEIGHT not in params:
        raise RFSimError(f"a pruning mask applies to {HIDDEN_WEIGHT!r}, which the parameters lack")
    weight = np.asarray(params[HIDDEN_WEIGHT])
    mask = np.asarray(mask, dtype=float)
    n_hidden, n_columns = weight.shape
    if mask.shape == weight.shape:
        full = mask
    elif mask.shape == (n_hidden, n_hidden):
        full = np.ones(weight.shape)
        full[:, n_columns - n_hidden:] = mask
    else:
        raise RFSimError(f"mask must have shape (n_hidden, n_hidden) = {(n_hidden, n_hidden)} or the weight's "
                         f"shape {weight.shape}, got {mask.shape}")
    return {HIDDEN_WEIGHT: full}


def normalize_direction(direction, params, *, vectors="filter", mask=None):
    """Rescale a direction filter by filter to the norms of the trained parameters.

    Parameters
    ----------
    direction : dict of str to ndarray
        Raw direction (for example standard normal draws), shaped like ``params``.
    params : dict of str to ndarray
        Trained parameters theta*.
    vectors : {'filter', 'elementwise', 'exclude'}
        Treatment of one-dimensional parameters (see the module docstring).
    mask : ndarray, optional
        Recurrent pruning mask; pruned entries of the direction are set to zero and
        the trained row norms are taken over the remaining weights.

    Returns
    -------
    dict of str to ndarray
        The normalised direction (float64). Each row of a 2-D parameter has the norm
        of the trained row, or is zero where the trained row or the raw row is zero.
    """
    _check_choice("vectors", vectors, VECTOR_MODES)
    masks = _weight_masks(params, mask)
    normalised = {}
    for name, raw in direction.items():
        if name not in params:
            raise RFSimError(f"the direction has parameter {name!r}, which the trained parameters lack")
        trained = np.asarray(params[name], dtype=float)
        value = np.array(raw, dtype=float)
        if value.shape != trained.shape:
            raise RFSimError(f"direction {name!r} has shape {value.shape}, but the parameter has {trained.shape}")
        if name in masks:
            value *= masks[name]
            trained = trained * masks[name]

        if value.ndim == 2:
            # One filter per row: the weights into one neuron.
            normalised[name] = _scale_rows(value, np.linalg.norm(trained, axis=1))
        elif value.ndim == 1:
            normalised[name] = _normalize_vector(value, trained, vectors)
        else:
            raise RFSimError(f"parameter {name!r} has {value.ndim} dimensions; filter normalisation handles "
                             "weight matrices (2-D) and per-neuron vectors (1-D)")
    return normalised


def _scale_rows(value, target_norms):
    """Scale each row of ``value`` to the matching target norm. A zero row stays zero."""
    norms = np.linalg.norm(value, axis=1)
    scale = np.divide(target_norms, norms, out=np.zeros_like(norms), where=norms > 0)
    return value * scale[:, None]


def _normalize_vector(value, trained, vectors):
    if vectors == "exclude":
        return np.zeros_like(value)
    if vectors == "elementwise":
        # A filter of one entry, scaled to |theta*_i|, keeps only the sign of the draw.
        return np.sign(value) * np.abs(trained)
    return _scale_rows(value[None, :], np.array([np.linalg.norm(trained)]))[0]


def _standard_normal(params, rng):
    """Draw one standard normal array per parameter, in sorted name order."""
    return {name: rng.standard_normal(np.shape(params[name])) for name in sorted(params)}


def make_directions(params, *, seed=0, plane="weights", vectors="filter", mask=None):
    """Draw two filter-normalised random directions for a 2-D slice.

    Parameters
    ----------
    params : dict of str to ndarray
        Trained parameters theta* (without a mask entry).
    seed : int
        Seed of the ``numpy.random.Generator`` that draws both directions.
    plane : {'weights', 'omega-b'}
        ``'weights'``: d1 and d2 are random in every parameter. ``'omega-b'``: d1
        moves only ``hidden.omega`` and d2 only ``hidden.b_offset``.
    vectors : {'filter', 'elementwise', 'exclude'}
        Treatment of the one-dimensional parameters; ``'exclude'`` does not apply to
        the ``'omega-b'`` plane, which contains nothing else.
    mask : ndarray, optional
        Recurrent pruning mask (n_hidden, n_hidden); pruned weights stay zero.

    Returns
    -------
    Directions
    """
    _check_choice("plane", plane, PLANES)
    _check_choice("vectors", vectors, VECTOR_MODES)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise RFSimError(f"seed must be a non-negative integer, got seed={seed!r}")
    rng = np.random.default_rng(int(seed))
    params = {name: np.asarray(value, dtype=float) for name, value in params.items()}

    if plane == "omega-b":
        missing = [name for name in (OMEGA, B_OFFSET) if name not in params]
        if missing:
            raise RFSimError(f"plane='omega-b' needs the RF-family parameters {OMEGA} and {B_OFFSET}, but the "
                             f"parameters lack {', '.join(missing)}; use plane='weights' for this model")
        if vectors == "exclude":
            raise RFSimError("plane='omega-b' moves only omega and b_offset, so vectors='exclude' would leave "
                             "no direction; use vectors='filter' or 'elementwise'")
        first = {name: np.zeros_like(value) for name, value in params.items()}
        second = {name: np.zeros_like(value) for name, value in params.items()}
        first[OMEGA] = rng.standard_normal(params[OMEGA].shape)
        second[B_OFFSET] = rng.standard_normal(params[B_OFFSET].shape)
    else:
        first = _standard_normal(params, rng)
        second = _standard_normal(params, rng)

    return Directions(
        first=normalize_direction(first, params, vectors=vectors, mask=mask),
        second=normalize_direction(second, params, vectors=vectors, mask=mask),
        plane=plane, vectors=vectors, seed=int(seed), reference_digest=parameter_digest(params),
    )


def save_directions(directions, path):
    """Write directions to an ``.npz`` file that ``load_directions`` reads back unchanged.

    Keys: ``first:NAME`` and ``second:NAME`` per parameter, ``plane``, ``vectors``,
    ``seed`` (-1 when unknown) and ``reference_digest``.
    """
    from rfsim.training.checkpoint import save_npz_or_raise

    path = Path(path)
    if path.suffix != ".npz":
        raise RFSimError(f"the directions file must end in .npz, got {str(path)!r}")
    arrays = {f"first:{name}": value for name, value in directions.first.items()}
    arrays.update({f"second:{name}": value for name, value in directions.second.items()})
    arrays["plane"] = np.array(directions.plane)
    arrays["vectors"] = np.array(directions.vectors)
    arrays["seed"] = np.array(-1 if directions.seed is None else directions.seed, dtype=np.int64)
    arrays["reference_digest"] = np.array(directions.reference_digest)
    save_npz_or_raise(path, arrays, "directions")


def load_directions(path, params=None):
    """Read directions written by ``save_directions`` and check them against a network's parameters.

    Parameters
    ----------
    path : str or Path
        The ``.npz`` file.
    params : dict of str to ndarray, optional
        Parameters the directions will be added to; every name and shape must match.
        Directions normalised for other parameter values (another checkpoint of
        the same network) are accepted with an ``RFSimWarning``.

    Returns
    -------
    Directions
    """
    path = Path(path)
    if not path.is_file():
        raise RFSimError(f"directions file {str(path)!r} not found; write one with save_directions "
                         "(rfsim landscape --save-directions)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            stored = {name: archive[name] for name in archive.files}
    except (OSError, ValueError) as error:
        raise RFSimError(f"cannot read directions file {str(path)!r}: {error}") from error

    required = ("plane", "vectors", "seed", "reference_digest")
    missing = [key for key in required if key not in stored]
    if missing:
        raise RFSimError(f"{str(path)!r} is not a directions file: it lacks {', '.join(missing)}")
    first = {key[len("first:"):]: value for key, value in stored.items() if key.startswith("first:")}
    second = {key[len("second:"):]: value for key, value in stored.items() if key.startswith("second:")}
    if set(first) != set(second) or not first:
        raise RFSimError(f"directions file {str(path)!r} must hold the same parameters in both directions")
    seed = int(stored["seed"])
    directions = Directions(first=first, second=second, plane=str(stored["plane"]), vectors=str(stored["vectors"]),
                            seed=None if seed < 0 else seed, reference_digest=str(stored["reference_digest"]))
    if params is not None:
        check_directions_fit(directions, params, source=f"directions file {path.name}")
        if directions.reference_digest != parameter_digest(params):
            warnings.warn(f"directions file {path.name} was normalised for other parameter values than these; "
                          "its filter norms do not match this checkpoint's", RFSimWarning, stacklevel=2)
    return directions


def check_directions_fit(directions, params, source="directions"):
    """Raise ``RFSimError`` unless both directions have exactly the parameters' names and shapes."""
    for label, direction in (("first", directions.first), ("second", directions.second)):
        if set(direction) != set(params):
            absent = sorted(set(params) - set(direction))
            extra = sorted(set(direction) - set(params))
            raise RFSimError(
                f"{source} does not fit this network: the {label} direction lacks {absent or 'nothing'} and has "
                f"extra {extra or 'nothing'}; it was made for another model. Draw new directions "
                "(omit the directions file) or use the file saved for this checkpoint")
        for name, value in direction.items():
            if np.shape(value) != np.shape(params[name]):
                raise RFSimError(
                    f"{source} does not fit this network: {label} direction {name!r} has shape "
                    f"{np.shape(value)}, but the parameter has {np.shape(params[name])}; it was made for a "
                    "network of another size")
            if not np.all(np.isfinite(value)):
                raise RFSimError(f"{source}: {label} direction {name!r} contains NaN or inf")


# --- general evaluation core ---------------------------------------------------------------


def _as_metrics(value):
    """Turn an evaluation function's return value (a float or an object with ``loss``) into ``PointMetrics``."""
    if hasattr(value, "loss"):
        return PointMetrics(loss=float(value.loss), accuracy=float(getattr(value, "accuracy", float("nan"))),
                            sop=float(getattr(value, "sop", float("nan"))))
    return PointMetrics(loss=float(value))


def _evaluate_points(evaluate, point_params, n_points, workers, progress):
    """Evaluate ``evaluate(point_params(k))`` for k = 0 .. n_points - 1, ``workers`` at a time, in order."""

    def run(index):
        return _as_metrics(evaluate(point_params(index)))

    results = []
    if workers == 1:
        for index in range(n_points):
            results.append(run(index))
            if progress is not None:
                progress(index + 1, n_points)
        return results

    with ThreadPoolExecutor(max_workers=workers) as pool:
        # map() yields in submission order, so the result does not depend on which thread finished first.
        for index, metrics in enumerate(pool.map(run, range(n_points))):
            results.append(metrics)
            if progress is not None:
                progress(index + 1, n_points)
    return results


def _metric_arrays(results, shape):
    loss = np.array([r.loss for r in results], dtype=float).reshape(shape)
    accuracy = np.array([r.accuracy for r in results], dtype=float).reshape(shape)
    sop = np.array([r.sop for r in results], dtype=float).reshape(shape)
    return loss, accuracy, sop


def _direction_pair(directions):
    if isinstance(directions, Directions):
        return directions.first, directions.second
    try:
        first, second = directions
    except (TypeError, ValueError):
        raise RFSimError("directions must be a Directions object or a pair (d1, d2) of parameter dicts") from None
    return first, second


def _check_coordinates(name, values):
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
        raise RFSimError(f"{name} must be a non-empty 1-D array of finite coordinates, got shape {values.shape}")
    return values


def _moved(params, first, second, a, b):
    """Return theta* + a d1 + b d2; a parameter missing from a direction does not move along it."""
    moved = {}
    for name, value in params.items():
        value = np.asarray(value)
        if name in first:
            value = value + a * first[name]
        if name in second:
            value = value + b * second[name]
        moved[name] = value
    return moved


def _blended(start, end, a):
    """Return (1 - a) theta_0 + a theta_1."""
    return {name: (1.0 - a) * np.asarray(start[name]) + a * np.asarray(end[name]) for name in end}


def landscape_2d(loss_fn, params, directions, alpha, beta, *, workers=1, progress=None):
    """Evaluate a loss on the plane theta* + alpha d1 + beta d2.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(params) -> float`` or an object with ``loss`` (and optionally
        ``accuracy`` and ``sop``) attributes, such as an ``EvalResult``. With
        several workers it is called from several threads at once.
    params : dict of str to ndarray
        Parameters theta* at the centre.
    directions : Directions or (dict, dict)
        d1 and d2; a parameter missing from a direction does not move along it.
    alpha, beta : array_like
        Coordinates along d1 and d2.
    workers : int
        Grid points evaluated at the same time by a thread pool (see the module docstring).
    progress : callable, optional
        ``progress(done, total)``, called from the calling thread after each point.

    Returns
    -------
    LandscapeGrid
        ``loss[i, j]`` is the loss at (alpha[i], beta[j]).
    """
    first, second = _direction_pair(directions)
    alpha = _check_coordinates("alpha", alpha)
    beta = _check_coordinates("beta", beta)
    workers = check_workers(workers)
    for label, direction in (("d1", first), ("d2", second)):
        for name, value in direction.items():
            if name not in params:
                raise RFSimError(f"direction {label} has parameter {name!r}, which params lacks")
            if np.shape(value) != np.shape(params[name]):
                raise RFSimError(f"direction {label}[{name!r}] has shape {np.shape(value)}, but the parameter "
                                 f"has {np.shape(params[name])}")

    def point_params(index):
        return _moved(params, first, second, alpha[index // beta.size], beta[index % beta.size])

    start = time.perf_counter()
    results = _evaluate_points(loss_fn, point_params, alpha.size * beta.size, workers, progress)
    seconds = time.perf_counter() - start
    loss, accuracy, sop = _metric_arrays(results, (alpha.size, beta.size))
    return LandscapeGrid(alpha=alpha, beta=beta, loss=loss, accuracy=accuracy, sop=sop, seconds=seconds,
                         workers=workers)


def interpolate_1d(loss_fn, start, end, alpha, *, workers=1, progress=None):
    """Evaluate a loss along theta(a) = (1 - a) theta_0 + a theta_1.

    Parameters
    ----------
    loss_fn : callable
        As for ``landscape_2d``.
    start, end : dict of str to ndarray
        theta_0 (a = 0) and theta_1 (a = 1), with the same names and shapes.
    alpha : array_like
        Coefficients a (``interpolation_coordinates`` gives a grid with 0 and 1).
    workers : int
        Points evaluated at the same time.
    progress : callable, optional
        ``progress(done, total)`` after each point.

    Returns
    -------
    InterpolationCurve
    """
    alpha = _check_coordinates("alpha", alpha)
    workers = check_workers(workers)
    if set(start) != set(end):
        raise RFSimError(f"the two parameter sets differ in names: {sorted(set(start) ^ set(end))}")
    for name in start:
        if np.shape(start[name]) != np.shape(end[name]):
            raise RFSimError(f"parameter {name!r} has shape {np.shape(start[name])} at the start and "
                             f"{np.shape(end[name])} at the end of the interpolation")

    def point_params(index):
        return _blended(start, end, alpha[index])

    began = time.perf_counter()
    results = _evaluate_points(loss_fn, point_params, alpha.size, workers, progress)
    seconds = time.perf_counter() - began
    loss, accuracy, sop = _metric_arrays(results, (alpha.size,))
    return InterpolationCurve(alpha=alpha, loss=loss, accuracy=accuracy, sop=sop, seconds=seconds, workers=workers)


# --- network landscapes --------------------------------------------------------------------


def select_subset(dataset, n_sequences=None, seed=None):
    """Return a fixed subset of a dataset split and the indices of its sequences.

    Parameters
    ----------
    dataset : rfsim.data.Dataset
        The split.
    n_sequences : int, optional
        Number of sequences to keep; None keeps the whole split.
    seed : int, optional
        None keeps the first ``n_sequences`` sequences; an integer draws them at random
        without replacement from ``numpy.random.default_rng(seed)`` (in index order).

    Returns
    -------
    dataset : rfsim.data.Dataset
    indices : ndarray of int or None
        Indices within the split, or None for the whole split.
    """
    if n_sequences is None:
        if seed is not None:
            raise RFSimError("a subset seed needs a subset size; give the number of sequences as well")
        return dataset, None
    total = len(dataset)
    if isinstance(n_sequences, bool) or not isinstance(n_sequences, (int, np.integer)) \
            or not 1 <= n_sequences <= total:
        raise RFSimError(f"subset must be a number of sequences from 1 to {total} (the size of {dataset.name!r}), "
                         f"got subset={n_sequences!r}")
    if seed is None:
        indices = np.arange(int(n_sequences))
    else:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise RFSimError(f"the subset seed must be a non-negative integer, got {seed!r}")
        indices = np.sort(np.random.default_rng(int(seed)).choice(total, size=int(n_sequences), replace=False))
    return dataset.subset(indices), indices


def _safe_workers(workers):
    """Return ``workers``, or 1 with a warning where Numba's threading layer cannot run concurrent kernels.

    Call it after a parallel kernel has run, because only then has Numba chosen its layer.
    """
    import numba

    if workers == 1:
        return 1
    try:
        layer = numba.threading_layer()
    except ValueError:
        layer = None
    if layer == "workqueue":
        warnings.warn(f"Numba's workqueue threading layer cannot run kernels from several threads at once, so "
                      f"the landscape is evaluated with 1 worker instead of {workers}; install tbb or use an "
                      "OpenMP build for parallel grid points", RFSimWarning, stacklevel=3)
        return 1
    return workers


def _point_evaluator(loaded, dataset, workers):
    """Return ``evaluate(params) -> EvalResult`` for the checkpoint's network on ``dataset``."""
    import numba

    from rfsim.training.evaluate import evaluate_dataset

    net_config = loaded.net_config
    if workers > 1:
        # Several points share Numba's threads; the engine's result does not depend on its thread count.
        net_config = replace(net_config, n_threads=max(1, numba.get_num_threads() // workers))

    def evaluate(params):
        return evaluate_dataset(net_config, params, dataset, loaded.config, mask=loaded.mask)

    return evaluate


def _load_start_params(path, loaded):
    """Load the start checkpoint of an interpolation and check that it fits the trained network."""
    from rfsim.training.checkpoint import check_params_fit, expected_shapes, load_checkpoint
    from rfsim.training.runs import split_mask

    start = load_checkpoint(path)
    if start.metadata["model"] != loaded.model:
        raise RFSimError(f"the start checkpoint {start.path.name} contains a {start.metadata['model']!r} network, "
                         f"but the trained checkpoint a {loaded.model!r} network; interpolate between "
                         "checkpoints of one run (init.npz and best.npz)")
    net = loaded.net_config
    shapes = expected_shapes(net.model, net.n_in, net.n_hidden, net.n_out, hidden_bias=net.hidden_bias,
                             output_bias=net.output_bias)
    check_params_fit(start.params, shapes, source=f"start checkpoint {start.path.name}")
    params, mask = split_mask(start.params, net.n_in)
    same_mask = (mask is None and loaded.mask is None) or (
        mask is not None and loaded.mask is not None and np.array_equal(mask, loaded.mask))
    if not same_mask:
        raise RFSimError(f"the start checkpoint {start.path.name} has another pruning mask than the trained "
                         "checkpoint; interpolate between checkpoints of one run (init.npz and best.npz)")
    return params


def count_outside_region(omega, b_offset, dt):
    """Count BRF neurons outside the convergence region of the core dynamics (q = 0).

    Parameters
    ----------
    omega, b_offset : ndarray
        Raw parameters (the engine uses their magnitudes) [rad/s], [1/s].
    dt : float
        Time step [s].

    Returns
    -------
    int
        Neurons with |omega| dt >= 1 or |b_offset| > 2 sqrt(1 - (dt omega)^2) / dt.
    """
    omega = np.abs(np.asarray(omega, dtype=float))
    b_offset = np.abs(np.asarray(b_offset, dtype=float))
    beyond = omega * dt >= 1.0
    with np.errstate(invalid="ignore"):
        high = 2.0 * np.sqrt(1.0 - np.square(dt * omega)) / dt
    return int(np.count_nonzero(beyond | (~beyond & (b_offset > high))))


def _outside_counts(loaded, point_params, n_points):
    """Return the per-point counts of ``count_outside_region`` for a BRF network, else None."""
    net = loaded.net_config
    if net.model != "brf" or net.p_dt != net.dt:
        return None
    counts = np.empty(n_points, dtype=np.int64)
    for index in range(n_points):
        params = point_params(index)
        counts[index] = count_outside_region(params[OMEGA], params[B_OFFSET], net.dt)
    return counts


def network_landscape(checkpoint, *, grid=21, span=1.0, plane="weights", vectors="filter", seed=0,
                      directions=None, split="test", subset=None, subset_seed=None, interpolate_from=None,
                      interpolation_points=21, interpolation_range=(0.0, 1.0), with_grid=True, task=None,
                      data_dir=None, workers=1, progress=None):
    """Evaluate the loss landscape of a checkpoint on a 2-D slice and, optionally, a 1-D interpolation.

    Parameters
    ----------
    checkpoint : str or Path
        Trained checkpoint ``.npz`` with its sidecar; it is the centre of the grid
        and the end (a = 1) of the interpolation.
    grid : int
        Odd number of points per axis (grid x grid evaluations).
    span : float
        alpha and beta run from -span to span [multiples of the directions].
    plane : {'weights', 'omega-b'}
        Directions in all parameters, or omega against b_offset (see ``make_directions``).
    vectors : {'filter', 'elementwise', 'exclude'}
        Treatment of the per-neuron vectors (see the module docstring).
    seed : int
        Seed of the random directions.
    directions : Directions or str or Path, optional
        Directions to reuse (an object or a file from ``save_directions``) instead of
        drawing new ones; ``plane``, ``vectors`` and ``seed`` are then taken from them.
    split : {'test', 'valid', 'train'}
        Dataset split, rebuilt as the training run scored it.
    subset : int, optional
        Evaluate only this many sequences of the split (see ``select_subset``).
    subset_seed : int, optional
        Draw the subset at random with this seed instead of taking the first sequences.
    interpolate_from : str or Path, optional
        Start checkpoint (a = 0) of a 1-D interpolation, usually the run's ``init.npz``.
    interpolation_points : int
        Evenly spaced points of the interpolation over ``interpolation_range``.
    interpolation_range : (float, float)
        Range of a, containing [0, 1].
    with_grid : bool
        False skips the 2-D slice (for an interpolation only).
    task : str, optional
        Task to evaluate on instead of the checkpoint's own.
    data_dir : str or Path, optional
        Folder with local dataset files.
    workers : int
        Points evaluated at the same time (see the module docstring).
    progress : callable, optional
        ``progress(stage, done, total)`` with stage ``'grid'`` or ``'interpolation'``.

    Returns
    -------
    NetworkLandscape
    """
    from rfsim.analysis._checkpoints import SPLITS, load_analysis_checkpoint

    _check_choice("split", split, SPLITS)
    workers = check_workers(workers)
    if with_grid:
        alpha = grid_coordinates(grid, span)
    if interpolate_from is not None:
        a_values = interpolation_coordinates(interpolation_points, *interpolation_range)
    elif not with_grid:
        raise RFSimError("nothing to evaluate: with_grid=False needs a start checkpoint (interpolate_from)")

    loaded = load_analysis_checkpoint(checkpoint, task=task, data_dir=data_dir)
    dataset, indices = select_subset(getattr(loaded.task, split), subset, subset_seed)

    # The trained network's own figures; this first engine call also fixes Numba's threading layer.
    reference = _as_metrics(_point_evaluator(loaded, dataset, 1)(loaded.params))
    workers = _safe_workers(workers)
    evaluate = _point_evaluator(loaded, dataset, workers)

    result_grid = chosen = grid_outside = curve_outside = None
    if with_grid:
        if directions is None:
            chosen = make_directions(loaded.params, seed=seed, plane=plane, vectors=vectors, mask=loaded.mask)
        else:
            chosen = directions if isinstance(directions, Directions) else load_directions(directions)
            check_directions_fit(chosen, loaded.params)
            if chosen.reference_digest != parameter_digest(loaded.params):
                warnings.warn(f"the directions were normalised for other parameter values than those of "
                              f"{loaded.path.name}, so their filter norms do not match it", RFSimWarning,
                              stacklevel=2)
        stage = None if progress is None else (lambda done, total: progress("grid", done, total))
        result_grid = landscape_2d(evaluate, loaded.params, chosen, alpha, alpha, workers=workers, progress=stage)
        grid_outside = _outside_counts(
            loaded, lambda k: _moved(loaded.params, chosen.first, chosen.second, alpha[k // alpha.size],
                                     alpha[k % alpha.size]), alpha.size ** 2)
        if grid_outside is not None:
            grid_outside = grid_outside.reshape(alpha.size, alpha.size)

    curve = None
    if interpolate_from is not None:
        start = _load_start_params(interpolate_from, loaded)
        stage = None if progress is None else (lambda done, total: progress("interpolation", done, total))
        curve = interpolate_1d(evaluate, start, loaded.params, a_values, workers=workers, progress=stage)
        curve_outside = _outside_counts(loaded, lambda k: _blended(start, loaded.params, a_values[k]), a_values.size)

    return NetworkLandscape(
        checkpoint=str(loaded.path), model=loaded.model, split=split, n_sequences=len(dataset), subset=indices,
        subset_seed=subset_seed if subset is not None else None, checkpoint_metrics=reference, grid=result_grid,
        directions=chosen, span=float(span) if with_grid else None, curve=curve,
        start_checkpoint=None if interpolate_from is None else str(interpolate_from),
        grid_outside=grid_outside, curve_outside=curve_outside,
    )


def axis_labels(directions):
    """Return the (alpha, beta) axis labels of a slice spanned by ``directions``."""
    if directions is not None and directions.plane == "omega-b":
        scale = "||omega||" if directions.vectors == "filter" else "|omega_i|"
        other = "||b_offset||" if directions.vectors == "filter" else "|b_offset_i|"
        return (f"alpha: step along omega [x {scale}]", f"beta: step along b_offset [x {other}]")
    return ("alpha: step along d1 [x filter norm]", "beta: step along d2 [x filter norm]")


# --- output files --------------------------------------------------------------------------


def save_landscape(result, path):
    """Write a ``NetworkLandscape`` to a CSV or NPZ file, chosen by the suffix.

    CSV: ``#`` comment lines with the settings (checkpoint, split, sequences,
    plane, vectors, seed, span), then the columns ``kind`` (``grid`` or
    ``interpolation``), ``alpha``, ``beta`` (empty for the interpolation), ``loss``,
    ``accuracy`` [%], ``sop`` [hidden spikes per sequence] and ``outside`` (BRF
    neurons outside the convergence region, empty for other models).

    NPZ: ``grid_alpha``, ``grid_beta``, ``grid_loss``, ``grid_accuracy``,
    ``grid_sop`` (n, n), ``curve_alpha``, ``curve_loss``, ``curve_accuracy``,
    ``curve_sop`` where present, ``grid_outside`` and ``curve_outside`` for BRF
    networks, and the settings as scalar entries (``seed`` is -1 when unknown,
    ``subset_indices`` is absent for the whole split).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".npz"):
        raise RFSimError(f"the landscape output file must end in .csv or .npz, got {str(path)!r}")
    if suffix == ".npz":
        _save_landscape_npz(result, path)
    else:
        _save_landscape_csv(result, path)


def _settings(result):
    directions = result.directions
    return {
        "checkpoint": result.checkpoint,
        "model": result.model,
        "split": result.split,
        "n_sequences": result.n_sequences,
        "subset_seed": -1 if result.subset_seed is None else result.subset_seed,
        "plane": "" if directions is None else directions.plane,
        "vectors": "" if directions is None else directions.vectors,
        "seed": -1 if directions is None or directions.seed is None else directions.seed,
        "reference_digest": "" if directions is None else directions.reference_digest,
        "span": float("nan") if result.span is None else result.span,
        "start_checkpoint": "" if result.start_checkpoint is None else result.start_checkpoint,
        "checkpoint_loss": result.checkpoint_metrics.loss,
        "checkpoint_accuracy": result.checkpoint_metrics.accuracy,
        "checkpoint_sop": result.checkpoint_metrics.sop,
    }


def _save_landscape_npz(result, path):
    from rfsim.training.checkpoint import save_npz_or_raise

    arrays = {name: np.array(value) for name, value in _settings(result).items()}
    if result.subset is not None:
        arrays["subset_indices"] = np.asarray(result.subset, dtype=np.int64)
    if result.grid is not None:
        for name in ("alpha", "beta", "loss", "accuracy", "sop"):
            arrays[f"grid_{name}"] = getattr(result.grid, name)
        arrays["grid_seconds"] = np.array(result.grid.seconds)
        if result.grid_outside is not None:
            arrays["grid_outside"] = result.grid_outside
    if result.curve is not None:
        for name in ("alpha", "loss", "accuracy", "sop"):
            arrays[f"curve_{name}"] = getattr(result.curve, name)
        arrays["curve_seconds"] = np.array(result.curve.seconds)
        if result.curve_outside is not None:
            arrays["curve_outside"] = result.curve_outside
    save_npz_or_raise(path, arrays, "landscape")


def _save_landscape_csv(result, path):
    import csv
    import io

    from rfsim.training.checkpoint import atomic_write_text

    buffer = io.StringIO()
    for name, value in _settings(result).items():
        buffer.write(f"# {name}: {value}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["kind", "alpha", "beta", "loss", "accuracy", "sop", "outside"])
    if result.grid is not None:
        grid = result.grid
        for i, a in enumerate(grid.alpha):
            for j, b in enumerate(grid.beta):
                outside = "" if result.grid_outside is None else int(result.grid_outside[i, j])
                writer.writerow(["grid", repr(float(a)), repr(float(b)), repr(float(grid.loss[i, j])),
                                 repr(float(grid.accuracy[i, j])), repr(float(grid.sop[i, j])), outside])
    if result.curve is not None:
        curve = result.curve
        for k, a in enumerate(curve.alpha):
            outside = "" if result.curve_outside is None else int(result.curve_outside[k])
            writer.writerow(["interpolation", repr(float(a)), "", repr(float(curve.loss[k])),
                             repr(float(curve.accuracy[k])), repr(float(curve.sop[k])), outside])
    try:
        atomic_write_text(path, buffer.getvalue())
    except OSError as error:
        raise RFSimError(f"failed to write landscape {str(path)!r}: {error}") from error
