"""Name lists (学员名单、考试合格名单): face-to-face attendance lists and exam pass lists, R-CE-9, R-CE-10.

One reader (``spreadsheets``), one row checker (``rows``), one services module per kind (``services/``).
"""
