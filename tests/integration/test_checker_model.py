"""The committed checker weights load with the exported e5 model and score known pairs the right way."""
from __future__ import annotations

import pytest

from tests.conftest import real_settings

pytestmark = pytest.mark.integration

NETHERLANDS = ("Pekan lalu, Belanda, rumah bagi salah satu perusahaan chip paling penting, ASML, mengumumkan "
               "pembatasan ekspor baru pada peralatan semikonduktor canggih.")
JSR = ("Faktanya, minggu lalu, dana yang didukung oleh pemerintah Jepang mengusulkan akuisisi perusahaan pembuat "
       "chip dalam negeri JSR senilai $6.3 miliar.")


@pytest.fixture(scope="module")
def checker(tmp_path_factory):
    from core.cross_encoder import make_checker

    return make_checker(real_settings(tmp_path_factory.mktemp("checker")))


def test_the_passage_that_states_the_answer_ranks_first(checker):
    question = "Negara mana yang mengumumkan pembatasan ekspor peralatan semikonduktor?"
    right, other = checker.probabilities("qa", [(question, NETHERLANDS), (question, JSR)])
    assert right > 0.5 > other


def test_an_english_question_finds_its_indonesian_answer(checker):
    question = "Which country announced new export restrictions on chip-making equipment?"
    right, other = checker.probabilities("qa", [(question, NETHERLANDS), (question, JSR)])
    assert right > other


def test_true_claims_pass_and_swapped_roles_fail(checker):
    evidence = NETHERLANDS
    true, swapped, english, english_swapped = checker.probabilities("claim", [
        ("Belanda mengumumkan pembatasan ekspor baru pada peralatan semikonduktor canggih.", evidence),
        ("JSR mengumumkan pembatasan ekspor baru pada peralatan semikonduktor canggih.", evidence),
        ("The Netherlands announced new export restrictions on advanced semiconductor equipment.", evidence),
        ("Japan announced new export restrictions on advanced semiconductor equipment.", evidence),
    ])
    assert true > 0.5 and english > 0.5
    assert swapped < 0.5 and english_swapped < 0.5


def test_the_same_pair_scores_the_same_in_any_batch(checker):
    pair = ("Belanda mengumumkan pembatasan ekspor.", NETHERLANDS)
    alone = checker.logits("claim", [pair])[0]
    batched = checker.logits("claim", [pair, ("x", JSR), ("Jepang mengusulkan akuisisi JSR senilai $6.3 miliar.", JSR)])
    assert abs(alone - batched[0]) < 0.05
