"""Kabar: ask your news archive. ``from app import Assistant``."""
from app.api import Assistant
from app.chat import Answer, Retrieved, Source, Token
from core.errors import BadDocument, BadQuestion, ConfigError, KabarError, ModelUnavailable, StoreUnavailable
from core.settings import Settings, load_settings

__all__ = [
    "Answer", "Assistant", "BadDocument", "BadQuestion", "ConfigError", "KabarError", "ModelUnavailable",
    "Retrieved", "Settings", "Source", "StoreUnavailable", "Token", "load_settings",
]
