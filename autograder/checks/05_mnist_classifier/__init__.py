"""Hidden checks for 05_mnist_classifier: the declarations (read by assignment.py, never imported by it)."""

WARM_UP = ("torch._dynamo", "torchvision.datasets", "torchvision.transforms")  # imported before forking
