"""The domain: what a case overview is, independent of where it comes from.

Keys (CPR, CVR, matrikel, BFE, medarbejdernummer), the canonical model (Case, Document,
Event, Party, SourceResult, Overview), how keys relate (Relation, with its role and
period), the join of one matter seen by several systems, and the JSON form of an
overview. Plain Python, no I/O.

May import: :mod:`borgersag.runtime` only. Everything else may import this.
"""
