"""The real services some tests use (PostgreSQL, Redis): where they are, and skip-or-fail."""

from __future__ import annotations

import pytest

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"


def require_postgres() -> None:
    """Skip unless PostgreSQL answers; fail instead when ``BORGERSAG_REQUIRE_SERVICES=1``."""
    import os

    import psycopg

    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=2).close()
    except psycopg.Error as exc:
        message = f"PostgreSQL at {POSTGRES_URL} is unreachable ({type(exc).__name__})"
        if os.environ.get("BORGERSAG_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message}; BORGERSAG_REQUIRE_SERVICES=1 requires it", pytrace=False)
        pytest.skip(f"{message}; set BORGERSAG_REQUIRE_SERVICES=1 to fail instead")


def require_redis(url: str) -> None:
    """Skip unless Redis answers at ``url``; fail instead when services are required."""
    import os

    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        message = f"Redis at {url} is unreachable ({exc})"
        if os.environ.get("BORGERSAG_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message}; BORGERSAG_REQUIRE_SERVICES=1 requires it", pytrace=False)
        pytest.skip(f"{message}; set BORGERSAG_REQUIRE_SERVICES=1 to fail instead")
    finally:
        client.close()
