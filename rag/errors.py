"""Errors whose message tells the user what to do next.

The CLI and the UI print the message; set RAG_DEBUG=1 to see the traceback.
"""


class RagError(Exception):
    """Base class: every expected failure of the assistant."""


class ConfigError(RagError):
    """A setting is missing, unknown or out of range."""


class InputError(RagError):
    """A question or a file the user gave cannot be used."""


class BackendError(RagError):
    """A model backend (Ollama, the embedded model) is unreachable or failed."""


class StoreError(RagError):
    """The vector index is missing, empty, unwritable or was built differently."""
