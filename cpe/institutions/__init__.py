"""Training institutions (继续教育培训机构): filing, teacher pool, plans, reports, evaluations, R-CE-9, R-CE-14."""
