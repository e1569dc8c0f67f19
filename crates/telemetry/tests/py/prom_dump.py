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
        name = s.name
        # The parser names a counter's sample `<family>_total` even where the
        # page wrote it without the suffix (dcgm-exporter's counters): the
        # page's own name is what a scraper sees.
        if family.type == "counter" and name.endswith("_total") and name + "{" not in text:
            name = name[: -len("_total")]
        print(json.dumps([name, s.labels, repr(float(s.value))]))
