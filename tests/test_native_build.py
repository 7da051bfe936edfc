"""`make setup` compiles llama.cpp for this CPU once, caches the wheel, and falls back to the prebuilt one."""
import shutil
import subprocess
import sys

import pytest

from rag.backends import native


def test_the_cache_key_follows_the_version_and_the_cpu(monkeypatch):
    monkeypatch.setattr(native, "cpu_flags", lambda: "avx2 avx512f")
    wide = native.cache_key("1.0")
    monkeypatch.setattr(native, "cpu_flags", lambda: "avx2")
    assert native.cache_key("1.0") != wide, "another CPU needs its own build"
    assert native.cache_key("1.1") != native.cache_key("1.0")


def test_no_compiler_keeps_the_prebuilt_build(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(native.shutil, "which", lambda name: None)
    assert native.build_wheel("1.0", tmp_path / "wheels", tmp_path / "build.log") is None
    assert "keeping the prebuilt AVX2 build" in capsys.readouterr().out


def test_the_build_leaves_out_amx_and_downloads_nothing():
    assert "-mno-amx-int8" in native.CMAKE_ARGS and "-DGGML_NATIVE=ON" in native.CMAKE_ARGS
    assert "-DLLAMA_LLGUIDANCE=OFF" in native.CMAKE_ARGS and "-DLLAMA_BUILD_BORINGSSL=OFF" in native.CMAKE_ARGS


def test_it_can_be_skipped(monkeypatch, capsys):
    monkeypatch.setenv("RAG_NATIVE_BUILD", "0")
    assert native.main() == 0
    assert "skipped" in capsys.readouterr().out


@pytest.mark.skipif("avx512f" not in native.cpu_flags().split(), reason="this CPU has no AVX-512")
@pytest.mark.skipif(not (shutil.which("cmake") and shutil.which("c++")), reason="no compiler: setup keeps the prebuilt build")
def test_setup_installed_a_llama_cpp_built_for_this_cpu():
    """On a CPU with AVX-512 the installed llama.cpp uses it (the registry's wheel stops at AVX2)."""
    info = subprocess.run([sys.executable, "-c", "import xllamacpp; print(xllamacpp.get_system_info())"],
                          capture_output=True, text=True, check=True).stdout
    assert "AVX512 = 1" in info
