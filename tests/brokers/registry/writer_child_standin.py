"""A stand-in for ``python -m brokers.client.writer_child`` that misbehaves on purpose (tests only).

``python writer_child_standin.py MODE --registry ... --parent-pid ...`` says ``ready``, then answers
every batch according to MODE:

``garbage``       bytes that are not a pickle
``huge``          a frame header announcing more than ``MAX_FRAME`` bytes
``wrong-number``  a well-formed reply to another batch
``failed``        ``("failed", number, ValueError("the disk is on fire"))``: the batch failed as a whole
``unexpected``    an unsolicited ``done`` right after ``ready``, before any batch

and waits for EOF on stdin.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from brokers.client.writer_child import HEADER, MAX_FRAME, encode_error, frame, read_frame  # noqa: E402


def main() -> int:
    mode = sys.argv[1]
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    stdin = os.fdopen(os.dup(0), "rb")
    out.write(frame(("ready", os.getpid())))
    if mode == "unexpected":
        out.write(frame(("done", 1, [], {})))
    while True:
        message = read_frame(stdin)
        if message is None:
            return 0
        number = message[1]
        if mode == "garbage":
            out.write(HEADER.pack(5) + b"hello")
        elif mode == "huge":
            out.write(HEADER.pack(MAX_FRAME + 1))
        elif mode == "wrong-number":
            out.write(frame(("done", number + 1, [None] * len(message[4]), {})))
        elif mode == "failed":
            out.write(frame(("failed", number, encode_error(ValueError("the disk is on fire")))))


if __name__ == "__main__":
    sys.exit(main())
