"""Errors raised by the evidence store. Every rejection leaves nothing behind."""


class StoreError(Exception):
    """Base class; ``message`` is a short English sentence safe to show to the uploader, ``reason`` a short
    code saying which check refused the file (an app words it in the uploader's language)."""

    default_message = "The file could not be stored."
    default_reason = "error"

    def __init__(self, message: str | None = None, *, reason: str | None = None):
        self.message = message or self.default_message
        self.reason = reason or self.default_reason
        super().__init__(self.message)


class TooLarge(StoreError):
    default_message = "The file is too large."
    default_reason = "too_large"

    def __init__(self, message: str | None = None, *, max_size: int | None = None):
        self.max_size = max_size
        super().__init__(message)


class UnsupportedType(StoreError):
    default_message = "This type of file is not accepted."
    default_reason = "type"  # also: heic, text_encoding, markup, pdf_encrypted, pdf_active, video_format


class EmptyFile(StoreError):
    default_message = "The file is empty."
    default_reason = "empty"


class InvalidContent(StoreError):
    default_message = "The file is damaged or cannot be read."
    default_reason = "damaged"  # also: image_damaged, image_pixels, pdf_damaged, pdf_pages, video_damaged


class WrongKind(StoreError):
    """A known type that the kind of evidence does not accept (a PDF sent as a photo)."""
    default_message = "This kind of evidence does not accept this type of file."
    default_reason = "kind"

    def __init__(self, mime: str, accepted):
        self.mime, self.accepted = mime, tuple(accepted)
        super().__init__()
