"""``makemessages`` that also collects the project's own translation markers.

Python: ``N_("...")`` marks strings in the pure game packages, which cannot import
Django's ``gettext``. JavaScript: ``t("...")`` is the game kit's translation helper
(``PymetricsKit.t``), used by every game page script.
"""

from __future__ import annotations

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=N_"]

    def handle(self, *args: object, **options: object) -> None:
        if options.get("domain") == "djangojs":
            self.xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=t"]
        super().handle(*args, **options)
