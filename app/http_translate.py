"""/v1/translate: a source passage in the reader's language, machine-translated by the local chat model."""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from fastapi import APIRouter

from app import http_schemas as wire

if TYPE_CHECKING:
    from app.api import Assistant


def add_translate_routes(router: APIRouter, assistant: "Assistant") -> None:
    @router.post("/translate")
    async def translate(body: wire.TranslateRequest) -> dict:
        """Translate ``text`` or the archive's chunk ``chunk_id`` into ``language``; cached, marked as machine
        translation. The model calls wait in the answers' line on a worker thread, not on the event loop."""
        result = await asyncio.to_thread(assistant.translate, body.text, body.language, body.chunk_id)
        return wire.translation_json(result)
