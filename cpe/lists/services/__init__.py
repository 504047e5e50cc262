"""Writes of the name lists, one module per kind: :mod:`.face_to_face` (the institutions' attendance lists,
R-CE-9) and :mod:`.exams` (the province's exam pass lists, R-CE-10). Both read files with the one reader
(:mod:`cpe.lists.spreadsheets`), check rows with the one row checker (:mod:`cpe.lists.rows`) and register
through the ledger's one way in (:func:`cpe.ledger.services.credits_register`).
"""
