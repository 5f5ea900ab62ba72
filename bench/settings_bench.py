"""The real settings plus one tenant app whose migration the benchmark applies."""

from ma5zani.settings import *  # noqa: F403
from ma5zani.settings import INSTALLED_APPS, TENANT_APPS

TENANT_APPS = [*TENANT_APPS, "bench.benchapp"]
INSTALLED_APPS = [*INSTALLED_APPS, "bench.benchapp"]
