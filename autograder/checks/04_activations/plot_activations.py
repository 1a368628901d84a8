"""The hidden checks of plot_activations."""
from typing import Any

import torch

from autograder.check import CheckFailed, a_kind, close, fail, graded

from ._common import ACTIVATIONS, LABELS, REFERENCE, modifies

PLOT_X = torch.linspace(-4, 6, 101)


def plotted_axes(student, x: torch.Tensor) -> dict:
    """The single axes of the Figure that ``plot_activations(x)`` returns."""
    result = student.probe("figure", "plot_activations", args=[x], kwargs={})
    if "axes" not in result:
        fail(f"plot_activations returned {a_kind(result['figure'])}, expected a matplotlib Figure: create it with "
             "fig, ax = plt.subplots() and return fig")
    if len(result["axes"]) != 1:
        fail(f"the figure has {len(result['axes'])} axes, expected exactly one: draw the three lines on one axes")
    return result["axes"][0]


def plotted_lines(student, x: torch.Tensor) -> dict[str, dict]:
    """The axes' lines by activation name; there must be exactly three, labelled ReLU, Sigmoid and Tanh."""
    lines = plotted_axes(student, x)["lines"]
    by_name = {line["label"].lower(): line for line in lines if line["label"].lower() in LABELS}
    missing = [label for name, label in LABELS.items() if name not in by_name]
    if missing:
        found = [line["label"] for line in lines if not line["label"].startswith("_")]
        fail(f"no line labelled {' or '.join(missing)} (labelled lines found: {found}): pass label='ReLU', "
             "'Sigmoid' and 'Tanh' to ax.plot")
    if len(lines) != 3:
        fail(f"the axes holds {len(lines)} lines, expected exactly three: draw nothing else as a line "
             "(use ax.grid() rather than ax.axhline for guides) and plot each activation once")
    return by_name


def plotted(data: torch.Tensor, expected: Any) -> bool:
    """A line's data (float64) are ``expected``, which may be anything a student's function returned."""
    return isinstance(expected, torch.Tensor) and close(data, expected.double(), rtol=1e-5, atol=1e-5)


def own_values(student, name: str, x: torch.Tensor) -> Any:
    try:
        return student.call(name, x).value
    except CheckFailed:
        return None


def line_problem(student, name: str, line: dict, x: torch.Tensor) -> str:
    """What is wrong with the line of ``name``; a line showing the student's own (wrong) function is fine."""
    label = LABELS[name]
    if not plotted(line["x"], x):
        return (f"the {label} line's x-values are not the x passed to plot_activations: plot each activation "
                "against that x")
    if not (plotted(line["y"], REFERENCE[name](x.double())) or plotted(line["y"], own_values(student, name, x))):
        return f"the {label} line's y-values are not {name}(x) at each x passed to plot_activations"
    return ""


@graded("plot_activations")
def test_plot_returns_figure(student):
    """returns a Figure with a single axes"""
    plotted_axes(student, PLOT_X)


@graded("plot_activations")
def test_plot_three_lines(student):
    """draws exactly three lines, labelled ReLU, Sigmoid and Tanh"""
    plotted_lines(student, PLOT_X)


@graded("plot_activations")
def test_plot_values(student):
    """plots each activation against the given x"""
    problems = [p for name, line in plotted_lines(student, PLOT_X).items()
                if (p := line_problem(student, name, line, PLOT_X))]
    # an activation that modifies x in place spoils the plot; that is charged to the activation only
    if problems and not any(modifies(student, name, PLOT_X) for name in ACTIVATIONS):
        fail(problems[0])


@graded("plot_activations")
def test_plot_legend(student):
    """has a legend naming the three lines"""
    legend = plotted_axes(student, PLOT_X)["legend"]
    if not legend:
        fail("the axes has no legend: call ax.legend() after plotting the labelled lines")
    missing = [label for name, label in LABELS.items() if name not in {text.lower() for text in legend}]
    if missing:
        fail(f"the legend does not name {' or '.join(missing)}: give every line its label and call ax.legend()")
