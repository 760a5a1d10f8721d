"""cscmining: how children move, or get stuck, through a local authority's social care system.

Read the statutory returns (SSDA903, CIN census, Ofsted Annex A) or any export described by a
logmap, build an event log with one case per child, and mine it with pm4py.
"""

__version__ = "0.1.0"
