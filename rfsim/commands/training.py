"""Commands ``rfsim train`` and ``rfsim evaluate``."""

import click

from rfsim.cli import (
    cli,
    data_dir_option,
    fail_on_rfsim_error,
    logger,
    pair_option,
    show_progress,
    split_option,
    task_option,
)


class ProgressReporter:
    """Turn training callbacks into a tqdm progress bar and one log line per epoch."""

    def __init__(self, show_bar):
        self.show_bar = show_bar
        self.bar = None

    def __call__(self, event, info):
        from tqdm import tqdm

        if event == "epoch_start" and self.show_bar:
            self.bar = tqdm(total=info["n_batches"], desc=f"epoch {info['epoch']}", leave=False, unit="batch")
        elif event == "batch" and self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{info['loss']:.4f}", acc=f"{info['accuracy']:.2f}%")
        elif event == "epoch":
            if self.bar is not None:
                self.bar.close()
                self.bar = None
            logger.info(
                "epoch %d  train loss %.5f acc %.2f%%  valid loss %.5f acc %.2f%%  test loss %.5f acc %.2f%%  "
                "SOP %.1f (%.3f per step)  %.1f s",
                info["epoch"], info["train_loss"], info["train_accuracy"], info["valid_loss"],
                info["valid_accuracy"], info["test_loss"], info["test_accuracy"], info["test_sop"],
                info["test_sop_per_step"], info["seconds"],
            )


@cli.command()
@task_option("Task to train on (default: ecg, or the config file's task).")
@click.option("--model", type=click.Choice(["brf", "rf", "bhrf", "alif"]), default=None,
              help="Hidden neuron model (default: brf, or the config file's model).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Run folder for the log, checkpoints and summary (default: runs/TASK-MODEL-seedSEED).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="TOML or JSON file of settings that override the preset.")
@click.option("--resume", "resume_dir", type=click.Path(file_okay=False), default=None,
              help="Continue the interrupted run in this folder (its saved settings are used).")
@click.option("--max-minutes", type=float, default=None, help="Stop cleanly after this many minutes of wall time.")
@data_dir_option
@click.option("--seed", type=int, default=None, help="Seed of every random draw; equal seeds give identical runs.")
@click.option("--epochs", type=int, default=None, help="Training epochs.")
@click.option("--hidden", "n_hidden", type=int, default=None, help="Number of hidden neurons.")
@click.option("--batch-size", type=int, default=None, help="Training sequences per batch.")
@click.option("--eval-batch-size", type=int, default=None, help="Sequences per batch during evaluation.")
@click.option("--optimizer", type=click.Choice(["adam", "radam", "rmsprop"]), default=None, help="Optimizer.")
@click.option("--lr", type=float, default=None, help="Initial learning rate.")
@click.option("--lr-schedule", type=click.Choice(["linear", "constant"]), default=None,
              help="'linear' decays the learning rate to zero over the epochs.")
@click.option("--grad-clip", type=float, default=None, help="Maximum total gradient norm.")
@pair_option("--omega-range", "Bounds of the uniform initial omega [rad/s].")
@pair_option("--b-offset-range", "Bounds of the uniform initial b_offset [1/s].")
@pair_option("--tau-out", "Mean and std of the normal initial readout time constant [time steps].")
@pair_option("--tau-mem", "Mean and std of the normal initial ALIF membrane time constant [time steps].")
@pair_option("--tau-adp", "Mean and std of the normal initial ALIF adaptation time constant [time steps].")
@click.option("--loss", type=click.Choice(["sequence", "label-last", "cross-entropy"]), default=None,
              help="Loss type.")
@click.option("--loss-offset", type=int, default=None, help="Initial time steps that loss and accuracy skip.")
@click.option("--tbptt", "tbptt_window", type=int, default=None,
              help="Truncated-BPTT window in time steps, with an optimizer step per window.")
@click.option("--hidden-bias/--no-hidden-bias", default=None, help="Give the hidden layer a bias.")
@click.option("--output-bias/--no-output-bias", default=None, help="Give the output layer a bias.")
@click.option("--dt", type=float, default=None, help="Time step of the RF-family neurons [s].")
@click.option("--surrogate", type=click.Choice(["reference", "paper", "fast-sigmoid", "triangle"]), default=None,
              help="Surrogate derivative of the spike function.")
@click.option("--rf-reset", type=click.Choice(["none", "soft", "hard"]), default=None, help="Reset of the RF model.")
@click.option("--pruning", type=float, default=None, help="Probability of removing each recurrent weight.")
@click.option("--dtype", type=click.Choice(["float64", "float32"]), default=None, help="Floating-point precision.")
@click.option("--valid-fraction", type=float, default=None, help="Fraction of training sequences for validation.")
@click.option("--limit-train", type=int, default=None, help="Train on only the first N training sequences.")
@click.option("--limit-eval", type=int, default=None, help="Validate and test on only the first N sequences.")
@click.option("--omega-init", type=click.Choice(["uniform", "spectrum"]), default=None,
              help="Draw initial omegas from --omega-range, or around the training inputs' spectral peaks.")
@click.option("--brf-ablation", type=click.Choice(["all", "no-boundary", "refractory-only", "smooth-reset-only",
                                                   "none"]), default=None,
              help="BRF variant: all mechanisms (default), no divergence boundary, q only in the threshold "
                   "(refractory-only), q only in the damping (smooth-reset-only), or none (plain RF).")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar for each epoch (on a terminal only).")
@click.option("--show-config", is_flag=True,
              help="Print the resolved settings (preset, --config file and options) as JSON and exit without training.")
@fail_on_rfsim_error
def train(task, model, out_dir, config_file, resume_dir, max_minutes, data_dir, progress, show_config, **settings):
    """Train a recurrent spiking network on a task with the authors' settings.

    The preset of (TASK, MODEL) comes first, then the --config file (a flat
    TOML or JSON table of settings, or the config.json of an earlier run),
    then the options given. The run folder receives config.json (the
    settings), log.csv (one row per epoch), init.npz (the untrained network),
    best.npz (lowest validation loss), state.npz and optimizer.npz (for
    --resume) and summary.json; init.npz, best.npz and state.npz each have a
    .json sidecar.
    """
    import json

    from rfsim.analysis.studies import ablation_settings
    from rfsim.training.loop import Trainer
    from rfsim.training.presets import resolve_config

    settings.update(ablation_settings(settings.pop("brf_ablation")))
    reporter = ProgressReporter(show_progress(progress))
    if resume_dir is not None:
        given = [name for name, value in settings.items() if value is not None] + (["--task"] if task else [])
        if given or model or config_file:
            raise click.UsageError("--resume continues with the run's saved settings; give no other settings")
        trainer = Trainer(None, resume_dir, resume=True)
        if show_config:
            click.echo(json.dumps(trainer.config.to_dict(), indent=2, sort_keys=True))
            return
    else:
        settings["data_dir"] = data_dir
        config = resolve_config(task or "ecg", model or "brf", overrides=settings, config_file=config_file)
        if show_config:
            click.echo(json.dumps(config.to_dict(), indent=2, sort_keys=True))
            return
        run_dir = out_dir or f"runs/{config.task}-{config.model}-seed{config.seed}"
        trainer = Trainer(config, run_dir)

    logger.info("training %s on %s in %s", trainer.config.model, trainer.config.task, trainer.run_dir)
    try:
        summary = trainer.run(callback=reporter, max_minutes=max_minutes)
    except KeyboardInterrupt:
        raise click.ClickException(_interrupted_message(trainer)) from None

    click.echo(f"status: {summary.status} after {summary.epochs_done} epochs ({summary.wall_seconds:.1f} s)")
    click.echo(f"best epoch: {summary.best_epoch} (lowest validation loss)")
    click.echo(f"test accuracy: {summary.test_accuracy:.2f} %  test loss: {summary.test_loss:.5f}  "
               f"SOP: {summary.test_sop:.1f} spikes per sequence")
    click.echo(f"epochs to 95/98/100 % of final accuracy: "
               f"{summary.epochs_to_95}/{summary.epochs_to_98}/{summary.epochs_to_100}")
    click.echo(f"checkpoint: {trainer.run_dir / 'best.npz'}")


def _interrupted_message(trainer):
    """Return the message for a training run stopped with Ctrl-C: what is saved and how to continue."""
    state = trainer.run_dir / "state.npz"
    if not state.exists():
        return "training interrupted before its first epoch finished; start it again with a new --out folder"
    return (f"training interrupted; the state after epoch {trainer.epochs_done} is saved in {state}. "
            f"Continue the run with: rfsim train --resume {trainer.run_dir}")


@cli.command()
@click.option("--checkpoint", "checkpoint_path", type=click.Path(), required=True,
              help="Checkpoint .npz written by rfsim train (its .json sidecar beside it), or a run folder "
                   "(its best.npz).")
@task_option("Task to evaluate on (default: the checkpoint's task).")
@split_option()
@data_dir_option
@click.option("--predictions", "predictions_path", type=click.Path(dir_okay=False), default=None,
              help="Write the predicted class of every step or sequence to this .npz file.")
@click.option("--limit", type=click.IntRange(min=0), default=None,
              help="Evaluate only the first N sequences of the split; 0 evaluates the whole split. Default: the "
                   "--limit-train or --limit-eval of the training run, so the numbers match its log.")
@fail_on_rfsim_error
def evaluate(checkpoint_path, task, split, data_dir, predictions_path, limit):
    """Print the loss, accuracy and SOP of a checkpoint on a dataset split.

    The split is rebuilt with the training run's seed and, unless --limit is given,
    its sequence limits.
    """
    from rfsim.training.runs import evaluate_checkpoint

    limit = "run" if limit is None else limit or None
    result = evaluate_checkpoint(checkpoint_path, task=task, split=split, data_dir=data_dir,
                                 keep_predictions=predictions_path is not None, limit=limit)
    click.echo(f"{split} sequences: {result.n_sequences}")
    click.echo(f"{split} loss: {result.loss:.6f}")
    click.echo(f"{split} accuracy: {result.accuracy:.4f} %")
    click.echo(f"SOP: {result.sop:.2f} spikes per sequence ({result.sop_per_step:.4f} per step)")
    if predictions_path is not None:
        from rfsim.training.checkpoint import atomic_save_npz

        atomic_save_npz(predictions_path, {"predictions": result.predictions})
        click.echo(f"predictions written to {predictions_path}")
