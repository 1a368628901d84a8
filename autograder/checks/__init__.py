"""Hidden checks, one pytest module per assignment, named after it."""
