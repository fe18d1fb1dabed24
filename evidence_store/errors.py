"""Errors raised by the evidence store. Every rejection leaves nothing behind."""


class StoreError(Exception):
    """Base class; ``message`` is a short English sentence safe to show to the uploader."""

    default_message = "The file could not be stored."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class TooLarge(StoreError):
    default_message = "The file is too large."

    def __init__(self, message: str | None = None, *, max_size: int | None = None):
        self.max_size = max_size
        super().__init__(message)


class UnsupportedType(StoreError):
    default_message = "This type of file is not accepted."


class EmptyFile(StoreError):
    default_message = "The file is empty."


class InvalidContent(StoreError):
    default_message = "The file is damaged or cannot be read."


class WrongKind(StoreError):
    """A known type that the kind of evidence does not accept (a PDF sent as a photo)."""
    default_message = "This kind of evidence does not accept this type of file."

    def __init__(self, mime: str, accepted):
        self.mime, self.accepted = mime, tuple(accepted)
        super().__init__()
