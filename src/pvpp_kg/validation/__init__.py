"""Validating and submitting institutions' data: reading documents safely (:mod:`.parse`, :mod:`.spreadsheet`), the
policy's layers on the SHACL engine (:mod:`.validator`), lv/en reports (:mod:`.report`) and versioned
submissions (:mod:`.submissions`).

Imports :mod:`pvpp_kg.shacl`, the store, the policy and the shared bottom modules.
"""
