"""The line protocol of the peer SP scripts (see peers_test.go): one JSON
command per line on stdin, one JSON answer per line on stdout. The first
command is {"op": "init", ...} and makes the SP; every other names a method
of it. An exception becomes {"error": ..., "trace": ...}, because the test
asserts on what the SP refused."""
import json
import sys
import traceback


def serve(make_sp):
    sp = None
    for line in sys.stdin:
        c = json.loads(line)
        try:
            if c["op"] == "init":
                sp = make_sp(c)
                out = sp.init_answer()
            else:
                out = getattr(sp, c["op"])(c)
        except Exception as e:
            out = {"error": "%s: %s" % (type(e).__name__, e), "trace": traceback.format_exc(limit=3)}
        sys.stdout.write(json.dumps(out, default=str) + "\n")
        sys.stdout.flush()
