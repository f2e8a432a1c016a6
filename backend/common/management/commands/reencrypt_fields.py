"""Re-encrypt every encrypted field (and stored PDF and export) under the newest
FIELD_ENCRYPTION_KEYS key.

Rotate keys by putting a new key first in FIELD_ENCRYPTION_KEYS, restarting, running this
command, then removing the old key.
"""

import tempfile
from typing import Any

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.db import transaction

from common.crypto import (
    EncryptedJSONField,
    EncryptedTextField,
    EncryptingWriter,
    decrypt_chunks,
    fernet,
)

BATCH = 500


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields, stored PDFs and stored exports with the newest key."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in apps.get_models():
            fields = [
                f.name
                for f in model._meta.get_fields()
                if isinstance(f, EncryptedTextField | EncryptedJSONField)
            ]
            if not fields:
                continue
            batch = []
            for obj in model._default_manager.all().iterator(chunk_size=BATCH):
                batch.append(obj)  # decrypted on load with any key; saved with the newest
                if len(batch) == BATCH:
                    total += self._save(model, batch, fields)
                    batch = []
            total += self._save(model, batch, fields)
        files = self._pdfs()
        exports = self._exports()
        self.stdout.write(
            f"Re-encrypted {total} rows, {files} stored PDFs and {exports} stored exports."
        )

    @staticmethod
    def _save(model: Any, batch: list[Any], fields: list[str]) -> int:
        if batch:
            with transaction.atomic():
                model._default_manager.bulk_update(batch, fields)
        return len(batch)

    @staticmethod
    def _pdfs() -> int:
        from documents.models import PlanDocument

        count = 0
        for name in PlanDocument.objects.exclude(file="").values_list("file", flat=True):
            if not default_storage.exists(name):  # lost: its document fails when next read
                continue
            with default_storage.open(name, "rb") as handle:
                try:
                    rotated = fernet().rotate(handle.read())
                except InvalidToken:  # damaged: its document fails when next read
                    continue
            default_storage.delete(name)
            default_storage.save(name, ContentFile(rotated))
            count += 1
        return count

    @staticmethod
    def _exports() -> int:
        """Each stored export zip, chunk by chunk (it may be large), into a new file under the
        newest key. One that is gone or damaged is passed over, as a PDF is."""
        from exports.models import ExportJob

        count = 0
        for name in ExportJob.objects.exclude(file="").values_list("file", flat=True):
            if not default_storage.exists(name):
                continue
            with tempfile.TemporaryFile(dir=settings.DATA_DIR) as rotated:
                writer = EncryptingWriter(rotated)
                try:
                    with default_storage.open(name, "rb") as source:
                        for chunk in decrypt_chunks(source):
                            writer.write(chunk)
                except InvalidToken:
                    continue
                writer.close()
                rotated.seek(0)
                default_storage.delete(name)
                default_storage.save(name, File(rotated))
            count += 1
        return count
