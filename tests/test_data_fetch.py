"""Tests of data-file lookup, download and checksum checks (no network access).

Every test points RFSIM_CACHE_DIR at a temporary folder and replaces
``pooch.retrieve`` with a function that fails the test, so nothing is downloaded.
Downloads are exercised through a fake downloader that records its arguments.
"""

import gzip
import hashlib
from pathlib import Path

import pooch
import pytest

from rfsim.data import fetch
from rfsim.data.fetch import REGISTRY, MissingDataError, RemoteFile, fetch_file, sha256_of_file, verify_file
from rfsim.errors import DataError

PAYLOAD = b"rfsim test payload\n" * 50
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch, tmp_path):
    """Empty cache, no data folder, and a pooch.retrieve that must not be called."""
    monkeypatch.setenv("RFSIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RFSIM_DATA_DIR", raising=False)

    def no_network(*args, **kwargs):
        raise AssertionError(f"unexpected call to pooch.retrieve{args}")

    monkeypatch.setattr(pooch, "retrieve", no_network)


@pytest.fixture
def test_entry(monkeypatch):
    """A registered file 'payload.bin' in task folder 'demo' with a known SHA-256."""
    entry = RemoteFile(
        name="payload.bin",
        task="demo",
        urls=("https://example.org/primary/payload.bin", "https://example.org/mirror/payload.bin"),
        sha256=(PAYLOAD_SHA256,),
        description="payload used by the fetch tests",
    )
    monkeypatch.setitem(REGISTRY, entry.name, entry)
    return entry


class FakeDownloader:
    """Stand-in for pooch.retrieve: records calls, fails for URLs in ``failing``."""

    def __init__(self, content=PAYLOAD, failing=()):
        self.content = content
        self.failing = set(failing)
        self.calls = []

    def __call__(self, url, known_hash, fname=None, path=None, processor=None, progressbar=False):
        self.calls.append({"url": url, "known_hash": known_hash, "fname": fname, "path": path,
                           "processor": processor})
        if url in self.failing:
            raise ConnectionError(f"no route to {url}")
        target = Path(path) / fname
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.content)
        if processor is not None:
            return processor(str(target), "download", None)
        return str(target)


def test_registry_has_expected_ecg_hashes():
    assert REGISTRY["QTDB_train.mat"].sha256[0] == "72d1a10c96f1540880447e07256835d66da419c0b34f3dff495731a7928c5bc7"
    assert REGISTRY["QTDB_test.mat"].sha256[0] == "916f11e21679a5b61988305bbb7cd1e6df8b34f1ed4a157a7a4e295d400ef232"
    assert REGISTRY["QTDB_train.mat"].urls[0] == (
        "https://raw.githubusercontent.com/byin-cwi/Efficient-spiking-networks/main/data/QTDB_train.mat"
    )


def test_registry_digests_are_lowercase_hex():
    for entry in REGISTRY.values():
        for digest in entry.sha256 + ((entry.content_sha256,) if entry.content_sha256 else ()):
            assert len(digest) == 64, entry.name
            assert set(digest) <= set("0123456789abcdef"), entry.name
        assert entry.urls and all(url.startswith("https://") for url in entry.urls), entry.name


def test_data_dir_task_layout_found(tmp_path, test_entry):
    folder = tmp_path / "data"
    (folder / "demo").mkdir(parents=True)
    (folder / "demo" / "payload.bin").write_bytes(PAYLOAD)
    fetched = fetch_file("payload.bin", data_dir=folder)
    assert fetched.path == folder / "demo" / "payload.bin"
    assert fetched.origin == "data_dir"
    assert fetched.verified == "sha256"
    assert fetched.sha256 == PAYLOAD_SHA256


def test_data_dir_flat_layout_found(tmp_path, test_entry):
    folder = tmp_path / "flat"
    folder.mkdir()
    (folder / "payload.bin").write_bytes(PAYLOAD)
    assert fetch_file("payload.bin", data_dir=folder).path == folder / "payload.bin"


def test_data_dir_from_environment(tmp_path, monkeypatch, test_entry):
    folder = tmp_path / "env-data"
    (folder / "demo").mkdir(parents=True)
    (folder / "demo" / "payload.bin").write_bytes(PAYLOAD)
    monkeypatch.setenv("RFSIM_DATA_DIR", str(folder))
    assert fetch_file("payload.bin").path == folder / "demo" / "payload.bin"


def test_argument_overrides_environment(tmp_path, monkeypatch, test_entry):
    env_folder = tmp_path / "env-data"
    env_folder.mkdir()
    (env_folder / "payload.bin").write_bytes(b"wrong content")
    arg_folder = tmp_path / "arg-data"
    arg_folder.mkdir()
    (arg_folder / "payload.bin").write_bytes(PAYLOAD)
    monkeypatch.setenv("RFSIM_DATA_DIR", str(env_folder))
    assert fetch_file("payload.bin", data_dir=arg_folder).path == arg_folder / "payload.bin"


def test_corrupted_copy_rejected_with_both_hashes(tmp_path, test_entry):
    corrupted = bytearray(PAYLOAD)
    corrupted[100] ^= 0x01
    (tmp_path / "payload.bin").write_bytes(bytes(corrupted))
    with pytest.raises(DataError) as caught:
        fetch_file("payload.bin", data_dir=tmp_path)
    message = str(caught.value)
    assert "checksum" in message
    assert PAYLOAD_SHA256 in message
    assert hashlib.sha256(bytes(corrupted)).hexdigest() in message
    assert "payload.bin" in message


def test_missing_file_message_names_url_and_fix(tmp_path, test_entry):
    with pytest.raises(MissingDataError) as caught:
        fetch_file("payload.bin", data_dir=tmp_path)
    message = str(caught.value)
    assert "payload.bin" in message
    assert "https://example.org/primary/payload.bin" in message
    assert "RFSIM_DATA_DIR" in message
    assert "--data-dir" in message
    assert str(tmp_path / "demo" / "payload.bin") in message


def test_data_dir_disables_download(tmp_path, test_entry):
    downloader = FakeDownloader()
    with pytest.raises(MissingDataError):
        fetch_file("payload.bin", data_dir=tmp_path, downloader=downloader)
    assert downloader.calls == []


def test_data_dir_with_download_true(tmp_path, test_entry):
    downloader = FakeDownloader()
    fetched = fetch_file("payload.bin", data_dir=tmp_path / "empty", download=True, downloader=downloader)
    assert fetched.origin == "download"
    assert fetched.path == tmp_path / "cache" / "demo" / "payload.bin"
    assert len(downloader.calls) == 1


def test_download_passes_url_and_hash(tmp_path, test_entry):
    downloader = FakeDownloader()
    fetched = fetch_file("payload.bin", downloader=downloader)
    assert len(downloader.calls) == 1
    call = downloader.calls[0]
    assert call["url"] == "https://example.org/primary/payload.bin"
    assert call["known_hash"] == f"sha256:{PAYLOAD_SHA256}"
    assert call["fname"] == "payload.bin"
    assert Path(call["path"]) == tmp_path / "cache" / "demo"
    assert fetched.origin == "download"
    assert fetched.verified == "sha256"


def test_download_falls_back_to_mirror(test_entry):
    downloader = FakeDownloader(failing={"https://example.org/primary/payload.bin"})
    fetched = fetch_file("payload.bin", downloader=downloader)
    assert [call["url"] for call in downloader.calls] == list(test_entry.urls)
    assert fetched.url == "https://example.org/mirror/payload.bin"


def test_download_failure_reports_every_url(test_entry):
    downloader = FakeDownloader(failing=set(test_entry.urls))
    with pytest.raises(MissingDataError) as caught:
        fetch_file("payload.bin", downloader=downloader)
    message = str(caught.value)
    assert "download failed" in message
    assert "https://example.org/mirror/payload.bin" in message
    assert "ConnectionError" in message
    assert "RFSIM_DATA_DIR" in message


def test_download_false_without_cache(test_entry):
    with pytest.raises(MissingDataError) as caught:
        fetch_file("payload.bin", download=False)
    assert "download=False" in str(caught.value)


def test_cached_file_used_without_download(tmp_path, test_entry):
    cached = tmp_path / "cache" / "demo" / "payload.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(PAYLOAD)
    fetched = fetch_file("payload.bin", downloader=FakeDownloader(failing=set(test_entry.urls)))
    assert fetched.path == cached
    assert fetched.origin == "cache"


def test_pooch_retrieve_is_default_downloader(monkeypatch, tmp_path, test_entry):
    calls = []

    def fake_retrieve(url, known_hash, fname=None, path=None, processor=None, progressbar=False):
        calls.append((url, known_hash))
        target = Path(path) / fname
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(PAYLOAD)
        return str(target)

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    fetch_file("payload.bin")
    assert calls == [("https://example.org/primary/payload.bin", f"sha256:{PAYLOAD_SHA256}")]


def test_registered_ecg_download_arguments():
    downloader = FakeDownloader(failing=set(REGISTRY["QTDB_test.mat"].urls))
    with pytest.raises(MissingDataError):
        fetch_file("QTDB_test.mat", downloader=downloader)
    assert downloader.calls[0]["url"] == (
        "https://raw.githubusercontent.com/byin-cwi/Efficient-spiking-networks/main/data/QTDB_test.mat"
    )
    assert downloader.calls[0]["known_hash"] == (
        "sha256:916f11e21679a5b61988305bbb7cd1e6df8b34f1ed4a157a7a4e295d400ef232"
    )
    assert downloader.calls[1]["url"] == (
        "https://raw.githubusercontent.com/AdaptiveAILab/brf-neurons/main/experiments/ecg/data/QTDB_test.mat"
    )


def test_shd_download_is_decompressed(tmp_path):
    content = b"fake hdf5 bytes" * 10
    downloader = FakeDownloader(content=gzip.compress(content))
    fetched = fetch_file("shd_train.h5", downloader=downloader)
    call = downloader.calls[0]
    assert call["url"] == "https://zenkelab.org/datasets/shd_train.h5.gz"
    assert call["known_hash"] is None
    assert call["fname"] == "shd_train.h5.gz"
    assert isinstance(call["processor"], pooch.Decompress)
    assert fetched.path.name == "shd_train.h5"
    assert fetched.path.read_bytes() == content
    assert fetched.verified == "unregistered"


def test_local_gzip_copy_decompressed(tmp_path):
    content = b"fake hdf5 bytes" * 10
    folder = tmp_path / "data" / "shd"
    folder.mkdir(parents=True)
    (folder / "shd_test.h5.gz").write_bytes(gzip.compress(content))
    fetched = fetch_file("shd_test.h5", data_dir=tmp_path / "data")
    assert fetched.path == tmp_path / "cache" / "shd" / "shd_test.h5"
    assert fetched.path.read_bytes() == content
    assert fetched.origin == "data_dir"
    (folder / "shd_test.h5.gz").write_bytes(gzip.compress(content)[:20])
    fetched.path.unlink()
    with pytest.raises(DataError, match="corrupt gzip data"):
        fetch_file("shd_test.h5", data_dir=tmp_path / "data")
    assert not fetched.path.exists()


def test_recompressed_gzip_accepted_by_content(tmp_path, monkeypatch):
    raw = b"IDX-like content" * 100
    entry = RemoteFile(
        name="content.gz",
        task="demo",
        urls=("https://example.org/content.gz",),
        sha256=("0" * 64,),
        content_sha256=hashlib.sha256(raw).hexdigest(),
    )
    path = tmp_path / "content.gz"
    path.write_bytes(gzip.compress(raw, mtime=0))
    fetched = verify_file(entry, path)
    assert fetched.verified == "content"
    path.write_bytes(gzip.compress(raw + b"x", mtime=0))
    with pytest.raises(DataError, match="expected SHA-256 0000"):
        verify_file(entry, path)


def test_unknown_file_name_rejected():
    with pytest.raises(fetch.RFSimError, match="unknown data file"):
        fetch_file("no-such-file.bin")


def test_sha256_of_file_matches_hashlib(tmp_path):
    path = tmp_path / "blob"
    data = bytes(range(256)) * 5000
    path.write_bytes(data)
    assert sha256_of_file(path) == hashlib.sha256(data).hexdigest()


def test_cache_dir_defaults_to_pooch(monkeypatch):
    monkeypatch.delenv("RFSIM_CACHE_DIR")
    assert fetch.cache_dir() == Path(pooch.os_cache("rfsim"))


def test_missing_data_folder_is_named(tmp_path, monkeypatch, test_entry):
    with pytest.raises(MissingDataError, match=r"given by data_dir \(--data-dir\) does not exist"):
        fetch_file("payload.bin", data_dir=tmp_path / "nowhere")
    monkeypatch.setenv("RFSIM_DATA_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(MissingDataError, match="given by RFSIM_DATA_DIR does not exist"):
        fetch_file("payload.bin")
