"""What a caseworker role may grant: one enum instead of string literals in every layer.

Plain Python. Config and the session keep the values as the strings the role catalogue
uses (``permissions = ["opslag"]``); :class:`Permission` is a ``StrEnum``, so a value
read from either compares equal to its member, and code names the member.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Permission"]


class Permission(StrEnum):
    """One thing a role may let a caseworker do (``[roles.<name>] permissions``)."""

    OPSLAG = "opslag"
    ADMINISTRATION = "administration"
    SE_BESKYTTET_ADRESSE = "se_beskyttet_adresse"
    SE_KOLLEGERS_SAGER = "se_kollegers_sager"
    DATABESKYTTELSE = "databeskyttelse"

    @property
    def description(self) -> str:
        """What the permission lets a person do, in Danish."""
        return _DESCRIPTIONS[self]

    @classmethod
    def known(cls, values: object) -> frozenset[Permission]:
        """The members named by ``values`` (strings or members); unknown names are dropped.

        For values read back from a session written by another version: a name this
        version does not know grants nothing.
        """
        if not isinstance(values, list | tuple | set | frozenset):
            return frozenset()
        names = {member.value: member for member in cls}
        return frozenset(names[str(v)] for v in values if str(v) in names)


_DESCRIPTIONS = {
    Permission.OPSLAG: "slå borgere op og se deres sager",
    Permission.ADMINISTRATION: "se og styre kildernes drift",
    Permission.SE_BESKYTTET_ADRESSE: "se adressen på personer med adressebeskyttelse",
    Permission.SE_KOLLEGERS_SAGER: "slå en kollegas medarbejdernummer op og se dennes sager",
    Permission.DATABESKYTTELSE: (
        "søge i loggen over opslag og lave et udtræk af en borgers log (databeskyttelsesrådgiveren)"
    ),
}
