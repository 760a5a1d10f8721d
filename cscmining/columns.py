"""Column names of the event log: pm4py's XES keys plus cscmining's own."""

CASE = "case:concept:name"
ACTIVITY = "concept:name"
TIMESTAMP = "time:timestamp"
ORDER = "stage:order"
SOURCE = "source"
ROW = "source:row"
FILE = "source:file"

#: the columns every event log starts with, in this order
CORE = [CASE, ACTIVITY, TIMESTAMP, ORDER, SOURCE]
#: the key every log is sorted by (SPEC §2): never file order, never hash order
SORT_KEY = [CASE, TIMESTAMP, ORDER, SOURCE, ROW]

#: case attributes carry pm4py's ``case:`` prefix
CASE_PREFIX = "case:"
