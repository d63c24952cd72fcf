"""Test accuracy and sparsity of the BRF neuron with each of its mechanisms switched off.

Regenerates Figure 10 of Higuchi, Kairat, Bohte and Otte, "Balanced
Resonate-and-Fire Neurons" (ICML 2024) from a study folder written by

    rfsim study ablation --task ecg --variants all,no-boundary,refractory-only,smooth-reset-only --seeds 0,1,2 \\
        --out STUDY_DIR

The BRF damping is b_t = p(omega) - b_offset - q_{t-1} and its threshold
theta + q_{t-1}. The variants (``rfsim.analysis.studies.ABLATION_VARIANTS``)
keep or remove the divergence boundary p(omega), the refractory period (q in the
threshold) and the smooth reset (q in the damping): ``all``, ``no-boundary``,
``refractory-only``, ``smooth-reset-only`` and ``none`` (a plain RF without
reset). Every run is scored by its best checkpoint (lowest validation loss). The
figure (``rfsim.analysis.plots_network.study_figure``) shows one bar per variant
for the test accuracy [%], the SOP (hidden spikes per test sequence) and the
synaptic operations per test sequence. Bars are the mean over seeds, error bars
one sample standard deviation, and dots the single seeds.

Only finished runs are read; a folder with an unfinished or missing run raises
an error instead of training it.

Example::

    python figures/ablation.py runs/ablation-ecg --out ablation.png
"""

import re
import sys

import _studies
from _common import make_parser, run_main, write_figure

FOLDER_PATTERN = re.compile(r"^(?P<variant>.+)-seed(?P<seed>\d+)$")
"""Name of an ablation run folder: ``<variant>-seed<seed>``."""


def parse_args(argv=None):
    parser = make_parser(__doc__)
    parser.add_argument("study", metavar="STUDY_DIR", help="folder written by rfsim study ablation --out")
    parser.add_argument("--variants", type=lambda text: [item.strip() for item in text.split(",") if item.strip()],
                        default=None, metavar="LIST",
                        help="comma-separated variants to draw, in this order (default: all in the folder, in "
                             "the order all, no-boundary, refractory-only, smooth-reset-only, none)")
    _studies.add_study_options(parser)
    return parser.parse_args(argv)


def load_ablation_table(study_dir, variants=None, seeds=None, data_dir=None):
    """Return the ``StudyTable`` of the finished BRF ablation study in ``study_dir``.

    Parameters
    ----------
    study_dir : str or Path
        Folder of ``rfsim study ablation``.
    variants : sequence of str, optional
        Variants to include, in drawing order (default: all found, in the order of ``ABLATION_VARIANTS``).
    seeds : sequence of int, optional
        Seeds to include (default: all found).
    data_dir : str, optional
        Dataset folder, used only to measure a run's sparsity again when its cache is stale.
    """
    from rfsim.analysis.studies import ABLATION_FIELDS, ABLATION_VARIANTS, ablation_study, check_variants
    from rfsim.errors import RFSimError

    runs = _studies.read_runs(study_dir)
    task, model, overrides = _studies.shared_settings(runs)
    if model != "brf":
        raise RFSimError(f"the study in {str(study_dir)!r} trained {model} networks; an ablation study trains brf")
    if data_dir is not None:
        overrides["data_dir"] = data_dir

    found = {}
    for folder, settings in runs:
        match = FOLDER_PATTERN.match(folder.name)
        variant = match["variant"] if match else None
        if variant not in ABLATION_VARIANTS or int(match["seed"]) != int(settings["seed"]):
            raise RFSimError(f"run folder {folder.name} is not named <variant>-seed<seed> after its config.json "
                             f"(seed {settings['seed']}), with a variant from {', '.join(ABLATION_VARIANTS)}")
        switches = tuple(settings.get(field, True) for field in ABLATION_FIELDS)
        if switches != ABLATION_VARIANTS[variant]:
            raise RFSimError(f"run folder {folder.name} has the switches {dict(zip(ABLATION_FIELDS, switches))} "
                             f"in its config.json, which are not those of the variant {variant!r}")
        found[(variant, int(settings["seed"]))] = folder

    if variants is None:
        variants = [name for name in ABLATION_VARIANTS if any(variant == name for variant, _ in found)]
    variants = list(check_variants(variants))
    seeds = sorted({seed for _, seed in found}) if seeds is None else [int(seed) for seed in seeds]
    _studies.check_complete(found, variants, seeds, lambda variant, seed: f"{variant}-seed{seed}")
    return ablation_study(task, variants, seeds, study_dir, overrides, callback=_studies.reject_training)


def build_figure(table):
    """Build the bar figure of an ablation ``StudyTable``."""
    from rfsim.analysis.plots_network import study_figure

    return study_figure(table, title=f"BRF mechanism ablation on {table.task}, {_studies.epochs_text(table)}; "
                                     f"mean +- std (ddof 1) over {len(table.seeds)} seed(s), dots: single seeds")


def _main(argv):
    args = parse_args(argv)
    table = load_ablation_table(args.study, args.variants, args.seeds, args.data_dir)
    print("\n".join(table.lines()))
    write_figure(build_figure(table), args.out)
    return 0


def main(argv=None):
    """Run the script with command-line arguments ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    return run_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
