#!/usr/bin/env python3
"""sniff.py - records the frames of one interface into a pcap file.

    sniff.py IFACE FILE

What tcpdump -U -w FILE does, for the one place tcpdump cannot run: a lab
inside an unprivileged user namespace, where tcpdump fails to switch user.
Writes each frame (its first 256 bytes) as it comes, says "listening on
IFACE" on stderr once it listens, and stops on SIGTERM or SIGINT.
Standard library only; Linux only (AF_PACKET).
"""

import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SNAPLEN = 256
LINKTYPE_ETHERNET = 1


def stop(_signum, _frame):
    sys.exit(0)


def main():
    if len(sys.argv) != 3:
        print("usage: sniff.py IFACE FILE", file=sys.stderr)
        return 2
    iface, path = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN,
                              LINKTYPE_ETHERNET))
        out.flush()
        print(f"sniff: listening on {iface}", file=sys.stderr, flush=True)
        while True:
            frame = s.recv(65535)
            now = time.time()
            data = frame[:SNAPLEN]
            out.write(struct.pack("<IIII", int(now), int(now % 1 * 1e6), len(data),
                                  len(frame)) + data)
            out.flush()


if __name__ == "__main__":
    sys.exit(main())
