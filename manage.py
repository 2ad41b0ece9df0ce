#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shelfops.settings")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    # Load the settings before Django's command runner, which would swallow the production guard's refusal for
    # some commands (shell, help) and run them without settings.
    settings.INSTALLED_APPS  # noqa: B018
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
