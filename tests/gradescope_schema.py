"""Gradescope's results.json as a JSON Schema, written from its documented fields ("Autograder Specifications",
https://gradescope-autograders.readthedocs.io/en/latest/specs/), plus the kit's own rule that every output and
test name states its format (Gradescope reads a text without one as HTML)."""
import jsonschema

VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
NUMBER = {"type": "number"}

TEST = {
    "type": "object",
    "properties": {
        "score": NUMBER,
        "max_score": NUMBER,
        "status": {"enum": ["passed", "failed"]},
        "name": {"type": "string", "minLength": 1},
        "name_format": FORMAT,
        "number": {"type": "string"},
        "output": {"type": "string"},
        "output_format": FORMAT,
        "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": VISIBILITY,
        "extra_data": {"type": "object"},
    },
    "additionalProperties": False,
    # the kit's: every test is named and its texts' formats are given; every test is scored but a written answer
    # still to be graded by hand, which says so (Gradescope's: a test's score may be left out where the results
    # give their own)
    "required": ["max_score", "name", "name_format", "output", "output_format", "tags", "visibility"],
    "dependentRequired": {"score": ["status"], "status": ["score"]},
    "if": {"not": {"required": ["score"]}},
    "then": {"properties": {"output": {"pattern": "^Pending"}}},
}

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "score": NUMBER,
        "execution_time": NUMBER,
        "output": {"type": "string"},
        "output_format": FORMAT,
        "test_output_format": FORMAT,
        "test_name_format": FORMAT,
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": TEST},
        "leaderboard": {"type": "array", "items": {
            "type": "object",
            "properties": {"name": {"type": "string", "minLength": 1}, "value": {"type": ["number", "string"]},
                           "order": {"enum": ["asc", "desc"]}},
            "required": ["name", "value"],
            "additionalProperties": False,
        }},
    },
    "additionalProperties": False,
    # Gradescope's: a score at the top or on every test; the kit's: the top-level score and formats always
    "required": ["score", "tests", "output", "output_format", "test_output_format", "test_name_format",
                 "visibility", "stdout_visibility", "extra_data"],
}


def validate(data: dict) -> None:
    """Raise jsonschema.ValidationError unless ``data`` is a results.json Gradescope reads as the kit means it."""
    jsonschema.validate(data, SCHEMA, format_checker=jsonschema.FormatChecker())
