"""The connector SDK: what a connector is built from.

The connector base class and its settings schema, the HTTP session a connector talks
through (time-bounded, classified errors), source credentials (API key, OAuth2, client
certificates), the record reader for back-end JSON, and the error classes. Connector
authors import these through the root package (``from borgersag import …``), never from
here, so the modules may move.

May import: :mod:`borgersag.domain`, :mod:`borgersag.runtime`.
"""
