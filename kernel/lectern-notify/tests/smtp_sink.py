"""A real SMTP server for lectern-notify's tests, built on aiosmtpd.

Usage: python3 smtp_sink.py OUT_DIR

Listens on 127.0.0.1 on a port the system picks, prints that port on one line
once it accepts connections, and stores each message it accepts as
OUT_DIR/<n>.eml (the bytes received) next to OUT_DIR/<n>.json (the envelope).
Recipients whose local part starts with "reject" get a permanent 550 reply,
"defer" a transient 451 one. Runs until killed.
"""

import asyncio
import json
import pathlib
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out):
        self.out = out
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local.startswith("reject"):
            return "550 5.1.1 No such mailbox here"
        if local.startswith("defer"):
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        stem = self.out / str(self.count)
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "ehlo": session.host_name}
        stem.with_suffix(".json").write_text(json.dumps(meta))
        # The .eml appears last, whole: a reader that sees it sees both files complete.
        tmp = stem.with_suffix(".tmp")
        tmp.write_bytes(envelope.original_content)
        tmp.rename(stem.with_suffix(".eml"))
        return "250 Message accepted"


async def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    handler = Sink(out)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main())
