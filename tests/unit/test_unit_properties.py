"""Properties over generated input (hypothesis): chunking never crashes and loses nothing, an
ingest followed by a remove leaves the store as it was, and questions are validated the same way
whatever their text, through the real Assistant with the fake embedder and a fake chat model."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from core.errors import BadQuestion
from core.settings import Settings
from ingest.chunking import chunk_article, make_splitter
from ingest.loaders import Article, _normalise
from tests.unit.conftest import NO_CHECKER, FakeEmbeddings

# Words, sentence ends, newlines, blanks, accents, CJK, emoji, control characters, lone surrogates
# excluded (they cannot be encoded and never come out of a decoder).
TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("abc xyz ABC . , ! ? ; : … \n \n\n \t - ' \" ( ) [ ] 0 1 9 é ß 中 文 🙂 \u00a0 \r"),
        st.characters(blacklist_categories=("Cs",)),
    ),
    max_size=3000,
)
CHUNK_SIZES = st.tuples(st.integers(20, 400), st.integers(0, 100)).map(lambda t: (t[0], min(t[1], t[0] // 2)))
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_chunks_cover(text: str, chunks: list[str]) -> None:
    """Chunks are verbatim pieces of the text, in order, each starting no later than where the ones
    before it reach (overlapping or separated by blanks only), and together reaching its end."""
    reach = len(text) - len(text.lstrip())
    start = 0
    for chunk in chunks:
        next_word = reach
        while next_word < len(text) and text[next_word].isspace():
            next_word += 1
        at = text.rfind(chunk, start, next_word + len(chunk))  # the furthest placement leaving no gap
        assert at >= 0, f"gap or altered text before {chunk[:60]!r} (covered up to {reach}: {text[reach:reach + 60]!r})"
        start, reach = at, max(reach, at + len(chunk))
    assert not text[reach:].strip(), f"text after the last chunk: {text[reach:reach + 80]!r}"


@PROPERTY_SETTINGS
@given(text=TEXT, sizes=CHUNK_SIZES)
@example(text="a" * 5000, sizes=(50, 10))  # one giant word
@example(text="Satu. " * 400, sizes=(20, 19))
def test_chunking_any_text_is_lossless_bounded_and_ordered(text, sizes):
    chunk_size, overlap = sizes
    article = Article("doc", _normalise(text), "src.txt", title="Judul")
    ids, texts, to_embed, metadatas = chunk_article(article, make_splitter(chunk_size, overlap))
    assert len(ids) == len(texts) == len(to_embed) == len(metadatas) == len(set(ids))
    assert all(t.strip() and len(t) <= chunk_size for t in texts)
    assert_chunks_cover(article.text, texts)
    assert [m["chunk_index"] for m in metadatas] == list(range(len(texts)))


@pytest.fixture(scope="module")
def property_store(tmp_path_factory):
    """One real Chroma store for all examples (hypothesis reuses it: every example must undo itself)."""
    from ingest.service import IngestService
    from vectorstore.store import open_store

    settings_ = Settings(data_dir=tmp_path_factory.mktemp("props"), chunk_size=200, chunk_overlap=40,
                         chroma_collection="props")
    store = open_store(settings_)
    service = IngestService(settings_, store, FakeEmbeddings())
    base = Article("base-doc", "Uni Eropa dan Jepang bekerja sama. Semikonduktor penting.", "base.txt", title="Basis")
    assert service.ingest_articles([base]).added == ["Basis"]
    return service, store


def store_state(store):
    got = store._chunks.get(include=["documents", "metadatas"])
    chunks = sorted(zip(got["ids"], got["documents"], [m["version"] for m in got["metadatas"]]))
    return [(d.doc_id, d.version, d.chunks, d.title) for d in store.documents()], chunks, store.keyword.versions()


ARTICLES = st.builds(
    Article, doc_id=st.text(min_size=1, max_size=40), text=TEXT, source=st.text(max_size=60),
    title=st.text(max_size=80), outlet=st.text(max_size=20), date=st.text(max_size=12), url=st.text(max_size=40),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(article=ARTICLES)
@example(article=Article("nul\x00id", "Teks dengan id yang memuat NUL.", "a\x00b.txt", title="NUL"))
@example(article=Article("../../etc/passwd", "Id mirip path.", "../../etc/passwd", title="../x"))
@example(article=Article("kosong", " \n\t ", "kosong.txt"))
def test_ingest_then_remove_leaves_the_store_as_it_was(property_store, article):
    service, store = property_store
    if article.doc_id in ("base-doc", "Basis", "base.txt"):  # remove() also matches titles and sources
        return
    before = store_state(store)
    report = service.ingest_articles([article])
    if article.text.strip():
        assert report.added and not report.failed, report
        assert service.ingest_articles([article]).unchanged, "same article twice must cost nothing"
        assert store.document(article.doc_id) is not None
    else:
        assert report.failed and not report.added
    assert service.remove(article.doc_id) == bool(article.text.strip())
    assert store_state(store) == before


def fake_assistant(tmp_path, max_question_chars=2000):
    """The real Assistant, with the fake embedder and a fake chat model that records each call."""
    from app.api import Assistant

    model = FakeListChatModel(responses=["Uni Eropa bekerja sama dengan Jepang [1]."])
    kb = Assistant(Settings(data_dir=tmp_path / "data", max_question_chars=max_question_chars, **NO_CHECKER),
                   embeddings=FakeEmbeddings(), chat_model=model)
    return kb, model


@pytest.fixture(scope="module")
def assistant_with_fakes(tmp_path_factory):
    return fake_assistant(tmp_path_factory.mktemp("fake-assistant"))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question=st.text(max_size=2100) | st.text(alphabet=" \t\n\r\u00a0\u3000", max_size=50))
@example(question="")
@example(question="x" * 100_000)
@example(question=" " * 100_000)
@example(question="  " + "y" * 2000 + "\n")
def test_questions_are_validated_whatever_their_text(assistant_with_fakes, question):
    kb, model = assistant_with_fakes
    stripped = question.strip()
    calls = model.i
    if not stripped or len(stripped) > 2000:
        with pytest.raises(BadQuestion) as raised:
            kb.ask(question)
        message = str(raised.value)
        if not stripped:
            assert message == "Please type a question."
        else:
            assert re.search(rf"\b{len(stripped):,} characters long; the limit is 2,000\b", message), message
        with pytest.raises(BadQuestion):
            next(iter(kb.stream(question)))  # raised before any event
        assert model.i == calls, "the model must not be asked"
    else:
        answer = kb.ask(question)
        assert answer.question == stripped and answer.text
