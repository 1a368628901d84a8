"""Stored answers per assignment: realistic wrong ones, and correct alternatives.

Each module maps a graded name to {label: replacement source of its cell}.
``WRONG`` answers must lose marks on that name and only that name; ``RIGHT``
answers must keep full marks everywhere.
"""
