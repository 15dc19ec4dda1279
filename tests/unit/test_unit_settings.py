"""Settings precedence: explicit arguments, then KABAR_* environment, then the settings file, then defaults."""
from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import SETTINGS_FILE_ENV, Settings, load_settings


def test_defaults(monkeypatch):
    settings = Settings()
    assert settings.top_k == 4 and 0 < settings.chunk_overlap < settings.chunk_size
    assert settings.chroma_path == Path(".kabar/data") / "chroma"
    assert settings.llm_threads >= 1


def test_env_overrides_default(monkeypatch):
    monkeypatch.setenv("KABAR_TOP_K", "7")
    monkeypatch.setenv("KABAR_DATA_DIR", "/srv/kabar")
    settings = load_settings()
    assert settings.top_k == 7
    assert settings.chroma_path == Path("/srv/kabar/chroma")


def test_explicit_argument_beats_env(monkeypatch):
    monkeypatch.setenv("KABAR_TOP_K", "7")
    assert load_settings(top_k=2).top_k == 2


def test_bad_env_value_is_rejected(monkeypatch):
    monkeypatch.setenv("KABAR_TOP_K", "seven")
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.setenv("KABAR_TOP_K", "3")
    monkeypatch.setenv("KABAR_EMBEDDING_BACKEND", "word2vec")
    with pytest.raises(ValidationError):
        Settings()


@pytest.fixture
def settings_file(tmp_path, monkeypatch):
    path = tmp_path / "kabar.toml"
    path.write_text('chunk_size = 500\nchunk_overlap = 50\ntop_k = 6\nllm_backend = "openai"\n', "utf-8")
    monkeypatch.setenv(SETTINGS_FILE_ENV, str(path))
    return path


def test_settings_file_sets_values(settings_file):
    settings = Settings()
    assert settings.chunk_size == 500 and settings.chunk_overlap == 50
    assert settings.top_k == 6 and settings.llm_backend == "openai"
    assert settings.min_relevance == 0.75  # untouched values keep their default


def test_env_beats_settings_file(settings_file, monkeypatch):
    monkeypatch.setenv("KABAR_CHUNK_SIZE", "1200")
    settings = Settings()
    assert settings.chunk_size == 1200
    assert settings.chunk_overlap == 50  # still from the file


def test_without_settings_file_env_the_file_is_ignored(tmp_path, monkeypatch):
    (tmp_path / "kabar.toml").write_text("chunk_size = 500\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    assert Settings().chunk_size == 900
