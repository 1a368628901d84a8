"""The marking page (``python -m autograder mark``): a tornado app in ``server``, its script and style in ``static``."""
