"""On PostgreSQL, refuse UPDATE and DELETE on the append-only ledger tables.

The tree head is the one ledger table that is updated (it moves forward on every append).
This is defence in depth: the database owner can drop a trigger, so the deployment runs the
application as a role that does not own these tables (docs/operations.md), and
``searchledger verify`` detects any change made anyway.
"""

from django.db import migrations

APPEND_ONLY_TABLES = [
    "ledger_ledgerentry",
    "ledger_ledgernode",
    "ledger_checkpoint",
    "ledger_commitmentsalt",
]

FUNCTION = """
CREATE OR REPLACE FUNCTION searchledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'searchledger: % on % refused: the ledger is append-only',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # params=None: the function body contains % placeholders of its own (RAISE).
    schema_editor.execute(FUNCTION, params=None)
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION searchledger_refuse_change()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS searchledger_refuse_change()")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
