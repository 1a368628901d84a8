"""What the grader and the sandboxed worker say to each other: the requests, the reply envelope, and the
reply of the generic ``call`` probe. Both sides import these types; the wire format is ``wire.py``.

A graded name the notebook lacks has one convention: the probe raises ``Missing`` (``probes.lookup``) and
the envelope carries ``missing``; the grader turns it into one message (``Student._missing_message``).
"""
from __future__ import annotations

from typing import Any, Literal, TypedDict


class ExecRequest(TypedDict):
    """Run one notebook cell: ``index`` is its position among code cells, ``source`` plain Python."""

    op: Literal["exec"]
    index: int
    source: str


class ProbeRequest(TypedDict):
    """Run ``probe`` about graded name ``args["name"]``: a generic probe (``probes.py``) or one of the
    assignment's own (``assignments/<assignment>.py``)."""

    op: Literal["probe"]
    assignment: str
    probe: str
    args: dict[str, Any]


Request = ExecRequest | ProbeRequest


class ErrorInfo(TypedDict, total=False):
    """An exception raised in the worker, described (``errors.describe``)."""

    type: str
    message: str
    where: str      # the notebook's own frames, as "code cell N, line M"
    function: str
    forbidden: bool  # a forbidden torch operation (the from-scratch watch)
    raised: bool     # by a raise statement of the notebook, not inside a library it called


class Reply(TypedDict, total=False):
    """The envelope of every reply: exactly one of ``ok``, ``missing`` and ``error``, then what the request
    left behind (threads still running, tampering with the harness)."""

    ok: Any            # the probe's plain data (exported values, see values.py)
    missing: str       # the graded name, or one it needs, that the notebook does not define
    error: ErrorInfo
    threads: int
    tampered: list[str]


class CallReply(TypedDict, total=False):
    """What ``probes.call`` sends back about one call of a student's function."""

    value: Any
    value_requires_grad: bool
    forbidden: list[str]          # the forbidden torch operations it reached, caught or not
    args_after: list              # the arguments after the call, to see in-place changes
    requires_grad_after: list[bool]
    grads_after: list             # each argument's .grad after the call (None where unset)
    grads: Any                    # the gradients of the ``grad`` arguments, or why there are none


def well_formed(reply: Any) -> bool:
    """Whether ``reply`` has the shape ``probes.call`` gives it (one forged by student code may not)."""
    fields = {"value_requires_grad": bool, "forbidden": list, "args_after": list, "requires_grad_after": list,
              "grads_after": list}
    return (isinstance(reply, dict) and "value" in reply and all(type(reply.get(k)) is t for k, t in fields.items())
            and all(type(hit) is str for hit in reply["forbidden"]))
