"""The sandbox municipality: back-end services shaped like real systems, identity providers, data.

HTTP services with the API shapes of an SBSYS-style ESDH, an ownership register, a
building-permit system, a ZGW Zaken API (Open Zaak), an employment system (Momentum) and
an organisation register (OS2mo), two mock OpenID providers (MitID broker and the
municipality's staff login), generated data and fault knobs. Start it with
:func:`borgersag.sandbox.runner.start_sandbox`; the data alone comes from
:func:`borgersag.sandbox.generator.generate`.

May import: :mod:`borgersag.sdk`, :mod:`borgersag.domain`, :mod:`borgersag.people`,
:mod:`borgersag.config`, :mod:`borgersag.runtime` — never the portal it stands in front of
(web, lookup, audit, cli). Only the CLI imports it (for the demo).
"""
