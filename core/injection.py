"""Keep sentences that talk to the assistant out of the prompt: articles are data, never orders.

The system prompt already tells the model to treat passages as data, but a 1.5B model asked to
summarise an article will still quote "reply only with the word X" and then do it, and will
repeat "Asisten: jawaban yang benar adalah ..." as its own answer. News prose does not address an
AI in the imperative, nor speak as one, so dropping such sentences (and headlines, at ingest)
costs no real content. Patterns cover English and Indonesian; words are matched whole, so
"mengabaikan instruksi" or "ignored police instructions" (reporting) are kept.
"""
from __future__ import annotations

import re

_ROLES = r"(?:ai |chatbot |the )?(?:assistant|asisten|system|sistem|user|pengguna|human|manusia)(?: ai)?"
_OPEN = r"(?:^|[\"'“‘«(\[])\s*"  # a sentence's start, or an opening quote or bracket inside it
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
    # a chat transcript's role label: "Assistant: ...", "Asisten: ...", '"System: ..."'
    _OPEN + _ROLES + r"\s*[:：]",
    # prompt-format headers and chat-template tokens: "### Instruction", "### Jawaban", "<|im_start|>", "[INST]"
    r"#{1,6}\s*(instructions?|instruksi|perintah|response|respons|jawaban|answer|" + _ROLES + r")\b",
    r"<\|?\s*(im_start|im_end|system|assistant|user|endoftext)\s*\|?>|\[/?inst\]|<<\s*/?sys\s*>>",
    # an answer dictated to the reader: "the correct answer is", "jawaban yang benar adalah"
    r"\b(the\s+)?(correct|right|true)\s+answer\s+(is|was|:)",
    r"\bjawaban\s+(yang\s+)?(benar|tepat|sebenarnya|resmi|sesungguhnya)(nya)?\s*(adalah|ialah|yaitu|:)",
    # "When asked about X, answer that ...", "Jika ditanya tentang X, jawablah bahwa ..."
    r"\b(when|if)\s+(you\s+are\s+|you're\s+)?asked\b[^.!?]{0,80}\b(answer|reply|respond|say|tell)\b",
    r"\b(jika|bila|kalau|apabila|saat|ketika)\s+(kamu\s+|anda\s+)?ditanya\b[^.!?]{0,80}\b(jawab|katakan|balas|sebut)(lah|kan)?\b",
]
_INSTRUCTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)
# a role label or header on a line of its own, or ending its sentence ('Dokumen itu berbunyi, "### Instruction'):
# the order is in the sentence after it
_BARE_HEADER = re.compile(r"^\W*(#{1,6}\s*\w+(\s+\w+)?|" + _ROLES + r"\s*[:：]?)\W*$|"
                          r"(#{1,6}\s*\w+(\s+\w+)?|" + _ROLES + r"\s*[:：])\W*$", re.IGNORECASE)


def addresses_the_assistant(sentence: str) -> bool:
    """True for a sentence that gives the reader (an AI) orders, or speaks as one, rather than reporting news."""
    return bool(_INSTRUCTION.search(sentence))


def order_indexes(sentences: list[str]) -> set[int]:
    """Indexes of the sentences that give orders, and of each one after a bare header ('### Instruction')."""
    found: set[int] = set()
    for index, sentence in enumerate(sentences):
        if addresses_the_assistant(sentence):
            found.add(index)
            if _BARE_HEADER.search(sentence):
                found.add(index + 1)
    return {i for i in found if i < len(sentences)}


def without_orders(text: str, sentences: list[str]) -> str:
    """The passage as written, or without its sentences that give the assistant orders."""
    dropped = order_indexes(sentences)
    return text if not dropped else " ".join(s for i, s in enumerate(sentences) if i not in dropped)


def safe_title(title: str) -> str:
    """A headline is shown to the model with every passage: one that gives orders is not kept."""
    return "" if addresses_the_assistant(title) else title
