"""The ``rfsim data`` group: fetch and inspect the datasets."""

import click

from rfsim.cli import cli, data_dir_option, fail_on_rfsim_error


@cli.group()
def data():
    """Find, download and inspect the datasets of the training tasks."""


@data.command("fetch")
@click.argument("task", type=click.Choice(["ecg", "smnist", "psmnist", "shd"]))
@data_dir_option
@click.option("--download/--no-download", default=None,
              help="Allow or forbid downloading missing files (default: download unless a data folder is set).")
@fail_on_rfsim_error
def data_fetch(task, data_dir, download):
    """Find or download every file of TASK and verify its SHA-256.

    Every file is tried, so one run lists all the files that are present and all that
    are missing. The exit status is 1 when a file is missing or fails its check.
    """
    from rfsim.data import TASK_FILES, MissingDataError
    from rfsim.data.fetch import fetch_file

    missing = []
    for file_name in TASK_FILES[task]:
        try:
            fetched = fetch_file(file_name, data_dir=data_dir, download=download)
        except MissingDataError as error:
            missing.append((file_name, str(error)))
            continue
        status = "verified" if fetched.verified else "no registered checksum"
        click.echo(f"{fetched.path}  sha256 {fetched.sha256}  ({status}, from {fetched.origin})")
    if not missing:
        return

    for file_name, _ in missing:
        click.echo(f"{file_name}  missing")
    note = ""
    if task in ("smnist", "psmnist") and all(name.startswith("train-") for name, _ in missing):
        note = (" Training still runs: it splits the 10,000 t10k test images into train, validation and "
                "test sets, with a warning that the accuracies are not comparable to published ones.")
    raise click.ClickException(f"{len(missing)} of {len(TASK_FILES[task])} files of task {task} are missing."
                               f"{note} First missing file: {missing[0][1]}")


@data.command("info")
@click.argument("task", type=click.Choice(["ecg", "smnist", "psmnist", "shd", "synthetic"]))
@data_dir_option
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the train/validation split.")
@fail_on_rfsim_error
def data_info(task, data_dir, seed):
    """Load TASK and print its sizes, class counts and source files as JSON."""
    import json

    from rfsim.data import load_task, summarize_task

    summary = summarize_task(load_task(task, data_dir=data_dir, seed=seed))
    click.echo(json.dumps(summary, indent=2, default=str))
