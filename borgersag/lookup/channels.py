"""Which keys each channel may look up, and whose: declared once, as data.

Plain Python, no Flask. A *channel* is a way in — the caseworker's lookup form, the JSON
API, "Mit skrivebord", the citizen's "Mine sager". :data:`CHANNELS` says for each who
may use it and which key kinds it takes; a kind is either anyone's
(:attr:`Whose.ANYONE`, e.g. a CPR number typed by a caseworker) or the signed-in
person's own (:attr:`Whose.OWN`), optionally widened by a role permission. So a
caseworker may look up a medarbejdernummer through the form or the API only if it is
their own, unless a role grants :attr:`~borgersag.people.permissions.Permission.SE_KOLLEGERS_SAGER`.

:func:`parse` and :func:`authorise` are what the use cases call; their refusals are
:class:`Rejected`, with a Danish message that says what is wrong and never repeats the
input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum

from borgersag.domain.keys import InvalidKey, Key, KeyKind, parse_key
from borgersag.people.identity import Audience, User
from borgersag.people.permissions import Permission

__all__ = [
    "CHANNELS",
    "Channel",
    "ChannelPolicy",
    "KindRule",
    "Rejected",
    "Whose",
    "authorise",
    "kinds_for",
    "own_key",
    "parse",
]


class Rejected(Exception):
    """A request a use case refuses before anything is asked of the sources.

    ``errors`` maps the field at fault (``"kind"``, ``"value"``, ``"purpose"``; ``None``:
    the request as a whole) to a Danish message meant for the person; ``status`` is 400
    for input they can correct, 403 for a lookup they may not make. ``title`` is a
    heading for a page when the refusal is not about a form field.
    """

    def __init__(
        self, errors: Mapping[str | None, str], *, status: int = 400, title: str | None = None
    ) -> None:
        super().__init__(status)
        self.errors = dict(errors)
        self.status = status
        self.title = title

    @property
    def field(self) -> str | None:
        """The first field at fault."""
        return next(iter(self.errors))

    @property
    def message(self) -> str:
        """The first message."""
        return next(iter(self.errors.values()))


class Channel(StrEnum):
    """A way into the lookups."""

    FORM = "formular"  # the caseworker's lookup form
    API = "api"  # the JSON API, /api/v1
    DESK = "skrivebord"  # "Mit skrivebord": the caseworker's own cases
    CITIZEN = "mine_sager"  # the citizen's "Mine sager"


class Whose(Enum):
    """Whose key of a kind a channel takes."""

    ANYONE = "anyone"
    OWN = "own"  # the signed-in person's own (from their sign-in)


@dataclass(frozen=True, slots=True)
class KindRule:
    """A key kind a channel takes; with :attr:`Whose.OWN`, ``unless`` is a permission that
    lets a caseworker look up anyone's key of the kind too."""

    kind: KeyKind
    whose: Whose = Whose.ANYONE
    unless: Permission | None = None


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    """Who may use a channel (an audience, and a permission for caseworkers) and which
    kinds it takes, in the order a form offers them."""

    audience: Audience
    needs: Permission | None
    kinds: tuple[KindRule, ...]

    def rule(self, kind: KeyKind) -> KindRule | None:
        """The rule for ``kind``, or ``None`` when the channel does not take it."""
        return next((r for r in self.kinds if r.kind is kind), None)


_ANYONES = tuple(KindRule(k) for k in (KeyKind.CPR, KeyKind.CVR, KeyKind.MATRIKEL, KeyKind.BFE))
_COLLEAGUE = KindRule(KeyKind.MEDARBEJDER, Whose.OWN, unless=Permission.SE_KOLLEGERS_SAGER)

CHANNELS: Mapping[Channel, ChannelPolicy] = {
    Channel.FORM: ChannelPolicy(Audience.CASEWORKER, Permission.OPSLAG, (*_ANYONES, _COLLEAGUE)),
    Channel.API: ChannelPolicy(Audience.CASEWORKER, Permission.OPSLAG, (*_ANYONES, _COLLEAGUE)),
    Channel.DESK: ChannelPolicy(
        Audience.CASEWORKER, Permission.OPSLAG, (KindRule(KeyKind.MEDARBEJDER, Whose.OWN),)
    ),
    Channel.CITIZEN: ChannelPolicy(Audience.CITIZEN, None, (KindRule(KeyKind.CPR, Whose.OWN),)),
}
"""Every channel's policy: the one declaration the use cases enforce."""

KIND_ERROR = {
    Channel.FORM: "Vælg, hvad du vil søge på.",
    Channel.API: "Ukendt nøgletype; brug en af: {kinds}.",
}
NOT_YOURS = {
    KeyKind.MEDARBEJDER: (
        "Du kan kun slå dit eget medarbejdernummer op. Dine egne sager finder du under"
        " Mit skrivebord; en kollegas sager kræver en rolle, der må se kollegers sager."
    ),
}
NOT_YOURS_DEFAULT = "Du kan kun slå dine egne oplysninger op."
NO_ACCESS = "Du har ikke adgang til den slags opslag."


def kinds_for(channel: Channel) -> tuple[KeyKind, ...]:
    """The key kinds ``channel`` takes, in the order a form offers them."""
    return tuple(rule.kind for rule in CHANNELS[channel].kinds)


def own_key(user: User, kind: KeyKind) -> Key | None:
    """The signed-in person's own key of ``kind`` (from their sign-in), if they have one."""
    if kind is KeyKind.CPR:
        return user.cpr
    if kind is KeyKind.MEDARBEJDER and user.medarbejdernummer:
        try:
            return parse_key(KeyKind.MEDARBEJDER, user.medarbejdernummer)
        except InvalidKey:
            return None
    return None


def parse(channel: Channel, kind: object, value: object) -> Key:
    """The key a person typed, if ``channel`` takes its kind; else :class:`Rejected` (400).

    Whether the person may look it up is :func:`authorise`'s question.
    """
    kinds = kinds_for(channel)
    if not isinstance(kind, str) or kind not in {k.value for k in kinds}:
        listed = ", ".join(k.value for k in kinds)
        message = KIND_ERROR.get(channel, KIND_ERROR[Channel.API])
        raise Rejected({"kind": message.format(kinds=listed)})
    if not isinstance(value, str):
        raise Rejected({"value": "Værdien skal være en tekst."})
    try:
        return parse_key(kind, value)
    except InvalidKey as exc:
        raise Rejected({"value": exc.message}) from None


def authorise(channel: Channel, user: User, key: Key) -> Key:
    """The key ``user`` may look up through ``channel``, or :class:`Rejected` (403).

    Returns the key to ask the sources about: for a key that must be the person's own,
    their own as their sign-in spells it (a medarbejdernummer typed in other letter case
    is still theirs, and the sources are asked about exactly their number).
    """
    policy = CHANNELS[channel]
    allowed_person = user.kind is policy.audience and (
        policy.needs is None or user.may(policy.needs)
    )
    rule = policy.rule(key.kind)
    if not allowed_person or rule is None:
        raise Rejected({"kind": NO_ACCESS}, status=403)
    if rule.whose is Whose.ANYONE:
        return key
    own = own_key(user, key.kind)
    if own is not None and own.value.casefold() == key.value.casefold():
        return own
    if rule.unless is not None and user.may(rule.unless):
        return key
    raise Rejected({"value": NOT_YOURS.get(key.kind, NOT_YOURS_DEFAULT)}, status=403)
