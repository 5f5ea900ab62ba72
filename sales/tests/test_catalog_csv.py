"""CSV import: good rows stored, bad rows reported with line and reason, nothing partial."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sales.models import CatalogImport, Category, Product, Variant
from sales.services.catalog_csv import (
    catalog_export_rows,
    catalog_export_stream,
    catalog_import_create,
    catalog_import_run,
    catalog_import_text,
    parse_dzd,
)

FIXTURES = Path(__file__).parent / "fixtures"
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2500", 2500),
        ("2 500", 2500),
        ("2\u00a0500 DA", 2500),
        ("2.500,00 DZD", 2500),
        ("2,500", 2500),
        ("2500.00", 2500),
        ("2500 دج", 2500),
        ("0", 0),
    ],
)
def test_parse_dzd_accepts_the_ways_sellers_write_prices(text, value):
    assert parse_dzd(text) == value


@pytest.mark.parametrize("text", ["", "12.50", "abc", "-5", "1e3", "2500,5"])
def test_parse_dzd_refuses_what_is_not_whole_dinars(text):
    with pytest.raises(ValueError):
        parse_dzd(text)


def errors_by_line(summary):
    return {item["line"]: " ".join(item["errors"]) for item in summary.errors}


def test_good_rows_are_stored_and_bad_rows_reported_with_line_and_reason(shop_a):
    with shop_a.schema():
        summary = catalog_import_text((FIXTURES / "catalog__mixed.csv").read_text())
        errors = errors_by_line(summary)
        assert summary.total == 11
        assert set(errors) == {4, 5, 7, 8, 9, 10, 11}
        assert "stock" in errors[4]
        assert "price is required" in errors[5]
        assert "stock" in errors[7]
        assert "product_code" in errors[8]
        assert "price" in errors[9]
        assert "compare" in errors[10].lower()
        assert "line 2" in errors[11]  # RE-S appears twice
        assert summary.created == 4  # RE-S, RE-M, CH-1, CH-3

        robe = Product.objects.get(code="robe-ete")
        assert (robe.name_ar, robe.name_fr, robe.price, robe.compare_at_price) == (
            "فستان صيفي",
            "Robe d'été",
            3500,
            4200,
        )
        assert robe.synonyms == ["robe", "فستان"]
        assert robe.category == Category.objects.get(name="Femme")
        assert sorted(robe.variants.values_list("sku", "stock")) == [("RE-M", 7), ("RE-S", 5)]
        assert Product.objects.get(code="chemise").price == 2500
        # Nothing partial: no product or variant from a bad row.
        assert not Product.objects.filter(code__in=["sans-prix", "prix-faux", "compare"]).exists()
        assert not Variant.objects.filter(sku__in=["RE-L", "CH-2", "BC-1", "SP-1", "PF-1", "CMP-1"]).exists()
        assert Variant.objects.get(sku="RE-S").stock == 5  # the repeated line changed nothing


def test_a_row_failing_at_the_variant_leaves_its_new_product_out(shop_a):
    csv_text = (
        "product_code,sku,name_fr,price,size,colour,stock\n"
        "p-one,DUP-1,Un,100,M,Noir,1\n"
        "p-two,NEW-2,Deux,200,M,Noir,1\n"
        "p-one,DUP-2,,,M,Noir,1\n"  # same size/colour as DUP-1 in the same product
    )
    with shop_a.schema():
        summary = catalog_import_text(csv_text)
        assert summary.created == 2 and summary.error_rows == 1
        assert summary.errors[0]["line"] == 4
        assert list(Product.objects.get(code="p-one").variants.values_list("sku", flat=True)) == ["DUP-1"]


def test_import_is_idempotent_by_sku_and_updates_changed_rows(shop_a):
    first = "product_code,sku,name_fr,price,size,stock\nsac,SAC-1,Sac,5000,M,3\nsac,SAC-2,,,L,4\n"
    with shop_a.schema():
        assert catalog_import_text(first).created == 2
        again = catalog_import_text(first)
        assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
        changed = catalog_import_text("product_code,sku,price,stock\nsac,SAC-1,5500,10\n")
        assert (changed.created, changed.updated) == (0, 1)
        product = Product.objects.get(code="sac")
        assert product.price == 5500
        assert product.name_fr == "Sac"  # empty column kept the stored value
        assert Variant.objects.get(sku="SAC-1").stock == 10
        assert Variant.objects.count() == 2


def test_a_sku_cannot_move_to_another_product(shop_a):
    with shop_a.schema():
        catalog_import_text("product_code,sku,name_fr,price\na,SKU-A,A,10\n")
        summary = catalog_import_text("product_code,sku,name_fr,price\nb,SKU-A,B,10\n")
        assert "already belongs to product a" in summary.errors[0]["errors"][0]
        assert not Product.objects.filter(code="b").exists()


def test_semicolon_files_and_header_aliases_are_read(shop_a):
    with shop_a.schema():
        summary = catalog_import_text("Code;SKU;name_fr;price;Color;Qty\ncasquette;CQ-1;Casquette;900;Rouge;12\n")
        assert summary.created == 1
        variant = Variant.objects.get(sku="CQ-1")
        assert (variant.colour, variant.stock) == ("Rouge", 12)


def test_export_then_import_changes_nothing(shop_a):
    with shop_a.schema():
        catalog_import_text((FIXTURES / "catalog__mixed.csv").read_text())
        Product.objects.filter(code="robe-ete").update(description_fr="- coton\n- lavable")
        text = "".join(catalog_export_stream())
        assert text.startswith("\ufeff")
        again = catalog_import_text(text.lstrip("\ufeff"))
        assert again.error_rows == 0
        assert (again.created, again.updated) == (0, 0)
        assert Product.objects.get(code="robe-ete").description_fr == "- coton\n- lavable"


def test_export_defuses_spreadsheet_formulas(shop_a):
    with shop_a.schema():
        catalog_import_text('product_code,sku,name_fr,price\nx,X-1,"=HYPERLINK(""http://evil"")",10\n')
        rows = list(catalog_export_rows())
        text = "".join(catalog_export_stream())
    assert rows[1][3] == '=HYPERLINK("http://evil")'
    assert "'=HYPERLINK" in text


def make_upload(content: bytes, name: str = "catalog.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_import_job_runs_once_reports_progress_and_survives_redelivery(
    shop_a, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr("sales.services.catalog_csv.enqueue", lambda task, job_id, schema: sent.append(job_id))
    rows = "".join(f"big,BIG-{i},,,{i},1\n" for i in range(60))
    content = ("product_code,sku,name_fr,price,size,stock\nbig,BIG-X,Grand,100,X,1\n" + rows).encode()
    with shop_a.schema():
        with django_capture_on_commit_callbacks(execute=True):
            job = catalog_import_create(upload=make_upload(content), user_id=shop_a.owner.pk)
        assert sent == [job.pk]
        assert job.status == CatalogImport.Status.QUEUED
        done = catalog_import_run(job.pk)
        assert done is not None
        assert done.status == CatalogImport.Status.DONE
        assert (done.total_rows, done.processed_rows, done.created_count) == (61, 61, 61)
        assert done.percent == 100
        # A second delivery of the same task does nothing.
        again = catalog_import_run(job.pk)
        assert again is not None and again.created_count == 61
        assert Variant.objects.filter(product__code="big").count() == 61


def test_a_file_that_cannot_be_read_fails_the_job_with_a_reason(
    shop_a, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr("sales.services.catalog_csv.enqueue", lambda task, job_id, schema: None)
    with shop_a.schema():
        job = catalog_import_create(upload=make_upload("name;price\nRobe;100\n".encode("cp1256")), user_id=None)
        failed = catalog_import_run(job.pk)
        assert failed is not None
        assert failed.status == CatalogImport.Status.FAILED
        assert "product_code" in failed.error_message
        latin = catalog_import_create(upload=make_upload("product_code,sku\nété,É-1\n".encode("latin-1")), user_id=None)
        latin_result = catalog_import_run(latin.pk)
        assert latin_result is not None and "UTF-8" in latin_result.error_message


def test_only_csv_files_are_accepted(shop_a):
    from django.core.exceptions import ValidationError

    with shop_a.schema(), pytest.raises(ValidationError):
        catalog_import_create(upload=make_upload(b"x", name="catalog.xlsx"), user_id=None)


def test_sweeper_reenqueues_imports_left_behind(shop_a, monkeypatch):
    import datetime as dt

    from django.utils import timezone

    from sales.tasks import sweep_catalog_imports

    sent = []
    monkeypatch.setattr("sales.tasks.enqueue", lambda task, job_id, schema: sent.append(job_id))
    with shop_a.schema():
        old = timezone.now() - dt.timedelta(minutes=30)
        stuck = CatalogImport.objects.create(original_name="a.csv", file="imports/a.csv")
        CatalogImport.objects.filter(pk=stuck.pk).update(created_at=old)
        silent = CatalogImport.objects.create(
            original_name="b.csv", file="imports/b.csv", status="running", heartbeat_at=old
        )
        CatalogImport.objects.create(original_name="c.csv", file="imports/c.csv")  # just queued
        CatalogImport.objects.create(original_name="d.csv", file="imports/d.csv", status="done")
    assert sweep_catalog_imports() == 2
    assert sorted(sent) == sorted([stuck.pk, silent.pk])


def test_reasons_are_written_in_the_uploader_language(shop_a, monkeypatch):
    from django.utils import translation

    monkeypatch.setattr("sales.services.catalog_csv.enqueue", lambda task, job_id, schema: None)
    with shop_a.schema():
        with translation.override("ar"):
            job = catalog_import_create(upload=make_upload(b"product_code,sku,name_fr,price\nx,,X,10\n"), user_id=None)
        assert job.language == "ar"
        with translation.override("fr"):  # the worker's own language does not matter
            done = catalog_import_run(job.pk)
    assert done is not None
    assert done.errors[0]["errors"] == ["sku فارغ."]
