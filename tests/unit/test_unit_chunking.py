"""Chunking: size limits, overlap between neighbours, stable ids, article facts in metadata."""
from __future__ import annotations

import hashlib

import pytest

from ingest.chunking import chunk_article, make_splitter
from ingest.loaders import Article

SENTENCES = [
    f"Kalimat nomor {i} membahas kerja sama Uni Eropa dan Jepang di bidang semikonduktor."
    for i in range(1, 31)
]
TEXT = " ".join(SENTENCES[:15]) + "\n\n" + " ".join(SENTENCES[15:])


def article(text: str = TEXT, **facts) -> Article:
    facts = {"title": "Kolaborasi Chip", "outlet": "Kabar", "date": "2023-07-03", "url": "https://x.test/1", **facts}
    return Article(doc_id="doc-1", text=text, source="/tmp/doc-1.txt", **facts)


@pytest.fixture
def splitter():
    return make_splitter(chunk_size=200, chunk_overlap=100)


def test_chunks_respect_chunk_size_and_cover_the_text(splitter):
    ids, texts, _, _ = chunk_article(article(), splitter)
    assert len(texts) > 5
    assert all(0 < len(t) <= 200 for t in texts)
    assert len(ids) == len(texts) == len(set(ids))
    joined = " ".join(texts)
    for sentence in SENTENCES:  # nothing is lost
        assert sentence in joined


def test_chunks_end_on_sentence_boundaries(splitter):
    _, texts, _, _ = chunk_article(article(), splitter)
    assert all(t.endswith(".") for t in texts), texts


def test_neighbouring_chunks_overlap():
    # overlap is made of whole pieces (sentences here), so it must be longer than one ~85-char sentence
    _, texts, _, _ = chunk_article(article(" ".join(SENTENCES)), make_splitter(200, 100))
    assert len(texts) > 5
    for left, right in zip(texts, texts[1:]):
        shared_sentence = right.split(". ")[0] + "."
        assert shared_sentence in left, (left, right)


def test_no_overlap_when_overlap_is_zero():
    _, texts, _, _ = chunk_article(article(), make_splitter(200, 0))
    for left, right in zip(texts, texts[1:]):
        assert right.split(". ")[0] + "." not in left


def test_ids_are_stable_for_the_same_content(splitter):
    first = chunk_article(article(), splitter)
    again = chunk_article(article(), make_splitter(200, 100))
    assert first == again
    expected = hashlib.sha256(f"doc-1|{article().version}|0".encode()).hexdigest()[:32]
    assert first[0][0] == expected


def test_ids_change_after_an_edit_of_text_or_facts(splitter):
    ids, _, _, _ = chunk_article(article(), splitter)
    edited_ids, _, _, _ = chunk_article(article(TEXT.replace("nomor 30", "nomor tiga puluh")), splitter)
    retitled_ids, _, _, _ = chunk_article(article(title="Judul Baru"), splitter)
    assert not set(ids) & set(edited_ids)
    assert not set(ids) & set(retitled_ids)


def test_metadata_carries_article_facts(splitter):
    doc = article()
    _, texts, to_embed, metadatas = chunk_article(doc, splitter)
    assert [m["chunk_index"] for m in metadatas] == list(range(len(texts)))
    for meta in metadatas:
        assert meta["doc_id"] == "doc-1"
        assert meta["version"] == doc.version
        assert meta["title"] == "Kolaborasi Chip"
        assert (meta["outlet"], meta["date"], meta["url"], meta["source"]) == (
            "Kabar", "2023-07-03", "https://x.test/1", "/tmp/doc-1.txt")
        assert all(v is not None for v in meta.values())  # Chroma rejects None metadata
    assert to_embed == [f"Kolaborasi Chip\n{t}" for t in texts]


def test_untitled_article_embeds_bare_text(splitter):
    _, texts, to_embed, _ = chunk_article(article(title=""), splitter)
    assert to_embed == texts


def test_whitespace_only_article_gives_no_chunks(splitter):
    assert chunk_article(article(text="   \n\n  "), splitter) == ([], [], [], [])
