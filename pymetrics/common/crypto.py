"""Encryption at rest for personal data (candidate names and e-mail addresses).

Keys come from ``PYMETRICS_ENCRYPTION_KEYS`` (newest first). Values are encrypted
with the newest key and decrypted with whichever key made them, so keys can be
rotated without downtime (MultiFernet).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.PYMETRICS_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken as error:
        raise ValueError(
            "cannot decrypt a stored value: none of PYMETRICS_ENCRYPTION_KEYS made it"
        ) from error


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; reads give the plaintext back.

    Encrypted values cannot be filtered or sorted in SQL: look rows up by another
    column (an id, or a keyed blind index) and decrypt after loading.
    """

    description = "Text encrypted at rest with the platform's encryption keys"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
