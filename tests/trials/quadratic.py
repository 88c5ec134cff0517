"""A fast trial for tests: prints Katib-style metrics for a quadratic of its arguments.

Arguments are name=value pairs; ``mode`` picks a behaviour: ok, fail (exit 3), silent (no
objective metric), echo (print argv and the env variables named in ECHO_ENV), curve (a loss
that falls over 10 steps, 0.15 s apart, for early stopping; with ``lockstep=FILE`` each step
waits instead until FILE holds a count of reports seen that includes it), text / json / tfevent (write the
metrics to ``log_path``, a file or for tfevent a folder, instead of printing them), push (report
them with ``kfp_tune.report_metrics``). Optional: ``sleep`` seconds before
reporting, ``fail_below`` (exit 3 when x is below it), ``ledger`` and ``trial`` (append the
trial's name to the ledger file when it starts, to count how often each trial ran).
"""

import os
import sys
import time

mode = "echo" if "mode=echo" in sys.argv[1:] else "ok"
if mode != "echo":
    args = dict(a.split("=", 1) for a in sys.argv[1:])
    mode = args.pop("mode", "ok")
if mode == "echo":
    print("ARGV=" + repr(sys.argv[1:]))
    for name in os.environ.get("ECHO_ENV", "").split(","):
        if name:
            print(f"ENV {name}=" + repr(os.environ.get(name)))
    print("loss=1.0")
    sys.exit(0)
if "ledger" in args:
    with open(args.pop("ledger"), "a") as ledger:
        ledger.write(args.pop("trial", "?") + "\n")
time.sleep(float(args.pop("sleep", "0")))
x = float(args.get("x", "0"))
y = float(args.get("y", "0"))
if x < float(args.pop("fail_below", "-1")):
    print("crashed on purpose", file=sys.stderr)
    sys.exit(3)
loss = (x - 0.3) ** 2 + (y - 0.7) ** 2
if mode == "fail":
    print("loss=0.5")
    print("something went wrong", file=sys.stderr)
    sys.exit(3)
if mode == "curve":
    lockstep = args.pop("lockstep", "")
    for step in range(10):
        print(f"step={step} loss={loss + 1.0 / (step + 1):.6f}", flush=True)
        if not lockstep:
            time.sleep(0.15)
            continue
        # Wait until the file says the launcher's rule has read this report (a count of reports
        # seen), so that the rule judges every report however slow the machine (a minute at most).
        give_up = time.monotonic() + 60
        while step < 9 and time.monotonic() < give_up:
            try:
                with open(lockstep) as seen:
                    if int(seen.read() or "0") > step:
                        break
            except (FileNotFoundError, ValueError):
                pass
            time.sleep(0.005)
    sys.exit(0)
if mode in ("text", "json", "tfevent"):
    path = args["log_path"]
    values = [(step, loss + 0.1 * (2 - step), 1 - loss) for step in range(3)]
    if mode == "tfevent":
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        writer = EventFileWriter(path)
        for step, step_loss, accuracy in values:
            summary = summary_pb2.Summary(value=[
                summary_pb2.Summary.Value(tag="train/loss", simple_value=step_loss),
                summary_pb2.Summary.Value(tag="accuracy", simple_value=accuracy),
                summary_pb2.Summary.Value(tag="unrelated", simple_value=99.0),
            ])
            writer.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))
        writer.close()
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as out:
            for step, step_loss, accuracy in values:
                if mode == "json":
                    out.write(f'{{"step": {step}, "loss": "{step_loss:.6f}", "accuracy": {accuracy:.6f}}}\n')
                else:
                    out.write(f"loss={step_loss:.6f} accuracy={accuracy:.6f}\n")
    print("metrics written to " + path)
    sys.exit(0)
if mode == "push":
    from kfp_tune import report_metrics

    for step in range(3):
        report_metrics({"loss": loss + 0.1 * (2 - step), "accuracy": 1 - loss}, step=step)
    print("reported through report_metrics")
    sys.exit(0)
if mode == "silent":
    print("nothing to report")
    sys.exit(0)
for step in range(3):
    print(f"step={step} loss={loss + 0.1 * (2 - step):.6f} accuracy={1 - loss:.6f}")
