"""PDF rendering with WeasyPrint: a CJK font must be there, and the only resources a report may load are
the evidence thumbnails its builder registered (by SHA-256, from the evidence store)."""
import functools
import logging
import shutil
import subprocess  # nosec B404 - fc-list, a fixed argument list, no shell

from ..errors import Unavailable

log = logging.getLogger(__name__)
THUMB_SCHEME = "evidence:"
MAX_THUMB_BYTES = 512 * 1024  # a thumbnail is a JPEG of at most 320 x 320 pixels: far below this


@functools.lru_cache(maxsize=1)
def cjk_fonts():
    """The families fontconfig knows for Chinese (fc-list :lang=zh), asked once per process."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return ()
    result = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=30,
                            check=False)  # nosec B603
    return tuple(sorted({line.split(",")[0].strip() for line in result.stdout.splitlines() if line.strip()}))


def ensure_cjk_font():
    """Refuse to render when no CJK font is installed: the Chinese text would print as empty boxes."""
    if not cjk_fonts():
        raise Unavailable("No Chinese (CJK) font is installed, so the report cannot be printed; install "
                          "fonts-noto-cjk", {"font": "no CJK font found by fontconfig (fc-list :lang=zh)"})


@functools.cache
def _weasyprint():
    """WeasyPrint, imported on first use (it loads Pango). Importing it sets Pillow's LOAD_TRUNCATED_IMAGES for
    the whole process, which would let the evidence store accept truncated images: set back at once (the
    report's own thumbnails are whole JPEGs)."""
    from PIL import ImageFile

    truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    import weasyprint
    import weasyprint.urls

    ImageFile.LOAD_TRUNCATED_IMAGES = truncated
    return weasyprint


@functools.cache
def _fetcher_class():
    URLFetcher, URLFetcherResponse = _weasyprint().urls.URLFetcher, _weasyprint().urls.URLFetcherResponse

    class ThumbnailFetcher(URLFetcher):
        """Serves `evidence:<sha256>` for the registered thumbnails and refuses every other URL (http, file,
        data: of any size, anything), recording each call in `calls` and each refusal in `refused`."""

        def __init__(self, store, allowed):
            super().__init__(timeout=1, allowed_protocols=(), allow_redirects=False)
            self.store, self.allowed, self.calls, self.refused = store, frozenset(allowed), [], []

        def fetch(self, url, headers=None):
            self.calls.append(url)
            sha = url[len(THUMB_SCHEME):] if url.startswith(THUMB_SCHEME) else None
            if sha not in self.allowed:
                self.refused.append(url)
                log.warning("report: refused to fetch %.200s", url)
                raise ValueError("the report loads only its evidence thumbnails")
            with self.store.open(sha) as f:
                data = f.read(MAX_THUMB_BYTES + 1)
            if len(data) > MAX_THUMB_BYTES:
                self.refused.append(url)
                raise ValueError("thumbnail too large")
            return URLFetcherResponse(url, data, {"Content-Type": "image/jpeg"})

        def open(self, url, data=None, timeout=None):
            return self.fetch(getattr(url, "full_url", url))

    return ThumbnailFetcher


def make_fetcher(store, allowed):
    return _fetcher_class()(store, allowed)


def render_pdf(context, fetcher):
    """The report's PDF: templates/reports/case.html (autoescaped: user text cannot add markup) with
    `fetcher` as the only way out."""
    from flask import render_template

    HTML = _weasyprint().HTML
    ensure_cjk_font()
    return HTML(string=render_template("reports/case.html", **context), base_url="evidence:",
                url_fetcher=fetcher).write_pdf()
