"""Tests of rfsim.analysis.convergence on hand-written training logs and on real runs."""

import csv
import json
import math
import warnings

import pytest

from rfsim.analysis.convergence import (
    convergence_table,
    format_convergence_markdown,
    run_convergence,
    save_convergence,
)
from rfsim.errors import RFSimError, RFSimWarning

COLUMNS = ("epoch", "lr", "train_loss", "train_accuracy", "valid_loss", "valid_accuracy", "test_loss",
           "test_accuracy", "test_sop", "test_sop_per_step", "seconds")


def _write_run(folder, valid_loss, test_accuracy, test_sop=None, model="brf", seed=0, config=True, task="ecg"):
    """Write a run folder with a log.csv of the given columns and a config.json."""
    folder.mkdir(parents=True)
    test_sop = test_sop or [100.0 + epoch for epoch in range(len(valid_loss))]
    with open(folder / "log.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        for epoch, (loss, accuracy, sop) in enumerate(zip(valid_loss, test_accuracy, test_sop)):
            writer.writerow([epoch, 0.1, "nan" if epoch == 0 else 1.0, 50.0, loss, 50.0, loss, accuracy, sop,
                             sop / 100, 1.0])
    if config:
        (folder / "config.json").write_text(json.dumps({"train": {"model": model, "seed": seed, "task": task}}))
    return folder


# Three BRF seeds. The final accuracy is the test accuracy at the lowest validation loss.
#   seed 0: best epoch 4 (loss 0.3), final 80: 95 % = 76 first at epoch 3, 98 % = 78.4 at epoch 4, 100 % at 4.
#   seed 1: best epoch 5 (loss 0.2, the later of two ties), final 90: 85.5 at epoch 2, 88.2 at 3, 90 at 5.
#   seed 2: best epoch 3, final 60 (a later epoch with 70 % has a higher validation loss): 57 at 1, 58.8 at 2,
#           60 at 2.
BRF_RUNS = {
    0: ([1.0, 0.8, 0.6, 0.5, 0.3, 0.4], [10.0, 50.0, 70.0, 77.0, 80.0, 81.0]),
    1: ([1.0, 0.7, 0.2, 0.5, 0.4, 0.2], [10.0, 60.0, 86.0, 89.0, 89.5, 90.0]),
    2: ([1.0, 0.9, 0.8, 0.1, 0.5, 0.6], [20.0, 58.0, 61.0, 60.0, 70.0, 70.0]),
}
BRF_EXPECTED = {0: (4, 80.0, 3, 4, 4), 1: (5, 90.0, 2, 3, 5), 2: (3, 60.0, 1, 2, 2)}


@pytest.fixture
def brf_runs(tmp_path):
    return [_write_run(tmp_path / f"brf-{seed}", *columns, seed=seed) for seed, columns in BRF_RUNS.items()]


def test_run_convergence_known_answers(brf_runs):
    for seed, folder in enumerate(brf_runs):
        run = run_convergence(folder)
        best, final, to_95, to_98, to_100 = BRF_EXPECTED[seed]
        assert run.best_epoch == best
        assert run.final_accuracy == final
        assert run.final_sop == 100.0 + best
        assert run.epochs_to == {0.95: to_95, 0.98: to_98, 1.0: to_100}
        assert run.seed == seed
        assert run.epochs == 5
        assert run.group == "model=brf"


def test_group_mean_and_std_exact(brf_runs, tmp_path):
    rf = _write_run(tmp_path / "rf-0", [1.0, 0.5, 0.4], [10.0, 40.0, 50.0], model="rf")
    table = convergence_table([*brf_runs, rf])
    assert [group.group for group in table.groups] == ["model=brf", "model=rf"]

    brf = table.groups[0]
    assert brf.seeds == [0, 1, 2]
    # Epochs to 95 %: 3, 2, 1 -> mean 2, sample std 1.
    assert brf.epochs_to[0.95].mean == 2.0
    assert brf.epochs_to[0.95].std == 1.0
    assert (brf.epochs_to[0.95].min, brf.epochs_to[0.95].max) == (1.0, 3.0)
    # Epochs to 98 %: 4, 3, 2 -> mean 3, std 1. Epochs to 100 %: 4, 5, 2 -> mean 11/3, std sqrt(7/3).
    assert brf.epochs_to[0.98].mean == 3.0
    assert brf.epochs_to[0.98].std == 1.0
    assert brf.epochs_to[1.0].mean == pytest.approx(11 / 3, rel=1e-15)
    assert brf.epochs_to[1.0].std == pytest.approx(math.sqrt(7 / 3), rel=1e-15)
    # Final accuracy 80, 90, 60 -> mean 230/3, std sqrt(700/3) (sum of squared deviations 1400/3 over 2).
    assert brf.final_accuracy.mean == pytest.approx(230 / 3, rel=1e-15)
    assert brf.final_accuracy.std == pytest.approx(math.sqrt(700 / 3), rel=1e-15)
    # SOP 104, 105, 103 -> mean 104, std 1.
    assert brf.final_sop.mean == pytest.approx(104.0, rel=1e-15)
    assert brf.final_sop.std == pytest.approx(1.0, rel=1e-14)

    # The RF run's final accuracy is 50 (epoch 2); 40 at epoch 1 is below 95 % of it.
    single = table.groups[1]
    assert single.epochs_to[0.95].mean == 2.0
    assert math.isnan(single.epochs_to[0.95].std)


def test_population_std(brf_runs):
    table = convergence_table(brf_runs, ddof=0)
    # Epochs to 95 %: 3, 2, 1 -> population std sqrt(2/3).
    assert table.groups[0].epochs_to[0.95].std == pytest.approx(math.sqrt(2 / 3), rel=1e-15)


def test_log_file_paths_and_grouping(brf_runs, tmp_path):
    no_config = _write_run(tmp_path / "plain", [1.0, 0.5], [10.0, 40.0], config=False)
    table = convergence_table([brf_runs[0] / "log.csv", no_config / "log.csv"], group_by=())
    assert [group.group for group in table.groups] == [str(brf_runs[0] / "log.csv"), str(no_config / "log.csv")]
    by_seed = convergence_table(brf_runs, group_by=["model", "seed"])
    assert len(by_seed.groups) == 3
    assert by_seed.groups[1].group == "model=brf seed=1"


def test_markdown_lists_groups_and_runs(brf_runs):
    text = format_convergence_markdown(convergence_table(brf_runs))
    assert "| model=brf | 3 | 0, 1, 2 | 2.0 ± 1.0 [1-3] | 3.0 ± 1.0 [2-4] |" in text
    assert "| 80.00 |" in text
    assert text.count("| model=brf |") == 4


def test_save_csv_and_json(brf_runs, tmp_path):
    table = convergence_table(brf_runs)
    save_convergence(table, tmp_path / "table.csv")
    with open(tmp_path / "table.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["row"] for row in rows] == ["run", "run", "run", "group"]
    assert rows[0]["epochs_to_95"] == "3"
    assert float(rows[3]["epochs_to_95"]) == 2.0
    assert float(rows[3]["epochs_to_95_std"]) == 1.0

    save_convergence(table, tmp_path / "table.json")
    saved = json.loads((tmp_path / "table.json").read_text())
    assert saved["groups"][0]["epochs_to_98"]["mean"] == 3.0
    assert saved["runs"][1]["best_epoch"] == 5

    with pytest.raises(RFSimError, match=".csv or .json"):
        save_convergence(table, tmp_path / "table.txt")


def test_matches_training_summary(synthetic_runs):
    for folder in synthetic_runs.values():
        run = run_convergence(folder)
        summary = json.loads((folder / "summary.json").read_text())
        assert run.best_epoch == summary["best_epoch"]
        assert run.final_accuracy == summary["test_accuracy"]
        assert run.final_sop == summary["test_sop"]
        assert run.epochs_to[0.95] == summary["epochs_to_95"]
        assert run.epochs_to[0.98] == summary["epochs_to_98"]
        assert run.epochs_to[1.0] == summary["epochs_to_100"]


def test_bad_input(brf_runs, tmp_path):
    with pytest.raises(RFSimError, match="not found"):
        convergence_table([tmp_path / "missing"])
    with pytest.raises(RFSimError, match="at least one"):
        convergence_table([])
    with pytest.raises(RFSimError, match="cannot group by optimiser"):
        convergence_table(brf_runs, group_by=["optimiser"])
    with pytest.raises(RFSimError, match="ddof"):
        convergence_table(brf_runs, ddof=2)

    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "log.csv").write_text(",".join(COLUMNS) + "\n")
    with pytest.raises(RFSimError, match="no epochs"):
        convergence_table([tmp_path / "empty"])

    (tmp_path / "gap").mkdir()
    (tmp_path / "gap" / "log.csv").write_text(",".join(COLUMNS) + "\n" + "\n".join(
        f"{epoch},0,1,1,1,1,1,1,1,1,1" for epoch in (0, 2)) + "\n")
    with pytest.raises(RFSimError, match="in order"):
        convergence_table([tmp_path / "gap"])


def test_mixed_tasks_and_untrained_runs_warn(brf_runs, tmp_path):
    other = _write_run(tmp_path / "synthetic-run", [1.0, 0.5], [25.0, 60.0], task="synthetic")
    with pytest.warns(RFSimWarning, match="mixes runs of the tasks ecg, synthetic; add --group-by task"):
        convergence_table([*brf_runs, other])

    # Grouping by the task as well separates them without a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = convergence_table([*brf_runs, other], group_by=("task", "model"))
    assert [group.group for group in table.groups] == ["task=ecg model=brf", "task=synthetic model=brf"]

    untrained = _write_run(tmp_path / "nan-run", [1.0], [10.0])
    with pytest.warns(RFSimWarning, match="has no trained epoch"):
        convergence_table([untrained])

