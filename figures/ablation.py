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

import sys

import _studies
from _common import make_parser, run_main, write_figure


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
    from rfsim.analysis.studies import load_study

    return load_study(study_dir, "ablation", variants, seeds, data_dir=data_dir)


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
