"""Tests of the figure scripts in figures/: each main() writes a valid figure file from tiny inputs.

The network scripts run on the session fixture ``synthetic_runs``: tiny BRF, RF
and ALIF networks on the synthetic task. The study scripts run on a pruning and
an ablation study of one-epoch runs trained here.
"""

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

FIGURES = Path(__file__).resolve().parents[1] / "figures"

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

TINY = dict(epochs=1, n_hidden=8, batch_size=8, limit_train=16, limit_eval=8)
"""Training settings of the study runs: one epoch of an 8-neuron network on a few sequences."""


def load_script(name):
    """Import figures/<name>.py as a module.

    Its folder is on sys.path only while the module loads, for the top-level
    imports of its helpers ``_common`` and ``_studies``.
    """
    spec = importlib.util.spec_from_file_location(f"figure_script_{name}", FIGURES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(FIGURES))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(FIGURES))
    return module


def assert_png(path):
    """Check that ``path`` is a non-empty PNG file."""
    data = Path(path).read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} does not start with the PNG signature"
    # A figure of any size is tens of kilobytes; a few hundred bytes would be an empty canvas.
    assert len(data) > 5000, f"{path} has only {len(data)} bytes"


@pytest.fixture(autouse=True)
def agg_backend(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")


@pytest.fixture(scope="module")
def pruning_dir(tmp_path_factory):
    from rfsim.analysis.studies import pruning_study

    out_dir = tmp_path_factory.mktemp("pruning_study")
    pruning_study("synthetic", "brf", [0.0, 0.5], [0], out_dir, TINY)
    return out_dir


@pytest.fixture(scope="module")
def ablation_dir(tmp_path_factory):
    from rfsim.analysis.studies import ablation_study

    out_dir = tmp_path_factory.mktemp("ablation_study")
    ablation_study("synthetic", ["all", "no-boundary"], [0], out_dir, TINY)
    return out_dir


# --- single neurons ---


def test_single_neuron_png(tmp_path):
    out = tmp_path / "single.png"
    script = load_script("single_neuron")
    assert script.main(["--out", str(out), "--duration", "1.5", "--models", "brf,rf,bhrf,hrf"]) == 0
    assert_png(out)


def test_single_neuron_default_spikes():
    """The default input makes the BRF neuron fire once at each of input spikes 2 to 5 (steps 102 ... 288)."""
    script = load_script("single_neuron")
    args = script.parse_args(["--out", "x.png"])
    _, (brf, rf) = script.simulate_models(args)
    assert brf.spike_times.tolist() == pytest.approx([1.02, 1.64, 2.26, 2.88], abs=1e-12)
    # Without a reset the RF neuron stays above threshold for several steps at each peak.
    assert rf.z.sum() > 4


def test_single_neuron_pdf(tmp_path):
    out = tmp_path / "single.pdf"
    assert load_script("single_neuron").main(["--out", str(out), "--duration", "1"]) == 0
    assert out.read_bytes()[:5] == b"%PDF-"


def test_single_neuron_rejects_model(tmp_path, capsys):
    with pytest.raises(SystemExit) as raised:
        load_script("single_neuron").main(["--out", str(tmp_path / "x.png"), "--models", "brf,lif"])
    assert raised.value.code == 2
    assert "--models must list models" in capsys.readouterr().err


def test_out_rejects_unknown_format(tmp_path, capsys):
    with pytest.raises(SystemExit) as raised:
        load_script("single_neuron").main(["--out", str(tmp_path / "figure.xyz")])
    assert raised.value.code == 2
    assert "unknown figure format 'xyz'" in capsys.readouterr().err


def test_divergence_boundary_png(tmp_path):
    out = tmp_path / "boundary.png"
    script = load_script("divergence_boundary")
    assert script.main(["--out", str(out), "--points", "50", "--b-offset", "0.1,1,5"]) == 0
    assert_png(out)


def test_divergence_boundary_with_neurons(tmp_path, synthetic_runs, capsys):
    out = tmp_path / "boundary.png"
    script = load_script("divergence_boundary")
    assert script.main(["--out", str(out), "--points", "50", "--checkpoint", str(synthetic_runs["brf"])]) == 0
    assert_png(out)
    assert "12 BRF neurons" in capsys.readouterr().out


def test_divergence_boundary_rejects_alif(tmp_path, synthetic_runs, capsys):
    script = load_script("divergence_boundary")
    assert script.main(["--out", str(tmp_path / "x.png"), "--checkpoint", str(synthetic_runs["alif"])]) == 1
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_frequency_response_png(tmp_path):
    out = tmp_path / "response.png"
    script = load_script("frequency_response")
    argv = ["--out", str(out), "--omega", "5,10", "--dt", "0.01,0.005", "--duration", "2", "--freq-min", "1",
            "--freq-max", "20", "--freq-step", "1"]
    assert script.main(argv) == 0
    assert_png(out)


# --- training runs and checkpoints ---


def test_training_curves_png(tmp_path, synthetic_runs, capsys):
    out = tmp_path / "curves.png"
    runs = [str(synthetic_runs[model]) for model in ("brf", "rf", "alif")]
    assert load_script("training_curves").main(["--out", str(out), "--sop", *runs]) == 0
    assert_png(out)
    assert "model=alif" in capsys.readouterr().out


def test_training_curves_groups(synthetic_runs):
    """Runs group by model; each group's curves hold one row per run and one column per logged epoch."""
    script = load_script("training_curves")
    table, curves = script.collect_curves([synthetic_runs["brf"], synthetic_runs["rf"]], ("model",))
    assert [group.group for group in table.groups] == ["model=brf", "model=rf"]
    # Two training epochs after the untrained epoch 0.
    assert curves[0]["test_accuracy"].shape == (1, 3)
    assert curves[0]["epoch"][0].tolist() == [0.0, 1.0, 2.0]


def test_parameters_png(tmp_path, synthetic_runs):
    out = tmp_path / "parameters.png"
    assert load_script("parameters").main([str(synthetic_runs["brf"]), "--out", str(out), "--spectrum"]) == 0
    assert_png(out)


def test_raster_png(tmp_path, synthetic_runs):
    out = tmp_path / "raster.png"
    assert load_script("raster").main([str(synthetic_runs["rf"] / "best.npz"), "--out", str(out)]) == 0
    assert_png(out)


def test_raster_rejects_sample(tmp_path, synthetic_runs, capsys):
    script = load_script("raster")
    assert script.main([str(synthetic_runs["brf"]), "--out", str(tmp_path / "x.png"), "--sample", "100000"]) == 1
    assert "outside split 'test'" in capsys.readouterr().err


def test_landscape_png(tmp_path, synthetic_runs):
    out = tmp_path / "landscape.png"
    argv = [str(synthetic_runs["brf"]), "--out", str(out), "--grid", "3", "--subset", "4",
            "--interpolation-points", "3"]
    assert load_script("landscape").main(argv) == 0
    assert_png(out)


def test_robustness_png(tmp_path, synthetic_runs):
    out = tmp_path / "quantize.png"
    argv = [str(synthetic_runs["brf"]), "--kind", "quantize", "--levels", "2,8", "--subset", "4", "--out", str(out)]
    assert load_script("robustness").main(argv) == 0
    assert_png(out)


def test_robustness_compares_checkpoints(tmp_path, synthetic_runs):
    out = tmp_path / "noise.png"
    argv = [str(synthetic_runs["brf"]), str(synthetic_runs["alif"]), "--kind", "weight-noise", "--levels", "0,0.2",
            "--repeats", "2", "--subset", "4", "--out", str(out)]
    assert load_script("robustness").main(argv) == 0
    assert_png(out)


# --- training studies ---


def test_pruning_png(tmp_path, pruning_dir, capsys):
    out = tmp_path / "pruning.png"
    assert load_script("pruning").main([str(pruning_dir), "--out", str(out)]) == 0
    assert_png(out)
    assert "| 0.5 |" in capsys.readouterr().out


def test_pruning_compares_studies(tmp_path, pruning_dir):
    out = tmp_path / "pruning.png"
    assert load_script("pruning").main([str(pruning_dir), str(pruning_dir), "--out", str(out)]) == 0
    assert_png(out)


def test_pruning_table_reads_runs(pruning_dir):
    script = load_script("pruning")
    table = script.load_pruning_table(pruning_dir)
    assert table.settings == ("0", "0.5")
    assert table.seeds == (0,)
    assert all(run.status == "finished" for run in table.runs)
    summary = json.loads((pruning_dir / "p0.5-seed0" / "summary.json").read_text())
    assert table.runs_of("0.5")[0].test_accuracy == summary["test_accuracy"]


def test_pruning_rejects_missing_run(tmp_path, pruning_dir, capsys):
    """Asking for a seed that was never trained raises instead of training it."""
    study = tmp_path / "study"
    shutil.copytree(pruning_dir, study)
    script = load_script("pruning")
    assert script.main([str(study), "--seeds", "0,1", "--out", str(tmp_path / "x.png")]) == 1
    assert "lacks the runs p0-seed1, p0.5-seed1" in capsys.readouterr().err
    assert not (study / "p0-seed1").exists()


def test_pruning_rejects_unfinished_run(tmp_path, pruning_dir, capsys):
    study = tmp_path / "study"
    shutil.copytree(pruning_dir, study)
    (study / "p0.5-seed0" / "summary.json").unlink()
    stamp = (study / "p0.5-seed0" / "best.npz").stat().st_mtime_ns
    assert load_script("pruning").main([str(study), "--out", str(tmp_path / "x.png")]) == 1
    assert "is not finished" in capsys.readouterr().err
    assert (study / "p0.5-seed0" / "best.npz").stat().st_mtime_ns == stamp
    assert not (study / "p0.5-seed0" / "summary.json").exists()


def test_ablation_png(tmp_path, ablation_dir, capsys):
    out = tmp_path / "ablation.png"
    assert load_script("ablation").main([str(ablation_dir), "--out", str(out)]) == 0
    assert_png(out)
    output = capsys.readouterr().out
    assert "| all |" in output
    assert "| no-boundary |" in output


def test_ablation_rejects_pruning_study(tmp_path, pruning_dir, capsys):
    assert load_script("ablation").main([str(pruning_dir), "--out", str(tmp_path / "x.png")]) == 1
    assert "contains a pruning study, not an ablation study" in capsys.readouterr().err
