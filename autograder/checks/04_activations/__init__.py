"""Hidden checks for 04_activations: the activations and their derivatives, plot_activations and
deep_gradient_norms, each in a module of its own, with the code they share in _common.py.

This file holds the assignment's declarations, which assignment.py reads without importing it.
"""

WARM_UP = ()  # slow imports the grader and sandbox make before forking (assignment.py): none here
ORDER = ("activations", "plot_activations", "deep_gradient_norms")  # the modules, in the order their checks run
# the derivatives are graded on the student's own sigmoid and tanh: a mistake there is charged to those only
CARRY_FORWARD = {"sigmoid_grad": ("sigmoid",), "tanh_grad": ("tanh",)}
