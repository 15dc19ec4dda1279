"""The page's hidden translation endpoint: a card's Translate button (the script in app/web_style.py) calls it
through Gradio's own API route, which the page's login already covers; /v1/translate would need the API key."""
import logging
from typing import TYPE_CHECKING

from core.errors import KabarError

if TYPE_CHECKING:
    from app.api import Assistant

log = logging.getLogger(__name__)
API_NAME = "translate_source"  # the page script posts to gradio_api/call/translate_source
FAILED = {"en": "The translation failed; the details are in the server log.",
          "id": "Terjemahan gagal; rinciannya ada di log server."}


def add_translate_endpoint(assistant: "Assistant") -> None:
    """Inside the page's Blocks: chunk id and reader's language in, {translation, ...} or {error} out."""
    import gradio as gr

    def translate_source(chunk_id: str, language: str) -> dict:
        """One source card's passage in the reader's language (cached by the translator)."""
        try:
            result = assistant.translate(chunk_id=str(chunk_id), language=str(language))
        except KabarError as err:
            return {"error": str(err)}
        except Exception:  # the card shows a readable message; the log keeps the details
            log.exception("translation failed")
            return {"error": FAILED.get(language, FAILED["en"])}
        return {"translation": result.text, "language": result.language, "source_language": result.source_language,
                "machine_translation": result.machine_translation}

    # no concurrency limit here: the model calls already wait in the answers' line, and a cached card need not
    # wait behind another visitor's translation
    gr.api(translate_source, api_name=API_NAME, api_visibility="undocumented", concurrency_limit=None)
