"""The real 1.5B chat model translates an Indonesian source sentence for an English reader (app/translate.py)."""
from __future__ import annotations

import pytest

from core.language import detect_language
from tests.conftest import real_settings

pytestmark = pytest.mark.integration
SENTENCE = ("Menteri Perdagangan Budi Santoso mengatakan bahwa harga beras di Pasar Cipinang turun menjadi "
            "Rp 11.200 per kilogram pada pekan ini.")


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    """Only the chat model: a translation of given text reads no archive and loads no embedder."""
    from app.api import Assistant

    assistant = Assistant(real_settings(tmp_path_factory.mktemp("translate-data")))
    yield assistant
    assistant.close()


def test_an_indonesian_sentence_comes_out_in_english_with_its_names_and_is_cached(kb):
    result = kb.translate(text=SENTENCE, language="en")
    assert result.machine_translation and result.source_language == "id" and result.language == "en"
    assert detect_language(result.text, default="?") == "en", result.text
    assert "Budi Santoso" in result.text and "Cipinang" in result.text, result.text
    again = kb.translate(text=SENTENCE, language="en")
    assert again.cached and again.text == result.text
