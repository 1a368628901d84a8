"""The part of the grader that runs inside the sandbox, beside the student's code.

Only this package is visible in the sandbox. It holds no hidden checks and no
expected values: it executes cells, calls the student's names on inputs the
grader sends, and sends plain data back.
"""
