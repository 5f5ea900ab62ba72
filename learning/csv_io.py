"""Knowledge entries to and from CSV (UTF-8, one entry per line): question, answer, language,
and on export status, origin, count and times used. An imported line is an approved entry
written by the seller; a line whose question exists already (same language) updates its answer."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from learning.models import KnowledgeEntry, question_key
from learning.services import knowledge_create_manual
from ma5zani.csvio import csv_stream, undefuse
from ma5zani.inputs import text_is_clean

HEADER = ["question", "answer", "language", "status", "origin", "count", "times_used"]
MAX_ROWS = 5_000
MAX_BYTES = 2 * 1024 * 1024


def knowledge_csv_rows(entries: Iterable[KnowledgeEntry]) -> Iterator[str]:
    rows = (
        [entry.question, entry.answer, entry.language, entry.status, entry.origin, entry.count, entry.times_used]
        for entry in entries
    )
    return csv_stream(itertools.chain([HEADER], rows))


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def knowledge_import(data: bytes, *, reviewer_id: int | None) -> ImportResult:
    """Import a CSV; each bad line is reported with its number and stores nothing."""
    if len(data) > MAX_BYTES:
        raise ValidationError(_("The file is larger than 2 MB."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(_("The file is not UTF-8 text.")) from exc
    if not text_is_clean(text):  # a NUL: most often UTF-16 text, and no row could store it
        raise ValidationError(_("The file is not UTF-8 text."))
    reader = csv.DictReader(io.StringIO(text))
    result = ImportResult()
    try:
        if not reader.fieldnames or not {"question", "answer", "language"} <= set(reader.fieldnames):
            raise ValidationError(_("The first line must name the columns question, answer and language."))
        _import_rows(reader, result, reviewer_id=reviewer_id)
    except csv.Error:  # a field over the csv module's limit (128 KB): the rest is not read
        unreadable = _("This line cannot be read as CSV; the rest of the file was not read.")
        result.errors.append((reader.line_num, unreadable))
    return result


def _import_rows(reader: csv.DictReader[str], result: ImportResult, *, reviewer_id: int | None) -> None:
    for number, row in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            result.errors.append((number, _("More than %(max)s lines: the rest was not read.") % {"max": MAX_ROWS}))
            break
        question = undefuse((row.get("question") or "").strip())
        answer = undefuse((row.get("answer") or "").strip())
        language = (row.get("language") or "").strip()
        try:
            with transaction.atomic():
                existing = KnowledgeEntry.objects.filter(language=language, question_key=question_key(question)).first()
                if existing is not None and question and answer:
                    existing.answer, existing.status = answer[:1500], KnowledgeEntry.Status.APPROVED
                    existing.reviewed_by_id, existing.reviewed_at = reviewer_id, timezone.now()
                    existing.save()
                    result.updated += 1
                else:
                    knowledge_create_manual(
                        question=question, answer=answer, language=language, reviewer_id=reviewer_id
                    )
                    result.created += 1
        except ValidationError as exc:
            result.errors.append((number, " ".join(exc.messages)))
