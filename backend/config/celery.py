"""The Celery app. Workers render PDFs; tasks receive ids only and report through status rows."""

import os
import sys
import warnings
from pathlib import Path

from celery import Celery
from celery.signals import task_postrun, task_prerun

# forms/ sits beside backend/; `celery -A config` is started from backend/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

if os.environ.get("EMBEDDED_ROOT_HINTED"):
    # `manage.py serve` (the embedded mode) has already said, once, why running as root is
    # not for a clinic (README "Run"); Celery would repeat it in every worker start.
    from celery.exceptions import SecurityWarning

    warnings.filterwarnings("ignore", category=SecurityWarning)

app = Celery("intake")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _database_connections(**kwargs: object) -> None:
    """Around each task, as around each web request: a connection past CONN_MAX_AGE or broken
    by an error is closed (the next query opens a new one); a sound one is kept
    (settings.CELERY_DB_REUSE_MAX)."""
    from django.db import close_old_connections

    close_old_connections()
