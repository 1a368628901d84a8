"""An auto-grader for PyTorch notebooks: sandboxed execution, hidden pytest checks, Gradescope results."""
