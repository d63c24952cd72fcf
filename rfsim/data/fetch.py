"""Locate, download and verify the data files of rfsim's tasks.

Each file that a loader reads is registered as a :class:`RemoteFile`: its local
name, the task folder it belongs in, the public URLs it comes from and the SHA-256
digests it may have. :func:`fetch_file` finds the file in this order:

1. A local data folder, from the ``data_dir`` argument (the CLI's ``--data-dir``)
   or else the ``RFSIM_DATA_DIR`` environment variable. The file is looked up as
   ``<dir>/<task>/<name>`` (for example ``<dir>/ecg/QTDB_train.mat``) and then as
   ``<dir>/<name>``. A file that is published gzip-compressed (SHD) may also be
   there as the ``.gz`` download; it is decompressed into the cache. A data folder
   turns downloads off unless ``download=True``.
2. The download cache, ``RFSIM_CACHE_DIR`` or else ``pooch.os_cache("rfsim")``,
   laid out as ``<cache>/<task>/<name>``.
3. A download with pooch from each registered URL in turn, into the cache.

Every file found or downloaded is checked against its registered SHA-256 digests.
A file with no registered digest is accepted unchecked and reported as such.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rfsim.errors import DataError, RFSimError

__all__ = [
    "DATA_DIR_ENV",
    "CACHE_DIR_ENV",
    "FetchedFile",
    "MissingDataError",
    "REGISTRY",
    "RemoteFile",
    "cache_dir",
    "data_dir_from_env",
    "fetch_file",
    "sha256_of_file",
    "verify_file",
]

DATA_DIR_ENV = "RFSIM_DATA_DIR"
"""Environment variable naming a local folder with the data files."""

CACHE_DIR_ENV = "RFSIM_CACHE_DIR"
"""Environment variable naming the download cache folder."""

_CHUNK_BYTES = 1 << 20


class MissingDataError(DataError):
    """A data file is neither in the data folder nor in the cache and could not be downloaded."""


@dataclass(frozen=True)
class RemoteFile:
    """A data file that rfsim can download and verify.

    Attributes
    ----------
    name : str
        File name on disk, for example ``"QTDB_train.mat"``.
    task : str
        Sub-folder of the data and cache folders (``"ecg"``, ``"mnist"``, ``"shd"``).
    urls : tuple of str
        Public download URLs, tried in order.
    sha256 : tuple of str
        Accepted SHA-256 digests of the file as stored (lower-case hex). The first
        is the digest of the download at ``urls``. Empty when no digest is known
        for certain; such a file is accepted unchecked.
    content_sha256 : str or None
        SHA-256 of the decompressed bytes of a gzip file. A gzip file with another
        file digest is still accepted when its content has this digest, because
        re-compressing the same data changes the gzip header.
    download_name : str or None
        Name of the downloaded file when it differs from ``name``: a ``.gz`` that
        is decompressed to ``name`` after the download.
    description : str
        One line naming the data set and its source, for error messages.
    """

    name: str
    task: str
    urls: tuple[str, ...]
    sha256: tuple[str, ...] = ()
    content_sha256: str | None = None
    download_name: str | None = None
    description: str = ""

    @property
    def compressed_download(self) -> bool:
        """Whether the download is a gzip file that is decompressed into ``name``."""
        return self.download_name is not None and self.download_name.endswith(".gz")


@dataclass(frozen=True)
class FetchedFile:
    """A data file found on disk and checked.

    Attributes
    ----------
    path : Path
        Location of the file.
    sha256 : str
        SHA-256 of the file as read.
    verified : str
        How the file was checked: ``"sha256"`` (digest registered), ``"content"``
        (decompressed bytes match the registered content digest) or
        ``"unregistered"`` (no digest known, accepted unchecked).
    origin : str
        ``"data_dir"``, ``"cache"`` or ``"download"``.
    url : str
        The URL the file was or would be downloaded from.
    """

    path: Path
    sha256: str
    verified: str
    origin: str
    url: str

    def as_metadata(self) -> dict[str, str]:
        """Describe the file for a dataset's metadata (JSON-compatible)."""
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "verified": self.verified,
            "origin": self.origin,
            "url": self.url,
        }


_ECG_PRIMARY = "https://raw.githubusercontent.com/byin-cwi/Efficient-spiking-networks/main/data/"
_ECG_MIRROR = "https://raw.githubusercontent.com/AdaptiveAILab/brf-neurons/main/experiments/ecg/data/"
_MNIST_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_SHD_SITE = "https://zenkelab.org/datasets/"

REGISTRY: dict[str, RemoteFile] = {
    entry.name: entry
    for entry in (
        RemoteFile(
            name="QTDB_train.mat",
            task="ecg",
            urls=(_ECG_PRIMARY + "QTDB_train.mat", _ECG_MIRROR + "QTDB_train.mat"),
            sha256=("72d1a10c96f1540880447e07256835d66da419c0b34f3dff495731a7928c5bc7",),
            description="QT database, level-crossing encoded by Yin et al. (2021), training part",
        ),
        RemoteFile(
            name="QTDB_test.mat",
            task="ecg",
            urls=(_ECG_PRIMARY + "QTDB_test.mat", _ECG_MIRROR + "QTDB_test.mat"),
            sha256=("916f11e21679a5b61988305bbb7cd1e6df8b34f1ed4a157a7a4e295d400ef232",),
            description="QT database, level-crossing encoded by Yin et al. (2021), test part",
        ),
        # The first digest of each MNIST file is that of the original gzip file, as
        # served by the mirror. The t10k files also have a second accepted digest: a
        # re-compressed copy in circulation whose decompressed bytes are identical.
        RemoteFile(
            name="train-images-idx3-ubyte.gz",
            task="mnist",
            urls=(_MNIST_MIRROR + "train-images-idx3-ubyte.gz",),
            sha256=("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",),
            content_sha256="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            description="MNIST training images (60000 x 28 x 28)",
        ),
        RemoteFile(
            name="train-labels-idx1-ubyte.gz",
            task="mnist",
            urls=(_MNIST_MIRROR + "train-labels-idx1-ubyte.gz",),
            sha256=("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",),
            content_sha256="65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            description="MNIST training labels (60000)",
        ),
        RemoteFile(
            name="t10k-images-idx3-ubyte.gz",
            task="mnist",
            urls=(_MNIST_MIRROR + "t10k-images-idx3-ubyte.gz",),
            sha256=(
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                "167310007f03058885c7e95e6c0b19c20de5c7fd3031f4cbdadc9014a523d80b",
            ),
            content_sha256="0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            description="MNIST test images (10000 x 28 x 28)",
        ),
        RemoteFile(
            name="t10k-labels-idx1-ubyte.gz",
            task="mnist",
            urls=(_MNIST_MIRROR + "t10k-labels-idx1-ubyte.gz",),
            sha256=(
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                "fc607395669ec21321ea83e4b82c0544b7e8e63ff5b34337c06bc0a17cc0da3c",
            ),
            content_sha256="ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            description="MNIST test labels (10000)",
        ),
        # NOTE: no SHA-256 is registered for the SHD files. Published MD5 sums of
        # these files disagree between sources, so downloads and local copies are
        # accepted unchecked apart from the HDF5 layout check of the loader.
        RemoteFile(
            name="shd_train.h5",
            task="shd",
            urls=(_SHD_SITE + "shd_train.h5.gz",),
            download_name="shd_train.h5.gz",
            description="Spiking Heidelberg Digits, training part (Cramer et al. 2020)",
        ),
        RemoteFile(
            name="shd_test.h5",
            task="shd",
            urls=(_SHD_SITE + "shd_test.h5.gz",),
            download_name="shd_test.h5.gz",
            description="Spiking Heidelberg Digits, test part (Cramer et al. 2020)",
        ),
    )
}
"""Every data file that a loader can fetch, by file name."""


def data_dir_from_env() -> Path | None:
    """Return the folder named by ``RFSIM_DATA_DIR``, or None when it is unset or empty."""
    value = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """Return the download cache folder: ``RFSIM_CACHE_DIR`` or ``pooch.os_cache("rfsim")``."""
    value = os.environ.get(CACHE_DIR_ENV, "").strip()
    if value:
        return Path(value).expanduser()
    import pooch

    return Path(pooch.os_cache("rfsim"))


def sha256_of_file(path: str | os.PathLike) -> str:
    """Compute the SHA-256 of a file's bytes, as lower-case hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256_of_gzip_content(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as stream:
            for chunk in iter(lambda: stream.read(_CHUNK_BYTES), b""):
                digest.update(chunk)
    except (OSError, EOFError, zlib.error):
        return None
    return digest.hexdigest()


def verify_file(entry: RemoteFile, path: str | os.PathLike, *, origin: str = "data_dir") -> FetchedFile:
    """Check a file against the digests registered for it.

    Parameters
    ----------
    entry : RemoteFile
        Registry entry of the file.
    path : path-like
        File to check.
    origin : str
        Where the file came from, recorded in the result.

    Returns
    -------
    FetchedFile

    Raises
    ------
    DataError
        If the file's SHA-256 is not registered and its decompressed content
        does not match either. The message gives the expected and actual digests.
    """
    path = Path(path)
    actual = sha256_of_file(path)
    if not entry.sha256:
        return FetchedFile(path, actual, "unregistered", origin, entry.urls[0])
    if actual in entry.sha256:
        return FetchedFile(path, actual, "sha256", origin, entry.urls[0])
    if entry.content_sha256 is not None and _sha256_of_gzip_content(path) == entry.content_sha256:
        return FetchedFile(path, actual, "content", origin, entry.urls[0])
    expected = " or ".join(entry.sha256)
    raise DataError(
        f"{entry.name} at {path} failed the checksum test: expected SHA-256 {expected}, got {actual}. "
        f"The file is corrupt or a different version; delete it and download it again from {entry.urls[0]}"
    )


def _candidate_paths(entry: RemoteFile, folder: Path) -> list[Path]:
    return [folder / entry.task / entry.name, folder / entry.name]


def _missing_file_error(entry: RemoteFile, searched: list[Path], reason: str) -> MissingDataError:
    where = ", ".join(str(path) for path in searched) if searched else "nowhere"
    description = f" ({entry.description})" if entry.description else ""
    return MissingDataError(
        f"data file {entry.name}{description} not found: {reason}. Searched: {where}. "
        f"Download it from {entry.urls[0]} and put it in <folder>/{entry.task}/{entry.name}, then set "
        f"{DATA_DIR_ENV}=<folder> or pass --data-dir <folder> (data_dir=<folder> in Python). "
        f"Without a data folder, rfsim downloads it into its cache ({CACHE_DIR_ENV} sets the cache folder)."
    )


Downloader = Callable[..., str]
"""Signature of ``pooch.retrieve``: ``(url, known_hash, fname=, path=, processor=, progressbar=) -> path``."""


def _pooch_retrieve(*args, **kwargs) -> str:
    import pooch

    return pooch.retrieve(*args, **kwargs)


def _download(entry: RemoteFile, cache_folder: Path, downloader: Downloader | None) -> FetchedFile:
    import pooch

    retrieve = _pooch_retrieve if downloader is None else downloader
    known_hash = f"sha256:{entry.sha256[0]}" if entry.sha256 else None
    processor = pooch.Decompress(method="gzip", name=entry.name) if entry.compressed_download else None
    target_folder = cache_folder / entry.task
    failures = []
    for url in entry.urls:
        try:
            path = retrieve(
                url,
                known_hash,
                fname=entry.download_name or entry.name,
                path=str(target_folder),
                processor=processor,
                progressbar=False,
            )
        except Exception as error:  # noqa: BLE001: pooch raises network, HTTP and hash errors alike
            failures.append(f"{url}: {type(error).__name__}: {error}")
            continue
        fetched = verify_file(entry, path, origin="download")
        return FetchedFile(fetched.path, fetched.sha256, fetched.verified, "download", url)
    raise _missing_file_error(
        entry,
        _candidate_paths(entry, cache_folder)[:1],
        "the download failed (" + "; ".join(failures) + ")",
    )


def _decompress_local(entry: RemoteFile, compressed: Path, cache_folder: Path) -> FetchedFile:
    """Decompress a local ``.gz`` copy into the cache, unless an up-to-date copy is there."""
    target = cache_folder / entry.task / entry.name
    if not target.is_file() or target.stat().st_mtime < compressed.stat().st_mtime:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        try:
            with gzip.open(compressed, "rb") as source, open(partial, "wb") as destination:
                for chunk in iter(lambda: source.read(_CHUNK_BYTES), b""):
                    destination.write(chunk)
        except (OSError, EOFError, zlib.error) as error:
            partial.unlink(missing_ok=True)
            raise DataError(f"{compressed}: corrupt gzip data ({error}); download it again from {entry.urls[0]}") \
                from error
        partial.replace(target)
    fetched = verify_file(entry, target, origin="data_dir")
    return FetchedFile(fetched.path, fetched.sha256, fetched.verified, "data_dir", entry.urls[0])


def fetch_file(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool | None = None,
    downloader: Downloader | None = None,
) -> FetchedFile:
    """Find, or download, a registered data file and verify it.

    Parameters
    ----------
    name : str
        File name, a key of :data:`REGISTRY` (for example ``"QTDB_train.mat"``).
    data_dir : path-like, optional
        Local data folder; overrides ``RFSIM_DATA_DIR``. The file is looked up as
        ``<data_dir>/<task>/<name>`` and then ``<data_dir>/<name>``.
    download : bool, optional
        Whether a missing file may be downloaded into the cache. The default
        (None) downloads only when no data folder is set.
    downloader : callable, optional
        Replacement for ``pooch.retrieve`` with the same signature, for tests or
        custom transports.

    Returns
    -------
    FetchedFile

    Raises
    ------
    MissingDataError
        If the file is missing and may not or cannot be downloaded. The message
        names the file, its URL and how to point rfsim at a local copy.
    DataError
        If the file's checksum is wrong.
    """
    if name not in REGISTRY:
        raise RFSimError(f"unknown data file {name!r}; registered files: {', '.join(sorted(REGISTRY))}")
    entry = REGISTRY[name]
    folder = Path(data_dir).expanduser() if data_dir is not None else data_dir_from_env()
    if folder is not None and not folder.is_dir() and download is not True:
        source = "data_dir (--data-dir)" if data_dir is not None else "RFSIM_DATA_DIR"
        raise MissingDataError(f"data folder {str(folder)!r} given by {source} does not exist; create it and "
                               "put the data files there, or give no data folder (or allow downloads) so that "
                               "rfsim downloads them")
    searched: list[Path] = []
    cache_folder = cache_dir()
    if folder is not None:
        for candidate in _candidate_paths(entry, folder):
            searched.append(candidate)
            if candidate.is_file():
                return verify_file(entry, candidate, origin="data_dir")
        if entry.compressed_download:
            for candidate in _candidate_paths(RemoteFile(entry.download_name, entry.task, entry.urls), folder):
                searched.append(candidate)
                if candidate.is_file():
                    return _decompress_local(entry, candidate, cache_folder)
    if download is None:
        download = folder is None

    cached = cache_folder / entry.task / entry.name
    searched.append(cached)
    if cached.is_file():
        return verify_file(entry, cached, origin="cache")
    if not download:
        if folder is not None:
            reason = f"it is not in the data folder {folder}, and downloads are off while a data folder is set"
        else:
            reason = "it is not in the cache, and downloads are off (download=False)"
        raise _missing_file_error(entry, searched, reason)
    return _download(entry, cache_folder, downloader)
