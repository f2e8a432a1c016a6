import io
import time

from pypdf import PdfReader


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def pdf_metadata(pdf: bytes) -> dict:
    return dict(PdfReader(io.BytesIO(pdf)).metadata or {})


def wait_for(predicate, timeout: float = 60, what: str = "condition", every: float = 0.05):
    """Poll `predicate` every `every` seconds until it returns something truthy (returned), or
    fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")
