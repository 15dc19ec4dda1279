"""Claims that read like a sentence of the article but say something else: the checker's hard negatives.

A small writer copies the article's words, so its wrong claims are near-copies: a swapped name,
number, unit, date or role. These functions make such claims from true sentences, for training
(python -m train) and for measuring the checker on documents kept out of training (eval/checker.py).
"""
from __future__ import annotations

import random
import re
from typing import Callable, Optional

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
NAME_RUN = re.compile(r"(?<![\w.])(?:[A-Z][\w'’-]+|[A-Z]{2,})(?:\s+(?:[A-Z][\w'’-]+|[A-Z]{2,}))*")
UNIT_GROUPS = [
    ["ribu", "juta", "miliar", "triliun"], ["thousand", "million", "billion", "trillion"],
    ["persen", "kali lipat"], ["percent", "times"], ["kilometer", "meter", "sentimeter"],
    ["kilometres", "metres", "centimetres"], ["kilometers", "meters", "miles"], ["kg", "ton", "gram"],
    ["hari", "minggu", "bulan", "tahun"], ["days", "weeks", "months", "years"],
    ["dolar", "euro", "rupiah", "yen"], ["dollars", "euros", "pounds", "yen"],
]
MONTHS = [
    "January February March April May June July August September October November December".split(),
    "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember".split(),
]
ROLE_PAIRS = [("ke", "dari"), ("to", "from"), ("sebelum", "setelah"), ("before", "after"),
              ("naik", "turun"), ("rose", "fell"), ("menang", "kalah"), ("won", "lost"),
              ("lebih tinggi", "lebih rendah"), ("higher", "lower"), ("membeli", "menjual"), ("bought", "sold")]


class Span(str):
    """A name found in a claim, with where it is."""

    def __new__(cls, text: str, start: int):
        span = super().__new__(cls, text)
        span.begin, span.stop = start, start + len(text)
        return span

    def start(self) -> int:
        return self.begin

    def end(self) -> int:
        return self.stop

    def group(self) -> str:
        return str(self)


def _names(text: str, known: list[str] = ()) -> list[Span]:
    """Capitalised runs that are not the sentence's first word (capitalised anyway), unless the article names
    that run elsewhere too ("Belanda mengumumkan ...", "The Netherlands announced ...": the subject is the name
    a role swap needs)."""
    spans = []
    for m in NAME_RUN.finditer(text):
        if m.start() > 0 or m.group() in known:
            spans.append(Span(m.group(), m.start()))
            continue
        first, _, rest = m.group().partition(" ")
        if rest and rest in known:
            spans.append(Span(rest, m.start() + len(first) + 1))
    return spans


def swap_number(claim: str, rng: random.Random, pool: list[str]) -> Optional[str]:
    """One number changed (to another number of the article when it has one, else nudged)."""
    found = list(NUMBER.finditer(claim))
    if not found:
        return None
    m = rng.choice(found)
    others = [n for n in pool if NUMBER.fullmatch(n) and n.strip(".,") != m.group().strip(".,")]
    if others and rng.random() < 0.5:
        new = rng.choice(others)
    else:
        digits = m.group()
        i = rng.choice([i for i, ch in enumerate(digits) if ch.isdigit()])
        new = digits[:i] + str((int(digits[i]) + rng.randint(1, 8)) % 10) + digits[i + 1:]
        if new.lstrip("0") == "" or new == digits:
            return None
    return claim[: m.start()] + new + claim[m.end():]


def swap_unit(claim: str, rng: random.Random, pool: list[str]) -> Optional[str]:
    """A unit word changed within its group ("6,3 miliar" -> "6,3 juta")."""
    for group in rng.sample(UNIT_GROUPS, len(UNIT_GROUPS)):
        for word in group:
            m = re.search(rf"\b{re.escape(word)}\b", claim, re.IGNORECASE)
            if m:
                new = rng.choice([w for w in group if w != word])
                return claim[: m.start()] + new + claim[m.end():]
    return None


def swap_date(claim: str, rng: random.Random, pool: list[str]) -> Optional[str]:
    """A month or a year changed."""
    for months in MONTHS:
        for month in months:
            m = re.search(rf"\b{month}\b", claim)
            if m:
                return claim[: m.start()] + rng.choice([x for x in months if x != month]) + claim[m.end():]
    m = re.search(r"\b(19|20)\d\d\b", claim)
    if m:
        return claim[: m.start()] + str(int(m.group()) + rng.choice([-3, -2, -1, 1, 2, 5])) + claim[m.end():]
    return None


def swap_name(claim: str, rng: random.Random, pool: list[str]) -> Optional[str]:
    """A name replaced by another name of the same article (not one the claim already has)."""
    found = _names(claim, pool)
    if not found:
        return None
    m = rng.choice(found)
    others = [n for n in pool if not NUMBER.fullmatch(n) and n not in claim and m.group() not in n and n not in m.group()]
    if not others:
        return None
    return claim[: m.start()] + rng.choice(others) + claim[m.end():]


_LIST_JOINT = re.compile(r"^[\s,;]*(?:dan|and|atau|or|serta|dengan|with|&|vs\.?|versus)?[\s,;]*$", re.IGNORECASE)


def swap_role(claim: str, rng: random.Random, pool: list[str]) -> Optional[str]:
    """Two names of the claim trade places across words that relate them ("A sold X to B" -> "B sold X to A"),
    never within a list ("A and B" says the same either way), or a relation word flips."""
    found = _names(claim, pool)
    pairs = [(a, b) for i, a in enumerate(found) for b in found[i + 1:]
             if a.group() != b.group() and claim[a.end(): b.start()].split()
             and not _LIST_JOINT.match(claim[a.end(): b.start()])]
    if pairs:
        first, second = rng.choice(pairs)
        return (claim[: first.start()] + second.group() + claim[first.end(): second.start()]
                + first.group() + claim[second.end():])
    for left, right in rng.sample(ROLE_PAIRS, len(ROLE_PAIRS)):
        for old, new in ((left, right), (right, left)):
            m = re.search(rf"\b{old}\b", claim)
            if m:
                return claim[: m.start()] + new + claim[m.end():]
    return None


SWAPS: dict[str, Callable] = {"number": swap_number, "unit": swap_unit, "date": swap_date,
                              "name": swap_name, "role": swap_role}


def article_pool(sentences: list[str]) -> list[str]:
    """The names and numbers of an article: what a swap may put in a claim's place."""
    names = {m.group() for s in sentences for m in NAME_RUN.finditer(s) if m.start() > 0}
    numbers = {m.group() for s in sentences for m in NUMBER.finditer(s)}
    return sorted(names | numbers)


def swapped(claim: str, kind: str, rng: random.Random, pool: list[str]) -> Optional[str]:
    """The claim with one swap of ``kind``, or None when the claim offers none."""
    new = SWAPS[kind](claim, rng, pool)
    return new if new and new.strip() != claim.strip() else None
