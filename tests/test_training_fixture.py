"""Tests of the shared synthetic checkpoints that analysis tests start from."""

from rfsim.training.checkpoint import load_checkpoint


def test_synthetic_runs_have_checkpoints(synthetic_runs):
    assert set(synthetic_runs) == {"brf", "rf", "alif"}
    for model, run_dir in synthetic_runs.items():
        checkpoint = load_checkpoint(run_dir / "best.npz")
        assert checkpoint.metadata["model"] == model
        assert checkpoint.metadata["task"] == "synthetic"
        assert (run_dir / "init.npz").is_file()
