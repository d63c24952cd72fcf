"""Tests of checkpoint writing, loading and shape checks."""

import json
import os

import numpy as np
import pytest

from rfsim.errors import RFSimError
from rfsim.training.checkpoint import (
    atomic_write_json,
    expected_shapes,
    load_checkpoint,
    save_checkpoint,
    save_npz_or_raise,
    sidecar_path,
)


def _brf_params(n_in=4, n_hidden=5, n_out=3):
    rng = np.random.default_rng(0)
    shapes = expected_shapes("brf", n_in, n_hidden, n_out)
    return {name: rng.standard_normal(shape) for name, shape in shapes.items()}


def _metadata(**extra):
    metadata = {"model": "brf", "n_in": 4, "n_hidden": 5, "n_out": 3, "dt": 0.01, "task": "synthetic"}
    metadata.update(extra)
    return metadata


def test_round_trip_keeps_every_bit(tmp_path):
    params = _brf_params()
    path = tmp_path / "best.npz"
    save_checkpoint(path, params, _metadata())

    loaded = load_checkpoint(path)
    assert set(loaded.params) == set(params)
    for name, value in params.items():
        assert np.array_equal(loaded.params[name], value)
    assert loaded.metadata["model"] == "brf"
    assert loaded.metadata["parameters"]["hidden.linear.weight"] == [5, 9]
    assert "rfsim_version" in loaded.metadata


def test_expected_shapes_of_alif_with_biases():
    shapes = expected_shapes("alif", 2, 3, 4, hidden_bias=True, output_bias=True)
    assert shapes == {
        "hidden.linear.weight": (3, 5),
        "hidden.tau_mem": (3,),
        "hidden.tau_adp": (3,),
        "hidden.linear.bias": (3,),
        "out.linear.weight": (4, 3),
        "out.tau_mem": (4,),
        "out.linear.bias": (4,),
    }


def test_load_rejects_wrong_shape(tmp_path):
    params = _brf_params()
    params["hidden.omega"] = np.ones(7)
    path = tmp_path / "bad.npz"
    save_checkpoint(path, params, _metadata())
    with pytest.raises(RFSimError, match=r"hidden.omega has shape \(7,\), but this network needs \(5,\)"):
        load_checkpoint(path)


def test_load_rejects_missing_parameter(tmp_path):
    params = _brf_params()
    del params["out.tau_mem"]
    path = tmp_path / "bad.npz"
    save_checkpoint(path, params, _metadata())
    with pytest.raises(RFSimError, match="lacks the parameters out.tau_mem"):
        load_checkpoint(path)


def test_load_rejects_model_mismatch(tmp_path):
    path = tmp_path / "bad.npz"
    save_checkpoint(path, _brf_params(), _metadata(model="alif"))
    with pytest.raises(RFSimError, match="hidden.tau_mem"):
        load_checkpoint(path)


def test_load_rejects_nan_parameter(tmp_path):
    params = _brf_params()
    params["hidden.b_offset"][2] = np.nan
    path = tmp_path / "nan.npz"
    save_checkpoint(path, params, _metadata())
    with pytest.raises(RFSimError, match="NaN"):
        load_checkpoint(path)


def test_missing_files_are_named(tmp_path):
    with pytest.raises(RFSimError, match="not found"):
        load_checkpoint(tmp_path / "absent.npz")
    path = tmp_path / "lonely.npz"
    save_checkpoint(path, _brf_params(), _metadata())
    os.unlink(sidecar_path(path))
    with pytest.raises(RFSimError, match="sidecar"):
        load_checkpoint(path)


def test_corrupt_npz_is_rejected(tmp_path):
    path = tmp_path / "corrupt.npz"
    save_checkpoint(path, _brf_params(), _metadata())
    path.write_bytes(b"not a zip file")
    with pytest.raises(RFSimError, match="is not a valid .npz archive"):
        load_checkpoint(path)

    # A truncated archive and one holding a pickled object get the same message.
    save_checkpoint(path, _brf_params(), _metadata())
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(RFSimError, match="is not a valid .npz archive"):
        load_checkpoint(path)
    np.savez(path, **{"hidden.omega": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(RFSimError, match="is not a valid .npz archive"):
        load_checkpoint(path)


def test_run_folder_and_wrong_suffix(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with pytest.raises(RFSimError, match="has no best.npz"):
        load_checkpoint(run_dir)
    save_checkpoint(run_dir / "best.npz", _brf_params(), _metadata())
    assert load_checkpoint(run_dir).path == run_dir / "best.npz"

    log = run_dir / "log.csv"
    log.write_text("epoch\n0\n")
    with pytest.raises(RFSimError, match="is not a .npz file"):
        load_checkpoint(log)


def test_failed_write_keeps_previous_file(tmp_path):
    path = tmp_path / "state.json"
    atomic_write_json(path, {"epoch": 1})
    with pytest.raises(TypeError):
        atomic_write_json(path, {"epoch": object()})
    assert json.loads(path.read_text()) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_save_rejects_other_suffix(tmp_path):
    with pytest.raises(RFSimError, match=".npz"):
        save_checkpoint(tmp_path / "x.pt", _brf_params(), _metadata())


def test_save_npz_or_raise_writes_arrays(tmp_path):
    path = tmp_path / "arrays.npz"
    save_npz_or_raise(path, {"values": np.arange(3)}, "test arrays")
    with np.load(path) as data:
        np.testing.assert_array_equal(data["values"], [0, 1, 2])


def test_save_npz_or_raise_names_failed_write(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be\n")
    path = blocker / "arrays.npz"
    with pytest.raises(RFSimError, match="failed to write test arrays .*not-a-folder"):
        save_npz_or_raise(path, {"values": np.arange(3)}, "test arrays")
