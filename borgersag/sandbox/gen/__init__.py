"""The parts of the sandbox generator, one per back end (see :mod:`borgersag.sandbox.generator`).

* :mod:`.context` — what every part shares: the random numbers being drawn from, the
  staff, the document id counter and small drawing helpers;
* :mod:`.people` — citizens (CPR numbers, names, addresses) and the municipality's staff;
* :mod:`.ownership` — the ownership register: properties, parcels, who owns them;
* :mod:`.esdh` — the ESDH (SBSYS): cases, status histories, documents and files;
* :mod:`.building` — the building-permit system, and the ESDH's copies of its cases;
* :mod:`.demo` — the named demo identities, the hostile citizen among them.

The ZGW and Momentum data are built from the finished municipality in
:mod:`borgersag.sandbox.zgw_data` and :mod:`borgersag.sandbox.momentum_data`; OS2mo's
comes from the catalogue alone.
"""
