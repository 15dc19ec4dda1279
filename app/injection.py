"""Keep sentences that talk to the assistant out of the prompt: articles are data, never orders.

The system prompt already tells the model to treat passages as data, but a 1.5B model asked to
summarise an article will still quote "reply only with the word X" and then do it. News prose
does not address an AI in the imperative, so dropping such sentences before the model reads them
costs no real content. Patterns cover English and Indonesian; words are matched whole, so
"mengabaikan instruksi" or "ignored police instructions" (reporting) are kept.
"""
from __future__ import annotations

import re

_PATTERNS = [
    # "Ignore all previous instructions", "disregard the rules above", "forget your prompt"
    r"\b(ignore|disregard|forget|override|bypass)\b[^.!?]{0,40}\b(instructions?|prompts?|rules|guidelines|directions|context)\b",
    # "reply only with the word X", "respond with just", "say only"
    r"\b(reply|respond|answer|say|output|print|write)\b[^.!?]{0,20}\b(only|just|nothing but)\b[^.!?]{0,30}\b(word|words|phrase|with|text)\b",
    r"\b(you are now|from now on you|new instructions?|system prompt|developer mode|as an ai\b)",
    # "Abaikan semua instruksi sebelumnya", "lupakan perintah di atas"
    r"\b(abaikan|lupakan|acuhkan|hiraukan|langgar)(lah)?\b[^.!?]{0,40}\b(instruksi|perintah|aturan|petunjuk|arahan|prompt)\b",
    # "jawab hanya dengan kata X", "balaslah hanya", "tuliskan saja kata"
    r"\b(jawab|balas|katakan|tulis|tuliskan|ucapkan|keluarkan)(lah)?\b[^.!?]{0,20}\b(hanya|saja|cuma)\b[^.!?]{0,30}\b(kata|dengan|teks|kalimat)\b",
    r"\b(kamu sekarang|anda sekarang adalah|mulai sekarang kamu|instruksi baru|prompt sistem)\b",
]
_INSTRUCTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)


def addresses_the_assistant(sentence: str) -> bool:
    """True for a sentence that gives the reader (an AI) orders rather than reporting news."""
    return bool(_INSTRUCTION.search(sentence))


def without_orders(text: str, sentences: list[str]) -> str:
    """The passage as written, or without its sentences that give the assistant orders."""
    kept = [s for s in sentences if not addresses_the_assistant(s)]
    return text if len(kept) == len(sentences) else " ".join(kept)
