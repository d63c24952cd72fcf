"""Training configurations and the per-task presets of the experiments of Higuchi et al. (ICML 2024).

The presets reproduce the settings of the authors' published training
scripts and checkpoints (AdaptiveAILab/brf-neurons, July 2024). They set the
network size, optimizer, learning rate, batch size, epochs, initialisation
ranges, loss type and the TBPTT window of the ALIF baselines. Every value
can be overridden from the command line or from a TOML or JSON file, and the
resolved configuration is saved with each run.
"""

import dataclasses
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rfsim.errors import RFSimError

TASKS = ("ecg", "smnist", "psmnist", "shd", "synthetic")
MODELS = ("brf", "rf", "bhrf", "alif")
OPTIMIZERS = ("adam", "radam", "rmsprop")
LR_SCHEDULES = ("linear", "constant")


@dataclass(frozen=True)
class TrainConfig:
    """Resolved settings of one training run.

    Attributes
    ----------
    task, model : str
        Task name (see ``TASKS``) and hidden neuron model (see ``MODELS``).
    n_hidden : int
        Number of recurrent hidden neurons.
    epochs, batch_size : int
        Training epochs and sequences per training batch.
    optimizer : {'adam', 'radam', 'rmsprop'}
        Optimizer, with PyTorch's default hyper-parameters besides ``lr``.
    lr : float
        Initial learning rate.
    lr_schedule : {'linear', 'constant'}
        'linear' multiplies the rate by (1 - epoch/epochs) at the start of each
        epoch, reaching zero after the last one, as the authors' scripts do.
    grad_clip : float or None
        Maximum total gradient norm (of the summed loss), or None for no clipping.
    omega_range, b_offset_range : tuple of float
        Bounds of the uniform initialisation of omega [rad/s] and b_offset [1/s].
    tau_out, tau_mem, tau_adp : tuple of float
        (mean, std) of the normal initialisation of the readout, ALIF membrane
        and ALIF adaptation time constants, in time steps.
    loss : {'sequence', 'label-last', 'cross-entropy'}
        Loss type of the engine.
    loss_offset : int
        Number of initial time steps that the loss and the accuracy skip.
    tbptt_window : int or None
        Truncated-BPTT window with an optimizer step per window, or None for full BPTT.
    hidden_bias, output_bias : bool
        Whether the hidden and output layers have a bias.
    dt : float
        Time step of the RF-family neurons [s].
    surrogate : str
        Surrogate derivative name of the engine.
    rf_reset : {'none', 'soft', 'hard'}
        Reset of the plain RF model.
    pruning : float
        Probability that a recurrent weight is removed by the fixed pruning mask.
    dtype : {'float64', 'float32'}
        Floating-point precision of the engine. float64 here, unlike the engine's
        float32 default, because the results in ``benchmarks/RESULTS.md`` were trained
        in float64; float32 takes about half the time per step.
    seed : int
        Seed of every random draw of the run (initialisation, split, shuffling, mask).
    valid_fraction : float
        Fraction of the training sequences held out for validation.
    limit_train, limit_eval : int or None
        Use only the first so many training (and validation/test) sequences,
        for quick runs; None uses all.
    eval_batch_size : int
        Sequences per batch during evaluation (does not change the results).
    data_dir : str or None
        Folder with local dataset files (overrides ``RFSIM_DATA_DIR``).
    omega_init : {'uniform', 'spectrum'}
        'uniform' draws omega from ``omega_range``; 'spectrum' draws it around
        the dominant angular frequencies of the training inputs' power spectrum
        (``rfsim.analysis.parameters.spectrum_omega_init``), in proportion to
        their power, searching only up to the upper bound of ``omega_range``.
        RF-family models only.
    brf_boundary, brf_refractory, brf_smooth_reset : bool
        BRF ablation switches (``rfsim.network.RSNNConfig``), all True (the published
        BRF) by default: False removes the divergence boundary p(omega), q in the
        threshold (refractory period) or q in the damping (smooth reset). BRF only.
    """

    task: str = "ecg"
    model: str = "brf"
    n_hidden: int = 36
    epochs: int = 400
    batch_size: int = 16
    optimizer: str = "adam"
    lr: float = 0.1
    lr_schedule: str = "linear"
    grad_clip: float | None = None
    omega_range: tuple = (3.0, 5.0)
    b_offset_range: tuple = (0.1, 1.0)
    tau_out: tuple = (20.0, 1.0)
    tau_mem: tuple = (20.0, 5.0)
    tau_adp: tuple = (20.0, 5.0)
    loss: str = "sequence"
    loss_offset: int = 0
    tbptt_window: int | None = None
    hidden_bias: bool = False
    output_bias: bool = False
    dt: float = 0.01
    surrogate: str = "reference"
    rf_reset: str = "none"
    pruning: float = 0.0
    dtype: str = "float64"
    seed: int = 0
    valid_fraction: float = 0.1
    limit_train: int | None = None
    limit_eval: int | None = None
    eval_batch_size: int = 256
    data_dir: str | None = None
    omega_init: str = "uniform"
    brf_boundary: bool = True
    brf_refractory: bool = True
    brf_smooth_reset: bool = True

    def __post_init__(self):
        _check_config(self)

    def to_dict(self):
        """Return the configuration as a JSON-ready dict."""
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in dataclasses.asdict(self).items()}


def _check_config(config):
    """Raise ``RFSimError`` naming the first invalid setting."""
    choices = {
        "task": TASKS,
        "model": MODELS,
        "optimizer": OPTIMIZERS,
        "lr_schedule": LR_SCHEDULES,
        "loss": ("sequence", "label-last", "cross-entropy"),
        "rf_reset": ("none", "soft", "hard"),
        "dtype": ("float64", "float32"),
        "omega_init": ("uniform", "spectrum"),
    }
    for name, allowed in choices.items():
        if getattr(config, name) not in allowed:
            raise RFSimError(f"invalid {name}={getattr(config, name)!r}; choose one of {', '.join(allowed)}")

    positive_ints = ("n_hidden", "epochs", "batch_size", "eval_batch_size")
    for name in positive_ints:
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise RFSimError(f"{name} must be a positive integer, got {name}={value!r}")

    for name in ("limit_train", "limit_eval", "tbptt_window"):
        value = getattr(config, name)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise RFSimError(f"{name} must be a positive integer or unset, got {name}={value!r}")

    if not isinstance(config.loss_offset, int) or config.loss_offset < 0:
        raise RFSimError(f"loss_offset must be a non-negative integer, got {config.loss_offset!r}")
    if not config.lr > 0:
        raise RFSimError(f"lr must be positive, got lr={config.lr!r}")
    if config.grad_clip is not None and not config.grad_clip > 0:
        raise RFSimError(f"grad_clip must be positive or unset, got grad_clip={config.grad_clip!r}")
    if not 0.0 <= config.pruning < 1.0:
        raise RFSimError(f"pruning must be a probability in [0, 1), got pruning={config.pruning!r}")
    if not 0.0 < config.valid_fraction < 1.0:
        raise RFSimError(f"valid_fraction must lie in (0, 1), got valid_fraction={config.valid_fraction!r}")
    if not config.dt > 0:
        raise RFSimError(f"dt must be a positive time step in seconds, got dt={config.dt!r}")

    for name in ("omega_range", "b_offset_range", "tau_out", "tau_mem", "tau_adp"):
        value = getattr(config, name)
        if len(value) != 2:
            raise RFSimError(f"{name} must be a pair of numbers, got {name}={value!r}")
    for name in ("omega_range", "b_offset_range"):
        low, high = getattr(config, name)
        if not low <= high:
            raise RFSimError(f"{name} must be (low, high) with low <= high, got {name}={getattr(config, name)!r}")
    for name in ("brf_boundary", "brf_refractory", "brf_smooth_reset"):
        value = getattr(config, name)
        if not isinstance(value, bool):
            raise RFSimError(f"{name} must be true or false, got {name}={value!r}")
        if not value and config.model != "brf":
            raise RFSimError(f"{name}=False is a BRF ablation and applies to model 'brf' only, "
                             f"got model={config.model!r}")
    if config.omega_init == "spectrum" and config.model == "alif":
        raise RFSimError("omega_init='spectrum' applies to RF-family models; ALIF neurons have no omega")
    omega_high = config.omega_range[1]
    if config.model != "alif" and omega_high * config.dt > 1.0:
        raise RFSimError(
            f"omega_range upper bound {omega_high:g} rad/s exceeds 1/dt = {1.0 / config.dt:g} rad/s, "
            "where p(omega) has no real value; lower omega_range or dt"
        )


# Settings of the authors' scripts and published checkpoints, per task and model.
# ECG: BRF and RF 4-36-6, Adam 0.1, batch 16, 400 epochs; ALIF Adam 0.05, batch 64, loss offset 10.
# S-MNIST: 1-256-10, Adam 0.1, batch 256, 300 epochs, label-last, gradient norm clipped to 1.
# PS-MNIST: as S-MNIST with per-step loss and omega in (15, 85). ALIF on (PS-)MNIST: Adam 0.001, TBPTT 50.
# SHD: 700-128-20, Adam 0.075, batch 32, 20 epochs.
_TASK_BASE = {
    "ecg": dict(n_hidden=36, epochs=400, batch_size=16, lr=0.1, omega_range=(3.0, 5.0),
                b_offset_range=(0.1, 1.0), tau_out=(20.0, 1.0), loss="sequence"),
    "smnist": dict(n_hidden=256, epochs=300, batch_size=256, lr=0.1, omega_range=(15.0, 50.0),
                   b_offset_range=(0.1, 1.0), tau_out=(20.0, 5.0), loss="label-last", grad_clip=1.0),
    "psmnist": dict(n_hidden=256, epochs=300, batch_size=256, lr=0.1, omega_range=(15.0, 85.0),
                    b_offset_range=(0.1, 1.0), tau_out=(20.0, 1.0), loss="sequence", grad_clip=1.0),
    "shd": dict(n_hidden=128, epochs=20, batch_size=32, lr=0.075, omega_range=(5.0, 10.0),
                b_offset_range=(2.0, 3.0), tau_out=(20.0, 5.0), loss="sequence"),
    "synthetic": dict(n_hidden=24, epochs=15, batch_size=16, lr=0.05, omega_range=(5.0, 40.0),
                      b_offset_range=(0.1, 1.0), tau_out=(20.0, 5.0), loss="sequence", eval_batch_size=64),
}

_ALIF_OVERRIDES = {
    "ecg": dict(lr=0.05, batch_size=64, loss_offset=10, tau_mem=(20.0, 0.5), tau_adp=(7.0, 0.2),
                tau_out=(20.0, 0.5)),
    "smnist": dict(lr=0.001, tbptt_window=50, tau_mem=(20.0, 5.0), tau_adp=(200.0, 50.0), tau_out=(20.0, 5.0),
                   hidden_bias=True, output_bias=True, grad_clip=None),
    "psmnist": dict(lr=0.001, tbptt_window=50, tau_mem=(20.0, 5.0), tau_adp=(200.0, 50.0), tau_out=(20.0, 5.0),
                    grad_clip=None),
    "shd": dict(loss_offset=10, tau_mem=(20.0, 5.0), tau_adp=(150.0, 10.0), tau_out=(20.0, 5.0)),
    "synthetic": dict(lr=0.01, tau_mem=(20.0, 5.0), tau_adp=(20.0, 5.0)),
}


def preset(task, model):
    """Return the preset settings for ``task`` and ``model`` as a dict of overrides.

    The BHRF network uses the BRF settings of the same task, because the
    authors published no BHRF training script.
    """
    if task not in TASKS:
        raise RFSimError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if model not in MODELS:
        raise RFSimError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")

    settings = dict(task=task, model=model, **_TASK_BASE[task])
    if model == "alif":
        settings.update(_ALIF_OVERRIDES[task])
    return settings


def read_config_file(path):
    """Read overrides from a TOML or JSON file.

    The file is a flat table of setting names, or the ``config.json`` that ``train``
    writes into a run folder, whose settings sit under its ``"train"`` key (its
    ``"network"`` and ``"task"`` entries are derived from them and skipped).
    """
    path = Path(path)
    try:
        text = path.read_bytes()
    except OSError as error:
        raise RFSimError(f"cannot read config file {str(path)!r}: {error}") from error

    try:
        if path.suffix == ".toml":
            values = tomllib.loads(text.decode("utf-8"))
        elif path.suffix == ".json":
            values = json.loads(text)
        else:
            raise RFSimError(f"config file {str(path)!r} must end in .toml or .json")
    except (ValueError, UnicodeDecodeError) as error:
        raise RFSimError(f"invalid config file {str(path)!r}: {error}") from error

    if not isinstance(values, dict):
        raise RFSimError(f"config file {str(path)!r} must contain a table of settings")
    if isinstance(values.get("train"), dict) and isinstance(values.get("network"), dict):
        return values["train"]
    return values


def resolve_config(task="ecg", model="brf", overrides=None, config_file=None):
    """Combine a preset, a config file and explicit overrides into a ``TrainConfig``.

    Later sources win: the preset of (task, model), then the file, then
    ``overrides`` (typically the command-line options that were given).
    A file or override may itself set ``task`` and ``model``.
    """
    file_values = read_config_file(config_file) if config_file is not None else {}
    overrides = {key: value for key, value in (overrides or {}).items() if value is not None}

    task = overrides.get("task", file_values.get("task", task))
    model = overrides.get("model", file_values.get("model", model))
    settings = preset(task, model)
    settings.update(file_values)
    settings.update(overrides)

    known = {item.name for item in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise RFSimError(f"unknown setting(s) {', '.join(unknown)}; valid names are {', '.join(sorted(known))}")

    for name in ("omega_range", "b_offset_range", "tau_out", "tau_mem", "tau_adp"):
        if isinstance(settings.get(name), list):
            settings[name] = tuple(settings[name])
    return TrainConfig(**settings)
