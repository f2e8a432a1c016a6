#!/usr/bin/env python
"""Django's command-line utility for the intake service."""

import os
import sys
from pathlib import Path


def main() -> None:
    # forms/ sits beside backend/ and is shared by every part of the service.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
