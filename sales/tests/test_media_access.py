"""A seller's files: product images are public, everything else is for its members only,
however the path is spelled (the rule is decided on the canonical path)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

SECRET = b"product_code,sku\nsecret-line,SKU-1\n"
IMAGE = b"\x89PNG\r\n\x1a\nnot-really-an-image"

# Ways of writing "products/../imports/x.csv": plain, percent-encoded dots and slashes, upper
# case, dot segments, backslashes, doubled slashes, a NUL.
TRAVERSALS = [
    "products/../imports/x.csv",
    "products/%2e%2e/imports/x.csv",
    "products/%2E%2E/imports/x.csv",
    "products/..%2fimports/x.csv",
    "products/..%2Fimports%2Fx.csv",
    "products%2f..%2fimports%2fx.csv",
    "products/./../imports/x.csv",
    "products/.%2e/imports/x.csv",
    "products/%2e./imports/x.csv",
    "products/..\\imports\\x.csv",
    "products/..%5cimports%5cx.csv",
    "products//../imports/x.csv",
    "products/a/../../imports/x.csv",
    "products/%2e%2e%2f%2e%2e%2f" + "imports/x.csv",
    "products/x.png%00/../../imports/x.csv",
    "./imports/x.csv",
    "imports/./x.csv",
    "imports//x.csv",
]
# On the public site the URL already names products/: what follows it.
PUBLIC_TRAVERSALS = [p.removeprefix("products/").removeprefix("products%2f") for p in TRAVERSALS if "products" in p]


@pytest.fixture
def files(shop_a):
    root = Path(settings.MEDIA_ROOT) / shop_a.seller.schema_name
    (root / "imports").mkdir(parents=True, exist_ok=True)
    (root / "products" / "shoe").mkdir(parents=True, exist_ok=True)
    (root / "imports" / "x.csv").write_bytes(SECRET)
    (root / "products" / "shoe" / "a.png").write_bytes(IMAGE)
    return shop_a


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def public_client() -> Client:
    return Client(HTTP_HOST=settings.BASE_DOMAIN)


@pytest.mark.parametrize("who", ["anonymous", "other_shop_owner", "owner"])
def test_no_spelling_of_a_traversal_reads_a_private_file_on_the_sellers_host(files, shop_b, who):
    client = {
        "anonymous": files.anonymous,
        "other_shop_owner": lambda: files.client(shop_b.owner),
        "owner": files.client,
    }[who]()
    for spelling in TRAVERSALS:
        response = client.get(f"/media/{files.seller.schema_name}/{spelling}")
        assert response.status_code in (400, 404), spelling
        assert SECRET not in body(response), spelling


@pytest.mark.parametrize("signed_in", [False, True])
def test_no_spelling_of_a_traversal_reads_a_private_file_on_the_public_site(files, signed_in):
    client = public_client()
    if signed_in:
        client.force_login(files.owner)
    for spelling in PUBLIC_TRAVERSALS:
        response = client.get(f"/media/{files.seller.schema_name}/products/{spelling}")
        assert response.status_code in (400, 404), spelling
        assert SECRET not in body(response), spelling


def test_product_images_are_public_and_private_files_are_for_members(files, shop_b):
    schema = files.seller.schema_name
    image = f"/media/{schema}/products/shoe/a.png"
    private = f"/media/{schema}/imports/x.csv"
    for client in (files.anonymous(), public_client()):
        response = client.get(image)
        assert response.status_code == 200 and body(response) == IMAGE
    assert files.anonymous().get(private).status_code == 404
    assert files.client(shop_b.owner).get(private).status_code in (403, 404)
    assert public_client().get(private).status_code == 404
    response = files.client().get(private)
    assert response.status_code == 200 and body(response) == SECRET


def test_another_sellers_schema_in_the_path_is_refused(files, shop_b):
    # shop_b's host naming shop_a's folder serves nothing, even product images.
    response = shop_b.client().get(f"/media/{files.seller.schema_name}/products/shoe/a.png")
    assert response.status_code == 404
