"""Encryption at rest: columns stored as Fernet tokens, and keyed hashes to look them up.

`FIELD_ENCRYPTION_KEYS` lists Fernet keys, newest first: values are written with the first
and read with any (cryptography's MultiFernet), so a new key is rolled out by putting it in
front, running `manage.py rotate_encryption_keys`, then dropping the old one. The keys are
their own secrets, not derived from SECRET_KEY: a leaked SECRET_KEY forges links but reads
no column, and SECRET_KEY can rotate without touching stored data.

An encrypted column cannot be compared in SQL (each token is random), so a value that must
be found, a phone number, gets a blind index beside it: HMAC-SHA256 under `FIELD_HASH_KEY`.
That key cannot rotate without recomputing every hash column (no command does that yet):
choose it once, keep it secret and backed up with the encryption keys.

`EncryptedTextField` is the column type for anything sensitive: patients' and referrals'
contact details and clinical words, and credentials such as an external calendar's password
(CONTRACT: "URL, user, app password; encrypted at rest"); `EncryptedJSONField` and
`EncryptedEmailField` are its JSON and email kinds. They refuse every SQL lookup but
`isnull` and equality with "" (stored as itself), so a filter on ciphertext fails loudly
instead of silently matching nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.validators import validate_email
from django.db import connections, models, router, transaction
from django.db.models.lookups import Exact


class UndecryptableValue(Exception):
    """A stored token that none of FIELD_ENCRYPTION_KEYS opens (a key was dropped too soon)."""


@lru_cache(maxsize=4)
def _keyring(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    if not keys:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is not set: encrypted columns can be neither read nor written."
        )
    fernets = [Fernet(key.encode()) for key in keys]
    return MultiFernet(fernets), fernets[0]


def keyring() -> MultiFernet:
    """Every configured key: encrypts with the newest, decrypts with any."""
    return _keyring(tuple(settings.FIELD_ENCRYPTION_KEYS))[0]


def encrypt(value: str) -> str:
    return keyring().encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return keyring().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise UndecryptableValue("No key in FIELD_ENCRYPTION_KEYS opens this value.") from exc


def encrypt_bytes(value: bytes) -> bytes:
    return keyring().encrypt(value)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return keyring().decrypt(token)
    except InvalidToken as exc:
        raise UndecryptableValue("No key in FIELD_ENCRYPTION_KEYS opens this value.") from exc


def reencrypt(token: str) -> str | None:
    """The token under the newest key, or None when it already is (nothing to write)."""
    multi, newest = _keyring(tuple(settings.FIELD_ENCRYPTION_KEYS))
    raw = token.encode("ascii")
    try:
        newest.decrypt(raw)
        return None
    except InvalidToken:
        pass
    try:
        return multi.rotate(raw).decode("ascii")
    except InvalidToken as exc:
        raise UndecryptableValue("No key in FIELD_ENCRYPTION_KEYS opens this value.") from exc


def blind_index(value: str) -> str:
    """HMAC-SHA256 of the value under FIELD_HASH_KEY (hex); empty for an empty value.

    Hashed are contact details (E.164 phones, email addresses), compared as people mean
    them: trimmed and lower-cased, so Riley@Example.org finds riley@example.org.
    """
    value = (value or "").strip().lower()
    if not value:
        return ""
    key = settings.FIELD_HASH_KEY
    if not key:
        raise ImproperlyConfigured("FIELD_HASH_KEY is not set: hashed lookups cannot work.")
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token under FIELD_ENCRYPTION_KEYS, read back as text.

    An empty string stays empty (that a value is missing is no secret, and ciphertext shows
    a value's length anyway). `max_length` bounds what forms accept, not the column.
    """

    description = "Text encrypted at rest"

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        value = super().get_db_prep_value(value, connection, prepared)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        # Ciphertext never equals, contains or sorts like the plaintext: only isnull, and
        # equality with the empty string (stored as itself), are true in SQL.
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        if lookup_name == "exact":
            return _EmptyOnlyExact
        raise self._refused(lookup_name)

    def _refused(self, lookup_name: str) -> FieldError:
        return FieldError(
            f"{self.model.__name__}.{self.name} is encrypted: no SQL lookup "
            f"({lookup_name!r}) can match it; filter on its BlindIndexField instead."
        )

    def get_transform(self, lookup_name: str) -> Any:
        return None

    def formfield(self, **kwargs: Any) -> Any:
        from django import forms

        if self.max_length and self.max_length <= 254:
            kwargs.setdefault("widget", forms.TextInput)
        return super().formfield(**kwargs)

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        problems = super().check(**kwargs)
        if self.unique or getattr(self, "db_index", False):
            problems.append(
                checks.Error(
                    "An encrypted column cannot be unique or indexed: index its blind hash.",
                    obj=self,
                    id="common.E002",
                )
            )
        return problems


class _EmptyOnlyExact(Exact):
    def __init__(self, lhs: Any, rhs: Any) -> None:
        if rhs != "":
            raise lhs.output_field._refused("exact")
        super().__init__(lhs, rhs)


class EncryptedJSONField(EncryptedTextField):
    """A JSON value (lists, dicts) encrypted at rest as one token."""

    description = "JSON encrypted at rest"
    # For django-stubs' mypy plugin: any JSON value in and out, like models.JSONField.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None:
            return None
        return encrypt(json.dumps(value, separators=(",", ":")))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return json.loads(decrypt(value))

    def to_python(self, value: Any) -> Any:
        return value

    def value_to_string(self, obj: Any) -> str:
        return json.dumps(self.value_from_object(obj))

    def formfield(self, **kwargs: Any) -> Any:
        from django import forms

        return super().formfield(**{"form_class": forms.JSONField, **kwargs})


class EncryptedEmailField(EncryptedTextField):
    """An email address encrypted at rest, validated like Django's EmailField."""

    default_validators = [validate_email]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 254)
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs: Any) -> Any:
        from django import forms

        return super().formfield(**{"form_class": forms.EmailField, **kwargs})


class BlindIndexField(models.CharField):
    """The blind_index() of another field of the row, recomputed whenever the row is saved
    (save, create, bulk_create); a queryset update() must set it alongside its source."""

    description = "Keyed hash of another field, for lookups"

    def __init__(self, *args: Any, source: str, **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        if kwargs.get("max_length") == 64:
            del kwargs["max_length"]
        kwargs.pop("editable", None)
        kwargs.pop("blank", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = blind_index(str(getattr(model_instance, self.source) or ""))
        setattr(model_instance, self.attname, value)
        return value


@checks.register(checks.Tags.security)
def check_field_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Production needs its own keys; every listed key must be a Fernet key."""
    problems: list[checks.CheckMessage] = []
    keys = list(settings.FIELD_ENCRYPTION_KEYS)
    if not keys or not settings.FIELD_HASH_KEY:
        problems.append(
            checks.Error(
                "FIELD_ENCRYPTION_KEYS and FIELD_HASH_KEY must be set: patients' details are "
                "encrypted at rest with them.",
                hint="Generate each with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'",
                id="common.E001",
            )
        )
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except ValueError:
            problems.append(
                checks.Error(
                    f"FIELD_ENCRYPTION_KEYS: key {position} is not a Fernet key "
                    "(32 url-safe base64-encoded bytes).",
                    id="common.E003",
                )
            )
    return problems


def encrypted_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def reencrypt_model(model: type[models.Model], *, batch_size: int = 500) -> int:
    """Rewrite the model's encrypted columns under the newest key, a batch of rows per
    transaction; tokens already under it are left alone, so a rerun writes nothing.
    Returns the number of rows rewritten."""
    fields = encrypted_fields(model)
    if not fields:
        return 0
    db = router.db_for_write(model)
    connection = connections[db]
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(str(model._meta.pk.column))
    columns = ", ".join(quote(str(f.column)) for f in fields)
    # Raw SQL: the tokens themselves are wanted, not what the fields decrypt them to (only
    # quoted names are formatted in). Rows stay locked until their batch commits, so a
    # concurrent save is never overwritten by the older value re-encrypted (SQLite has one
    # writer at a time anyway).
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    select = f"SELECT {pk}, {columns} FROM {table} WHERE {pk} > %s ORDER BY {pk} LIMIT %s{lock}"  # noqa: S608
    assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in fields)
    update = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608
    rewritten, last = 0, None
    while True:
        with transaction.atomic(using=db), connection.cursor() as cursor:
            if last is None:
                cursor.execute(
                    f"SELECT {pk}, {columns} FROM {table} ORDER BY {pk} LIMIT %s{lock}",  # noqa: S608
                    [batch_size],
                )
            else:
                cursor.execute(select, [last, batch_size])
            rows = cursor.fetchall()
            changes = []
            for row in rows:
                tokens = list(row[1:])
                fresh = [reencrypt(t) if t else None for t in tokens]
                if any(f is not None for f in fresh):
                    values = [f if f is not None else t for f, t in zip(fresh, tokens, strict=True)]
                    changes.append([*values, row[0]])
            if changes:
                cursor.executemany(update, changes)
            rewritten += len(changes)
        if len(rows) < batch_size:
            return rewritten
        last = rows[-1][0]
