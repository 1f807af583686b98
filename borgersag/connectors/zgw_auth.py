"""The ZGW APIs' authentication: a JWT per request, and Open Zaak's CRS headers."""

from __future__ import annotations

import time

import requests
from jose import jwt

__all__ = ["CRS", "ZgwJwtAuth"]

CRS = "EPSG:4326"


class ZgwJwtAuth(requests.auth.AuthBase):
    """The ZGW APIs' JWT, minted fresh for every request, plus Open Zaak's CRS headers.

    HS256 with the client's shared secret; claims ``iss`` and ``client_id`` (the client
    id), ``iat`` (now), ``user_id`` and ``user_representation`` (for the server's audit
    trail). A token lives only as long as the server accepts its ``iat``.
    """

    def __init__(
        self,
        client_id: str,
        secret: str,
        user_id: str,
        user_representation: str,
        clock=time.time,
    ):
        self.client_id = client_id
        self._secret = secret
        self.user_id = user_id
        self.user_representation = user_representation
        self._clock = clock

    def token(self) -> str:
        """A new signed JWT."""
        claims = {
            "iss": self.client_id,
            "iat": int(self._clock()),
            "client_id": self.client_id,
            "user_id": self.user_id,
            "user_representation": self.user_representation,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        request.headers["Accept-Crs"] = CRS
        if request.body is not None:
            request.headers["Content-Crs"] = CRS
        return request
