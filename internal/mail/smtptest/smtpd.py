"""A real SMTP server for Gatehouse's tests, on aiosmtpd (Debian's
python3-aiosmtpd): it listens on 127.0.0.1:PORT, optionally offers
STARTTLS or speaks TLS from the first byte, optionally requires AUTH
PLAIN/LOGIN with one username and password, and saves every accepted
message as NNNN.eml (the bytes received) with NNNN.json (envelope, TLS and
AUTH facts) in a directory. It prints READY when it accepts connections.
"""
import argparse
import asyncio
import itertools
import json
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Save:
    def __init__(self, directory, implicit_tls):
        self.directory = directory
        self.implicit_tls = implicit_tls
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = next(self.counter)
        base = os.path.join(self.directory, "%04d" % n)
        facts = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            # In implicit-TLS mode the listener speaks only TLS.
            "tls": session.ssl is not None or self.implicit_tls,
            "authenticated": bool(session.authenticated),
            "login": session.login_data.decode() if isinstance(session.login_data, bytes) else None,
            "helo": session.host_name,
        }
        with open(base + ".json", "w") as f:
            json.dump(facts, f)
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".tmp", base + ".eml")
        return "250 2.0.0 Message accepted for delivery"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--mode", choices=["none", "starttls", "tls"], default="none")
    ap.add_argument("--user")
    ap.add_argument("--password")
    a = ap.parse_args()

    kwargs = {}
    ssl_context = None
    if a.mode != "none":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
        if a.mode == "starttls":
            kwargs["tls_context"] = ctx
            kwargs["require_starttls"] = True
        else:
            ssl_context = ctx
    if a.user:
        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == a.user.encode() and auth_data.password == a.password.encode()
            return AuthResult(success=ok, handled=False)
        kwargs["authenticator"] = authenticate
        kwargs["auth_required"] = True
        # STARTTLS mode: no AUTH before the upgrade. Implicit TLS: the
        # whole connection is TLS already (aiosmtpd cannot tell).
        kwargs["auth_require_tls"] = a.mode == "starttls"

    controller = Controller(Save(a.dir, a.mode == "tls"), hostname="127.0.0.1", port=a.port,
                            ssl_context=ssl_context, server_hostname="localhost", **kwargs)
    controller.start()
    print("READY", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    # Stop when the test goes away (its pipe to our stdin closes).
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
