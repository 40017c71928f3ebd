"""No tables: the back-office's permissions live on the models they guard (see groups.py).

The module exists because Django sends `post_migrate` only to apps with a models module, and
that signal is what keeps the operator groups in step after every `migrate`.
"""
