"""Chat model factory: one OpenAI-compatible client path for the embedded model and remote servers.

The embedded backend starts llama.cpp in-process (xllamacpp), which listens on a loopback port
with the same OpenAI API that vLLM, llama.cpp server and Ollama speak, so everything above this
module talks to a LangChain ``ChatOpenAI`` whatever serves the model. The chat model's interface is LangChain's
``BaseChatModel`` (``stream``, ``invoke``, ``bind``): ``fake`` (core/fakes.py) or a model passed to ``Assistant``
stands in for it.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

from langchain_core.language_models.chat_models import BaseChatModel

from core.errors import ConfigError, ModelUnavailable

if TYPE_CHECKING:
    from core.settings import Settings


class EmbeddedLlamaServer:
    """llama.cpp (xllamacpp) serving one GGUF on 127.0.0.1 for the lifetime of this object."""

    def __init__(self, model_path: Path, threads: int, context: int, parallel: int = 1,
                 prompt_cache_mib: int = 256):
        try:
            import xllamacpp
        except ImportError as err:
            raise ConfigError("The 'xllamacpp' package is needed for KABAR_LLM_BACKEND=embedded.") from err
        if not model_path.is_file():
            raise ModelUnavailable(
                f"Model file {model_path} is missing; run `make models` (python -m core.model_files) first."
            )
        params = xllamacpp.CommonParams()
        params.model.path = str(model_path)
        params.n_ctx = context * parallel
        params.n_parallel = parallel
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.cache_ram_mib = prompt_cache_mib
        params.verbosity = -1
        try:
            self._server = xllamacpp.Server(params)
        except Exception as err:  # xllamacpp raises RuntimeError/ValueError variants
            raise ModelUnavailable(f"llama.cpp could not load {model_path.name}: {err}") from err
        self.base_url = self._server.listening_address + "/v1"

    def close(self) -> None:
        self._server = None


class ChatBackend:
    """The chat model plus whatever must stay alive to serve it; ``base_url`` is its OpenAI-compatible /v1 URL,
    None for a model without a server (a fake, or one passed in)."""

    def __init__(self, model: BaseChatModel, base_url: Optional[str] = None,
                 server: Optional[EmbeddedLlamaServer] = None):
        self.model = model
        self.base_url = base_url
        self._server = server

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None


def resolve_model_path(settings: "Settings") -> Path:
    """The GGUF the embedded backend should load: an explicit path, else the packaged model."""
    if settings.llm_model_path:
        return Path(settings.llm_model_path)
    from core.model_files import packaged_model

    return settings.models_dir / packaged_model(settings.llm_model).filename


def _openai_client(settings: "Settings", base_url: str) -> BaseChatModel:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as err:
        raise ConfigError("The 'langchain-openai' package is needed to talk to the chat model.") from err
    return ChatOpenAI(
        base_url=base_url,
        api_key=settings.llm_api_key,
        model=settings.llm_model_name,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
        frequency_penalty=settings.llm_frequency_penalty,
        timeout=settings.llm_timeout_s,
        max_retries=1,
        streaming=True,
    )


def make_chat_backend(settings: "Settings") -> ChatBackend:
    """Start (embedded) or connect to (openai) the chat model the settings name, or make the fake one."""
    if settings.llm_backend == "embedded":
        server = EmbeddedLlamaServer(resolve_model_path(settings), settings.llm_threads, settings.llm_context,
                                     prompt_cache_mib=settings.llm_prompt_cache_mib)
        return ChatBackend(_openai_client(settings, server.base_url), server.base_url, server)
    if settings.llm_backend == "openai":
        if not settings.llm_base_url:
            raise ConfigError("Set KABAR_LLM_BASE_URL to the OpenAI-compatible server, e.g. http://host:8000/v1")
        return ChatBackend(_openai_client(settings, settings.llm_base_url), settings.llm_base_url)
    if settings.llm_backend == "fake":
        from core.fakes import FakeChatModel

        return ChatBackend(FakeChatModel())
    raise ConfigError(f"Unknown LLM backend {settings.llm_backend!r}.")
