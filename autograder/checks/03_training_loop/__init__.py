"""Hidden checks for 03_training_loop: the declarations (read by assignment.py, never imported by it)."""

WARM_UP = ("torch._dynamo",)  # imported before forking (assignment.py): optimizers here and in the notebook
