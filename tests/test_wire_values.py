"""Unit tests for the framing between grader and worker (harness/wire.py) and the plain data it carries
(harness/values.py), over os.pipe()."""
import collections
import itertools
import os
import struct
import threading
import time

import numpy as np
import pytest
import torch

from autograder.harness import wire
from autograder.harness.values import MAX_CHARS, MAX_ITEMS, Opaque, export, revive

HEADER = struct.Struct("!QQ")


@pytest.fixture
def pipe():
    r, w = os.pipe()
    ends = {"r": r, "w": w}
    yield ends
    for fd in ends.values():
        try:
            os.close(fd)
        except OSError:
            pass


def close_writer(pipe):
    os.close(pipe["w"])
    pipe["w"] = -1


def left_in(fd: int) -> bytes:
    """Whatever is still unread in the pipe."""
    os.set_blocking(fd, False)
    try:
        return os.read(fd, 1 << 20)
    except BlockingIOError:
        return b""


def soon(seconds: float = 0.05) -> float:
    return time.monotonic() + seconds


# -- wire: frames -------------------------------------------------------------------

def test_a_frame_carries_plain_data_and_its_token(pipe):
    data = {"value": torch.arange(6.0).reshape(2, 3), "items": [1, 2.5, "x", None, True], "pair": (1, 2)}
    wire.send(pipe["w"], data, token=7)
    token, got = wire.recv(pipe["r"])
    assert token == 7
    assert torch.equal(got["value"], data["value"]) and got["items"] == data["items"] and got["pair"] == (1, 2)


def test_frames_arrive_one_at_a_time(pipe):
    wire.send(pipe["w"], "first", 1)
    wire.send(pipe["w"], "second", 2)
    assert wire.recv(pipe["r"]) == (1, "first")
    assert wire.recv(pipe["r"]) == (2, "second")


def test_a_frame_larger_than_the_pipe_buffer_is_read_whole(pipe):
    big = torch.arange(1_000_000, dtype=torch.float32)  # 4 MB, the pipe holds 64 KiB
    writer = threading.Thread(target=wire.send, args=(pipe["w"], {"big": big}, 3))
    writer.start()
    token, got = wire.recv(pipe["r"], deadline=soon(30))
    writer.join()
    assert token == 3 and torch.equal(got["big"], big)


def test_the_largest_token_crosses(pipe):
    wire.send(pipe["w"], 0, 2**64 - 1)
    assert wire.recv(pipe["r"])[0] == 2**64 - 1


def test_an_accepted_token_is_read(pipe):
    wire.send(pipe["w"], "reply", 7)
    assert wire.recv(pipe["r"], accept=(7, wire.KEEPER)) == (7, "reply")


def test_the_keepers_token_is_accepted_with_it(pipe):
    wire.send(pipe["w"], {"exited": 3}, wire.KEEPER)
    assert wire.recv(pipe["r"], accept=(7, wire.KEEPER)) == (wire.KEEPER, {"exited": 3})


def test_a_stray_token_is_refused_before_its_data_is_read(pipe):
    size = len(wire.dumps("forged"))
    wire.send(pipe["w"], "forged", 8)
    with pytest.raises(wire.Stray) as info:
        wire.recv(pipe["r"], accept=(7, wire.KEEPER))
    assert info.value.token == 8
    assert len(left_in(pipe["r"])) == size


def test_a_frame_over_the_limit_is_refused_before_its_data_is_read(pipe):
    size = len(wire.dumps(torch.zeros(100)))
    wire.send(pipe["w"], torch.zeros(100), 1)
    with pytest.raises(wire.WireError, match=f"frame of {size} bytes is over the 100-byte limit"):
        wire.recv(pipe["r"], limit=100)
    assert len(left_in(pipe["r"])) == size


def test_a_header_claiming_a_huge_frame_is_refused_at_once(pipe):
    os.write(pipe["w"], HEADER.pack(2**62, 1))
    with pytest.raises(wire.WireError, match="over the"):
        wire.recv(pipe["r"], deadline=soon())


# -- wire: closed, timed out, corrupted ---------------------------------------------

def test_a_closed_pipe_raises_closed(pipe):
    close_writer(pipe)
    with pytest.raises(wire.Closed):
        wire.recv(pipe["r"])


def test_closed_is_a_wire_error():
    assert issubclass(wire.Closed, wire.WireError) and issubclass(wire.TimedOut, wire.WireError)


def test_a_pipe_closed_inside_the_header_raises_closed(pipe):
    os.write(pipe["w"], HEADER.pack(10, 1)[:5])
    close_writer(pipe)
    with pytest.raises(wire.Closed):
        wire.recv(pipe["r"])


def test_a_pipe_closed_inside_the_data_raises_closed(pipe):
    os.write(pipe["w"], HEADER.pack(100, 1) + b"x" * 10)
    close_writer(pipe)
    with pytest.raises(wire.Closed):
        wire.recv(pipe["r"])


def test_no_frame_before_the_deadline_times_out(pipe):
    with pytest.raises(wire.TimedOut, match=r"\(0 of 16 bytes\)"):
        wire.recv(pipe["r"], deadline=soon())


def test_a_frame_cut_short_times_out_saying_how_much_came(pipe):
    os.write(pipe["w"], HEADER.pack(100, 1) + b"x" * 10)
    with pytest.raises(wire.TimedOut, match=r"\(10 of 100 bytes\)"):
        wire.recv(pipe["r"], deadline=soon())


def test_a_deadline_already_past_times_out(pipe):
    wire.send(pipe["w"], "late", 1)
    with pytest.raises(wire.TimedOut):
        wire.recv(pipe["r"], deadline=time.monotonic() - 1)


def test_bytes_that_are_not_an_archive_are_refused(pipe):
    junk = b"\x80\x04not a torch archive at all"
    os.write(pipe["w"], HEADER.pack(len(junk), 1) + junk)
    with pytest.raises(wire.WireError, match="not plain data"):
        wire.recv(pipe["r"])


def test_a_truncated_archive_is_refused(pipe):
    data = wire.dumps({"value": torch.zeros(10)})[:-30]
    os.write(pipe["w"], HEADER.pack(len(data), 1) + data)
    with pytest.raises(wire.WireError, match="not plain data"):
        wire.recv(pipe["r"])


# -- wire: nothing pickled crosses ------------------------------------------------

RAN = []


def _record(what):
    RAN.append(what)
    return what


class Payload:
    """An object whose unpickling would run code."""

    def __reduce__(self):
        return _record, ("unpickled",)


def test_an_object_that_would_run_code_is_refused_and_never_runs(pipe):
    wire.send(pipe["w"], {"ok": Payload()}, 1)
    with pytest.raises(wire.WireError, match="not plain data"):
        wire.recv(pipe["r"])
    assert RAN == []


class Marked(torch.Tensor):
    pass


@pytest.mark.parametrize("obj", [Opaque("numpy.ndarray", "array([1.])"), np.float64(1.0),
                                 torch.ones(2).as_subclass(Marked)], ids=["Opaque", "numpy", "tensor subclass"])
def test_objects_other_than_plain_data_are_refused(obj):
    with pytest.raises(wire.WireError, match="not plain data"):
        wire.loads(wire.dumps(obj))


def test_a_structure_over_the_pickle_limit_is_refused():
    with pytest.raises(wire.WireError, match="structure takes .* bytes, over the 100-byte limit"):
        wire.loads(wire.dumps(list(range(100))), max_pickle=100)


def test_tensor_data_does_not_count_against_the_pickle_limit():
    big = torch.zeros(1_000_000)  # 4 MB of data, a small structure
    assert torch.equal(wire.loads(wire.dumps(big), max_pickle=2000), big)


# -- values.export ------------------------------------------------------------------

def is_opaque(value, kind=None) -> bool:
    return isinstance(value, dict) and set(value) == {"__opaque__", "repr"} and kind in (None, value["__opaque__"])


@pytest.mark.parametrize("value", [0, 1.5, True, None, "text", ""])
def test_plain_values_are_exported_as_they_are(value):
    assert export(value) is value


def test_a_tensor_is_exported_detached_and_copied():
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    out = export(y)
    assert torch.equal(out, y.detach()) and not out.requires_grad
    assert out.data_ptr() != y.data_ptr()


def test_a_tensor_subclass_is_exported_as_a_plain_tensor():
    assert type(export(torch.nn.Parameter(torch.ones(2)))) is torch.Tensor


def test_a_sparse_tensor_is_described():
    assert is_opaque(export(torch.ones(2).to_sparse()), "torch.Tensor")


def test_containers_keep_their_kind():
    out = export({"a": [1, (2, torch.zeros(1))], "b": {"c": "d"}})
    assert out["a"][0] == 1 and type(out["a"][1]) is tuple and out["b"] == {"c": "d"}


def test_sizes_and_named_tuples_become_tuples():
    point = collections.namedtuple("Point", "x y")(1, 2)
    assert export(torch.Size([2, 3])) == (2, 3) and type(export(point)) is tuple


@pytest.mark.parametrize("value,kind", [(np.float64(2.5), "numpy.float64"), (np.zeros(3), "numpy.ndarray"),
                                        ({1: 2}, "dict"), (collections.OrderedDict(a=1), "collections.OrderedDict"),
                                        ({1, 2}, "set"), (print, "builtin_function_or_method")])
def test_anything_else_is_described_by_its_type_and_repr(value, kind):
    out = export(value)
    assert is_opaque(out, kind) and out["repr"] == repr(value)[:200]


class Unprintable:
    def __repr__(self):
        raise RuntimeError("no")


def test_a_value_whose_repr_raises_is_described_all_the_same():
    out = export(Unprintable())
    assert out["__opaque__"].endswith(".Unprintable") and out["repr"].startswith("<Unprintable instance at")


def test_a_long_repr_is_cut():
    assert len(export(np.arange(10_000))["repr"]) <= 200


def test_a_string_up_to_the_limit_crosses():
    assert export("x" * MAX_CHARS) == "x" * MAX_CHARS


def test_a_longer_string_is_described():
    out = export("x" * (MAX_CHARS + 1))
    assert is_opaque(out, "str") and out["repr"] == f"{MAX_CHARS + 1} characters: too long to send back"


def test_a_list_up_to_the_item_limit_crosses():
    assert len(export(list(range(MAX_ITEMS)))) == MAX_ITEMS


def test_a_longer_list_is_described():
    out = export(list(range(MAX_ITEMS + 1)))
    assert is_opaque(out, "list") and out["repr"] == "too many items to send back"


def test_nested_items_count_against_one_budget():
    half = MAX_ITEMS // 2
    out = export([list(range(half)), list(range(half))])  # 2 + 2 * half items
    assert out[0] == list(range(half)) and is_opaque(out[1], "list")


class Endless(list):
    def __iter__(self):
        return itertools.count()


def test_an_endless_sequence_is_described_without_reading_it_all():
    assert is_opaque(export(Endless()))


def test_deep_nesting_is_described_past_twenty_levels():
    value = 0
    for _ in range(30):
        value = [value]
    out, depth = export(value), 0
    while isinstance(out, list):
        out, depth = out[0], depth + 1
    assert depth == 21 and is_opaque(out, "list")


# -- values.revive ----------------------------------------------------------------------

def test_revive_turns_descriptions_into_opaque_values():
    data = {"value": {"__opaque__": "numpy.ndarray", "repr": "array([1.])"}}
    assert revive(data) == {"value": Opaque("numpy.ndarray", "array([1.])")}


def test_opaque_reads_as_its_type():
    assert str(Opaque("numpy.ndarray", "array([1.])")) == "a numpy.ndarray"


def test_revive_keeps_plain_data_and_container_kinds():
    data = {"a": [1, (2.5, "x")], "t": torch.ones(2), "b": {"__opaque__": "x", "repr": "y", "more": 1}}
    out = revive(data)
    assert out["a"] == [1, (2.5, "x")] and out["t"] is data["t"] and out["b"] == data["b"]


def test_revive_cuts_long_descriptions():
    out = revive({"__opaque__": "t" * 1000, "repr": "r" * 1000})
    assert len(out.type) == 200 and len(out.repr) == 200


@pytest.mark.parametrize("tensor,kind", [(torch.empty(2, device="meta"), "meta tensor"),
                                         (torch.ones(2).to_sparse(), "cpu tensor")])
def test_revive_refuses_tensors_other_than_dense_cpu_ones(tensor, kind):
    assert revive(tensor) == Opaque(kind, "")


def test_revive_bounds_the_number_of_items():
    out = revive(list(range(100_001)))  # the list counts as one of the 100_000
    assert out[:99_999] == list(range(99_999)) and out[99_999:] == [Opaque("oversized value", "")] * 2


def test_revive_bounds_the_depth():
    value = 0
    for _ in range(50):
        value = [value]
    out = revive(value)
    for _ in range(41):
        out = out[0]
    assert out == Opaque("oversized value", "")


def test_a_numpy_result_crosses_the_wire_as_an_opaque_value(pipe):
    wire.send(pipe["w"], {"ok": {"value": export(np.zeros(2))}}, 5)
    assert revive(wire.recv(pipe["r"])[1]) == {"ok": {"value": Opaque("numpy.ndarray", "array([0., 0.])")}}


@pytest.mark.parametrize("make", [lambda: [torch.zeros(()) for _ in range(MAX_ITEMS - 1)],
                                  lambda: [chr(97 + i) * MAX_CHARS for i in range(11)]],
                         ids=["many scalar tensors", "eleven long strings"])
def test_a_value_too_large_to_read_back_is_refused_before_it_is_sent(make, pipe):
    """Within export's bounds, yet over the reply's limit: the worker sends an error instead (serve), so that the
    name fails with a message rather than the grader reading a reply it must refuse."""
    with pytest.raises(wire.TooLarge, match="over the 1048576-byte limit"):
        wire.send(pipe["w"], export(make()), 1)
    wire.send(pipe["w"], {"ok": 1}, 2)
    assert wire.recv(pipe["r"]) == (2, {"ok": 1})  # nothing of the refused one was written
