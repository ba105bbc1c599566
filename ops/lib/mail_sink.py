#!/usr/bin/env python3
"""A local SMTP server that keeps every message it receives as a file.

The mail sink of ops/run and of the end-to-end checks: Kreiswerk hands its mail to a real
sendmail-compatible MTA client (msmtp, from Debian), which delivers it over SMTP to this
server, so the whole path a production MTA takes is exercised, and nothing leaves the machine.
Usage: mail_sink.py PORT FOLDER (runs until it is stopped).
"""
import pathlib
import sys
import threading
import time

from aiosmtpd.controller import Controller


class Keep:
    """Writes each message to FOLDER/<time>-<n>.eml, its envelope recipients in a first header."""

    def __init__(self, folder: pathlib.Path):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = self.folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{self.count:05d}.eml"
        head = ("X-Envelope-To: " + ", ".join(envelope.rcpt_tos) + "\r\n").encode()
        name.write_bytes(head + envelope.original_content)
        return "250 kept"


def main() -> None:
    port, folder = int(sys.argv[1]), pathlib.Path(sys.argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(Keep(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"mail sink on 127.0.0.1:{port}, keeping messages in {folder}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
