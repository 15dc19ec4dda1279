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
