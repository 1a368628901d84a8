"""Hidden checks for 05_mnist_classifier: one module per graded name, with the code they share in _common.py.

test_accuracy trains the student's own build_model() with train_model and scores predict's labels here.
Every other name is checked on objects the harness builds (harness/assignments/05_mnist_classifier.py): train_model, predict
and the checkpoint functions run on the grader's small models, never on the student's build_model, so a
mistake in one function is charged to that name only.

This file holds the assignment's declarations, which assignment.py reads without importing it.
"""

WARM_UP = ("torch._dynamo", "torchvision.datasets", "torchvision.transforms")  # imported before forking
ORDER = ("test_accuracy", "get_transform", "build_model", "train_model", "predict", "confusion_matrix",
         "precision_recall_f1", "checkpoint", "split_train_val")  # the modules, in the order their checks run
