"""A local, private question-answering assistant over Arabic news.

load -> clean -> chunk -> embed/store -> retrieve -> answer -> check citations
"""
import os
from pathlib import Path


def _stay_offline() -> None:
    # Nothing may be fetched at run time: tiktoken reads the encodings that ship
    # inside llama-index, and hub-aware libraries are told they are offline.
    import llama_index.core

    cache = Path(llama_index.core.__file__).parent / "_static" / "tiktoken_cache"
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


_stay_offline()
