"""Sentence-respecting, overlapping chunks that carry their article's facts."""
from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from core.language import detect_language
from core.text import sentence_ends
from ingest.loaders import Article
from vectorstore.records import chunk_id

# Sentences (and lines) are the unit: chunks are whole sentences packed up to chunk_size, and the
# overlap is the last sentences of the previous chunk. Clauses and words only for giant sentences.
SEPARATORS = [r"\n+|(?<=[.!?…])\s+(?=\S)", r"(?<=[;,])\s+", " ", ""]


def make_splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=chunk_overlap, separators=SEPARATORS, is_separator_regex=True,
        keep_separator="end", strip_whitespace=True,
    )


def chunk_article(article: Article, splitter: RecursiveCharacterTextSplitter):
    """Chunk ids, texts, texts to embed (title first) and Chroma metadata for one article version."""
    texts = [t for t in splitter.split_text(article.text) if t.strip()]
    version = article.version
    ids = [chunk_id(article.doc_id, version, i) for i in range(len(texts))]
    to_embed = [f"{article.title}\n{t}" if article.title else t for t in texts]
    metadatas = [
        {"doc_id": article.doc_id, "version": version, "chunk_index": i, **article.facts(), "source": article.source,
         **text_facts(text)}
        for i, text in enumerate(texts)
    ]
    return ids, texts, to_embed, metadatas


def text_facts(text: str) -> dict[str, str]:
    """What every answer stage reads of a chunk, found once here: its language and where its sentences end."""
    ends = sentence_ends(text)
    return {"language": detect_language(text), **({"sentence_ends": ",".join(map(str, ends))} if ends else {})}
