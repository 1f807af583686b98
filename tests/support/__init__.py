"""Test support: fakes, fake back ends, action helpers and spec validators shared by the tests.

Imported as ``support.<module>`` (``tests/`` is on pytest's ``pythonpath``); test modules
never import each other.
"""
