"""Reports of simulations for people and for comparisons: the four output files of a run
(`write_outputs`), reading them back (`read_outputs`) and the HTML pages (`render_report`,
`render_comparison`). Contract: docs/simulation-output.md.
"""

from openswap.report.html import explain_differences, render_comparison, render_report
from openswap.report.tables import (
    build_event_table,
    build_timeseries_table,
    read_outputs,
    write_comparison,
    write_outputs,
)

__all__ = [
    "build_event_table",
    "build_timeseries_table",
    "explain_differences",
    "read_outputs",
    "render_comparison",
    "render_report",
    "write_comparison",
    "write_outputs",
]
