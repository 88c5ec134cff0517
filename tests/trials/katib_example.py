"""The local stand-in for a Katib example's training container (tests/test_katib_examples.py):
reports the example's metrics, in the format its collector reads, for the parameters it gets.

Arguments are name=value pairs: ``metrics`` (comma-separated names, the objective first),
``line`` (a Python format string for one metric line with {name} and {value}, default
``{name}={value}``), ``output`` (stdout, text, json or tfevent: where the lines go; the three
file formats write to ``log_path``, a file or for tfevent a folder), ``steps`` (reports per
metric, default 3). Every other pair is a hyperparameter; the metrics are a smooth function of
the numeric ones, so different parameters give different results and the search has a signal.
"""

import json
import math
import os
import sys
import time

args = dict(a.split("=", 1) for a in sys.argv[1:])
metrics = args.pop("metrics").split(",")
line = args.pop("line", "{name}={value}")
output = args.pop("output", "stdout")
log_path = args.pop("log_path", "")
steps = int(args.pop("steps", "3"))
numbers = []
for value in args.values():
    try:
        numbers.append(float(value))
    except ValueError:
        numbers.append(float(len(value)))
score = 0.5 + 0.4 * math.sin(sum(math.log1p(abs(n)) for n in numbers) or 1.0)
series = [[(step, round(score * (step + 1) / steps + 0.01 * index, 6)) for step in range(steps)] for index, _ in enumerate(metrics)]

if output == "tfevent":
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(log_path)
    for step in range(steps):
        values = [summary_pb2.Summary.Value(tag=name, simple_value=series[i][step][1]) for i, name in enumerate(metrics)]
        writer.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary_pb2.Summary(value=values)))
    writer.close()
    sys.exit(0)
lines = []
for step in range(steps):
    if output == "json":
        lines.append(json.dumps({"step": step, **{name: str(series[i][step][1]) for i, name in enumerate(metrics)}}))
    else:
        lines.extend(line.format(name=name, value=series[i][step][1]) for i, name in enumerate(metrics))
if output == "stdout":
    print("\n".join(lines), flush=True)
else:
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "w") as out:
        out.write("\n".join(lines) + "\n")
