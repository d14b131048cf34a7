"""Which ledger-feeding rows a transaction wrote, and what they hold now.

Saving or deleting a row of a tracked table (``statetables.TRACKED``) marks it, through
Django's ``post_save``, ``post_delete`` and ``m2m_changed`` signals; code that writes rows
without signals (``bulk_create``, ``bulk_update``, ``QuerySet.update``) calls :func:`mark`.
The marks belong to the connection's current transaction. ``writer.append`` takes them
(:func:`take_row_values`), re-reads each row from the database inside the same transaction
and under the ledger's head lock, and commits to what it holds.

A row marked after the transaction's last append escapes its commitment; ``verify`` then
reports it (its value no longer opens its latest commitment). So that such an action is
found while it is written, the check at commit logs an error, and raises when
``SEARCHLEDGER_STRICT_ROW_STATE`` is set (the tests and the demo's check set it).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.signals import m2m_changed, post_delete, post_save

from searchledger.apps.ledger.statetables import Tracked, tracked_by_label

__all__ = [
    "RowsEscaped",
    "TableReader",
    "connect_signals",
    "link_columns",
    "mark",
    "mark_pks",
    "readers",
    "take_row_values",
]

logger = logging.getLogger("searchledger.ledger")

_ATTR = "_searchledger_touched"
_CHUNK = 500


class RowsEscaped(RuntimeError):
    """Rows of tracked tables were written after the transaction's last ledger entry."""


# ---------------------------------------------------------------------------------------
# Reading rows in canonical form


@dataclass(frozen=True)
class TableReader:
    """Reads one tracked table's committed values: every column but the excluded ones, and
    each many-to-many link the model owns as sorted ``[link id, target id]`` pairs."""

    tracked: Tracked
    model: type[models.Model]
    columns: tuple[tuple[str, str], ...]  # (attname, column)
    links: tuple[models.ManyToManyField[Any, Any], ...]
    excluded_names: frozenset[str]  # field names and attnames of the excluded columns

    @property
    def label(self) -> str:
        """``app_label.model``."""
        return self.tracked.label

    @property
    def table(self) -> str:
        """The database table."""
        return str(self.model._meta.db_table)

    def key(self, ident: object) -> str:
        """The row key of a row (by pk) or of a group (by the group column's value)."""
        if self.tracked.group_by is None:
            return f"{self.label}/{ident}"
        return f"{self.label}/{self.tracked.group_by}={ident}"

    def ident_of(self, instance: models.Model) -> object:
        """What marks ``instance``: its pk, or its group."""
        if self.tracked.group_by is None:
            return instance.pk
        return getattr(instance, self.tracked.group_by)

    def values(self, idents: Iterable[object] | None = None) -> Iterator[tuple[object, Any]]:
        """``(ident, value)`` for the rows (or groups) ``idents``, or for all of them. Rows
        that do not exist are not yielded."""
        manager = self.model._base_manager
        attnames = [attname for attname, _ in self.columns]
        if idents is None:
            batches: Iterable[list[object] | None] = [None]
        else:
            wanted = sorted({i for i in idents if i is not None}, key=str)
            batches = [wanted[i : i + _CHUNK] for i in range(0, len(wanted), _CHUNK)]
        for batch in batches:
            queryset = manager.order_by("pk")
            if batch is not None:
                field_name = self.tracked.group_by or "pk"
                queryset = queryset.filter(**{f"{field_name}__in": batch})
            rows = list(queryset.values_list(*attnames))
            pk_index = attnames.index(self.model._meta.pk.attname)
            links = self._links([row[pk_index] for row in rows])
            if self.tracked.group_by is None:
                for row in rows:
                    yield row[pk_index], self._row(row, links, row[pk_index])
            else:
                group_index = attnames.index(self.tracked.group_by)
                groups: dict[object, list[Any]] = {}
                for row in rows:
                    groups.setdefault(row[group_index], []).append(
                        self._row(row, links, row[pk_index])
                    )
                yield from groups.items()

    def _row(
        self, row: tuple[Any, ...], links: dict[str, dict[object, list[list[Any]]]], pk: object
    ) -> dict[str, Any]:
        value = {column: row[i] for i, (_, column) in enumerate(self.columns)}
        for name, by_owner in links.items():
            value[f"m2m:{name}"] = sorted(by_owner.get(pk, []))
        return value

    def _links(self, pks: list[object]) -> dict[str, dict[object, list[list[Any]]]]:
        found: dict[str, dict[object, list[list[Any]]]] = {}
        for link in self.links:
            through, owner, target = link_columns(link)
            by_owner: dict[object, list[list[Any]]] = {}
            for i in range(0, len(pks), _CHUNK):
                for link_id, owner_id, target_id in through._base_manager.filter(
                    **{f"{owner}__in": pks[i : i + _CHUNK]}
                ).values_list("pk", owner, target):
                    by_owner.setdefault(owner_id, []).append([link_id, target_id])
            found[link.name] = by_owner
        return found


def link_columns(link: models.ManyToManyField[Any, Any]) -> tuple[type[models.Model], str, str]:
    """A many-to-many link's table and its owner and target id columns."""
    through: type[models.Model] = link.remote_field.through  # type: ignore[assignment]  # set once the apps are loaded
    owner = through._meta.get_field(link.m2m_field_name())
    target = through._meta.get_field(link.m2m_reverse_field_name())
    assert isinstance(owner, models.Field) and isinstance(target, models.Field)  # noqa: PT018  # plain foreign keys
    return through, owner.attname, target.attname


_readers: dict[str, TableReader] | None = None


def readers() -> dict[str, TableReader]:
    """A reader for every tracked table, by label (built once, after the apps are ready)."""
    global _readers  # noqa: PLW0603  # a cache of model metadata, filled once
    if _readers is None:
        built: dict[str, TableReader] = {}
        for label, tracked in tracked_by_label().items():
            model = apps.get_model(label)
            excluded = set(tracked.excluded_columns)
            columns = tuple(
                (f.attname, f.column)
                for f in model._meta.concrete_fields
                if f.column not in excluded
            )
            links = tuple(
                f
                for f in model._meta.local_many_to_many
                if f.remote_field.through._meta.auto_created
            )
            excluded_names = frozenset(
                name
                for f in model._meta.concrete_fields
                if f.column in excluded
                for name in (f.name, f.attname)
            )
            built[label] = TableReader(tracked, model, columns, links, excluded_names)
        _readers = built
    return _readers


# ---------------------------------------------------------------------------------------
# Marking rows per transaction


@dataclass
class _Touched:
    """The rows one transaction has marked and not yet committed to."""

    pending: dict[str, set[object]] = field(default_factory=dict)

    def at_commit(self) -> None:
        """Runs after the transaction committed: anything still pending escaped."""
        if not self.pending:
            return
        escaped = sorted(f"{label}/{ident}" for label, ids in self.pending.items() for ident in ids)
        self.pending.clear()
        message = (
            f"{len(escaped)} row(s) of ledger-feeding tables were written after the "
            f"transaction's last ledger entry; verify will report them: {escaped[:10]}"
        )
        logger.error(message)
        if os.environ.get("SEARCHLEDGER_STRICT_ROW_STATE"):
            raise RowsEscaped(message)


def _touched(connection: BaseDatabaseWrapper, *, start: bool = True) -> _Touched | None:
    """The current transaction's marks, starting them at its first mark (``start``)."""
    current: _Touched | None = getattr(connection, _ATTR, None)
    # Django drops a callback registered inside a transaction or savepoint that rolls
    # back; while ours is still queued, the marks belong to the live transaction.
    queued: list[tuple[Any, ...]] = connection.run_on_commit  # (savepoint ids, callback, robust)
    if current is not None and any(entry[1] == current.at_commit for entry in queued):
        return current
    if not start or not connection.in_atomic_block:
        return None
    fresh = _Touched()
    setattr(connection, _ATTR, fresh)
    connection.on_commit(fresh.at_commit)
    return fresh


def mark_pks(model: type[models.Model], idents: Iterable[object], *, using: str = "") -> None:
    """Mark rows (or groups, for a grouped table) of ``model`` as written."""
    reader = readers().get(str(model._meta.label_lower))
    if reader is None:
        return
    connection = connections[using or DEFAULT_DB_ALIAS]
    idents = list(idents)
    if any(i is None for i in idents):
        raise RowsEscaped(f"a row of {reader.label} was written without a primary key")
    touched = _touched(connection)
    if touched is None:
        logger.error(
            "%s row(s) of %s written outside a transaction: verify will report them",
            len(idents),
            reader.label,
        )
        return
    touched.pending.setdefault(reader.label, set()).update(idents)


def mark(instances: Iterable[models.Model], *, using: str = "") -> None:
    """Mark model instances written by ``bulk_create``, ``bulk_update`` or the like."""
    by_label: dict[str, tuple[type[models.Model], list[object]]] = {}
    for instance in instances:
        reader = readers().get(str(instance._meta.label_lower))
        if reader is None:
            continue
        by_label.setdefault(reader.label, (type(instance), []))[1].append(reader.ident_of(instance))
    for model, idents in by_label.values():
        mark_pks(model, idents, using=using)


def take_row_values(connection: BaseDatabaseWrapper) -> dict[str, Any]:
    """Every marked row's key and current value (``None`` for a row that no longer exists);
    the marks are cleared. Called by ``writer.append`` under the head lock."""
    touched = _touched(connection, start=False)
    if touched is None or not touched.pending:
        return {}
    pending = dict(touched.pending)
    touched.pending.clear()
    found: dict[str, Any] = {}
    all_readers = readers()
    for label, idents in pending.items():
        reader = all_readers[label]
        for ident in idents:
            found[reader.key(ident)] = None
        for ident, value in reader.values(idents):
            found[reader.key(ident)] = value
    return found


# ---------------------------------------------------------------------------------------
# Signals


def _saved(
    sender: type[models.Model],
    instance: models.Model,
    update_fields: frozenset[str] | None = None,
    using: str = "",
    **_: object,
) -> None:
    reader = readers().get(str(sender._meta.label_lower))
    if reader is None:
        return
    if update_fields is not None and set(update_fields) <= reader.excluded_names:
        return  # only excluded columns changed (e.g. last_login at sign-in)
    mark_pks(sender, [reader.ident_of(instance)], using=using)


def _deleted(
    sender: type[models.Model], instance: models.Model, using: str = "", **_: object
) -> None:
    reader = readers().get(str(sender._meta.label_lower))
    if reader is not None:
        mark_pks(sender, [reader.ident_of(instance)], using=using)


def _linked(
    sender: type[models.Model],
    *,
    instance: models.Model,
    action: str,
    reverse: bool,
    model: type[models.Model],
    pk_set: set[object] | None,
    using: str = "",
    **_: object,
) -> None:
    if action not in {"post_add", "post_remove", "pre_clear"}:
        return
    if not reverse:
        mark_pks(type(instance), [instance.pk], using=using)
        return
    # The link was changed from the target's side: the owners are ``model``'s rows.
    if pk_set is None:
        reader = readers().get(str(model._meta.label_lower))
        if reader is None:
            return
        link = next(f for f in reader.links if f.remote_field.through is sender)
        _through, owner, target = link_columns(link)
        pk_set = set(
            sender._base_manager.filter(**{target: instance.pk}).values_list(owner, flat=True)
        )
    mark_pks(model, pk_set, using=using)


def connect_signals() -> None:
    """Connect the marking handlers to the tracked models and their links
    (``LedgerConfig.ready``). Per sender, so other models keep Django's fast deletes."""
    for label, reader in readers().items():
        post_save.connect(_saved, sender=reader.model, dispatch_uid=f"rowstate.saved.{label}")
        post_delete.connect(_deleted, sender=reader.model, dispatch_uid=f"rowstate.deleted.{label}")
        for link in reader.links:
            m2m_changed.connect(
                _linked,
                sender=link.remote_field.through,
                dispatch_uid=f"rowstate.linked.{label}.{link.name}",
            )
