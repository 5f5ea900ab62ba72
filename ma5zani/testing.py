"""Helpers for the test suite."""

from __future__ import annotations

import pytest
from django.conf import settings

# Tests whose data must be committed (live server, websockets, worker threads). Naming the
# available apps makes Django flush with TRUNCATE … CASCADE afterwards, which the foreign
# keys from seller schemas to public tables (admin log → users, content types) require.
committed_db = pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))
