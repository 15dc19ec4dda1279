"""Citation checking with hand-made 2-d vectors: no embedder model involved."""
from __future__ import annotations

import numpy as np
import pytest

from app.citations import CITATION, check_sentences, cited_numbers, split_sentences

PASSAGES = [
    "Dewan Kemitraan Digital UE-Jepang dibentuk pada 2023 dengan 1.500 insinyur.",
    "Semikonduktor penting untuk melatih model AI.",
]
PASSAGE_VECTORS = np.array([[1.0, 0.0], [0.0, 1.0]])
SUPPORT = 0.8


def unit(x: float, y: float) -> list[float]:
    v = np.array([x, y])
    return list(v / np.linalg.norm(v))


# sentence (without citations) -> its vector; the fake embed looks sentences up here
VECTORS = {
    "Jepang dan UE membentuk dewan digital": unit(1.0, 0.1),
    "Chip dibuat di Eropa": unit(1.0, 0.05),
    "Dewan dibentuk pada 2022": unit(1.0, 0.0),
    "Dewan dibentuk pada 2023": unit(1.0, 0.0),
    "Ada 1,500 insinyur": unit(1.0, 0.0),
    "Semikonduktor penting untuk AI": unit(0.2, 1.0),
    "Bunga mawar berwarna merah": unit(-1.0, -1.0),
    ",": unit(1.0, 0.0),  # a line of bare citations, as close as can be: still no claim
}


class FakeEmbed:
    def __init__(self):
        self.seen: list[str] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        return np.array([VECTORS[t.rstrip(".!? ")] for t in texts])


def check(answer: str):
    return check_sentences(answer, PASSAGES, PASSAGE_VECTORS, FakeEmbed(), SUPPORT)


# --- splitting and citation numbers -------------------------------------------------------------

def test_split_sentences_keeps_citation_with_its_sentence():
    parts = split_sentences("Jepang kuat. [1] UE bermitra [2]. Chip penting! [1, 3] Akhir kata")
    assert len(parts) == 4
    assert [cited_numbers(p) for p in parts] == [[1], [2], [1, 3], []]
    assert parts[0].startswith("Jepang kuat") and parts[3] == "Akhir kata"


def test_split_sentences_on_question_and_newlines():
    assert split_sentences("Apa itu AI? Itu teknologi.\n\nBaris baru.") == [
        "Apa itu AI?", "Itu teknologi.", "Baris baru."]
    assert split_sentences("   \n ") == []


def test_moved_citation_leaves_no_space_before_full_stop():
    assert split_sentences("Jepang kuat. [1] UE bermitra.")[0] == "Jepang kuat [1]."


def test_citation_before_a_newline_keeps_the_punctuation():
    assert split_sentences("Chip penting! [1, 3]\nAkhir kata.") == ["Chip penting [1, 3]!", "Akhir kata."]


def test_cited_numbers_in_order_of_first_appearance():
    assert cited_numbers("A [3] b [1, 3] c [2] d [3,2]") == [3, 1, 2]
    assert cited_numbers("Tanpa sitasi, tahun 2023.") == []
    assert CITATION.sub("", "x [1, 2] y") == "x  y"


# --- support checks -----------------------------------------------------------------------------

def test_supported_sentence_is_kept():
    [result] = check("Jepang dan UE membentuk dewan digital [1].")
    assert result.supported and result.cited == [1]
    assert result.similarity == pytest.approx(unit(1.0, 0.1)[0])
    assert result.text == "Jepang dan UE membentuk dewan digital [1]."


def test_wrong_citation_moves_to_the_passage_that_supports_the_sentence():
    [result] = check("Chip dibuat di Eropa [2].")
    assert result.supported and result.cited == [1]
    assert result.text == "Chip dibuat di Eropa [1]."


def test_sentence_no_passage_supports_is_unsupported_and_keeps_its_citation():
    [result] = check("Bunga mawar berwarna merah [1].")
    assert result.cited == [1]
    assert not result.supported and result.similarity < SUPPORT


def test_sentence_supported_if_any_cited_passage_is_close():
    [result] = check("Chip dibuat di Eropa [2, 1].")
    assert result.supported and result.cited == [2, 1]


def test_number_absent_from_cited_passage_is_unsupported():
    wrong, right = check("Dewan dibentuk pada 2022 [1]. Dewan dibentuk pada 2023 [1].")
    assert wrong.similarity == pytest.approx(1.0) and not wrong.supported
    assert right.supported


def test_numbers_match_across_thousands_separators():
    [result] = check("Ada 1,500 insinyur [1].")
    assert result.supported


def test_uncited_sentence_gets_the_closest_passage():
    [result] = check("Semikonduktor penting untuk AI.")
    assert result.cited == [2]
    assert result.text == "Semikonduktor penting untuk AI [2]."
    assert result.supported


def test_out_of_range_citation_is_replaced_by_the_closest_passage():
    [result] = check("Jepang dan UE membentuk dewan digital [7].")
    assert result.cited == [1] and result.supported


def test_mixed_answer_checks_each_sentence_and_embeds_bare_text():
    embed = FakeEmbed()
    answer = "Jepang dan UE membentuk dewan digital. [1] Dewan dibentuk pada 2022 [1]. Semikonduktor penting untuk AI."
    results = check_sentences(answer, PASSAGES, PASSAGE_VECTORS, embed, SUPPORT)
    assert [r.supported for r in results] == [True, False, True]
    assert [r.cited for r in results] == [[1], [1], [2]]
    assert not any("[" in t for t in embed.seen)


def test_empty_answer_gives_nothing():
    assert check("") == []


def test_a_line_of_bare_citations_is_no_sentence():
    checked = check("Jepang dan UE membentuk dewan digital [1].\n[1], [2]")
    assert [c.text for c in checked] == ["Jepang dan UE membentuk dewan digital [1]."]


def test_unfinished_sentence_is_dropped_but_citations_after_the_stop_stay():
    from app.citations import drop_unfinished_sentence

    assert drop_unfinished_sentence("Harga naik [1]. Ini adalah di l [1") == "Harga naik [1]."
    assert drop_unfinished_sentence("Prices rose. [2] They") == "Prices rose. [2]"
    assert drop_unfinished_sentence("no stop at all") == ""


# --- names and unfinished sentences ---------------------------------------------------------------
def test_invented_person_name_is_unknown_across_languages():
    from app.citations import unknown_names

    passage = "Komisaris UE Thierry Breton akan berdiskusi dengan pemerintah Jepang."
    assert unknown_names("Thierry Breton met Yasuhiro Nakagawa, the minister.", passage, False) == ["Yasuhiro Nakagawa"]
    # a translated country name is one word: not checked across languages; one known word saves a run
    assert unknown_names("The EU wants to reduce its dependence on China.", passage, False) == []
    assert unknown_names("It met South Korea and Thierry Breton.", "Korea Selatan", False) == ["Thierry Breton"]


def test_within_one_language_every_name_must_occur_in_the_sources():
    from app.citations import unknown_names

    passage = "ASML adalah salah satu perusahaan chip paling penting di Belanda."
    assert unknown_names("CEO ASML adalah Timo van der Linden.", passage, True) == ["Timo", "Linden"]
    assert unknown_names("Perusahaan ASML berada di Belanda.", passage, True) == []
    assert unknown_names("Siapa CEO ASML menurut Reuters?", "ASML", True) == ["Reuters"]  # one known word per run


def test_question_counts_as_a_source_for_names():
    from app.citations import check_sentences

    def embed(texts):
        return np.array([unit(1.0, 0.0) for _ in texts])

    vectors = [np.array([unit(1.0, 0.0)])]
    passage = ["Komisi Eropa berupaya membentuk aliansi dengan Jepang."]  # "UE" is in the question alone
    answer, same = "Kerja sama UE dengan Jepang kuat [1].", (lambda sentence, passage: True)
    [kept] = check_sentences(answer, passage, vectors, embed, SUPPORT, question="Mengapa UE bekerja sama dengan Jepang?",
                             same_language=same)
    [dropped] = check_sentences(answer, passage, vectors, embed, SUPPORT, question="Mengapa?", same_language=same)
    assert kept.supported and not dropped.supported


def test_sentence_cut_off_before_its_point_is_dropped():
    from app.citations import unfinished

    assert unfinished("The council will hold its first meeting on [2].")
    assert unfinished("Dewan itu akan bertemu pada")
    assert not unfinished("Komputer pertama kali diciptakan pada tahun 1940-an [1].")
    assert not unfinished("Dewan dibentuk pada 2022 [1].")
    from app.citations import check_sentences

    def embed(texts):
        return np.array([unit(1.0, 0.0) for _ in texts])

    checked = check_sentences("Dewan dibentuk pada 2023 [1]. Dewan dibentuk pada [1].", PASSAGES, PASSAGE_VECTORS,
                              embed, SUPPORT)
    assert [c.text for c in checked] == ["Dewan dibentuk pada 2023 [1]."]


def test_a_mistranslated_scale_is_put_right_from_the_cited_passage():
    passages = ["JIC mengusulkan akuisisi JSR senilai 6,3 miliar dolar AS."]
    vectors = np.array([[1.0, 0.0]])
    embed = lambda texts: np.array([[1.0, 0.0] for _ in texts])  # noqa: E731: same meaning, only the scale differs
    million, juta = check_sentences("It was worth $6.3 million [1]. Nilainya 6,3 juta dolar [1].",
                                    passages, vectors, embed, SUPPORT, question="How much was JSR worth?")
    assert million.text == "It was worth $6.3 billion [1]." and million.supported
    assert juta.text == "Nilainya 6,3 miliar dolar [1]." and juta.supported


def test_a_wrongly_cited_scale_is_put_right_from_the_passage_it_is_re_cited_to():
    # the sample article, asked in English: the draft cited the chunk without the figure and said "million"
    passages = ["Breton juga mengungkapkan rencana kerja sama dengan Jepang.",
                "Dana pemerintah Jepang mengusulkan akuisisi JSR senilai $6.3 miliar."]
    vectors = np.array([[0.6, 0.8], [1.0, 0.0]])
    embed = lambda texts: np.array([[1.0, 0.0] for _ in texts])  # noqa: E731
    [claim] = check_sentences("The proposed acquisition of JSR was worth $6.3 million [1].", passages, vectors,
                              embed, SUPPORT, question="How much was the proposed acquisition of JSR worth?")
    assert claim.text == "The proposed acquisition of JSR was worth $6.3 billion [2]." and claim.supported


def test_a_name_spelt_out_from_an_acronym_is_known_and_back():
    from app.citations import unknown_names

    passage = "UE dan Jepang berencana membentuk Dewan Kemitraan Digital."
    assert unknown_names("Dewan itu dibentuk antara Uni Eropa dan Jepang.", passage, True) == []
    assert unknown_names("Dewan itu dibentuk antara UE dan Jepang.", "Uni Eropa dan Jepang berencana.", True) == []
    assert unknown_names("Dewan itu dibentuk antara Uni Afrika dan Jepang.", passage, True) == ["Uni Afrika"]
    assert unknown_names("Hal itu dibahas di Daerah Istimewa.", "Rapat di kantor.", True) == ["Daerah Istimewa"]


def test_a_scale_the_passage_gives_two_ways_is_not_guessed():
    passages = ["Nilainya 6,3 miliar dolar, bukan 6,3 juta dolar seperti kabar awal."]
    embed = lambda texts: np.array([[1.0, 0.0] for _ in texts])  # noqa: E731
    [trillion] = check_sentences("It was worth 6.3 trillion dollars [1].", passages, np.array([[1.0, 0.0]]), embed,
                                 SUPPORT)
    assert "trillion" in trillion.text and not trillion.supported


ARTICLE_SENTENCES = [
    "Semikonduktor penting bagi model AI.", "Teknologi itu strategis.",
    "Jepang memainkan peran penting dalam rantai pasokan semikonduktor global.",  # the chunk's lead
    "Faktanya, minggu lalu, dana yang didukung oleh pemerintah Jepang mengusulkan akuisisi JSR senilai $6.3 miliar.",
    "UE juga telah berupaya untuk memperkuat industri semikonduktornya.",
    "Kepentingan bersama terhadap semikonduktor ini dapat menjadi landasan yang kuat.",
    "Pekan lalu, Belanda, rumah bagi ASML, mengumumkan pembatasan ekspor baru pada peralatan semikonduktor canggih.",
]


def test_a_name_the_passage_puts_elsewhere_is_a_role_swap():
    from app.citations import misplaced_names

    assert misplaced_names("JSR announced new export restrictions [1].", ARTICLE_SENTENCES, row=6) == ["JSR"]
    assert misplaced_names("Pemerintah Belanda dan JSR mengumumkan pembatasan.", ARTICLE_SENTENCES, row=6) == ["JSR"]
    assert not misplaced_names("ASML was named with the new export restrictions.", ARTICLE_SENTENCES, row=6)
    assert not misplaced_names("JSR was to be acquired for $6.3 billion.", ARTICLE_SENTENCES, row=3)
    assert misplaced_names("JSR announced restrictions.", ARTICLE_SENTENCES, row=6) == ["JSR"]


def test_check_sentences_drops_the_swapped_actor_and_keeps_the_right_one():
    passage = " ".join(ARTICLE_SENTENCES)
    rows = np.eye(7)  # one row per sentence: the fake embed points each claim at the export sentence
    embed = lambda texts: np.array([[0.0] * 6 + [1.0] for _ in texts])  # noqa: E731
    swapped, right = check_sentences("JSR announced new export restrictions [1]. ASML's country announced them [1].",
                                     [passage], [rows], embed, SUPPORT)
    assert not swapped.supported
    assert right.supported


def test_the_article_s_topics_are_not_held_to_one_sentence():
    """'Uni Eropa' is named throughout (and 'UE' nearby): a claim naming it is no swap."""
    from app.citations import misplaced_names

    sentences = ["Uni Eropa ingin bermitra dengan Jepang.", "Uni Eropa mengurangi risiko.",
                 "Kebijakan Uni Eropa berubah.", "UE dan Jepang berencana membentuk Dewan Kemitraan Digital."]
    claim = "Dewan Kemitraan Digital adalah kerja sama antara Uni Eropa dan Jepang [1]."
    assert misplaced_names(claim, sentences, row=3) == []


@pytest.mark.parametrize("sentence", [
    "The passage [3] provides more details on this announcement.",
    "South Korea is not mentioned in the given passages [1].",
    "This article does not say when the council meets [2].",
    "Artikel tersebut menjelaskan lebih lanjut tentang pengumuman itu [3].",
    "Nama menteri itu tidak disebutkan [1].",
    "[3] also mentioned that the EU was working on its chip industry.",
])
def test_sentences_about_the_sources_are_no_claims(sentence):
    from app.citations import talks_about_sources

    assert talks_about_sources(sentence)


@pytest.mark.parametrize("sentence", [
    "The Netherlands announced new export restrictions [1].",
    "The article's author, Thierry Breton, spoke about AI [1].",
    "Menurut artikel, UE dan Korea Selatan membentuk dewan serupa [1].",
    "The council will discuss quantum computing [1].",
    "[1] Harga beras turun pekan ini.",
])
def test_news_sentences_are_claims(sentence):
    from app.citations import talks_about_sources

    assert not talks_about_sources(sentence)


def test_a_number_given_to_someone_its_sentence_does_not_name_is_unowned():
    from app.citations import unowned_numbers

    sentences = ["Breton juga mengungkapkan rencana kerja sama.", "Semikonduktor penting bagi AI.",
                 "Teknologi itu strategis.", "Uni Eropa mengurangi risiko.",
                 "Jepang memainkan peran penting dalam rantai pasokan.",
                 "Faktanya, dana pemerintah Jepang mengusulkan akuisisi JSR senilai $6.3 miliar.",
                 "UE juga memperkuat industri semikonduktornya."]
    assert unowned_numbers("Uni Eropa akan menginvestasikan $6.3 miliar dengan Jepang [1].", sentences) == ["Eropa"]
    assert unowned_numbers("Dana pemerintah Jepang mengusulkan akuisisi JSR senilai $6.3 miliar [1].", sentences) == []
    assert unowned_numbers("Uni Eropa ingin bermitra dengan Jepang [1].", sentences) == []  # no number: not asked


def test_a_number_of_the_passage_s_topic_may_be_given_to_the_topic_its_lead_names():
    """Later sentences leave the topic unsaid: "Biaya perluasan … Rp 12 triliun" is the Tanjung Priok terminal's."""
    from app.citations import unowned_numbers

    sentences = ["Ekonomi", "Pelabuhan Tanjung Priok Perluas Terminal",
                 "PT Pelabuhan Indonesia memulai perluasan terminal di Pelabuhan Tanjung Priok, Jakarta.",
                 "Harga naik.", "Pelindo senang.",
                 "Setelah selesai pada 2027, kapasitas naik menjadi 7,5 juta TEU.",
                 "Biaya perluasan diperkirakan mencapai Rp 12 triliun dan dibiayai oleh Pelindo sendiri."]
    assert unowned_numbers("The Tanjung Priok expansion will cost Rp 12 trillion [1].", sentences) == []
    from app.citations import misplaced_names

    assert misplaced_names("The Tanjung Priok expansion will cost Rp 12 trillion [1].", sentences, row=6) == []


def test_a_currency_is_no_name():
    """"Rp" stands before the number wherever the claim's evidence row falls: it names no actor."""
    from app.citations import misplaced_names

    sentences = ["PT Pelabuhan Indonesia memulai perluasan terminal di Pelabuhan Tanjung Priok.",
                 "Kapasitas naik menjadi 7,5 juta TEU.", "Pelindo senang.",
                 "Biaya perluasan diperkirakan mencapai Rp 12 triliun."]
    assert misplaced_names("The Tanjung Priok expansion will cost Rp 12 trillion [1].", sentences, row=0) == []
