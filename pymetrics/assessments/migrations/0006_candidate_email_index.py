"""Candidates' e-mail blind index: the column, then its value for every existing row.

The data step reads each e-mail's ciphertext (not through the model's field, which
would fail the whole migration on one value no configured key opens), decrypts it
and stores the index under the newest key, 500 rows per query. A row whose e-mail
cannot be decrypted keeps an empty index: ``manage.py rotate_keys`` names it.
"""

from django.db import migrations, models
from django.db.models import ExpressionWrapper, F, TextField

BATCH = 500


def fill_email_index(apps, schema_editor):
    from pymetrics.common.crypto import EMAIL_INDEX, decrypt

    Candidate = apps.get_model("assessments", "Candidate")
    rows = (
        Candidate.objects.using(schema_editor.connection.alias)
        .exclude(email="")
        .exclude(email__isnull=True)
        .annotate(token=ExpressionWrapper(F("email"), output_field=TextField()))
        .order_by("pk")
    )
    last_pk = 0
    while True:
        batch = list(
            rows.filter(pk__gt=last_pk).values_list("pk", "organization_id", "token")[:BATCH]
        )
        if not batch:
            return
        last_pk = batch[-1][0]
        updates = []
        for pk, organization_id, token in batch:
            try:
                email = decrypt(token)
            except ValueError:
                continue
            updates.append(
                Candidate(pk=pk, email_index=EMAIL_INDEX.current(email, scope=organization_id))
            )
        Candidate.objects.using(schema_editor.connection.alias).bulk_update(
            updates, ["email_index"]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0005_consent_records"),
    ]

    operations = [
        migrations.AddField(
            model_name="candidate",
            name="email_index",
            field=models.CharField(blank=True, db_index=True, default="", max_length=64),
        ),
        migrations.RunPython(fill_email_index, migrations.RunPython.noop, elidable=True),
    ]
