"""llama.cpp compiled for this CPU, for the embedded backend (`make setup` runs this module).

The xllamacpp wheel on PyPI is built for AVX2 only. The same version compiled from its
source with `-march=native` reads prompts about twice as fast on a CPU with AVX-512
(docs/benchmarks.md has the figures). The build takes minutes, so the wheel is cached under
the cache folder, keyed by version and CPU flags: only the first setup on a machine pays.
When there is no compiler, or the build fails, the prebuilt wheel stays and the reason is
printed; nothing else changes.

AMX is left out of the build: llama.cpp's AMX kernels crashed on an Intel CPU here.
Weight repacking, which crashed there too and reads prompts slower on every build we
measured, is turned off at load time (rag.backends.embedded).
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = "xllamacpp"
NO_AMX = "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
CMAKE_ARGS = (
    "-DGGML_NATIVE=ON -DLLAMA_LLGUIDANCE=OFF -DLLAMA_BUILD_BORINGSSL=OFF "  # both would download at build time
    f"'-DCMAKE_C_FLAGS={NO_AMX}' '-DCMAKE_CXX_FLAGS={NO_AMX}'"
)


def cpu_flags() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return " ".join(sorted(line.split(":", 1)[1].split()))
    return ""


def cache_key(version: str) -> str:
    digest = hashlib.sha256(f"{cpu_flags()}|{CMAKE_ARGS}".encode()).hexdigest()[:12]
    return f"{version}-{digest}"


def installed_from() -> str:
    """Where the installed xllamacpp came from: a local wheel's path, or "" for the registry's."""
    direct = importlib.metadata.distribution(PACKAGE).read_text("direct_url.json")
    return json.loads(direct).get("url", "") if direct else ""


def build_wheel(version: str, target: Path, log: Path) -> Path | None:
    """Compile xllamacpp `version` from its source distribution into `target`; None if it fails."""
    if not (shutil.which("cmake") and shutil.which("c++")):
        print("native llama.cpp: no cmake or C++ compiler; keeping the prebuilt AVX2 build.")
        return None
    print(f"native llama.cpp: compiling {PACKAGE} {version} for this CPU (a few minutes, once per machine; log: {log})")
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CMAKE_ARGS": CMAKE_ARGS, "NPROC": str(os.cpu_count() or 2)}
    with tempfile.TemporaryDirectory(prefix="rag-native-") as scratch, log.open("w") as out:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-binary", PACKAGE, f"{PACKAGE}=={version}", "-w", scratch],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        wheels = list(Path(scratch).glob(f"{PACKAGE}-*.whl"))
        if done.returncode != 0 or not wheels:
            print(f"native llama.cpp: the build failed (see {log}); keeping the prebuilt AVX2 build.")
            return None
        target.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(wheels[0], target / wheels[0].name))


def works() -> bool:
    """The installed xllamacpp imports and reports its CPU features, in a fresh process."""
    check = subprocess.run([sys.executable, "-c", f"import {PACKAGE}; print({PACKAGE}.get_system_info())"], capture_output=True, text=True)
    return check.returncode == 0 and "CPU" in check.stdout


def pip_install(*arguments: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", *arguments], check=True)


def main() -> int:
    if os.environ.get("RAG_NATIVE_BUILD", "1") == "0":
        print("native llama.cpp: skipped (RAG_NATIVE_BUILD=0); the prebuilt AVX2 build is used.")
        return 0
    from rag.settings import load_settings

    version = importlib.metadata.version(PACKAGE)
    settings, _ = load_settings({})
    folder = settings.cache_dir / "native" / cache_key(version)
    wheel = next(folder.glob(f"{PACKAGE}-*.whl"), None) or build_wheel(version, folder, folder.parent / f"{folder.name}.log")
    if wheel is None:
        return 0
    if installed_from() == wheel.resolve().as_uri():
        print(f"native llama.cpp: in use ({wheel.name}, built for this CPU).")
        return 0
    pip_install(str(wheel))
    if works():
        print(f"native llama.cpp: installed {wheel.name}, built for this CPU.")
        return 0
    print("native llama.cpp: the native build does not load here; going back to the prebuilt AVX2 build.")
    shutil.rmtree(folder, ignore_errors=True)
    pip_install("--only-binary", PACKAGE, f"{PACKAGE}=={version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
