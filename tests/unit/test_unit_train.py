"""The checker's training pieces: the swaps that make its hard negatives and the pair layout it reads."""
from __future__ import annotations

import random

from core.cross_encoder import pair_ids
from train.swaps import article_pool, swap_number, swap_role, swap_unit, swapped

POOL = article_pool(["Pekan lalu, Belanda mengumumkan pembatasan ekspor ke Tiongkok senilai 6,3 miliar.",
                     "Komisaris Thierry Breton bertemu Jepang."])


def test_names_trade_places_across_a_relation_but_never_inside_a_list():
    rng = random.Random(0)
    assert swap_role("Belanda mengumumkan pembatasan ekspor ke Tiongkok.", rng, POOL) == \
        "Tiongkok mengumumkan pembatasan ekspor ke Belanda."
    listed = swap_role("Belanda dan Tiongkok bertemu.", rng, POOL)
    assert listed != "Tiongkok dan Belanda bertemu."


def test_units_and_numbers_change_and_nothing_else_does():
    rng = random.Random(0)
    claim = "Nilainya 6,3 miliar dolar."
    unit = swap_unit(claim, rng, POOL)
    assert "miliar" not in unit and any(f"6,3 {w} dolar" in unit for w in ("ribu", "juta", "triliun"))
    number = swap_number(claim, rng, POOL)
    assert number != claim and number.endswith("dolar.")
    assert swapped("Tidak ada angka di sini.", "number", rng, POOL) is None


class Encoding:
    def __init__(self, ids):
        self.ids = ids


class WordTokenizer:
    """<s>=0, </s>=2, one id per word."""

    def encode(self, text):
        return Encoding([0, *(10 + len(w) for w in text.split()), 2])


def test_pairs_read_first_then_second_and_are_cut_to_length():
    ids = pair_ids(WordTokenizer(), "claim", "a bb", "c " * 50, max_length=20)
    assert ids[0] == 0 and ids[-1] == 2 and len(ids) == 20
    assert ids[:5] == [0, 16, 11, 12, 2] and ids[5] == 2  # <s> claim: a bb </s></s>
