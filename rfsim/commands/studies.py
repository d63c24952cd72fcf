"""The ``rfsim study`` group: pruning and ablation studies."""

import click

from rfsim.cli import (
    check_figure_suffix,
    check_suffix,
    cli,
    data_dir_option,
    fail_on_rfsim_error,
    logger,
    parse_number_list,
)
from rfsim.commands.training import ProgressReporter
from rfsim.errors import RFSimError


@cli.group()
def study():
    """Train one run per setting and seed and tabulate accuracy and sparsity (pruning, BRF ablation)."""


def _parse_settings(pairs):
    """Parse --set KEY=VALUE pairs; a VALUE is read as JSON where it can be (numbers, lists, true/null)."""
    import json

    overrides = {}
    for pair in pairs:
        key, separator, text = pair.partition("=")
        if not separator or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE such as lr=0.05, got {pair!r}", param_hint="--set")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        overrides[key.strip()] = tuple(value) if isinstance(value, list) else value
    return overrides


def _study_options(function):
    """Add the options that every study command shares."""
    options = [
        click.option("--task", type=click.Choice(["ecg", "smnist", "psmnist", "shd", "synthetic"]), default="ecg",
                     show_default=True, help="Task to train on."),
        click.option("--seeds", "seeds_text", default="0", show_default=True,
                     help="Comma-separated seeds; each setting is trained once per seed."),
        click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
                     help="Folder of the study: one run folder per setting and seed (finished runs are reused)."),
        click.option("--epochs", type=int, default=None, help="Training epochs (default: the task's preset)."),
        click.option("--hidden", "n_hidden", type=int, default=None, help="Number of hidden neurons."),
        click.option("--batch-size", type=int, default=None, help="Training sequences per batch."),
        click.option("--lr", type=float, default=None, help="Initial learning rate."),
        click.option("--limit-train", type=int, default=None, help="Train on only the first N training sequences."),
        click.option("--limit-eval", type=int, default=None, help="Validate and test on only the first N sequences."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
                     help="TOML or JSON file of training settings that override the preset."),
        click.option("--set", "set_pairs", multiple=True, metavar="KEY=VALUE",
                     help="Any other training setting, such as --set dtype=float32 (repeatable)."),
        data_dir_option,
        click.option("--table", "table_path", type=click.Path(dir_okay=False), default=None,
                     help="Write the table to this .csv (one row per run), .json or .md file."),
        click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
                     help="Write test accuracy, SOP and synaptic operations per setting to this figure."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _study_overrides(epochs, n_hidden, batch_size, lr, limit_train, limit_eval, set_pairs, data_dir):
    overrides = _parse_settings(set_pairs)
    named = dict(epochs=epochs, n_hidden=n_hidden, batch_size=batch_size, lr=lr, limit_train=limit_train,
                 limit_eval=limit_eval, data_dir=data_dir)
    overrides.update({key: value for key, value in named.items() if value is not None})
    return overrides


def _study_reporter(event, info):
    if event == "run_skipped":
        logger.info("%s seed %d: finished earlier in %s, reusing it", info["setting"], info["seed"], info["run_dir"])
    elif event == "run_start":
        action = "resuming" if info["status"] == "resumed" else "training"
        logger.info("%s seed %d: %s in %s", info["setting"], info["seed"], action, info["run_dir"])
    elif event == "run_done":
        run = info["run"]
        logger.info("%s seed %d: test accuracy %.2f %%, SOP %.1f (best epoch %d)", run.setting, run.seed,
                    run.test_accuracy, run.sop, run.best_epoch)


def _check_study_inputs(check, items, option, seeds_text, table_path, plot_path):
    """Check a study's items with ``check``, its output names, and return its parsed seeds.

    An ``RFSimError`` from ``check`` becomes a usage error of ``option``.
    """
    try:
        check(items)
    except RFSimError as error:
        raise click.BadParameter(str(error), param_hint=option) from error
    seeds = parse_number_list(seeds_text, "--seeds", int)
    check_suffix(table_path, (".csv", ".json", ".md"), "--table")
    check_figure_suffix(plot_path)
    return seeds


def _finish_study(table, table_path, plot_path):
    for line in table.lines():
        click.echo(line)
    if table_path is not None:
        from rfsim.analysis.studies import save_study_table

        save_study_table(table, table_path)
        click.echo(f"table written to {table_path}")
    if plot_path is not None:
        from rfsim.analysis.plots_network import save_figure, study_figure

        save_figure(study_figure(table), plot_path)
        click.echo(f"figure written to {plot_path}")


@study.command("pruning")
@click.option("--model", type=click.Choice(["brf", "rf", "bhrf", "alif"]), default="brf", show_default=True,
              help="Hidden neuron model.")
@click.option("--probabilities", "probabilities_text", default="0,0.25,0.5,0.75", show_default=True,
              help="Comma-separated recurrent pruning probabilities p in [0, 1).")
@_study_options
@fail_on_rfsim_error
def study_pruning(model, probabilities_text, task, seeds_text, out_dir, epochs, n_hidden, batch_size, lr, limit_train,
                  limit_eval, config_file, set_pairs, data_dir, table_path, plot_path):
    """Train with each recurrent pruning probability and seed; print accuracy and SOP against p."""
    from rfsim.analysis.studies import check_probabilities, pruning_study

    probabilities = parse_number_list(probabilities_text, "--probabilities")
    seeds = _check_study_inputs(check_probabilities, probabilities, "--probabilities", seeds_text, table_path,
                                plot_path)

    overrides = _study_overrides(epochs, n_hidden, batch_size, lr, limit_train, limit_eval, set_pairs, data_dir)
    table = pruning_study(task, model, probabilities, seeds, out_dir, overrides, config_file=config_file,
                          callback=_study_reporter, train_callback=ProgressReporter(False))
    _finish_study(table, table_path, plot_path)


@study.command("ablation")
@click.option("--variants", "variants_text", default="all,no-boundary,refractory-only,smooth-reset-only",
              show_default=True,
              help="Comma-separated BRF variants: all, no-boundary (p(omega) -> 0), refractory-only (q only in "
                   "the threshold), smooth-reset-only (q only in the damping), none (plain RF).")
@_study_options
@fail_on_rfsim_error
def study_ablation(variants_text, task, seeds_text, out_dir, epochs, n_hidden, batch_size, lr, limit_train,
                   limit_eval, config_file, set_pairs, data_dir, table_path, plot_path):
    """Train each BRF mechanism variant and seed; print accuracy and SOP per variant."""
    from rfsim.analysis.studies import ablation_study, check_variants

    variants = [item.strip() for item in variants_text.split(",") if item.strip()]
    seeds = _check_study_inputs(check_variants, variants, "--variants", seeds_text, table_path, plot_path)

    overrides = _study_overrides(epochs, n_hidden, batch_size, lr, limit_train, limit_eval, set_pairs, data_dir)
    table = ablation_study(task, variants, seeds, out_dir, overrides, config_file=config_file,
                           callback=_study_reporter, train_callback=ProgressReporter(False))
    _finish_study(table, table_path, plot_path)
