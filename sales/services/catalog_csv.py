"""CSV import and export of the catalog.

One row per variant. Rows of the same product share its `product_code`; product columns left
empty on a row keep their stored value. Import is idempotent by SKU: importing the same file
twice changes nothing the second time. Each row is applied in its own savepoint, so a bad row
stores nothing and is reported with its line number and reason while good rows are kept.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ma5zani.celery import enqueue
from ma5zani.csvio import csv_stream, undefuse
from ma5zani.inputs import text_is_clean
from ma5zani.tenancy import current_schema
from sales.engine.amounts import read_dzd
from sales.models import CatalogImport, Product, Variant
from sales.services.catalog import PRODUCT_FIELDS, catalog_changed, category_for_name

logger = logging.getLogger(__name__)

COLUMNS = [
    "product_code", "sku", "name_ar", "name_fr", "name_en", "description_ar", "description_fr",
    "description_en", "category", "price", "compare_at_price", "size", "colour", "stock",
    "variant_price", "active", "synonyms", "images",
]  # fmt: skip
REQUIRED_COLUMNS = ("product_code", "sku")
# The `images` column is written by the export and ignored by the import.
MAX_ERRORS_KEPT = 1000
IMPORT_QUEUED_TOO_LONG = dt.timedelta(minutes=2)
IMPORT_SILENT_TOO_LONG = dt.timedelta(minutes=5)
PROGRESS_EVERY_ROWS = 25

SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$")
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
TRUE_WORDS = {"1", "yes", "y", "true", "oui", "vrai", "نعم", "active", "actif"}
FALSE_WORDS = {"0", "no", "n", "false", "non", "faux", "لا", "inactive", "inactif"}
HEADER_ALIASES = {"color": "colour", "code": "product_code", "quantity": "stock", "qty": "stock"}


class CatalogFileError(Exception):
    """The file as a whole cannot be imported (encoding, header)."""


def parse_dzd(value: str) -> int:
    """A price in Algerian dinars: '2500', '2 500', '2.500,00 DA', '2500 دج', '٢٥٠٠' -> 2500
    (read by the one parser of amounts, `sales.engine.amounts`)."""
    return read_dzd(value)


def parse_bool(value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(value)


def parse_synonyms(value: str) -> list[str]:
    parts = re.split(r"[|;,،]", value or "")
    seen: dict[str, None] = {}
    for part in parts:
        word = " ".join(part.split())[:80]
        if word:
            seen.setdefault(word, None)
    return list(seen)


@dataclass
class RowResult:
    line: int
    sku: str
    outcome: str = ""  # created, updated, unchanged, error
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportSummary:
    total: int = 0
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_rows: int = 0

    def add(self, result: RowResult) -> None:
        self.processed += 1
        if result.errors:
            self.error_rows += 1
            if len(self.errors) < MAX_ERRORS_KEPT:
                self.errors.append({"line": result.line, "sku": result.sku, "errors": result.errors})
        else:
            setattr(self, result.outcome, getattr(self, result.outcome) + 1)


def decode_csv(raw: bytes) -> str:
    """The file's text; CatalogFileError for text that is not UTF-8 (or UTF-16 with its BOM), or
    that holds a NUL (most often UTF-16 without its BOM), which no row could store."""
    try:
        if raw.startswith(codecs.BOM_UTF16_LE) or raw.startswith(codecs.BOM_UTF16_BE):
            text = raw.decode("utf-16")
        else:
            text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogFileError(_('The file is not in UTF-8. Save it as "CSV UTF-8" and try again.')) from exc
    if not text_is_clean(text):
        raise CatalogFileError(_('The file is not in UTF-8. Save it as "CSV UTF-8" and try again.'))
    return text


def open_rows(text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The normalized header and an iterator of (line number, row) pairs."""
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        raw_header = next(reader)
    except StopIteration as exc:
        raise CatalogFileError(_("The file is empty.")) from exc
    except csv.Error as exc:  # a field over the csv module's limit (128 KB)
        raise CatalogFileError(_("Line %(line)d cannot be read as CSV.") % {"line": reader.line_num}) from exc
    header = [HEADER_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in raw_header]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise CatalogFileError(
            _("Missing column(s): %(columns)s. The first line must name the columns.") % {"columns": ", ".join(missing)}
        )

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        try:
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                row = {name: undefuse(values[i].strip()) if i < len(values) else "" for i, name in enumerate(header)}
                yield reader.line_num, row
        except csv.Error as exc:
            raise CatalogFileError(_("Line %(line)d cannot be read as CSV.") % {"line": reader.line_num}) from exc

    return header, rows()


def _parse_row(row: dict[str, str], errors: list[str]) -> dict[str, Any]:
    """Turn a raw row into typed values; every problem is added to `errors`."""
    data: dict[str, Any] = {}
    code = row.get("product_code", "").lower()
    if not code:
        errors.append(_("product_code is empty."))
    elif not CODE_PATTERN.match(code):
        errors.append(_("product_code may only hold lowercase letters, digits, - and _."))
    data["code"] = code
    sku = row.get("sku", "")
    if not sku:
        errors.append(_("sku is empty."))
    elif not SKU_PATTERN.match(sku):
        errors.append(_("sku may only hold letters, digits and . _ - / (64 at most)."))
    data["sku"] = sku
    for name in ("name_ar", "name_fr", "name_en", "description_ar", "description_fr", "description_en", "category"):
        if row.get(name):
            data[name] = row[name]
    for column, key in (
        ("price", "price"),
        ("compare_at_price", "compare_at_price"),
        ("variant_price", "price_override"),
    ):
        if row.get(column):
            try:
                data[key] = parse_dzd(row[column])
            except ValueError:
                errors.append(
                    _("%(column)s is not a price in dinars: %(value)s") % {"column": column, "value": row[column]}
                )
    if row.get("stock"):
        try:
            stock = int(row["stock"].replace(" ", ""))
            if stock < 0:
                raise ValueError(stock)
            data["stock"] = stock
        except ValueError:
            errors.append(_("stock must be a whole number, 0 or more: %(value)s") % {"value": row["stock"]})
    if row.get("active"):
        try:
            data["is_active"] = parse_bool(row["active"])
        except ValueError:
            errors.append(_("active must be yes or no: %(value)s") % {"value": row["active"]})
    if row.get("synonyms"):
        data["synonyms"] = parse_synonyms(row["synonyms"])
    data["size"] = row.get("size", "")
    data["colour"] = row.get("colour", "")
    return data


def _messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [
            message if name == NON_FIELD_ERRORS else f"{name}: {message}"
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    return list(error.messages)


def import_row(line: int, row: dict[str, str]) -> RowResult:
    """Validate and apply one row in its own savepoint; a bad row stores nothing."""
    result = RowResult(line=line, sku=row.get("sku", ""))
    data = _parse_row(row, result.errors)
    if result.errors:
        return result
    try:
        with transaction.atomic():
            result.outcome = _apply_row(data)
    except ValidationError as exc:
        result.errors.extend(_messages(exc))
    except DatabaseError as exc:  # a constraint the validation did not foresee
        logger.warning("Catalog row %s rejected by the database: %s", line, exc)
        result.errors.append(_("The row conflicts with stored data."))
    return result


def _apply_row(data: dict[str, Any]) -> str:
    variant = Variant.objects.select_related("product").filter(sku=data["sku"]).first()
    if variant is not None and variant.product.code != data["code"]:
        raise ValidationError(
            _("SKU %(sku)s already belongs to product %(code)s.") % {"sku": data["sku"], "code": variant.product.code}
        )
    product = variant.product if variant else Product.objects.filter(code=data["code"]).first()
    created = product is None
    product = product or Product(code=data["code"])
    if created and "price" not in data:
        raise ValidationError(_("price is required for a new product."))

    product_values: dict[str, Any] = {
        key: data[key] for key in PRODUCT_FIELDS if key not in ("code", "category") and key in data
    }
    if "category" in data:
        product_values["category"] = category_for_name(data["category"])
    product_changed = created or _changes(product, product_values)
    if product_changed:
        for key, value in product_values.items():
            setattr(product, key, value)
        product.full_clean()
        product.save()

    variant_created = variant is None
    variant = variant or Variant(product=product, sku=data["sku"])
    variant_values = {"size": data["size"], "colour": data["colour"]}
    if "stock" in data:
        variant_values["stock"] = data["stock"]
    if "price_override" in data:
        variant_values["price_override"] = data["price_override"]
    if variant_created:
        variant_values["position"] = product.variants.count()
    variant_changed = variant_created or _changes(variant, variant_values)
    if variant_changed:
        for key, value in variant_values.items():
            setattr(variant, key, value)
        variant.full_clean()
        variant.save()

    if created or variant_created:
        return "created"
    return "updated" if (product_changed or variant_changed) else "unchanged"


def _changes(instance: Any, values: dict[str, Any]) -> bool:
    return any(getattr(instance, key) != value for key, value in values.items())


def import_rows(
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    summary: ImportSummary,
    on_progress: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    seen_skus: dict[str, int] = {}
    for line, row in rows:
        sku = row.get("sku", "")
        if sku and sku in seen_skus:
            result = RowResult(
                line=line,
                sku=sku,
                errors=[_("SKU %(sku)s already appears on line %(line)d.") % {"sku": sku, "line": seen_skus[sku]}],
            )
        else:
            if sku:
                seen_skus[sku] = line
            result = import_row(line, row)
        summary.add(result)
        if on_progress and summary.processed % PROGRESS_EVERY_ROWS == 0:
            on_progress(summary)
    return summary


def catalog_import_text(text: str) -> ImportSummary:
    """Import CSV text directly (used by the admin action, the demo loader and tests)."""
    _header, rows = open_rows(text)
    rows_list = list(rows)
    summary = import_rows(rows_list, summary=ImportSummary(total=len(rows_list)))
    if summary.created or summary.updated:
        catalog_changed()
    return summary


# --- Import jobs run by a worker ----------------------------------------------------------


def catalog_import_create(*, upload: UploadedFile, user_id: int | None, language: str | None = None) -> CatalogImport:
    """Store the uploaded file as a queued import and enqueue it after commit."""
    from sales.tasks import catalog_import_task

    name = upload.name or "catalog.csv"
    if upload.size and upload.size > settings.CATALOG_IMPORT_MAX_BYTES:
        raise ValidationError(
            _("The file is larger than %(size)d MB.") % {"size": settings.CATALOG_IMPORT_MAX_BYTES // (1024 * 1024)}
        )
    if not name.lower().endswith((".csv", ".txt")):
        raise ValidationError(_("Choose a .csv file."))
    with transaction.atomic():
        job = CatalogImport(
            original_name=name[:255],
            created_by_id=user_id,
            language=language or translation.get_language() or settings.LANGUAGE_CODE,
        )
        job.file.save(name, upload, save=False)
        job.save()
        schema = current_schema()
        transaction.on_commit(lambda: enqueue(catalog_import_task, job.pk, schema=schema))
    return job


def catalog_imports_stuck() -> QuerySet[CatalogImport]:
    """Imports that a lost task or worker left behind: queued for long, or running silent."""
    now = timezone.now()
    return CatalogImport.objects.filter(
        Q(status=CatalogImport.Status.QUEUED, created_at__lt=now - IMPORT_QUEUED_TOO_LONG)
        | Q(status=CatalogImport.Status.RUNNING, heartbeat_at__lt=now - IMPORT_SILENT_TOO_LONG)
    )


def catalog_import_run(job_id: int) -> CatalogImport | None:
    """Run one import job; safe to run again (a redelivered task gives the same result).

    The job is claimed with a conditional update, so two deliveries of the same task never
    run it at once; a run whose worker died is taken over once its heartbeat is stale.
    """
    now = timezone.now()
    claimed = (
        CatalogImport.objects.filter(pk=job_id)
        .filter(
            Q(status=CatalogImport.Status.QUEUED)
            | Q(status=CatalogImport.Status.RUNNING, heartbeat_at__lt=now - IMPORT_SILENT_TOO_LONG)
        )
        .update(
            status=CatalogImport.Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            processed_rows=0,
            created_count=0,
            updated_count=0,
            unchanged_count=0,
            errors=[],
        )
    )
    job = CatalogImport.objects.filter(pk=job_id).first()
    if not claimed or job is None:
        return job
    with translation.override(job.language):
        _run_claimed(job)
    return CatalogImport.objects.get(pk=job.pk)


def _run_claimed(job: CatalogImport) -> None:
    try:
        with job.file.open("rb") as handle:
            raw = handle.read(settings.CATALOG_IMPORT_MAX_BYTES + 1)
        if len(raw) > settings.CATALOG_IMPORT_MAX_BYTES:
            raise CatalogFileError(_("The file is too large."))
        _header, rows = open_rows(decode_csv(raw))
        rows_list = list(rows)
        if len(rows_list) > settings.CATALOG_IMPORT_MAX_ROWS:
            raise CatalogFileError(
                _("The file has more than %(rows)d rows.") % {"rows": settings.CATALOG_IMPORT_MAX_ROWS}
            )
    except (CatalogFileError, OSError) as exc:
        CatalogImport.objects.filter(pk=job.pk).update(
            status=CatalogImport.Status.FAILED, error_message=str(exc), finished_at=timezone.now()
        )
        return

    CatalogImport.objects.filter(pk=job.pk).update(total_rows=len(rows_list))

    def progress(summary: ImportSummary) -> None:
        _save_progress(job.pk, summary)

    summary = import_rows(rows_list, summary=ImportSummary(total=len(rows_list)), on_progress=progress)
    _save_progress(job.pk, summary, status=CatalogImport.Status.DONE)
    if summary.created or summary.updated:
        catalog_changed()


def _save_progress(job_id: int, summary: ImportSummary, status: str | None = None) -> None:
    now = timezone.now()
    values: dict[str, Any] = {
        "processed_rows": summary.processed,
        "created_count": summary.created,
        "updated_count": summary.updated,
        "unchanged_count": summary.unchanged,
        "errors": summary.errors,
        "heartbeat_at": now,
    }
    if status:
        values.update(status=status, finished_at=now)
    CatalogImport.objects.filter(pk=job_id).update(**values)


# --- Export -------------------------------------------------------------------------------


def catalog_export_rows(base_url: str = "") -> Iterator[list[str]]:
    """Rows of the export (header first): every variant of every non-archived product."""
    yield COLUMNS
    variants = (
        Variant.objects.select_related("product", "product__category")
        .prefetch_related("product__images")
        .filter(product__archived_at__isnull=True)
        .order_by("product__code", "position", "id")
    )
    for variant in variants.iterator(chunk_size=500):
        product = variant.product
        yield [
            product.code,
            variant.sku,
            product.name_ar,
            product.name_fr,
            product.name_en,
            product.description_ar,
            product.description_fr,
            product.description_en,
            product.category.name if product.category else "",
            str(product.price),
            str(product.compare_at_price or ""),
            variant.size,
            variant.colour,
            str(variant.stock),
            str(variant.price_override if variant.price_override is not None else ""),
            "yes" if product.is_active else "no",
            "|".join(product.synonyms),
            " ".join(base_url + image.image.url for image in product.images.all()),
        ]


def catalog_export_stream(base_url: str = "") -> Iterator[str]:
    """The export as CSV text chunks, with a BOM so that spreadsheet programs read UTF-8."""
    return csv_stream(catalog_export_rows(base_url))
