"""The sandbox side of assignments that need more than the generic probes: ``<assignment id>.py``, its
probes marked with ``probes.probe``, found by the assignment's name (``probes.find``)."""
