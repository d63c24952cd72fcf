"""Tests of the loss landscape: coordinates, filter-normalised directions, the 2-D and 1-D cores, and the
network landscape of the session's synthetic checkpoints."""

import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure

from rfsim.analysis import landscape as ls
from rfsim.analysis.plots_network import landscape_figure
from rfsim.errors import DivergenceWarning, RFSimError, RFSimWarning
from rfsim.training.runs import evaluate_checkpoint


def _toy_params(rng=None):
    rng = np.random.default_rng(3) if rng is None else rng
    return {
        "hidden.linear.weight": rng.normal(size=(4, 7)),
        "hidden.omega": rng.uniform(5.0, 40.0, size=4),
        "hidden.b_offset": rng.uniform(0.1, 1.0, size=4),
        "out.linear.weight": rng.normal(size=(2, 4)),
        "out.tau_mem": rng.normal(20.0, 5.0, size=2),
    }


def _quadratic(centres, weights):
    """Return the toy loss L(theta) = sum_k c_k ||theta_k - m_k||^2 and its closed form on a plane."""

    def loss(params):
        return sum(weights[name] * np.sum((params[name] - centres[name]) ** 2) for name in centres)

    def closed_form(params, first, second, a, b):
        # With r = theta* - m: ||r + a d1 + b d2||^2 = r.r + 2a r.d1 + 2b r.d2 + a^2 d1.d1 + 2ab d1.d2 + b^2 d2.d2.
        total = 0.0
        for name, c in weights.items():
            r, d1, d2 = params[name] - centres[name], first[name], second[name]
            total += c * (np.sum(r * r) + 2 * a * np.sum(r * d1) + 2 * b * np.sum(r * d2) + a * a * np.sum(d1 * d1)
                          + 2 * a * b * np.sum(d1 * d2) + b * b * np.sum(d2 * d2))
        return total

    return loss, closed_form


def _recorder(seen):
    """Return a loss function that stores the parameters of each call and returns 0."""

    def loss(params):
        seen.append(params)
        return 0.0

    return loss


# --- coordinates ---


def test_grid_coordinates_centre_and_ends():
    for n, span in ((3, 1.0), (21, 1.0), (7, 0.3), (41, 2.5)):
        alpha = ls.grid_coordinates(n, span)
        assert alpha.shape == (n,)
        assert alpha[n // 2] == 0.0
        assert alpha[0] == -span
        assert alpha[-1] == span
        np.testing.assert_array_equal(alpha, -alpha[::-1])
        np.testing.assert_allclose(np.diff(alpha), 2 * span / (n - 1), rtol=1e-12)


@pytest.mark.parametrize("n", [2, 4, 20, 1, 0, -3, True, 3.0])
def test_grid_size_rejects_even_or_small(n):
    with pytest.raises(RFSimError, match="odd number of points"):
        ls.grid_coordinates(n, 1.0)


@pytest.mark.parametrize("span", [0.0, -1.0, float("nan"), float("inf")])
def test_span_rejects_non_positive(span):
    with pytest.raises(RFSimError, match="span must be a finite positive"):
        ls.grid_coordinates(5, span)


def test_interpolation_coordinates_contain_endpoints():
    a = ls.interpolation_coordinates(4, -0.5, 1.5)
    assert 0.0 in a
    assert 1.0 in a
    assert a[0] == -0.5
    assert a[-1] == 1.5
    assert np.all(np.diff(a) > 0)
    np.testing.assert_array_equal(ls.interpolation_coordinates(3), [0.0, 0.5, 1.0])


@pytest.mark.parametrize("args", [(1, 0.0, 1.0), (5, 0.2, 1.0), (5, 0.0, 0.9), (5, float("nan"), 1.0)])
def test_interpolation_coordinates_reject_bad_range(args):
    with pytest.raises(RFSimError, match="interpolation"):
        ls.interpolation_coordinates(*args)


# --- directions ---


def test_filter_rows_match_trained_norms():
    params = _toy_params()
    directions = ls.make_directions(params, seed=5)
    for direction in (directions.first, directions.second):
        for name in ("hidden.linear.weight", "out.linear.weight"):
            np.testing.assert_allclose(np.linalg.norm(direction[name], axis=1),
                                       np.linalg.norm(params[name], axis=1), rtol=1e-12)
        for name in ("hidden.omega", "hidden.b_offset", "out.tau_mem"):
            np.testing.assert_allclose(np.linalg.norm(direction[name]), np.linalg.norm(params[name]), rtol=1e-12)


def test_filter_keeps_pruned_weights_zero():
    params = _toy_params()
    mask = np.ones((4, 4))
    mask[0, 1] = mask[2, 3] = mask[3, 0] = 0.0
    directions = ls.make_directions(params, seed=1, mask=mask)
    recurrent = directions.first["hidden.linear.weight"][:, 3:]
    assert recurrent[0, 1] == 0.0
    assert recurrent[2, 3] == 0.0
    assert recurrent[3, 0] == 0.0
    # The target norm is that of the weights the masked network uses.
    full_mask = np.concatenate([np.ones((4, 3)), mask], axis=1)
    np.testing.assert_allclose(np.linalg.norm(directions.first["hidden.linear.weight"], axis=1),
                               np.linalg.norm(params["hidden.linear.weight"] * full_mask, axis=1), rtol=1e-12)


def test_filter_zero_row_stays_zero():
    params = _toy_params()
    params["out.linear.weight"][1] = 0.0
    direction = ls.make_directions(params, seed=2).first["out.linear.weight"]
    np.testing.assert_array_equal(direction[1], np.zeros(4))
    assert np.linalg.norm(direction[0]) > 0


def test_elementwise_matches_entry_magnitudes():
    params = _toy_params()
    directions = ls.make_directions(params, seed=4, vectors="elementwise")
    for name in ("hidden.omega", "hidden.b_offset", "out.tau_mem"):
        np.testing.assert_allclose(np.abs(directions.first[name]), np.abs(params[name]), rtol=1e-15)
    # Weight rows are normalised as in the 'filter' mode.
    reference = ls.make_directions(params, seed=4, vectors="filter")
    np.testing.assert_array_equal(directions.first["hidden.linear.weight"], reference.first["hidden.linear.weight"])


def test_exclude_leaves_vectors_untouched():
    params = _toy_params()
    excluded = ls.make_directions(params, seed=9, vectors="exclude")
    filtered = ls.make_directions(params, seed=9, vectors="filter")
    for name in ("hidden.omega", "hidden.b_offset", "out.tau_mem"):
        assert not np.any(excluded.first[name])
        assert not np.any(excluded.second[name])
    for name in ("hidden.linear.weight", "out.linear.weight"):
        np.testing.assert_array_equal(excluded.first[name], filtered.first[name])
        np.testing.assert_array_equal(excluded.second[name], filtered.second[name])

    # On the plane the vectors keep their trained values bit for bit.
    seen = []
    ls.landscape_2d(_recorder(seen), params, excluded, [-1.0, 0.5], [0.25, 1.0])
    for moved in seen:
        for name in ("hidden.omega", "hidden.b_offset", "out.tau_mem"):
            np.testing.assert_array_equal(moved[name], params[name])


def test_omega_b_plane_moves_only_resonators():
    params = _toy_params()
    directions = ls.make_directions(params, seed=0, plane="omega-b")
    for name, value in directions.first.items():
        assert np.any(value) == (name == "hidden.omega"), name
    for name, value in directions.second.items():
        assert np.any(value) == (name == "hidden.b_offset"), name
    np.testing.assert_allclose(np.linalg.norm(directions.first["hidden.omega"]),
                               np.linalg.norm(params["hidden.omega"]), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(directions.second["hidden.b_offset"]),
                               np.linalg.norm(params["hidden.b_offset"]), rtol=1e-12)

    seen = []
    ls.landscape_2d(_recorder(seen), params, directions, [0.5], [-0.75])
    moved = seen[0]
    np.testing.assert_allclose(moved["hidden.omega"], params["hidden.omega"] + 0.5 * directions.first["hidden.omega"],
                               rtol=1e-15)
    np.testing.assert_allclose(moved["hidden.b_offset"],
                               params["hidden.b_offset"] - 0.75 * directions.second["hidden.b_offset"], rtol=1e-15)
    for name in ("hidden.linear.weight", "out.linear.weight", "out.tau_mem"):
        np.testing.assert_array_equal(moved[name], params[name])


def test_omega_b_plane_rejects_alif_and_exclude():
    params = _toy_params()
    alif = {name: value for name, value in params.items() if name not in ("hidden.omega", "hidden.b_offset")}
    alif["hidden.tau_mem"] = np.full(4, 20.0)
    with pytest.raises(RFSimError, match="RF-family"):
        ls.make_directions(alif, plane="omega-b")
    with pytest.raises(RFSimError, match="vectors='exclude' would leave no direction"):
        ls.make_directions(params, plane="omega-b", vectors="exclude")


@pytest.mark.parametrize("kwargs, match", [
    (dict(plane="bias"), "plane must be one of"),
    (dict(vectors="drop"), "vectors must be one of"),
    (dict(seed=-1), "seed must be a non-negative integer"),
])
def test_make_directions_rejects_bad_options(kwargs, match):
    with pytest.raises(RFSimError, match=match):
        ls.make_directions(_toy_params(), **kwargs)


def test_directions_reproducible_from_seed():
    params = _toy_params()
    first = ls.make_directions(params, seed=17)
    again = ls.make_directions(params, seed=17)
    other = ls.make_directions(params, seed=18)
    for name in params:
        np.testing.assert_array_equal(first.first[name], again.first[name])
        np.testing.assert_array_equal(first.second[name], again.second[name])
    assert not np.array_equal(first.first["hidden.linear.weight"], other.first["hidden.linear.weight"])


def test_saved_directions_reload_identically(tmp_path):
    params = _toy_params()
    directions = ls.make_directions(params, seed=3, plane="weights", vectors="elementwise")
    path = tmp_path / "directions.npz"
    ls.save_directions(directions, path)
    loaded = ls.load_directions(path, params)
    assert loaded.plane == "weights"
    assert loaded.vectors == "elementwise"
    assert loaded.seed == 3
    assert loaded.reference_digest == directions.reference_digest
    for name in params:
        np.testing.assert_array_equal(loaded.first[name], directions.first[name])
        np.testing.assert_array_equal(loaded.second[name], directions.second[name])

    loss, _ = _quadratic({name: np.zeros_like(v) for name, v in params.items()}, {name: 1.0 for name in params})
    alpha = ls.grid_coordinates(3, 0.5)
    grid = ls.landscape_2d(loss, params, directions, alpha, alpha)
    regrid = ls.landscape_2d(loss, params, loaded, alpha, alpha)
    np.testing.assert_array_equal(grid.loss, regrid.loss)


def test_load_directions_rejects_other_network(tmp_path):
    params = _toy_params()
    path = tmp_path / "directions.npz"
    ls.save_directions(ls.make_directions(params, seed=0), path)

    bigger = dict(params, **{"out.linear.weight": np.ones((3, 4))})
    with pytest.raises(RFSimError, match=r"out.linear.weight.*shape \(2, 4\).*\(3, 4\)"):
        ls.load_directions(path, bigger)
    alif = {name: value for name, value in params.items() if name not in ("hidden.omega", "hidden.b_offset")}
    alif["hidden.tau_mem"] = alif["hidden.tau_adp"] = np.ones(4)
    with pytest.raises(RFSimError, match="another model"):
        ls.load_directions(path, alif)


def test_load_directions_rejects_missing_or_foreign_file(tmp_path):
    with pytest.raises(RFSimError, match="not found"):
        ls.load_directions(tmp_path / "absent.npz")
    foreign = tmp_path / "weights.npz"
    np.savez(foreign, w=np.ones(3))
    with pytest.raises(RFSimError, match="is not a directions file"):
        ls.load_directions(foreign)


def test_load_directions_warns_for_other_values(tmp_path):
    params = _toy_params()
    path = tmp_path / "directions.npz"
    ls.save_directions(ls.make_directions(params, seed=0), path)
    shifted = {name: value + 1.0 for name, value in params.items()}
    with pytest.warns(RFSimWarning, match="normalised for other parameter values"):
        ls.load_directions(path, shifted)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RFSimWarning)
        ls.load_directions(path, params)


# --- general cores ---


def test_quadratic_landscape_matches_closed_form():
    params = _toy_params()
    rng = np.random.default_rng(8)
    centres = {name: rng.normal(size=np.shape(value)) for name, value in params.items()}
    weights = {name: float(c) for name, c in zip(params, (0.5, 2.0, 1.5, 0.25, 3.0))}
    loss, closed_form = _quadratic(centres, weights)
    directions = ls.make_directions(params, seed=12)
    alpha = ls.grid_coordinates(5, 1.5)
    beta = ls.grid_coordinates(3, 0.5)

    grid = ls.landscape_2d(loss, params, directions, alpha, beta)
    assert grid.loss.shape == (5, 3)
    for i, a in enumerate(alpha):
        for j, b in enumerate(beta):
            expected = closed_form(params, directions.first, directions.second, a, b)
            np.testing.assert_allclose(grid.loss[i, j], expected, rtol=1e-12)
    assert np.all(np.isnan(grid.accuracy))
    assert grid.centre_loss == loss(params)


def test_quadratic_interpolation_matches_closed_form():
    start, end = _toy_params(np.random.default_rng(1)), _toy_params(np.random.default_rng(2))
    centres = {name: np.zeros_like(value) for name, value in end.items()}
    loss, _ = _quadratic(centres, {name: 1.0 for name in end})
    alpha = ls.interpolation_coordinates(5, -0.5, 1.5)
    curve = ls.interpolate_1d(loss, start, end, alpha)
    for k, a in enumerate(alpha):
        # ||(1 - a) s + a e||^2 = (1 - a)^2 s.s + 2a(1 - a) s.e + a^2 e.e
        expected = sum((1 - a) ** 2 * np.sum(start[n] ** 2) + 2 * a * (1 - a) * np.sum(start[n] * end[n])
                       + a ** 2 * np.sum(end[n] ** 2) for n in end)
        np.testing.assert_allclose(curve.loss[k], expected, rtol=1e-12)
    assert curve.value_at(0.0) == loss(start)
    assert curve.value_at(1.0) == loss(end)


def test_core_independent_of_worker_count():
    params = _toy_params()
    loss, _ = _quadratic({name: np.ones_like(v) for name, v in params.items()}, {name: 1.0 for name in params})
    directions = ls.make_directions(params, seed=6)
    alpha = ls.grid_coordinates(7, 1.0)
    serial = ls.landscape_2d(loss, params, directions, alpha, alpha, workers=1)
    pooled = ls.landscape_2d(loss, params, directions, alpha, alpha, workers=3)
    np.testing.assert_array_equal(serial.loss, pooled.loss)
    assert pooled.workers == 3


def test_core_reports_progress_in_order():
    params = _toy_params()
    calls = []
    ls.landscape_2d(lambda p: 0.0, params, ls.make_directions(params), [0.0, 1.0], [0.0, 1.0], workers=2,
                    progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_core_rejects_mismatched_directions():
    params = _toy_params()
    wrong = {"hidden.omega": np.ones(5)}
    with pytest.raises(RFSimError, match="shape"):
        ls.landscape_2d(lambda p: 0.0, params, (wrong, {}), [0.0], [0.0])
    with pytest.raises(RFSimError, match="workers must be a positive"):
        ls.landscape_2d(lambda p: 0.0, params, ls.make_directions(params), [0.0], [0.0], workers=0)


# --- network landscapes on the synthetic checkpoints ---


@pytest.fixture(scope="module")
def brf_landscape(synthetic_runs):
    run = synthetic_runs["brf"]
    return ls.network_landscape(run / "best.npz", grid=3, span=0.5, seed=1, interpolate_from=run / "init.npz",
                                interpolation_points=3, interpolation_range=(-0.5, 1.5))


def test_centre_equals_checkpoint_loss(synthetic_runs, brf_landscape):
    evaluated = evaluate_checkpoint(synthetic_runs["brf"] / "best.npz")
    grid = brf_landscape.grid
    assert grid.centre_index == (1, 1)
    assert grid.centre_loss == evaluated.loss
    assert grid.accuracy[1, 1] == evaluated.accuracy
    assert grid.sop[1, 1] == evaluated.sop
    assert brf_landscape.checkpoint_metrics.loss == evaluated.loss
    assert brf_landscape.n_sequences == evaluated.n_sequences


def test_interpolation_endpoints_equal_checkpoints(synthetic_runs, brf_landscape):
    run = synthetic_runs["brf"]
    curve = brf_landscape.curve
    assert curve.value_at(0.0) == evaluate_checkpoint(run / "init.npz").loss
    assert curve.value_at(1.0) == evaluate_checkpoint(run / "best.npz").loss
    assert curve.value_at(0.0, "accuracy") == evaluate_checkpoint(run / "init.npz").accuracy
    np.testing.assert_array_equal(curve.alpha, [-0.5, 0.0, 0.5, 1.0, 1.5])


def test_network_grid_moves_loss(brf_landscape):
    grid = brf_landscape.grid
    assert grid.loss.shape == (3, 3)
    assert np.all(np.isfinite(grid.loss))
    # Random steps of half a filter norm change the loss at every off-centre point.
    off_centre = np.delete(grid.loss.ravel(), 4)
    assert np.all(off_centre != grid.centre_loss)


def test_count_outside_region_boundaries():
    dt = 0.01
    # At omega = 60 rad/s the region is 0 <= b_offset <= 2 sqrt(1 - 0.36) / 0.01 = 160 1/s.
    omega = np.array([60.0, 60.0, -60.0, 100.0, 150.0, 10.0])
    b_offset = np.array([160.0, 160.5, -170.0, 0.5, 0.5, 0.0])
    assert ls.count_outside_region(omega, b_offset, dt) == 4
    assert ls.count_outside_region(omega[:1], b_offset[:1], dt) == 0
    assert ls.count_outside_region(omega[3:4], b_offset[3:4], dt) == 1


def test_network_counts_outside_region(synthetic_runs, brf_landscape):
    from rfsim.analysis._checkpoints import load_analysis_checkpoint

    loaded = load_analysis_checkpoint(synthetic_runs["brf"] / "best.npz")
    expected = ls.count_outside_region(loaded.params["hidden.omega"], loaded.params["hidden.b_offset"], 0.01)
    assert brf_landscape.grid_outside.shape == (3, 3)
    assert brf_landscape.grid_outside[1, 1] == expected
    assert brf_landscape.curve_outside.shape == (5,)
    assert brf_landscape.curve_outside[3] == expected

    # Far along omega, every neuron with |omega| >= 1/dt = 100 rad/s is counted (and the
    # forward pass warns that p(omega) has no real value there).
    with pytest.warns(DivergenceWarning, match="exceeds 1/dt"):
        far = ls.network_landscape(synthetic_runs["brf"] / "best.npz", grid=3, span=20.0, plane="omega-b",
                                   vectors="elementwise", subset=2)
    omega = np.abs(loaded.params["hidden.omega"] + 20.0 * far.directions.first["hidden.omega"])
    assert far.grid_outside[2, 1] >= np.count_nonzero(omega >= 100.0)
    assert np.count_nonzero(omega >= 100.0) > 0


def test_network_outside_only_for_brf(synthetic_runs):
    for model in ("rf", "alif"):
        result = ls.network_landscape(synthetic_runs[model] / "best.npz", grid=3, subset=2)
        assert result.grid_outside is None, model


def test_network_independent_of_workers(synthetic_runs):
    path = synthetic_runs["rf"] / "best.npz"
    serial = ls.network_landscape(path, grid=3, span=1.0, seed=2, subset=8, workers=1)
    pooled = ls.network_landscape(path, grid=3, span=1.0, seed=2, subset=8, workers=2)
    np.testing.assert_array_equal(serial.grid.loss, pooled.grid.loss)
    np.testing.assert_array_equal(serial.grid.accuracy, pooled.grid.accuracy)
    np.testing.assert_array_equal(serial.grid.sop, pooled.grid.sop)


def test_network_reuses_saved_directions(synthetic_runs, tmp_path):
    path = synthetic_runs["brf"] / "best.npz"
    first = ls.network_landscape(path, grid=3, span=1.0, plane="omega-b", seed=4, subset=4)
    saved = tmp_path / "directions.npz"
    ls.save_directions(first.directions, saved)
    again = ls.network_landscape(path, grid=3, span=1.0, directions=saved, subset=4)
    np.testing.assert_array_equal(first.grid.loss, again.grid.loss)
    assert again.directions.plane == "omega-b"
    assert again.directions.seed == 4


def test_network_alif_weights_plane(synthetic_runs):
    path = synthetic_runs["alif"] / "best.npz"
    result = ls.network_landscape(path, grid=3, span=0.5, vectors="filter", subset=4)
    assert set(result.directions.first) >= {"hidden.tau_mem", "hidden.tau_adp"}
    assert np.any(result.directions.first["hidden.tau_mem"])
    with pytest.raises(RFSimError, match="RF-family"):
        ls.network_landscape(path, grid=3, plane="omega-b", subset=4)


def test_network_rejects_directions_of_other_model(synthetic_runs, tmp_path):
    alif = ls.network_landscape(synthetic_runs["alif"] / "best.npz", grid=3, subset=2)
    saved = tmp_path / "alif_directions.npz"
    ls.save_directions(alif.directions, saved)
    with pytest.raises(RFSimError, match="another model"):
        ls.network_landscape(synthetic_runs["brf"] / "best.npz", grid=3, directions=saved, subset=2)


def test_select_subset_first_and_random(synthetic_runs):
    from rfsim.analysis._checkpoints import load_analysis_checkpoint

    dataset = load_analysis_checkpoint(synthetic_runs["brf"] / "best.npz").task.test
    first, indices = ls.select_subset(dataset, 5)
    np.testing.assert_array_equal(indices, np.arange(5))
    np.testing.assert_array_equal(first.x, dataset.x[:5])

    drawn, random_indices = ls.select_subset(dataset, 5, seed=3)
    _, again = ls.select_subset(dataset, 5, seed=3)
    np.testing.assert_array_equal(random_indices, again)
    assert np.unique(random_indices).size == 5
    assert np.all(np.diff(random_indices) > 0)
    np.testing.assert_array_equal(drawn.x, dataset.x[random_indices])

    whole, none = ls.select_subset(dataset)
    assert whole is dataset
    assert none is None
    for bad in (0, len(dataset) + 1):
        with pytest.raises(RFSimError, match="subset must be a number of sequences"):
            ls.select_subset(dataset, bad)


# --- output files and figures ---


def test_save_landscape_npz_round_trip(brf_landscape, tmp_path):
    path = tmp_path / "landscape.npz"
    ls.save_landscape(brf_landscape, path)
    with np.load(path) as stored:
        np.testing.assert_array_equal(stored["grid_loss"], brf_landscape.grid.loss)
        np.testing.assert_array_equal(stored["grid_alpha"], brf_landscape.grid.alpha)
        np.testing.assert_array_equal(stored["curve_loss"], brf_landscape.curve.loss)
        assert int(stored["seed"]) == 1
        assert str(stored["plane"]) == "weights"


def test_save_landscape_csv_round_trip(brf_landscape, tmp_path):
    path = tmp_path / "landscape.csv"
    ls.save_landscape(brf_landscape, path)
    lines = path.read_text().splitlines()
    assert "# seed: 1" in lines
    rows = [line.split(",") for line in lines if not line.startswith("#")]
    assert rows[0] == ["kind", "alpha", "beta", "loss", "accuracy", "sop", "outside"]
    grid_rows = [row for row in rows[1:] if row[0] == "grid"]
    curve_rows = [row for row in rows[1:] if row[0] == "interpolation"]
    assert len(grid_rows) == 9
    assert len(curve_rows) == 5
    np.testing.assert_array_equal([float(row[3]) for row in grid_rows], brf_landscape.grid.loss.ravel())
    np.testing.assert_array_equal([float(row[3]) for row in curve_rows], brf_landscape.curve.loss)
    np.testing.assert_array_equal([int(row[6]) for row in grid_rows], brf_landscape.grid_outside.ravel())


def test_save_landscape_rejects_suffix(brf_landscape, tmp_path):
    with pytest.raises(RFSimError, match=r"must end in \.csv or \.npz"):
        ls.save_landscape(brf_landscape, tmp_path / "landscape.txt")


def test_landscape_figure_panels(brf_landscape):
    figure = landscape_figure(brf_landscape.grid, brf_landscape.curve,
                              axis_labels=ls.axis_labels(brf_landscape.directions))
    assert isinstance(figure, Figure)
    # Surface, contour, colour bar and curve.
    assert len(figure.axes) == 4
    assert figure.axes[1].get_xlabel().startswith("alpha")
    assert figure.axes[-1].get_xlabel().startswith("interpolation coefficient")


def test_landscape_figure_blanks_diverged_points():
    alpha = ls.grid_coordinates(3, 1.0)
    loss = np.arange(9.0).reshape(3, 3)
    loss[0, 0] = np.nan
    grid = ls.LandscapeGrid(alpha=alpha, beta=alpha, loss=loss, accuracy=loss, sop=loss, seconds=0.0, workers=1)
    assert len(landscape_figure(grid).axes) == 3
    with pytest.raises(RFSimError, match="nothing to plot"):
        landscape_figure()
    empty = ls.LandscapeGrid(alpha=alpha, beta=alpha, loss=np.full((3, 3), np.nan), accuracy=loss, sop=loss,
                             seconds=0.0, workers=1)
    with pytest.raises(RFSimError, match="non-finite"):
        landscape_figure(empty)
