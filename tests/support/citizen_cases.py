"""Hand-built cases of one citizen and an app over them, for page tests that need cases
with particular facts (deadlines, decisions, steps) rather than the sample overview."""

from __future__ import annotations

import dataclasses
import datetime as dt

from borgersag.domain.keys import CPR
from borgersag.domain.model import (
    Case,
    Overview,
    Party,
    PartyRole,
    Progress,
    ProgressStep,
    Provenance,
    SourceResult,
    SourceStatus,
)
from borgersag.web import create_app

from support.fake_portal import TYPICAL_CPR, FakePortal, make_config

AT = dt.datetime(2026, 11, 28, 9, tzinfo=dt.UTC)
KAREN = CPR.parse(TYPICAL_CPR)


def karens_case(native: str, **facts) -> Case:
    """An SBSYS case ``sbsys/<native>`` with Karen as primary party, opened 1 September 2026."""
    values = dict(
        id=f"sbsys/{native}",
        sagsnummer=f"S-{native}",
        title=f"Sag {native}",
        provenance=Provenance("sbsys", AT),
        parties=(Party(KAREN, PartyRole.PRIMARY, "Karen Holm"),),
        opened=dt.date(2026, 9, 1),
        progress_history=(ProgressStep(Progress.OPSTAAET, dt.date(2026, 9, 1), "Opstået"),),
    )
    return Case(**{**values, **facts})


def app_over(cases: tuple[Case, ...], **tables):
    """The web app over a fake portal whose every lookup answers ``cases`` from one SBSYS
    and whose case details are those cases; ``tables`` are config tables."""

    class Portal(FakePortal):
        def get_case(self, case_id: str, *, also_known_as=()) -> Case:
            return dataclasses.replace(next(c for c in cases if c.id == case_id), reason=None)

    def overview(key) -> Overview:
        sources = (SourceResult("sbsys", "SBSYS", SourceStatus.OK, case_count=len(cases)),)
        return Overview(key, cases, sources, AT)

    portal = Portal(config=make_config(tables=tables), overview_for=overview)
    app = create_app(portal.config, portal=portal)
    app.config["TESTING"] = True
    return app
