"""Hidden checks for 03_training_loop: one module per graded name, with the code they share in _common.py.

train_one_epoch, evaluate and fit run in the sandbox on small models, loaders and optimizers that the
harness builds from the data of their checks (see harness/assignments/03_training_loop.py); the references
run here on identical copies. fit is graded with train_one_epoch and evaluate replaced by stubs, so a
mistake in either is charged to that name only.

This file holds the assignment's declarations, which assignment.py reads without importing it.
"""

WARM_UP = ("torch._dynamo",)  # imported before forking (assignment.py): optimizers here and in the notebook
ORDER = ("simple_net", "make_optimizer", "train_one_epoch", "evaluate", "fit")  # in the order their checks run
CARRY_FORWARD = {"fit": ("train_one_epoch", "evaluate")}  # fit is graded with stubs of these (see above)
