"""Which language a text is in: the bottom layer, so store, ingest and answering detect it alike."""
from __future__ import annotations

import re

# Frequent function words; enough to tell English from Indonesian in a one-line question.
_STOPWORDS = {
    "en": set("""the a an is are was were be been do does did what why who whom whose which when where how
        of to in on for with about from by and or not this that these those it its they them their
        has have had will would can could should there than then after before between""".split()),
    "id": set("""yang dan di ke dari ini itu apa apakah mengapa kenapa siapa kapan dimana di mana bagaimana
        berapa adalah dengan untuk pada dalam tidak bukan akan sudah telah juga atau oleh karena sebagai
        ada mereka kami kita saya anda para antara tentang bisa dapat lebih serta agar sehingga nya""".split()),
}
LANGUAGE_NAMES = {"en": "English", "id": "Indonesian (Bahasa Indonesia)"}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_PARTICLE = re.compile(r"(kah|lah)$")


def detect_language(text: str, default: str = "en") -> str:
    """'en' or 'id' by function-word counts; the default when neither language shows."""
    # "siapakah", "berapakah", "bukankah": Indonesian question particles -kah/-lah on a function word
    words = [_PARTICLE.sub("", w) if _PARTICLE.sub("", w) in _STOPWORDS["id"] else w
             for w in (w.lower() for w in _WORD.findall(text))]
    scores = {lang: sum(w in vocab for w in words) for lang, vocab in _STOPWORDS.items()}
    # Indonesian affixes break ties only ("Siapa pemenangnya?"): English words like "digital" match them too.
    if scores["en"] == scores["id"]:
        scores["id"] += sum(bool(re.match(r"^(meng|meny|mem|ber|ter|di|ke)\w{3,}", w)) or w.endswith("nya")
                            for w in words) * 0.5
    best = max(scores, key=scores.get)
    return best if scores[best] > 0 else default


_QUESTION_PARTICLE = re.compile(r"(?<=[^\W\d_]{3})(?:kah|lah)\b", re.IGNORECASE)


def question_language(question: str) -> str:
    """The question's language, with Indonesian -kah/-lah particles taken off first, so that
    "Siapakah Gubernur Papua" counts as Indonesian like "Siapa Gubernur Papua"."""
    return detect_language(_QUESTION_PARTICLE.sub("", question))
