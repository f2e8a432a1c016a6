"""Helpers for data migrations that move plaintext columns to encrypted ones."""

from typing import Any

from cryptography.fernet import InvalidToken

from .crypto import encrypt_str, fernet


def _is_token(value: str) -> bool:
    try:
        fernet().decrypt(value.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError, ValueError):
        return False
    return True


def encrypt_columns(schema_editor: Any, table: str, columns: list[str]) -> None:
    """Encrypt every plaintext value of the columns in place (raw SQL: the model's field now
    expects tokens). Values that are already tokens are left alone, so it can run twice."""
    connection = schema_editor.connection
    quote = schema_editor.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(quote(c) for c in columns)} FROM {quote(table)}")  # noqa: S608 - names are ours
        rows = cursor.fetchall()
    sets = ", ".join(f"{quote(c)} = %s" for c in columns)
    with connection.cursor() as cursor:
        for row_id, *values in rows:
            new = [v if v is None or _is_token(v) else encrypt_str(v) for v in values]
            if new != list(values):
                cursor.execute(f"UPDATE {quote(table)} SET {sets} WHERE id = %s", [*new, row_id])  # noqa: S608


def decrypt_columns(schema_editor: Any, table: str, columns: list[str]) -> None:
    """The reverse, for rolling a migration back."""
    from .crypto import decrypt_str

    connection = schema_editor.connection
    quote = schema_editor.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(quote(c) for c in columns)} FROM {quote(table)}")  # noqa: S608
        rows = cursor.fetchall()
    sets = ", ".join(f"{quote(c)} = %s" for c in columns)
    with connection.cursor() as cursor:
        for row_id, *values in rows:
            plain = [v if v is None or not _is_token(v) else decrypt_str(v) for v in values]
            cursor.execute(f"UPDATE {quote(table)} SET {sets} WHERE id = %s", [*plain, row_id])  # noqa: S608
