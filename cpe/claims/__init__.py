"""Other-form credit claims (其他形式学分登记申请), the workflow kind ``claim``, R-CE-11."""
