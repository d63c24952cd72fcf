"""Checkpoints: parameters in ``.npz`` under the authors' state-dict names, metadata in JSON.

A checkpoint ``NAME.npz`` contains one array per trainable parameter, keyed by the
names of the authors' PyTorch state dict (``hidden.linear.weight``,
``hidden.omega``, ``hidden.b_offset``, ``out.linear.weight``, ``out.tau_mem``;
for ALIF ``hidden.tau_mem`` and ``hidden.tau_adp``; ``hidden.linear.bias`` and
``out.linear.bias`` where present). The sidecar ``NAME.json`` records the model
type, the network sizes, dt, the task, the resolved training configuration,
dataset checksums, the rfsim version and the git revision.

Every file is written atomically: to a temporary file in the same folder, then
renamed over the target, so an interrupted write never leaves a truncated file.
"""

import json
import os
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from rfsim import __version__
from rfsim.errors import RFSimError

RF_FAMILY = ("brf", "rf", "bhrf")
MODELS = RF_FAMILY + ("alif",)


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint.

    Attributes
    ----------
    params : dict of str to ndarray
        Parameters under the authors' state-dict names (raw values, before abs()).
    metadata : dict
        The JSON sidecar: ``model``, ``n_in``, ``n_hidden``, ``n_out``, ``dt``,
        ``task`` and whatever else the writer recorded.
    path : pathlib.Path
        The ``.npz`` file that was read.
    """

    params: dict
    metadata: dict
    path: Path


def expected_shapes(model, n_in, n_hidden, n_out, hidden_bias=False, output_bias=False):
    """Return the state-dict names and shapes of a network's parameters.

    Parameters
    ----------
    model : {'brf', 'rf', 'bhrf', 'alif'}
        Hidden neuron model.
    n_in, n_hidden, n_out : int
        Numbers of inputs, hidden neurons and outputs.
    hidden_bias, output_bias : bool, optional
        Whether the hidden and output layers have a bias.

    Returns
    -------
    dict of str to tuple of int
    """
    if model not in MODELS:
        raise RFSimError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")

    from rfsim.network.init import parameter_shapes

    layout = SimpleNamespace(model=model, n_in=n_in, n_hidden=n_hidden, n_out=n_out,
                             hidden_bias=hidden_bias, output_bias=output_bias)
    return parameter_shapes(layout)


def check_params_fit(params, shapes, source="checkpoint"):
    """Raise ``RFSimError`` naming the first mismatch between ``params`` and ``shapes``."""
    missing = sorted(set(shapes) - set(params))
    if missing:
        raise RFSimError(f"{source} lacks the parameters {', '.join(missing)} that this network needs")

    extra = sorted(set(params) - set(shapes) - {"hidden.linear.mask"})
    if extra:
        raise RFSimError(f"{source} has parameters {', '.join(extra)} that this network does not have")

    for name, shape in shapes.items():
        actual = tuple(np.shape(params[name]))
        if actual != tuple(shape):
            raise RFSimError(f"{source}: parameter {name} has shape {actual}, but this network needs {tuple(shape)}")
        if not np.all(np.isfinite(params[name])):
            raise RFSimError(f"{source}: parameter {name} contains NaN or inf")


def _atomic_replace(path, write):
    """Write a file through ``write(file_object)`` to a temporary name, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def atomic_write_text(path, text):
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    _atomic_replace(path, lambda file: file.write(text.encode("utf-8")))


def atomic_write_json(path, obj):
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def atomic_save_npz(path, arrays):
    """Save a dict of arrays as an uncompressed ``.npz`` file atomically."""
    _atomic_replace(path, lambda file: np.savez(file, **arrays))


def save_npz_or_raise(path, arrays, what):
    """Save ``arrays`` to ``path`` with ``atomic_save_npz``; a failed write raises ``RFSimError`` naming ``what``."""
    try:
        atomic_save_npz(path, arrays)
    except OSError as error:
        raise RFSimError(f"failed to write {what} {str(path)!r}: {error}") from error


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in JSON")


def git_revision():
    """Return the git commit of the rfsim source tree, or None outside a git checkout."""
    source = Path(__file__).resolve().parent
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    revision = result.stdout.strip()
    return revision if result.returncode == 0 and revision else None


def sidecar_path(path):
    """Return the JSON sidecar path of a checkpoint ``.npz`` path."""
    return Path(path).with_suffix(".json")


def save_checkpoint(path, params, metadata):
    """Save parameters and their metadata sidecar atomically.

    Parameters
    ----------
    path : str or Path
        Target ``.npz`` file; the sidecar goes to the same name with ``.json``.
    params : dict of str to ndarray
        Parameters under the authors' state-dict names.
    metadata : dict
        Must contain ``model``, ``n_in``, ``n_hidden``, ``n_out`` and ``dt``;
        ``rfsim_version`` and ``git_revision`` are added.
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise RFSimError(f"checkpoint path must end in .npz, got {str(path)!r}")
    for key in ("model", "n_in", "n_hidden", "n_out", "dt"):
        if key not in metadata:
            raise RFSimError(f"checkpoint metadata lacks {key!r}")

    sidecar = dict(metadata)
    sidecar.setdefault("rfsim_version", __version__)
    sidecar.setdefault("git_revision", git_revision())
    sidecar["parameters"] = {name: list(np.shape(value)) for name, value in params.items()}

    # The sidecar is written last, so a complete sidecar implies a complete .npz.
    atomic_save_npz(path, {name: np.asarray(value) for name, value in params.items()})
    atomic_write_json(sidecar_path(path), sidecar)


def load_checkpoint(path):
    """Load a checkpoint and check its parameters against its own metadata.

    Parameters
    ----------
    path : str or Path
        The ``.npz`` file, its ``.json`` sidecar beside it, or a run folder of
        ``rfsim train``, which stands for its ``best.npz``.

    Returns
    -------
    Checkpoint

    Raises
    ------
    RFSimError
        If a file is missing, is not a .npz archive or is unreadable, or a
        parameter's name or shape does not match the model and sizes the sidecar
        records.
    """
    path = Path(path)
    if path.is_dir():
        if not (path / "best.npz").is_file():
            raise RFSimError(f"run folder {str(path)!r} has no best.npz; give a run folder written by rfsim train "
                             "or a checkpoint .npz file")
        path = path / "best.npz"
    if not path.is_file():
        raise RFSimError(f"checkpoint {str(path)!r} not found; give the .npz file written by rfsim train")
    if path.suffix != ".npz":
        raise RFSimError(f"checkpoint {str(path)!r} is not a .npz file; give best.npz, state.npz or init.npz "
                         "of a run folder, or the run folder itself")
    sidecar = sidecar_path(path)
    if not sidecar.is_file():
        raise RFSimError(f"checkpoint sidecar {str(sidecar)!r} not found; it must sit beside {path.name}")

    try:
        metadata = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RFSimError(f"cannot read checkpoint sidecar {str(sidecar)!r}: {error}") from error
    try:
        with np.load(path, allow_pickle=False) as archive:
            params = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise RFSimError(f"checkpoint {str(path)!r} is not a valid .npz archive of arrays (damaged, or not "
                         f"written by rfsim train): {type(error).__name__}") from error

    for key in ("model", "n_in", "n_hidden", "n_out"):
        if key not in metadata:
            raise RFSimError(f"checkpoint sidecar {str(sidecar)!r} lacks {key!r}")
    shapes = expected_shapes(
        metadata["model"],
        metadata["n_in"],
        metadata["n_hidden"],
        metadata["n_out"],
        hidden_bias="hidden.linear.bias" in params,
        output_bias="out.linear.bias" in params,
    )
    check_params_fit(params, shapes, source=f"checkpoint {path.name}")
    return Checkpoint(params=params, metadata=metadata, path=path)
