"""Every ``SOCIALCREDIT_*`` environment variable, named and read here.

Nothing else in the package reads the environment: the entry points and the
composition root ask this module, and hand on what they learn.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

DB_ENV = "SOCIALCREDIT_DB"  # the database: a SQLite file or a postgresql:// URL
KEY_ENV = "SOCIALCREDIT_KEY"  # the identifier key, in hex (else the key file beside the database)
# The transparency log's Ed25519 signing key (its 32-byte seed), in hex (else
# the .log-key file beside the database).
LOG_KEY_ENV = "SOCIALCREDIT_LOG_KEY"
DEMO_DB_ENV = "SOCIALCREDIT_DEMO_DB"  # where `socialcredit demo` builds its town
SCHEMES_ENV = "SOCIALCREDIT_SCHEMES"  # a folder of shipped scheme definitions
PURE_ENV = "SOCIALCREDIT_PURE"  # 1: leave the C accelerator unused
REQUIRE_NATIVE_ENV = "SOCIALCREDIT_REQUIRE_NATIVE"  # 1: tests fail without the accelerator
TEST_SERVER_ENV = "SOCIALCREDIT_TEST_PG"  # tests: a throwaway PostgreSQL server's URL
TEST_STORE_ENV = "SOCIALCREDIT_TEST_STORE"  # tests: "postgres" runs the store tests on it
# The web's session key, in hex: sessions then outlive a restart of the server
# (else a fresh random key each start, which signs everyone out).
WEB_SECRET_ENV = "SOCIALCREDIT_WEB_SECRET"
# 1: the web's session cookie is sent over HTTPS only (behind a TLS proxy).
SECURE_COOKIES_ENV = "SOCIALCREDIT_SECURE_COOKIES"

DEFAULT_DB = "socialcredit.db"
DEFAULT_DEMO_DB = "socialcredit-demo.db"


def key_hex(env: Mapping[str, str] | None = None) -> str | None:
    """The identifier key given in the environment, if any."""
    return _env(env).get(KEY_ENV)


def log_key_hex(env: Mapping[str, str] | None = None) -> str | None:
    """The log's signing key given in the environment, if any."""
    return _env(env).get(LOG_KEY_ENV)


def pure_python(env: Mapping[str, str] | None = None) -> bool:
    """Whether the C accelerator is to be left unused."""
    return _env(env).get(PURE_ENV, "") not in ("", "0")


def native_required(env: Mapping[str, str] | None = None) -> bool:
    return _env(env).get(REQUIRE_NATIVE_ENV) == "1"


def schemes_dir(env: Mapping[str, str] | None = None) -> str | None:
    return _env(env).get(SCHEMES_ENV) or None


def test_server(env: Mapping[str, str] | None = None) -> str | None:
    return _env(env).get(TEST_SERVER_ENV) or None


def test_store(env: Mapping[str, str] | None = None) -> str:
    return _env(env).get(TEST_STORE_ENV, "sqlite")


def web_secret(env: Mapping[str, str] | None = None) -> str | None:
    return _env(env).get(WEB_SECRET_ENV) or None


def secure_cookies(env: Mapping[str, str] | None = None) -> bool:
    return _env(env).get(SECURE_COOKIES_ENV) == "1"


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env
