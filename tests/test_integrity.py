"""The code scan for the from-scratch watch: what fails a name's check, what is only flagged, what is left alone.

Ordinary code (gc.collect, threads, an import guard on sys.modules, a context manager's own __enter__, docstrings
about watches) must cost nothing; the hostile corpus (tests/hostile) covers what the watch sees as it runs.
"""
from autograder.integrity import scan
from autograder.notebook import Cell


def findings(source: str, grade_id: str | None = "mse_loss"):
    return scan([Cell(5, "code", source, grade_id, grade=True, solution=True, number=3)])


def test_ordinary_code_is_neither_failed_nor_flagged():
    source = '''
import gc, threading, inspect
from concurrent.futures import ThreadPoolExecutor

class Timer:
    """Times a block: a stopwatch for the training loop, no harness in sight."""
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        gc.collect()

def mse_loss(pred, target, reduction="mean"):
    threading.Thread(target=print, args=("working",)).start()
    inspect.signature(mse_loss)
    return ((pred - target) ** 2).mean()
'''
    assert findings(source) == []


def test_introspection_is_flagged_without_failing():
    source = '''
import gc, sys
if "numpy" in sys.modules:
    import numpy
everything = gc.get_objects()
frame = sys._getframe().f_back
Thing.__enter__ = lambda self: self
name = "DisableTorch" + "Function"
'''
    found = findings(source)
    assert not any(f.fails for f in found)
    flags = [f.flag for f in found]
    for what in ("reaches modules through sys.modules", "searches the garbage collector's objects",
                 "walks the call stack's frames", "replaces __enter__ of an existing class",
                 "names 'DisableTorch' in a string"):
        assert any(f.startswith(f"mse_loss: {what}") for f in flags), (what, flags)
    assert "(code cell 3, line 3: if \"numpy\" in sys.modules:)" in flags[0]


def test_mode_machinery_fails_the_name_whose_cell_uses_it():
    found = findings("from torch.overrides import TorchFunctionMode\nx = torch._C._pop_torch_dispatch_stack(None)\n",
                     grade_id=None)
    assert {f.token for f in found if f.fails} == {"TorchFunctionMode", "_pop_torch_dispatch_stack"}
    assert all(f.flag.startswith("a cell of no graded name: ") for f in found)


def test_comments_and_unparsable_cells_are_skipped():
    assert findings("# gc.get_objects() and sys.modules, in a comment\nx = 1\n") == []
    assert findings("def broken(:\n    gc.get_objects(\n") == []
