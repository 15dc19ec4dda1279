"""Question language detection: English vs Indonesian."""
from __future__ import annotations

import pytest

from core.language import LANGUAGE_NAMES, detect_language

ENGLISH = [
    "Why is the EU partnering with Japan?",
    "What did Thierry Breton say about artificial intelligence?",
    "Which technologies will the Digital Partnership Council focus on?",
    "How are semiconductors used in training AI models?",
    "Who won the match in Jakarta last night?",
    "When was the council between the EU and South Korea formed?",
]
INDONESIAN = [
    "Apa peran Jepang dalam rantai pasokan semikonduktor?",
    "Mengapa Uni Eropa ingin bekerja sama dengan Jepang?",
    "Siapa komisaris UE yang disebut dalam artikel itu?",
    "Kapan Dewan Kemitraan Digital dibentuk?",
    "Bagaimana semikonduktor digunakan untuk melatih model AI?",
    "Berapa harga beras di pasar tradisional menjelang lebaran?",
]


@pytest.mark.parametrize("question", ENGLISH)
def test_english_questions(question):
    assert detect_language(question) == "en"
    assert detect_language(question, default="id") == "en"


@pytest.mark.parametrize("question", INDONESIAN)
def test_indonesian_questions(question):
    assert detect_language(question) == "id"
    assert detect_language(question, default="en") == "id"


def test_affixes_break_ties_for_short_indonesian():
    assert detect_language("Siapa pemenangnya?") == "id"
    assert detect_language("Pemenangnya?") == "id"  # no stopword, only the -nya suffix


@pytest.mark.parametrize("text", ["", "12345 ???", "Breton Tokyo Brussels"])
def test_default_when_no_language_shows(text):
    assert detect_language(text) == "en"
    assert detect_language(text, default="id") == "id"


def test_language_names_cover_both():
    assert set(LANGUAGE_NAMES) == {"en", "id"}


def test_question_words_with_kah_particles_are_indonesian():
    from core.language import detect_language

    for question in ["Siapakah presiden pertama Indonesia?", "Kapankah Candi Borobudur dibangun?",
                     "Berapakah jumlah penduduk Jakarta?", "Dimanakah letak Danau Toba?"]:
        assert detect_language(question) == "id", question
    assert detect_language("Who is the president of Indonesia?") == "en"
