"""OpenAI's ``usage`` for the HTTP API: tokens counted by the chat model's own tokenizer where its server
offers one (llama.cpp's and vLLM's ``/tokenize``), else an approximation, named so, of 4 characters a token.

What is counted is what the client sees: ``prompt_tokens`` for the messages it sent, ``completion_tokens``
for the answer it got. Kabar's own prompts (the retrieved passages, the checks, a follow-up's rewrite)
are not in it: they are the archive's work, not the client's conversation.
"""
from __future__ import annotations

import logging
import math
from typing import Callable, Optional

import httpx

log = logging.getLogger(__name__)
APPROX_CHARS_PER_TOKEN = 4  # OpenAI's rule of thumb for English; Indonesian runs close to it
TOKENIZE_TIMEOUT_S = 5.0


def approximate_tokens(text: str) -> int:
    """An estimate, not a count: used only where the chat model's tokenizer cannot be reached."""
    return math.ceil(len(text) / APPROX_CHARS_PER_TOKEN)


def tokenize_url(base_url: str) -> str:
    """The server's /tokenize beside its OpenAI /v1 (llama.cpp and vLLM serve it at the root)."""
    root = base_url.rstrip("/")
    return (root[: -len("/v1")] if root.endswith("/v1") else root) + "/tokenize"


class TokenCounter:
    """Counts tokens for ``usage``; ``base_url()`` names the chat model's /v1 URL, or None before it is loaded.

    A server without /tokenize (Ollama, a hosted API) is remembered as such, and its counts are approximate
    from then on; a tokenizer that is only slow or unreachable this once gives an approximate count this once.
    """

    def __init__(self, base_url: Callable[[], Optional[str]], timeout_s: float = TOKENIZE_TIMEOUT_S,
                 transport: Optional[httpx.AsyncBaseTransport] = None):
        self._base_url, self._timeout, self._transport = base_url, timeout_s, transport
        self._without_tokenizer: set[str] = set()

    async def usage(self, prompt: str, completion: str) -> dict[str, int]:
        """OpenAI's usage object for one request."""
        prompt_tokens, completion_tokens = await self.count(prompt), await self.count(completion)
        return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens}

    async def count(self, text: str) -> int:
        if not text:
            return 0
        counted = await self._tokenized(text)
        return approximate_tokens(text) if counted is None else counted

    async def _tokenized(self, text: str) -> Optional[int]:
        """The tokenizer's count, or None where the chat model's server has no /tokenize (or did not answer)."""
        base = self._base_url()
        if not base or base in self._without_tokenizer:
            return None
        # llama.cpp reads "content"/"add_special", vLLM "prompt"/"add_special_tokens"; each ignores the others
        body = {"content": text, "add_special": False, "prompt": text, "add_special_tokens": False}
        try:
            async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as http:
                response = await http.post(tokenize_url(base), json=body)
        except httpx.HTTPError as err:
            log.warning("the tokenizer at %s did not answer (%s): this usage is approximate", base, err)
            return None
        try:
            response.raise_for_status()
            return len(response.json()["tokens"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as err:
            log.warning("no tokenizer at %s (%s): usage counts are approximate from now on", base, err)
            self._without_tokenizer.add(base)
            return None
