"""Parses a Prometheus text exposition (stdin) with prometheus_client's parser and prints it as JSON:
{family: {"type": ..., "help": ..., "samples": [[name, labels, value], ...]}}. A parse error exits 1."""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = sys.stdin.read()
    out = {}
    for family in text_string_to_metric_families(text):
        if family.name in out:
            print(f"family {family.name} appears twice", file=sys.stderr)
            sys.exit(1)
        samples = []
        for s in family.samples:
            value = s.value
            if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
                value = str(value)
            samples.append([s.name, dict(s.labels), value])
        out[family.name] = {"type": family.type, "help": family.documentation, "samples": samples}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
