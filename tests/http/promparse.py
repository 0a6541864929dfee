"""Parse Prometheus text from stdin with the prometheus_client parser
(Debian's python3-prometheus-client) and print it as JSON:
{"families": [{"name", "type", "samples": [[name, labels, value], ...]}]}.

Run with the Python the Debian package belongs to (/usr/bin/python3), as
suite_metrics does; a parse error is exit status 1 with the message.
"""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

try:
    fams = [{"name": f.name, "type": f.type,
             "samples": [[s.name, s.labels, s.value] for s in f.samples]}
            for f in text_string_to_metric_families(sys.stdin.read())]
except Exception as e:  # noqa: BLE001 -- any parse error is the answer
    print("parse error: %r" % e, file=sys.stderr)
    sys.exit(1)
json.dump({"families": fams}, sys.stdout)
