"""A real SMTP server for the tests (aiosmtpd): STARTTLS required, AUTH required over TLS.

Usage: smtp_server.py <port> <outdir> <cert.pem> <key.pem> <user> <password> [refuse-login]

Each message it receives is written to <outdir>/<n>.eml, its envelope's recipients to
<outdir>/<n>.rcpt (one per line). It prints READY once it listens, and stops on stdin's end.
"""

import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Store:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.outdir, str(self.count))
        with open(base + ".rcpt.tmp", "w") as f:
            f.write("\n".join(envelope.rcpt_tos) + "\n")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".rcpt.tmp", base + ".rcpt")
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 Message accepted for delivery"


def main():
    port, outdir, cert, key, user, password = sys.argv[1:7]
    refuse = len(sys.argv) > 7 and sys.argv[7] == "refuse-login"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            not refuse
            and isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        return AuthResult(success=ok)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller = Controller(
        Store(outdir),
        hostname="127.0.0.1",
        port=int(port),
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    print("READY", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
