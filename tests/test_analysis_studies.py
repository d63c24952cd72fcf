"""Tests of the pruning study on the synthetic task with tiny networks."""

import json

import numpy as np
import pytest

from rfsim.analysis.studies import (
    SPARSITY_FILE,
    StudyTable,
    check_probabilities,
    check_variants,
    pruning_study,
    save_study_table,
)
from rfsim.errors import RFSimError

TINY = dict(epochs=1, n_hidden=8, batch_size=8, limit_train=16, limit_eval=8)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("pruning_study")
    events = []
    table = pruning_study("synthetic", "brf", [0.0, 0.5], [0, 1], out_dir, TINY,
                          callback=lambda event, info: events.append((event, info["setting"], info["seed"])))
    return table, out_dir, events


def test_pruning_study_creates_run_folders(study):
    table, out_dir, events = study
    for name in ("p0-seed0", "p0-seed1", "p0.5-seed0", "p0.5-seed1"):
        for file in ("best.npz", "summary.json", "config.json", SPARSITY_FILE):
            assert (out_dir / name / file).is_file(), (name, file)
    assert [event for event, _, _ in events] == ["run_start", "run_done"] * 4
    assert [(run.setting, run.seed) for run in table.runs] == [("0", 0), ("0", 1), ("0.5", 0), ("0.5", 1)]
    assert all(run.status == "trained" for run in table.runs)


def test_pruning_study_saves_settings(study):
    _, out_dir, _ = study
    saved = json.loads((out_dir / "p0.5-seed1" / "config.json").read_text())["train"]
    assert saved["pruning"] == 0.5
    assert saved["seed"] == 1
    assert saved["epochs"] == 1
    assert saved["n_hidden"] == 8


def test_pruning_study_table_values(study):
    table, out_dir, _ = study
    for run in table.runs:
        summary = json.loads((run.run_dir / "summary.json").read_text())
        assert run.test_accuracy == summary["test_accuracy"]
        assert run.test_loss == summary["test_loss"]
        # The study's SOP is measured again on the best checkpoint; it equals the logged one.
        assert run.sop == pytest.approx(summary["test_sop"], rel=1e-12)
    unpruned = table.runs_of("0")
    pruned = table.runs_of("0.5")
    assert all(run.recurrent_weights == 64 for run in unpruned)
    assert all(0 < run.recurrent_weights < 64 for run in pruned)
    means, stds = table.summary("recurrent_weights")
    assert means[0] == 64.0
    assert stds[0] == 0.0
    assert means[1] == np.mean([run.recurrent_weights for run in pruned])


def test_pruning_study_is_resumable(study):
    table, out_dir, _ = study
    stamps = {run.run_dir: (run.run_dir / "best.npz").stat().st_mtime_ns for run in table.runs}
    events = []
    again = pruning_study("synthetic", "brf", [0.0, 0.5], [0, 1], out_dir, TINY,
                          callback=lambda event, info: events.append(event))
    assert events == ["run_skipped"] * 4
    assert all(run.status == "finished" for run in again.runs)
    for run, first in zip(again.runs, table.runs):
        assert (run.run_dir / "best.npz").stat().st_mtime_ns == stamps[run.run_dir]
        assert run.test_accuracy == first.test_accuracy
        assert run.synaptic_ops == first.synaptic_ops


def test_pruning_study_resumes_interrupted_run(tmp_path):
    from rfsim.training.loop import Trainer
    from rfsim.training.presets import resolve_config

    config = resolve_config("synthetic", "brf", overrides={**TINY, "epochs": 2, "pruning": 0.25, "seed": 0})
    interrupted = Trainer(config, tmp_path / "p0.25-seed0").run(max_minutes=0.0)
    assert interrupted.status == "time-limit"
    assert interrupted.epochs_done == 0

    table = pruning_study("synthetic", "brf", [0.25], [0], tmp_path, {**TINY, "epochs": 2})
    run = table.runs[0]
    assert run.status == "resumed"
    assert run.epochs_done == 2


def test_pruning_study_rejects_other_run(study, tmp_path):
    _, out_dir, _ = study
    with pytest.raises(RFSimError, match=r"contains a run with other settings \(epochs: saved 1, study 2\)"):
        pruning_study("synthetic", "brf", [0.0], [0], out_dir, {**TINY, "epochs": 2})


@pytest.mark.parametrize("probabilities, message", [
    ([], "empty"),
    ([0.5, 1.0], r"must lie in \[0, 1\), got 1.0"),
    ([-0.1], r"must lie in \[0, 1\), got -0.1"),
    ([0.25, 0.25], "must differ"),
])
def test_check_probabilities_rejects(probabilities, message):
    with pytest.raises(RFSimError, match=message):
        check_probabilities(probabilities)


def test_check_variants_rejects():
    with pytest.raises(RFSimError, match="unknown BRF ablation variant 'no-q'"):
        check_variants(["all", "no-q"])
    with pytest.raises(RFSimError, match="empty"):
        check_variants([])
    assert check_variants(["none", "all"]) == ("none", "all")


def test_pruning_study_rejects_bad_seeds_and_overrides(tmp_path):
    with pytest.raises(RFSimError, match="seeds must be non-negative integers"):
        pruning_study("synthetic", "brf", [0.0], [-1], tmp_path, TINY)
    with pytest.raises(RFSimError, match="must differ"):
        pruning_study("synthetic", "brf", [0.0], [3, 3], tmp_path, TINY)
    with pytest.raises(RFSimError, match="sets pruning, seed itself"):
        pruning_study("synthetic", "brf", [0.0], [0], tmp_path, {**TINY, "pruning": 0.1, "seed": 4})
    with pytest.raises(RFSimError, match="unknown setting"):
        pruning_study("synthetic", "brf", [0.0], [0], tmp_path, {**TINY, "learning_rate": 0.1})
    assert not any(tmp_path.iterdir())


def test_save_study_table_formats(study, tmp_path):
    table, _, _ = study
    save_study_table(table, tmp_path / "table.csv")
    rows = (tmp_path / "table.csv").read_text().splitlines()
    assert rows[0].startswith("setting,value,seed,status,best_epoch")
    assert rows[0].endswith(",run_dir")
    assert len(rows) == 1 + 4

    save_study_table(table, tmp_path / "table.json")
    stored = json.loads((tmp_path / "table.json").read_text())
    assert stored["study"] == "pruning"
    assert stored["settings"] == ["0", "0.5"]
    assert len(stored["runs"]) == 4
    assert stored["summary"]["test_accuracy"]["mean"] == pytest.approx(list(table.summary("test_accuracy")[0]))

    save_study_table(table, tmp_path / "table.md")
    text = (tmp_path / "table.md").read_text()
    assert "| pruning p | test accuracy [%] |" in text
    assert "\n| 0.5 | " in text
    with pytest.raises(RFSimError, match=r"\.csv, \.json or \.md"):
        save_study_table(table, tmp_path / "table.xlsx")


def test_study_figure_builds(study):
    from rfsim.analysis.plots_network import study_figure

    table, _, _ = study
    figure = study_figure(table)
    assert len(figure.axes) == 3
    assert figure.axes[0].get_xlabel() == "recurrent pruning probability p"
    assert isinstance(table, StudyTable)


# --- BRF ablation ---


@pytest.fixture(scope="module")
def ablation(tmp_path_factory):
    from rfsim.analysis.studies import ablation_study

    out_dir = tmp_path_factory.mktemp("ablation_study")
    return ablation_study("synthetic", ["all", "refractory-only", "none"], [2], out_dir, TINY), out_dir


def test_study_std_needs_several_seeds(study, ablation):
    several = "\n".join(study[0].lines())
    assert "mean +- std (ddof 1) over seeds" in several
    assert " +- " in several.splitlines()[-1]

    # The ablation ran one seed: no "+- 0" spread is printed.
    single = ablation[0].lines()
    assert "one seed, so no std is given" in single[0]
    assert all(" +- " not in line for line in single[5:])


def test_ablation_study_saves_switches(ablation):
    table, out_dir = ablation
    expected = {"all": (True, True, True), "refractory-only": (False, True, False), "none": (False, False, False)}
    for variant, switches in expected.items():
        saved = json.loads((out_dir / f"{variant}-seed2" / "config.json").read_text())
        assert (saved["train"]["brf_boundary"], saved["train"]["brf_refractory"],
                saved["train"]["brf_smooth_reset"]) == switches, variant
        assert (saved["network"]["brf_boundary"], saved["network"]["brf_refractory"],
                saved["network"]["brf_smooth_reset"]) == switches, variant
        assert saved["train"]["model"] == "brf"
    assert table.settings == ("all", "refractory-only", "none")
    assert table.model == "brf"


def test_ablation_study_sop_matches_training_log(ablation):
    """The study re-measures each best checkpoint, so the switches must reach the reloaded network."""
    table, _ = ablation
    for run in table.runs:
        summary = json.loads((run.run_dir / "summary.json").read_text())
        assert run.sop == pytest.approx(summary["test_sop"], rel=1e-12), run.setting
        assert run.test_accuracy == summary["test_accuracy"]


def test_ablation_variants_differ(ablation):
    """Same seed, same initial parameters: the variants differ only in their mechanisms."""
    table, _ = ablation
    sops = [run.sop for run in table.runs]
    assert len(set(sops)) == 3


def test_ablation_settings_mapping():
    from rfsim.analysis.studies import ablation_settings

    assert ablation_settings(None) == {}
    assert ablation_settings("smooth-reset-only") == {
        "brf_boundary": False, "brf_refractory": False, "brf_smooth_reset": True}
    with pytest.raises(RFSimError, match="unknown BRF ablation variant 'off'"):
        ablation_settings("off")


def test_train_config_rejects_switches_off_brf():
    from rfsim.training.presets import resolve_config

    with pytest.raises(RFSimError, match="brf_refractory=False is a BRF ablation and applies to model 'brf' only"):
        resolve_config("synthetic", "rf", overrides={"brf_refractory": False})
    with pytest.raises(RFSimError, match="brf_boundary must be true or false, got brf_boundary='no'"):
        resolve_config("synthetic", "brf", overrides={"brf_boundary": "no"})


# --- reading a finished study back ---


def copy_study(out_dir, tmp_path):
    """Copy a study folder, so a test can change it without touching the shared fixture."""
    import shutil

    copy = tmp_path / "study"
    shutil.copytree(out_dir, copy)
    return copy


def edit_settings(config_paths, change):
    """Apply ``change`` to the training settings in each run's config.json."""
    for config_path in config_paths:
        saved = json.loads(config_path.read_text())
        change(saved["train"])
        config_path.write_text(json.dumps(saved))


def test_load_study_matches_pruning_table(study):
    from rfsim.analysis.studies import load_study

    table, out_dir, _ = study
    loaded = load_study(out_dir, "pruning")
    assert loaded.settings == table.settings
    assert loaded.seeds == table.seeds
    assert loaded.task == "synthetic"
    assert loaded.model == "brf"
    assert all(run.status == "finished" for run in loaded.runs)
    for run, expected in zip(loaded.runs, table.runs):
        assert (run.setting, run.seed, run.test_accuracy, run.sop) == (expected.setting, expected.seed,
                                                                        expected.test_accuracy, expected.sop)


def test_load_study_selects_settings_and_seeds(study):
    from rfsim.analysis.studies import load_study

    _, out_dir, _ = study
    loaded = load_study(out_dir, "pruning", [0.5], [1])
    assert loaded.settings == ("0.5",)
    assert loaded.seeds == (1,)
    assert [(run.setting, run.seed) for run in loaded.runs] == [("0.5", 1)]


def test_load_study_rejects_missing_run(study, tmp_path):
    from rfsim.analysis.studies import load_study

    copy = copy_study(study[1], tmp_path)
    with pytest.raises(RFSimError, match="lacks the runs p0-seed2, p0.5-seed2"):
        load_study(copy, "pruning", seeds=[0, 2])
    assert not (copy / "p0-seed2").exists()


def test_load_study_rejects_unfinished_run(study, tmp_path):
    from rfsim.analysis.studies import load_study

    copy = copy_study(study[1], tmp_path)
    (copy / "p0.5-seed1" / "summary.json").unlink()
    with pytest.raises(RFSimError, match="p0.5-seed1' is not finished"):
        load_study(copy, "pruning")
    assert not (copy / "p0.5-seed1" / "summary.json").exists()

    # Without the unfinished run the rest of the study still loads.
    assert load_study(copy, "pruning", seeds=[0]).seeds == (0,)
    assert load_study(copy, "pruning", [0.0]).seeds == (0, 1)


def test_load_study_rejects_mixed_settings(study, tmp_path):
    from rfsim.analysis.studies import load_study

    copy = copy_study(study[1], tmp_path)
    edit_settings([copy / "p0-seed1" / "config.json"], lambda settings: settings.update(n_hidden=9))
    with pytest.raises(RFSimError, match="differ in n_hidden"):
        load_study(copy, "pruning")


def test_load_study_rejects_renamed_folder(study, ablation, tmp_path):
    from rfsim.analysis.studies import load_study

    copy = copy_study(study[1], tmp_path)
    (copy / "p0.5-seed1").rename(copy / "p0.25-seed1")
    with pytest.raises(RFSimError, match="run folder p0.25-seed1 has pruning=0.5, seed=1"):
        load_study(copy, "pruning")

    ablation_copy = copy_study(ablation[1], tmp_path / "ablation")
    (ablation_copy / "all-seed2").rename(ablation_copy / "al-seed2")
    with pytest.raises(RFSimError, match="run folder al-seed2 is not named <variant>-seed<seed>"):
        load_study(ablation_copy, "ablation")


def test_load_study_rejects_bad_folders(study, ablation, tmp_path):
    from rfsim.analysis.studies import load_study

    with pytest.raises(RFSimError, match="study must be 'pruning' or 'ablation', got 'prune'"):
        load_study(study[1], "prune")
    with pytest.raises(RFSimError, match="not found"):
        load_study(tmp_path / "absent", "pruning")
    with pytest.raises(RFSimError, match="contains no run folder"):
        load_study(tmp_path, "pruning")


def test_load_study_ablation_needs_brf(ablation, tmp_path):
    from rfsim.analysis.studies import load_study

    copy = copy_study(ablation[1], tmp_path)
    edit_settings(copy.glob("*/config.json"), lambda settings: settings.update(model="alif"))
    with pytest.raises(RFSimError, match="trained alif networks; an ablation study trains brf"):
        load_study(copy, "ablation")


def test_load_study_fills_missing_settings_with_defaults(study, tmp_path):
    """A run saved before a setting existed counts as its default, as rfsim study counts it."""
    from rfsim.analysis.studies import load_study

    copy = copy_study(study[1], tmp_path)
    assert json.loads((copy / "p0.5-seed0" / "config.json").read_text())["train"]["omega_init"] == "uniform"
    edit_settings(copy.glob("p0.5-*/config.json"), lambda settings: settings.pop("omega_init"))
    assert load_study(copy, "pruning").settings == ("0", "0.5")

    edit_settings([copy / "p0-seed0" / "config.json"], lambda settings: settings.update(omega_init="linear"))
    with pytest.raises(RFSimError, match="differ in omega_init"):
        load_study(copy, "pruning")


@pytest.mark.parametrize("damage, message", [
    ("best.npz", "lacks best.npz"),
    ("seed", "lacks seed in its config.json"),
    ("best_epoch", "lacks best_epoch in summary.json"),
    ("diverged", "diverged .*lower learning rate"),
])
def test_load_study_rejects_damaged_run(study, tmp_path, damage, message):
    from rfsim.analysis.studies import load_study

    copy = copy_study(study[1], tmp_path)
    run = copy / "p0-seed1"
    if damage == "best.npz":
        (run / "best.npz").unlink()
    elif damage == "seed":
        edit_settings([run / "config.json"], lambda settings: settings.pop("seed"))
    else:
        summary = json.loads((run / "summary.json").read_text())
        if damage == "diverged":
            summary["status"] = "diverged"
        else:
            del summary[damage]
        (run / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(RFSimError, match=message):
        load_study(copy, "pruning")


def test_load_study_names_the_other_kind(study, ablation):
    from rfsim.analysis.studies import load_study

    with pytest.raises(RFSimError, match="contains a pruning study, not an ablation study; read it with study='pr"):
        load_study(study[1], "ablation")
    with pytest.raises(RFSimError, match="contains an ablation study, not a pruning study; read it with study='ab"):
        load_study(ablation[1], "pruning")


def test_load_study_checks_settings_and_seeds(study, ablation):
    from rfsim.analysis.studies import load_study

    assert load_study(study[1], "pruning", 0.5, 1).settings == ("0.5",)
    assert load_study(ablation[1], "ablation", "none").settings == ("none",)
    with pytest.raises(RFSimError, match=r"must lie in \[0, 1\), got 1.0"):
        load_study(study[1], "pruning", [0.0, 1.0])
    with pytest.raises(RFSimError, match="seeds must be non-negative integers"):
        load_study(study[1], "pruning", seeds=[-1])


def test_load_study_reads_ablation(ablation):
    from rfsim.analysis.studies import load_study

    table, out_dir = ablation
    loaded = load_study(out_dir, "ablation")
    assert loaded.settings == ("all", "refractory-only", "none")
    assert [run.test_accuracy for run in loaded.runs] == [run.test_accuracy for run in table.runs]
    reordered = load_study(out_dir, "ablation", ["none", "all"])
    assert reordered.settings == ("none", "all")
