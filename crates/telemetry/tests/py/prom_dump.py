"""Prints every sample of a Prometheus text page as prometheus_client's own
parser reads it, one JSON array per line: [name, {labels}, repr(value)].
The independent reading that tests/prom_pages.rs compares ours with."""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families

with open(sys.argv[1]) as f:
    text = f.read()
for family in text_string_to_metric_families(text):
    for s in family.samples:
        print(json.dumps([s.name, s.labels, repr(float(s.value))]))
