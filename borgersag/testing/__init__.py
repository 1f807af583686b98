"""The connector author's test kit: the conformance suite and the helpers it is made of.

Every connector passes the conformance suite. A connector's test module opts in with one
class — the connector, valid settings, a sample key per key kind, and the recorded
answers of its system::

    import responses
    from borgersag import KeyKind
    from borgersag.testing import ConformanceSuite

    from my_package.connector import MinSagConnector


    SETTINGS = {"base_url": "https://unused/", "api_key": "k3y"}  # base_url is replaced
    SAMPLE_KEYS = {KeyKind.CPR: "010190-1234"}
    ONE_CASE_PER_PAGE = {"page_size": 1}  # one recorded case is then a full page


    class TestMinSagConformance(ConformanceSuite):
        connector = MinSagConnector
        settings = SETTINGS
        sample_keys = SAMPLE_KEYS
        endless_settings = ONE_CASE_PER_PAGE

        def backend(self, mock: responses.RequestsMock, base_url: str) -> None:
            mock.get(base_url + "sager", json={"sager": [RECORDED_CASE], "antal": 1})

``pytest`` then runs twelve checks (seven of them once per key kind), each against a fake
of the system
built from ``backend()`` (strict ``responses``: an unrecorded request fails the check;
a socket guard: any real network access fails it): valid settings accepted; a missing
required, an unknown and a wrongly typed setting rejected with a ``ConfigError`` naming
the key; the recorded answer mapped to valid canonical records; each endpoint failing
with 5xx/429/timeout → ``RetriableError``, with 4xx → ``FatalError``/``ForbiddenError``/
``NotFound``; garbage and JSON of the wrong shape → a ``SourceError`` naming the source;
one unreadable record among valid ones → the valid ones kept and the problem counted;
paging bounded against a backend that always promises another page. docs/connectors.md
("The conformance suite") describes each check and every class attribute.

Nothing needs configuring in pytest: importing the suite is enough. Installed with
``borgersag[testing]``, the pytest plugin :mod:`borgersag.testing.plugin` also offers the
fixtures ``borgersag_backend`` and ``borgersag_no_network`` for a connector's own tests.

May import: the public SDK (:mod:`borgersag`) and :mod:`borgersag.lookup` (to build a
connector as the registry does). Never imported by the core.
"""

from importlib import import_module
from typing import Any

_WHERE = {
    "ConformanceSuite": "suite",
    "NetworkGuard": "network",
    "TooManyRequests": "backend",
    "UnrecordedNetworkAccess": "network",
    "case_problems": "records",
    "make_client_certificate": "certificates",
    "no_network": "network",
    "relation_problems": "records",
    "strict_mock": "backend",
}

__all__ = sorted(_WHERE, key=lambda name: (name[0].islower(), name))


def __getattr__(name: str) -> Any:
    """Import on first use, so loading the pytest plugin (which lives in this package)
    costs nothing and needs neither ``responses`` nor the rest of the kit."""
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
