"""Settings precedence: explicit arguments, then KABAR_* environment, then the settings file, then defaults."""
from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import (SETTINGS_FILE_ENV, Settings, UnknownSetting, UnknownSettingWarning, load_settings,
                           warn_unknown_env)


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


def test_unknown_argument_names_the_closest_setting():
    with pytest.raises(UnknownSetting, match=r"'top_kk' in the arguments; did you mean 'top_k'\?"):
        Settings(top_kk=3)
    with pytest.raises(UnknownSetting, match="'min_relevence'.*'min_relevance'"):
        load_settings(min_relevence=0.5)


def test_unknown_key_in_the_settings_file_is_an_error(tmp_path, monkeypatch):
    path = tmp_path / "kabar.toml"
    path.write_text('chunk_size = 500\nchunck_overlap = 50\n', "utf-8")
    monkeypatch.setenv(SETTINGS_FILE_ENV, str(path))
    with pytest.raises(UnknownSetting) as raised:
        Settings()
    message = str(raised.value)
    assert "'chunck_overlap'" in message and "'chunk_overlap'" in message and str(path) in message


def test_an_unknown_key_far_from_every_setting_is_named_alone():
    with pytest.raises(UnknownSetting) as raised:
        Settings(zzz_qqq=1)
    assert "'zzz_qqq'" in str(raised.value) and "did you mean" not in str(raised.value)


def test_unknown_kabar_env_variable_is_warned_about_with_the_closest(monkeypatch):
    monkeypatch.setenv("KABAR_TOPK", "3")
    with pytest.warns(UnknownSettingWarning, match="KABAR_TOPK.*did you mean KABAR_TOP_K"):
        settings = Settings()
    assert settings.top_k == 4  # ignored, not guessed


def test_kabar_variables_that_are_not_settings_are_not_warned_about(monkeypatch, recwarn):
    monkeypatch.setenv("KABAR_TEST_CHROMA_PORT", "8123")
    monkeypatch.setenv("KABAR_TOP_K", "5")
    assert warn_unknown_env() == []
    assert Settings().top_k == 5
    assert not [w for w in recwarn if issubclass(w.category, UnknownSettingWarning)]


def test_the_unknown_setting_error_is_a_config_error():
    from core.errors import ConfigError

    with pytest.raises(ConfigError):
        Settings(llm_modle="x")


def test_with_changes_validates_and_names_the_closest_key_for_an_unknown_one(tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path)
    monkeypatch.setenv("KABAR_TOP_K", "9")  # a copy reads neither the environment nor the settings file again
    changed = settings.with_changes(top_k=6, claim_judge=False)
    assert (changed.top_k, changed.claim_judge, changed.data_dir) == (6, "off", tmp_path) and settings.top_k == 4
    with pytest.raises(UnknownSetting, match=r"'top_kk' in the changes; did you mean 'top_k'\?"):
        settings.with_changes(top_kk=6)
    with pytest.raises(ValidationError):
        settings.with_changes(top_k="six")
    with pytest.raises(UnknownSetting, match=r"did you mean 'min_relevance'\?"):
        settings.model_copy(update={"min_relevence": 0.5})  # pydantic's copy would take it silently
