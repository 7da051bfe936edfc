import pytest

from rag.cli import main
from rag.errors import ConfigError
from rag.settings import load_settings


def test_each_layer_overrides_the_one_before(tmp_path, monkeypatch):
    config = tmp_path / "rag.toml"
    config.write_text('top_k = 7\nbackend = "ollama"\nchunk_tokens = 150\n', encoding="utf-8")
    monkeypatch.setenv("RAG_CONFIG", str(config))
    monkeypatch.setenv("RAG_TOP_K", "9")
    monkeypatch.setenv("RAG_CHUNK_TOKENS", "180")
    settings, sources = load_settings({"chunk_tokens": 120})
    assert (settings.backend, sources["backend"]) == ("ollama", str(config))
    assert (settings.top_k, sources["top_k"]) == (9, "env RAG_TOP_K")
    assert (settings.chunk_tokens, sources["chunk_tokens"]) == (120, "flag")
    assert sources["seed"] == "default"


def test_ollama_host_follows_ollamas_own_variable(monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:5555")
    settings, sources = load_settings()
    assert settings.ollama_host == "http://127.0.0.1:5555"
    assert sources["ollama_host"] == "env OLLAMA_HOST"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"backend": "gpt"}, "Unknown backend 'gpt'. Choose one of: embedded, ollama"),
        ({"top_k": 0}, "top_k must be at least 1"),
        ({"temperature": 5}, "temperature must be between 0 and 2"),
        ({"top_k": "many"}, "should be a"),
    ],
)
def test_bad_values_are_refused_with_what_to_do(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(overrides)


def test_unknown_keys_in_the_file_are_named(tmp_path, monkeypatch):
    config = tmp_path / "rag.toml"
    config.write_text("topk = 3\n", encoding="utf-8")
    monkeypatch.setenv("RAG_CONFIG", str(config))
    with pytest.raises(ConfigError, match="unknown setting 'topk'"):
        load_settings()


def test_rag_config_prints_values_and_their_sources(capsys, monkeypatch, rag_home):
    monkeypatch.setenv("RAG_TOP_K", "4")
    assert main(["config", "--threads", "3"]) == 0
    out = capsys.readouterr().out
    assert "top_k" in out and "(env RAG_TOP_K)" in out
    assert "threads" in out and "(flag)" in out
    assert str(rag_home) in out


def test_every_setting_is_a_flag_an_environment_variable_and_a_toml_key(tmp_path, monkeypatch, capsys):
    """One declaration in Settings makes all three; a setting added later gets them too."""
    from dataclasses import fields

    from rag.cli import build_parser
    from rag.settings import Settings, settings_from

    config = tmp_path / "rag.toml"
    config.write_text("max_upload_mib = 3\n", encoding="utf-8")
    monkeypatch.setenv("RAG_CONFIG", str(config))
    monkeypatch.setenv("RAG_MAX_ARTICLES_PER_UPLOAD", "4")
    args = build_parser().parse_args(["ask", "?", "--max-answers-per-minute", "5", "--arcd-file", "x.json"])
    settings, sources = settings_from(args)
    assert (settings.max_upload_mib, settings.max_articles_per_upload, settings.max_answers_per_minute) == (3, 4, 5)
    assert settings.arcd_file.name == "x.json" and sources["arcd_file"] == "flag"

    with pytest.raises(SystemExit):
        build_parser().parse_args(["ask", "--help"])
    help_text = capsys.readouterr().out
    for f in fields(Settings):
        assert f"--{f.name.replace('_', '-')} " in help_text and f"[RAG_{f.name.upper()}]" in help_text, f.name


def test_a_flag_not_given_keeps_the_value_of_the_layer_below(monkeypatch):
    from rag.cli import build_parser
    from rag.settings import settings_from

    monkeypatch.setenv("RAG_TOP_K", "8")
    settings, sources = settings_from(build_parser().parse_args(["ask", "?"]))
    assert (settings.top_k, sources["top_k"]) == (8, "env RAG_TOP_K")


def test_the_model_cache_lives_under_home_unless_set(tmp_path, monkeypatch):
    monkeypatch.delenv("RAG_CACHE_DIR", raising=False)
    settings, _ = load_settings({"home": str(tmp_path / "h")})
    assert settings.cache_dir == tmp_path / "h" / "cache"
    settings, _ = load_settings({"home": str(tmp_path / "h"), "cache_dir": str(tmp_path / "c")})
    assert settings.cache_dir == tmp_path / "c"


def test_a_backend_unknown_to_the_registry_is_refused_by_name():
    from rag.backends import make_chat_model
    from rag.settings import Settings

    with pytest.raises(ConfigError, match="Unknown backend 'gpt'. Choose one of: embedded, ollama"):
        make_chat_model(Settings(backend="gpt"))
