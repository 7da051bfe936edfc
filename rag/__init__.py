"""A local, private question-answering assistant over Arabic news.

load -> clean -> chunk -> embed/store -> retrieve -> answer -> check citations

Importing `rag` loads nothing heavy: each stage imports its libraries where it uses them.
"""
import os
from importlib.util import find_spec
from pathlib import Path


def _stay_offline() -> None:
    # Nothing may be fetched at run time: tiktoken reads the encodings that ship inside
    # llama-index (found without importing it), and hub-aware libraries are told they are offline.
    spec = find_spec("llama_index.core")
    if spec is not None and spec.submodule_search_locations:
        cache = Path(next(iter(spec.submodule_search_locations))) / "_static" / "tiktoken_cache"
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # Chroma's


_stay_offline()
