"""A small error hierarchy; only the boundaries (CLI, web, HTTP) turn these into user messages."""


class KabarError(Exception):
    """Base of every error a user may see; its message is written for people, not developers."""


class ConfigError(KabarError):
    """Settings ask for something this installation cannot provide (a missing package or file)."""


class ModelUnavailable(KabarError):
    """A model cannot be loaded or a model server cannot be reached."""


class StoreUnavailable(KabarError):
    """The Chroma store (on disk or server) cannot be opened or reached."""


class BadDocument(KabarError):
    """A file cannot be ingested: empty, binary, too large, mis-encoded or malformed."""


class BadQuestion(KabarError):
    """A question that cannot be answered as asked: empty or too long."""


class DocumentNotFound(KabarError):
    """No document has the id asked for."""


class AmbiguousDocument(KabarError):
    """A name that is not an id matches documents; removal needs the one id (``choices``: id, title, source)."""

    def __init__(self, message: str, choices: list[dict]):
        super().__init__(message)
        self.choices = choices


class Busy(KabarError):
    """Too many questions already wait for an answer slot; the client should retry later."""
