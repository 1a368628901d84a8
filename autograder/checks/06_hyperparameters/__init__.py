"""Hidden checks for 06_hyperparameters: one module per graded name, with the code they share in _common.py.

The three *_step functions run in the sandbox for many steps on one state dict (harness/assignments/
06_hyperparameters.py, ``steps``), from an empty state and from the state an earlier run of the student's own
function left, and are compared here with torch.optim. random_search_configs, run_experiments, EarlyStopping
and training_state also run through that module's probes (global random states, a failing train_and_evaluate
and a log file, a stopper's attributes after each call, a resumed training run); grid_search_configs and
best_config are called directly. Nothing trains on MNIST: grading takes seconds.

This file holds the assignment's declarations, which assignment.py reads without importing it.
"""

WARM_UP = ("torch._dynamo",)  # imported before forking: torch.optim loads it, in the references and the probes
ORDER = ("sgd_momentum_step", "rmsprop_step", "adam_step", "grid_search_configs", "random_search_configs",
         "run_experiments", "best_config", "EarlyStopping", "training_state")  # the modules, in the order they run
