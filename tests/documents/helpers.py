import io

from pypdf import PdfReader


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def pdf_metadata(pdf: bytes) -> dict:
    return dict(PdfReader(io.BytesIO(pdf)).metadata or {})
