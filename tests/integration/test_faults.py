"""Faults with the real parts: an ingest killed with SIGKILL leaves no partial document and a re-run
completes it; a Chroma server or an LLM server that goes down gives a clear error naming it, and
the same Assistant works again once it is back."""
from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from app.api import Assistant
from core.errors import ModelUnavailable, StoreUnavailable
from ingest.chunking import chunk_article, make_splitter
from ingest.loaders import load_path
from vectorstore.records import tag
from tests.conftest import MODELS_DIR, REPO, SAMPLES, free_port, real_settings, require_shared, start_chroma_server

pytestmark = pytest.mark.integration

KILL_AFTER_DOCS = 3


def indosum_batch(path: Path, count: int) -> dict:
    """``count`` real IndoSum articles as one .jsonl file; returns the articles by doc id."""
    source = require_shared("indosum/dev.02.jsonl")
    with source.open(encoding="utf-8") as handle:
        path.write_text("".join(next(handle) for _ in range(count)), encoding="utf-8")
    return {a.doc_id: a for a in load_path(path, 10**9)}


def cli_env(data_dir: Path) -> dict:
    return {**os.environ, "KABAR_DATA_DIR": str(data_dir), "KABAR_MODELS_DIR": str(MODELS_DIR), "PYTHONPATH": str(REPO)}


def committed_docs(data_dir: Path) -> int:
    """Documents the keyword index holds: it is written last, after the registry's commit."""
    path = data_dir / "kabar_chunks.keyword.sqlite"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT COUNT(DISTINCT doc_id) FROM chunks").fetchone()[0]
    except sqlite3.OperationalError:  # table not created yet, or locked for an instant
        return 0


def keyword_rows(kb: Assistant) -> set:
    path = kb.settings.data_dir / "kabar_chunks.keyword.sqlite"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return set(db.execute("SELECT chunk_id, doc_id, version FROM chunks").fetchall())


def assert_consistent(kb: Assistant, articles: dict) -> None:
    """Every listed document complete and current, keyword index equal to Chroma's live chunks."""
    splitter = make_splitter(kb.settings.chunk_size, kb.settings.chunk_overlap)
    live = set()
    for record in kb.documents():
        _, expected_texts, _, _ = chunk_article(articles[record.doc_id], splitter)
        ids, texts = kb.store.chunk_texts(record.doc_id, record.version)
        assert record.version == articles[record.doc_id].version
        assert (ids, texts) == (record.chunk_ids(), expected_texts) and record.chunks == len(ids), record.title
        live |= {(i, record.doc_id, tag(record.version, record.write)) for i in ids}
    assert keyword_rows(kb) == live


def assert_search_sees_only_live_chunks(kb: Assistant, questions: list[str]) -> None:
    versions = {d.doc_id: d.version for d in kb.documents()}
    for question in questions:
        found = kb.retriever.retrieve(question)
        assert found, question
        for passage in found:
            assert versions.get(passage.doc_id) is not None, f"unlisted document searchable: {passage.title}"
        dense = kb.store.search(kb.embeddings.embed_query(question), 20)
        assert all(p.doc_id in versions for p in dense)


def test_sigkilled_ingest_leaves_no_partial_document_and_a_rerun_completes_it(tmp_path):
    articles = indosum_batch(tmp_path / "batch.jsonl", 8)
    data = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-m", "ingest", "--quiet", str(tmp_path / "batch.jsonl")],
                            env=cli_env(data), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 600
    while committed_docs(data) < KILL_AFTER_DOCS and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, f"ingest ended before it could be killed: {proc.stdout.read()[-2000:]!r}"
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL

    kb = Assistant(real_settings(data))
    survivors = kb.documents()
    assert KILL_AFTER_DOCS <= len(survivors) < len(articles)
    assert_consistent(kb, articles)
    assert_search_sees_only_live_chunks(kb, [articles[d.doc_id].title for d in survivors[:2]]
                                        + [a.title for a in list(articles.values())[-2:]])
    kb.store.repair()  # drops chunks of a document whose commit the kill prevented
    assert kb.store.count() == sum(d.chunks for d in kb.documents())

    report = kb.ingest([tmp_path / "batch.jsonl"])
    assert not report.failed and not report.updated
    assert sorted(report.unchanged) == sorted(d.title for d in survivors)
    assert len(report.added) == len(articles) - len(survivors)
    assert {d.doc_id for d in kb.documents()} == set(articles)
    assert_consistent(kb, articles)
    assert kb.store.count() == sum(d.chunks for d in kb.documents())


# Dies exactly at the dangerous point of an update: the new version's chunks are in Chroma, the
# registry still names the old version (the commit never happens).
KILL_AT_COMMIT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from ingest.__main__ import main
    from vectorstore.store import ChunkStore

    folder, target = Path(sys.argv[1]), sys.argv[2]
    assert main(["--quiet", str(folder)]) == 0
    path = folder / target
    path.write_text(path.read_text(encoding="utf-8") + "\\nDitambahkan belakangan: zamrudkatulistiwa.\\n", encoding="utf-8")
    real = ChunkStore.write_document

    def dying(self, record, ids, texts, vectors, metadatas):
        if record.source.endswith(target):
            self._chunks.upsert(ids=ids, documents=texts, embeddings=vectors, metadatas=metadatas)
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, record, ids, texts, vectors, metadatas)

    ChunkStore.write_document = dying
    main(["--quiet", str(folder)])
""")


def test_kill_between_new_chunks_and_commit_keeps_the_old_version_live(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    for i, article in enumerate(list(indosum_batch(tmp_path / "batch.jsonl", 3).values())):
        (folder / f"berita-{i}.txt").write_text(f"{article.title}\n\n{article.text}\n", encoding="utf-8")
    old = {a.doc_id: a for path in folder.iterdir() for a in load_path(path, 10**6)}  # before the edit
    proc = subprocess.run([sys.executable, "-c", KILL_AT_COMMIT, str(folder), "berita-1.txt"], env=cli_env(tmp_path / "data"),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]

    kb = Assistant(real_settings(tmp_path / "data"))
    assert_consistent(kb, old)
    leftovers = kb.store.count() - sum(d.chunks for d in kb.documents())
    assert leftovers > 0, "the kill should have left the uncommitted version's chunks behind"
    assert kb.store.keyword.search("zamrudkatulistiwa", 5) == []
    assert all("zamrudkatulistiwa" not in p.text for p in kb.retriever.retrieve("Ditambahkan belakangan: zamrudkatulistiwa"))
    remaining = kb.store.count() - sum(d.chunks for d in kb.documents())
    assert remaining < leftovers, "the search deletes the dead writer's leftovers it steps over"
    assert kb.store.repair() == remaining

    report = kb.ingest([folder])
    assert len(report.updated) == 1 and len(report.unchanged) == 2 and not report.failed
    assert "zamrudkatulistiwa" in kb.retriever.retrieve("zamrudkatulistiwa")[0].text
    assert kb.store.count() == sum(d.chunks for d in kb.documents())


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    return start_chroma_server(path, port)


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)


def test_chroma_server_down_is_named_and_the_same_assistant_recovers(tmp_path):
    port = free_port()
    server = start_chroma(tmp_path / "chroma", port)
    try:  # a dead LLM URL: asking must fail on the store first, and nothing loads a model
        kb = Assistant(real_settings(tmp_path / "data", chroma_host="127.0.0.1", chroma_port=port,
                                     llm_backend="openai", llm_base_url=f"http://127.0.0.1:{free_port()}/v1"))
        assert len(kb.ingest([SAMPLES]).added) == 1
        stop(server)
        named = rf"Chroma server at 127\.0\.0\.1:{port} is unavailable"
        for action in (lambda: kb.ingest([SAMPLES]), lambda: kb.ask("Why is the EU partnering with Japan?"),
                       kb.documents, lambda: kb.remove("anything")):
            with pytest.raises(StoreUnavailable, match=named):
                action()
        server = start_chroma(tmp_path / "chroma", port)
        assert [d.title for d in kb.documents()] == ["Uni Eropa dan Jepang Jajaki Kolaborasi Strategis AI dan Semikonduktor"]
        assert kb.ingest([SAMPLES]).unchanged
        assert "Jepang" in kb.retriever.retrieve("Dewan Kemitraan Digital")[0].text
    finally:
        stop(server)


LLM_FILE = MODELS_DIR / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"  # the one `make models` assembles


def llama_server(port: int):
    """llama.cpp (the packaged model) serving the OpenAI API on a fixed loopback port."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(LLM_FILE)
    params.n_ctx = 4096
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = max(1, os.cpu_count() or 1)
    params.verbosity = -1
    params.port = port
    return xllamacpp.Server(params)


def test_llm_server_down_is_named_and_answers_resume_when_it_is_back(tmp_path):
    if not LLM_FILE.is_file():
        pytest.skip(f"{LLM_FILE} is not assembled (make models)")
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    # One passage and a short reply: the point is that the server is reached again, not the answer's quality.
    kb = Assistant(real_settings(tmp_path / "data", llm_backend="openai", llm_base_url=url, top_k=1, llm_max_tokens=40))
    kb.ingest([SAMPLES])
    question = "Why is the EU partnering with Japan?"
    with pytest.raises(ModelUnavailable, match=rf"The chat model at {url} did not answer"):
        kb.ask(question)
    server = llama_server(port)
    answer = kb.ask(question)
    assert answer.text and answer.retrieved
    del server  # stops listening
    with pytest.raises(ModelUnavailable, match=re.escape(url)):
        kb.ask(question)
