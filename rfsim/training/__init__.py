"""Training pipeline: presets, checkpoints, the epoch loop and evaluation."""
