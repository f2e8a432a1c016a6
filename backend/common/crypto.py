"""Encryption at rest for free text and answers: Fernet tokens under FIELD_ENCRYPTION_KEYS.

Keys are listed newest first; MultiFernet encrypts with the first and decrypts with any, so a
new key can be put in front and `reencrypt_fields` moves old rows onto it.
"""

import hashlib
import hmac
import json
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_str(value: str) -> str:
    return fernet().encrypt(value.encode()).decode("ascii")


def decrypt_str(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise ValueError("Stored value cannot be decrypted with FIELD_ENCRYPTION_KEYS.") from None


def keyed_hashes(purpose: str, value: str) -> list[str]:
    """HMAC-SHA256 of `value` under each FIELD_ENCRYPTION_KEYS key (newest first), for lookups
    of an encrypted value: rows hashed under an older key still match until they are rewritten."""
    if not value:
        return []
    return [
        hmac.new(f"{purpose}:{key}".encode(), value.encode(), hashlib.sha256).hexdigest()
        for key in settings.FIELD_ENCRYPTION_KEYS
    ]


def keyed_hash(purpose: str, value: str) -> str:
    """The keyed hash to store: under the newest key; "" for an empty value."""
    hashes = keyed_hashes(purpose, value)
    return hashes[0] if hashes else ""


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token. Not searchable or sortable in the database, by design."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None else decrypt_str(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        return None if value is None else encrypt_str(value)


if TYPE_CHECKING:
    _AnyField = models.Field[Any, Any]
else:
    _AnyField = models.Field


class EncryptedJSONField(_AnyField):
    """A JSON document stored as one Fernet token (in a text column)."""

    def get_internal_type(self) -> str:
        return "TextField"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        return None if value is None else json.loads(decrypt_str(value))

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return encrypt_str(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def value_to_string(self, obj: models.Model) -> str:
        return json.dumps(self.value_from_object(obj))


# Large files (export zips) are encrypted in chunks, so that neither writing nor reading one
# holds the whole file in memory: a magic line, then [4-byte length][Fernet token] repeated.
CHUNKED_MAGIC = b"CPCHUNK1\n"
CHUNK_SIZE = 1024 * 1024


class EncryptingWriter:
    """A write-only, unseekable file object that encrypts what is written to `sink` chunk by
    chunk (zipfile writes to it with data descriptors since it cannot seek)."""

    def __init__(self, sink: Any) -> None:
        self.sink = sink
        self.size = 0  # plaintext bytes written
        self.buffer = bytearray()
        self.sink.write(CHUNKED_MAGIC)

    def write(self, data: bytes) -> int:
        self.size += len(data)
        self.buffer += data
        while len(self.buffer) >= CHUNK_SIZE:
            self._emit(bytes(self.buffer[:CHUNK_SIZE]))
            del self.buffer[:CHUNK_SIZE]
        return len(data)

    def _emit(self, chunk: bytes) -> None:
        token = fernet().encrypt(chunk)
        self.sink.write(len(token).to_bytes(4, "big") + token)

    def flush(self) -> None:
        """Chunks are only written whole; `close` writes the last one."""

    def close(self) -> None:
        if self.buffer:
            self._emit(bytes(self.buffer))
            self.buffer.clear()


def decrypt_chunks(source: Any) -> Iterator[bytes]:
    """The plaintext of a chunked file, one chunk at a time. A file written whole by an older
    version (a single Fernet token) is read whole."""
    head = source.read(len(CHUNKED_MAGIC))
    if head != CHUNKED_MAGIC:
        yield fernet().decrypt(head + source.read())
        return
    while size := source.read(4):
        yield fernet().decrypt(source.read(int.from_bytes(size, "big")))


def encrypted_fields(model: type[models.Model], prefix: str = "") -> list[str]:
    """The model's encrypted fields, as `defer()` names (after `prefix`, e.g. "plan__"): a
    query that needs only a row's ids and dates leaves them out, and decrypts nothing."""
    return [
        prefix + field.name
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField | EncryptedJSONField)
    ]
