"""Check an answer against the passages it cites, so unsupported claims never reach the user."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np

from core.text import split_sentences  # noqa: F401  (re-exported: answers are split alike)

CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[^\W\d_][\w'-]*")
_SCALE = re.compile(r"(\d+(?:[.,]\d+)*)\s*(ribu|juta|miliar|milyar|triliun|thousand|million|billion|trillion|"
                    r"rb|jt|m|bn|k)\b", re.IGNORECASE)
SCALES = {"ribu": 3, "thousand": 3, "rb": 3, "k": 3, "juta": 6, "million": 6, "jt": 6, "m": 6,
          "miliar": 9, "milyar": 9, "billion": 9, "bn": 9, "triliun": 12, "trillion": 12}
SCALE_WORDS = {"en": {3: "thousand", 6: "million", 9: "billion", 12: "trillion"},
               "id": {3: "ribu", 6: "juta", 9: "miliar", 12: "triliun"}}
INDONESIAN_SCALES = frozenset("ribu rb juta jt miliar milyar triliun".split())
LEAD_SENTENCES = 3  # a passage's lead (rubric, headline, first sentence) names its topic
CURRENCIES = frozenset("Rp IDR USD US EUR GBP JPY CNY SGD RM Rs".split())  # "Rp 12 triliun": a unit, not a name
_ACRONYM = re.compile(r"[A-Z][A-Z0-9]{1,5}")
ACTOR_SENTENCES = 2
_TRAILING = frozenset("on in at of to for from by with and or the a an di ke dari pada dan atau yang untuk dengan".split())


@dataclass
class CheckedSentence:
    """One answer sentence, the passage numbers it cites, and whether they support it."""

    text: str
    cited: list[int]
    supported: bool
    similarity: float
    evidence: dict[int, int] = field(default_factory=dict)  # passage number -> its closest sentence
    claim_log_odds: Optional[float] = None  # the claim judge's verdict (app/claims.py); None: not asked

def cited_numbers(text: str) -> list[int]:
    """Passage numbers cited in text, in order of first appearance."""
    seen: list[int] = []
    for group in CITATION.findall(text):
        for number in group.split(","):
            n = int(number)
            if n not in seen:
                seen.append(n)
    return seen


def drop_unfinished_sentence(text: str) -> str:
    """Cut an answer that hit the token limit back to its last complete sentence (and citations)."""
    ends = list(re.finditer(r"[.!?](?:\s*\[\d+(?:\s*,\s*\d+)*\])*", text))
    return text[: ends[-1].end()] if ends else ""


def numbers_in(text: str) -> set[str]:
    """The numbers of a text without separators ("6,3" and "6.3" are one), citations left out."""
    return {n.replace(",", "").replace(".", "") for n in _NUMBER.findall(CITATION.sub(" ", text))}


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def scale_mismatch(claim: str, evidence: str) -> bool:
    """A number whose scale word differs from the evidence's for the same digits ("6.3 million" vs "6,3 miliar")."""
    found = _scales_of(evidence)
    return any(_digits(number) in found and SCALES[word.lower()] not in found[_digits(number)]
               for number, word in _SCALE.findall(claim))


def _scales_of(evidence: str) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for number, word in _SCALE.findall(evidence):
        found.setdefault(_digits(number), set()).add(SCALES[word.lower()])
    return found


def restore_scales(claim: str, evidence: str) -> str:
    """The claim with a mistranslated scale word put right when the evidence gives one scale for the same digits
    ("$6.3 million" for "6,3 miliar" becomes "$6.3 billion"): small models confuse "miliar" with "million"."""
    found = _scales_of(evidence)

    def restored(match: re.Match) -> str:
        number, word = match.group(1), match.group(2)
        scales = found.get(_digits(number), set())
        if len(scales) != 1 or SCALES[word.lower()] in scales:
            return match.group(0)
        words = SCALE_WORDS["id" if word.lower() in INDONESIAN_SCALES else "en"]
        return f"{number} {words[next(iter(scales))]}"
    return _SCALE.sub(restored, claim)


def _name_runs(text: str) -> list[list[str]]:
    """Runs of capitalised words after the first word (names: "Yasuhiro Nakagawa", "ASML")."""
    runs, run = [], []
    for word in _WORD.findall(text)[1:]:
        if word[0].isupper() and word not in CURRENCIES:
            run.append(word)
        elif run:
            runs.append(run)
            run = []
    return runs + [run] if run else runs


def unknown_names(text: str, known_text: str, same_language: bool) -> list[str]:
    """Names (runs of capitalised words) in a sentence that its sources never mention, where a name
    counts as mentioned when one of its words occurs there, or it spells out an acronym there and back
    ("Uni Eropa" for "UE", "UE" for "Uni Eropa"). Across languages ("China" for "Tiongkok") only names
    of two or more words are checked."""
    words = _WORD.findall(known_text)
    known = {w.lower() for w in words}
    acronyms = {w for w in words if _ACRONYM.fullmatch(w)} | {_initials(run) for run in _name_runs(f"x {known_text}")
                                                            if len(run) > 1}  # a source may open with a name
    return [" ".join(run) for run in _name_runs(text)
            if (same_language or len(run) > 1) and not any(w.lower() in known or w in acronyms for w in run)
            and not (len(run) > 1 and _initials(run) in acronyms)]


def _initials(run: list[str]) -> str:
    """The acronym a multi-word name makes ("Uni Eropa": "UE")."""
    return "".join(w[0] for w in run).upper()


def _proper_names(sentences: Sequence[str]) -> set[str]:
    """Words a text writes as names: capitalised after a sentence's first word, or acronyms ("JSR", "UE")."""
    found = {w for sentence in sentences for run in _name_runs(sentence) for w in run}
    return found | {w for sentence in sentences for w in _WORD.findall(sentence) if _ACRONYM.fullmatch(w)}


def _actor_names(sentences: Sequence[str]) -> set[str]:
    """Words a text writes as names (capitalised after a sentence's first word, or acronyms: "JSR") in at most
    ``ACTOR_SENTENCES`` of its sentences: the article's topics ("Uni Eropa", "Jepang") are everywhere and
    are often named otherwise nearby ("UE"); a swapped actor is one mentioned in passing."""
    found = _proper_names(sentences)
    mentions = [{w.lower() for w in _WORD.findall(sentence)} for sentence in sentences]
    return {w for w in found if sum(w.lower() in words for words in mentions) <= ACTOR_SENTENCES}


def misplaced_names(text: str, passage_sentences: Sequence[str], row: int) -> list[str]:
    """Names of the passage that the claim uses but its evidence (the closest sentence and its neighbours) lacks:
    the claim pins on one actor what the passage says of another ("JSR announced export restrictions" where
    the passage says the Netherlands did, and names JSR sentences away). The question's names are held too: asked
    "And what about South Korea?", a small model gives Korea what the passage says of Japan."""
    names = _actor_names(passage_sentences)
    nearby = " ".join([*passage_sentences[:LEAD_SENTENCES], *passage_sentences[max(row - 1, 0): row + 2]])
    near = {w.lower() for w in _WORD.findall(nearby)}
    words = _WORD.findall(CITATION.sub(" ", text))
    runs = _name_runs(text) + ([[words[0]]] if words and _ACRONYM.fullmatch(words[0]) else [])
    return [" ".join(run) for run in runs
            if any(w in names for w in run) and not any(w.lower() in near for w in run)]


def unowned_numbers(text: str, passage_sentences: Sequence[str]) -> list[str]:
    """Names of the passage that a claim puts beside a number, where no sentence holding that number (or the one
    before it, or the passage's lead) names them: the number belongs to someone else ("Uni Eropa akan menginvestasikan $6.3 miliar"
    where the passage's $6.3 billion is a Japanese fund's bid). Unlike ``misplaced_names`` the question's names
    and the article's topics count too: asked about the EU's money, a small model gives it the fund's."""
    numbers = numbers_in(text)
    if not numbers:
        return []
    names = _proper_names(passage_sentences)
    runs = [run for run in _name_runs(text) if any(w in names for w in run)]
    homes = [i for i, sentence in enumerate(passage_sentences) if numbers & numbers_in(sentence)]
    if not homes:
        return []
    # the passage's lead names its topic, which later sentences leave unsaid ("Biaya perluasan … Rp 12 triliun")
    lead = passage_sentences[:LEAD_SENTENCES]
    near = {w.lower() for i in homes for s in [*lead, *passage_sentences[max(i - 1, 0): i + 1]] for w in _WORD.findall(s)}
    return [" ".join(run) for run in runs if not any(w.lower() in near for w in run)]


_ABOUT_SOURCES = re.compile(
    r"^(the|this|that|these)\s+(passages?|articles?|sources?|texts?|documents?|context)\b[^.]*\b(provides?|gives?|"
    r"contains?|offers?|discuss(es)?|describes?|details?|mentions?|has|have|does|do)\b|"
    r"\b(is|are|was|were)\s+not\s+(mentioned|stated|discussed|given)\b|"
    r"\b(in|from)\s+the\s+(given|provided)\s+(passages?|articles?|sources?|texts?|context)\b|"
    r"^(bagian|artikel|sumber|teks|paragraf|dokumen)(-\w+)?\s*(ini|tersebut|itu)?\s*(memberikan|berisi|menjelaskan|"
    r"membahas|menyebutkan|memuat)\b|\btidak\s+(disebutkan|dijelaskan|dibahas)\b",
    re.IGNORECASE)


_CITATION_AS_SUBJECT = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]\s*[a-z]")  # "[3] also mentioned", not "[1] Harga naik"


def talks_about_sources(text: str) -> bool:
    """A sentence about the passages rather than the news ("The passage [3] provides more details on this",
    "[3] also mentioned that ...", "South Korea is not mentioned in the given passages"): it states nothing a
    reader can use, and its
    citation would point at a passage that does not say it."""
    return bool(_CITATION_AS_SUBJECT.match(text) or _ABOUT_SOURCES.search(CITATION.sub(" ", text).strip()))


def unfinished(text: str) -> bool:
    """A sentence cut off before its point ("will hold its first meeting on [2].")."""
    words = re.findall(r"\w+(?:-\w+)*", CITATION.sub(" ", text))  # "1940-an" is one word
    return bool(words) and words[-1].lower() in _TRAILING


def check_sentences(
    answer: str,
    passages: Sequence[str],
    passage_vectors: Sequence[np.ndarray],
    embed: Callable[[list[str]], np.ndarray],
    min_support: float,
    question: str = "",
    same_language: Callable[[str, str], bool] = lambda sentence, passage: False,
    passage_sentences: Optional[Sequence[Sequence[str]]] = None,
) -> list[CheckedSentence]:
    """Mark each sentence supported when a cited passage is close in meaning and holds its numbers.

    Cross-lingual answers (English about Indonesian articles) rule out word overlap, so meaning is
    compared with the multilingual embedder: ``passage_vectors[i]`` is one vector for passage i,
    or one row per sentence of it (a claim matches one sentence far better than a whole chunk;
    ``passage_sentences`` gives those sentences when the caller has them). Numbers and years must
    appear verbatim, which catches the confident fabrications small models make ("France won in
    2022 [1]"), with the passage's scale (a mistranslated "6.3 million" for "6,3 miliar" is put right,
    see ``restore_scales``); so must names, by the rules of ``unknown_names`` (the question counts as a
    source: "EU" asked about may be "UE" in the passage). A sentence cut off before its point, or
    repeating an earlier one, is dropped.
    """
    sentences = split_sentences(answer)
    if not sentences:
        return []
    bare = [CITATION.sub("", s).strip() for s in sentences]
    rows_of = passage_sentences or [split_sentences(p) or [p] for p in passages]
    review = _Review(passages, passage_vectors, rows_of, min_support, question, same_language)
    checked, seen = [], set()
    for sentence, text, vector in zip(sentences, bare, embed(bare)):
        if not _WORD.search(text) or text.lower() in seen or unfinished(text) or talks_about_sources(sentence):
            continue  # "[1], [2]." is no claim, nor is "The passage [3] gives details"
        seen.add(text.lower())
        checked.append(review.sentence(sentence, vector))
    return checked


@dataclass
class _Review:
    """One answer's passages, as every sentence of it is checked against them."""

    passages: Sequence[str]
    vectors: Sequence[np.ndarray]
    rows_of: Sequence[Sequence[str]]
    min_support: float
    question: str
    same_language: Callable[[str, str], bool]

    def sentence(self, sentence: str, vector: np.ndarray) -> CheckedSentence:
        """Checked against what it cites; unsupported or uncited (small models miscount), re-cited to the
        passage that supports it when there is one."""
        cited = [n for n in cited_numbers(sentence) if 1 <= n <= len(self.passages)]
        if cited:
            sentence = restore_scales(sentence, " ".join(self.passages[n - 1] for n in cited))
        text = CITATION.sub("", sentence).strip()
        supported, similarity = self.verdict([n - 1 for n in cited], text, vector) if cited else (False, 0.0)
        if not supported:  # the closest passage by meaning, its scale words restored too ("$6.3 million" cited
            # to a passage without the figure, where another says "6,3 miliar")
            best = max(range(len(self.passages)), key=lambda i: self.verdict([i], text, vector)[1])
            restored = restore_scales(sentence, self.passages[best])
            best_supported, best_similarity = self.verdict([best], CITATION.sub("", restored).strip(), vector)
            if best_supported or not cited:
                cited, supported, similarity = [best + 1], best_supported, best_similarity
                sentence = recite(restored, best + 1)
        evidence = {n: int(np.argmax(np.atleast_2d(self.vectors[n - 1]) @ vector)) for n in cited}
        return CheckedSentence(sentence, cited, supported, similarity, evidence)

    def verdict(self, indexes: list[int], text: str, vector: np.ndarray) -> tuple[bool, float]:
        """(supported, similarity) of a claim against these passages together."""
        similarity = max(float(np.max(np.atleast_2d(self.vectors[i]) @ vector)) for i in indexes)
        numbers_found = all(any(num in numbers_in(self.passages[i]) for i in indexes) for num in numbers_in(text))
        cited_text = " ".join(self.passages[i] for i in indexes)
        names_found = not unknown_names(text, f"{self.question} {cited_text}",
                                        self.same_language(text, self.passages[indexes[0]]))
        names_placed = any(self.placed(i, text, vector) for i in indexes)
        scale_found = not scale_mismatch(text, cited_text)
        return (similarity >= self.min_support and numbers_found and names_found and names_placed and scale_found,
                similarity)

    def placed(self, i: int, text: str, vector: np.ndarray) -> bool:
        """The claim's names and numbers sit where the passage puts them (role swaps, a number's owner)."""
        rows = np.atleast_2d(self.vectors[i]) @ vector
        if len(rows) != len(self.rows_of[i]):  # one vector for the whole passage: no sentence to place names by
            return True
        return not misplaced_names(text, self.rows_of[i], int(np.argmax(rows))) and \
            not unowned_numbers(text, self.rows_of[i])


def recite(sentence: str, number: int) -> str:
    """The sentence with its citations replaced by [number], placed before the final full stop."""
    bare = CITATION.sub("", sentence).rstrip()
    bare = re.sub(r"\s+([.!?])$", r"\1", bare)
    return re.sub(r"\s*([.!?]?)$", f" [{number}]\\1", bare, count=1)
