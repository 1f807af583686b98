"""People: who is asking, and what they may see.

The OpenID Connect relying party, claims to users, roles and permissions, caseworker data
restrictions and address masking, and the citizen policy ("Mine sager" under the Mit
Overblik rules). Plain Python: no Flask.

May import: :mod:`borgersag.config`, :mod:`borgersag.sdk`, :mod:`borgersag.domain`,
:mod:`borgersag.runtime`.
"""
