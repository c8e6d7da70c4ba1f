#!/usr/bin/env python3
"""ladder.py - draws the packets of a capture as a ladder diagram.

    ladder.py [--host NAME=ADDR,ADDR]... [--text FILE] [--svg FILE]
              [--title TEXT] CAPTURE.pcap

Reads a capture written by `tcpdump -w` (classic pcap, Ethernet) and draws
one column per endpoint (host:port) and one arrow per TCP segment or UDP
datagram, in the order they were seen: TCP flags (SYN, SYN-ACK, ACK, PSH,
FIN, RST), sequence and acknowledgement numbers relative to each side's
first sequence number, payload length, and "retransmission" when a
segment carries bytes its sender had already sent. An ICMP "unreachable"
answer is drawn too. The text goes to stdout (or --text FILE), the SVG to
--svg FILE. Standard library only.
"""

import argparse
import ipaddress
import struct
import sys
from xml.sax.saxutils import escape

# TCP flag bits, and the order in which a label names them.
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
LINK_ETHERNET, LINK_SLL = 1, 113
ETH_IPV4, ETH_IPV6 = 0x0800, 0x86DD
PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ICMPV6 = 1, 6, 17, 58
MIN_COLUMN = 20  # narrowest column of the text ladder
SVG_COLUMN, SVG_ROW, SVG_LEFT, SVG_TOP = 300, 30, 90, 70


class Packet:
    """One TCP segment, UDP datagram or ICMP error, as the ladder needs it."""

    def __init__(self, time, proto, src, sport, dst, dport):
        self.time, self.proto = time, proto
        self.src, self.sport, self.dst, self.dport = src, sport, dst, dport
        self.flags = self.seq = self.ack = 0
        self.length = 0
        self.note = ""


def read_pcap(path):
    """Yields (time, link type, frame bytes) for each record of a pcap file."""
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = head[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            endian = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            endian = ">"
        else:
            raise ValueError(f"{path}: not a pcap file (tcpdump -w writes one)")
        nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        link = struct.unpack(endian + "I", head[20:24])[0] & 0xFFFF
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, frac, incl, _ = struct.unpack(endian + "IIII", rec)
            data = f.read(incl)
            if len(data) < incl:
                return  # the capture was cut in the middle of a record
            yield sec + frac / (1e9 if nano else 1e6), link, data


def network_layer(link, frame):
    """Returns (ethertype, bytes after the link header), or None."""
    if link == LINK_ETHERNET and len(frame) >= 14:
        kind, off = struct.unpack("!H", frame[12:14])[0], 14
        if kind == 0x8100 and len(frame) >= 18:  # one VLAN tag
            kind, off = struct.unpack("!H", frame[16:18])[0], 18
        return kind, frame[off:]
    if link == LINK_SLL and len(frame) >= 16:
        return struct.unpack("!H", frame[14:16])[0], frame[16:]
    return None


def parse(time, link, frame):
    """Returns a Packet for a TCP, UDP or ICMP-unreachable frame, else None."""
    layer = network_layer(link, frame)
    if layer is None:
        return None
    kind, ip = layer
    if kind == ETH_IPV4 and len(ip) >= 20:
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        proto, src, dst = ip[9], ipaddress.ip_address(ip[12:16]), ipaddress.ip_address(ip[16:20])
        payload, size = ip[ihl:], total - ihl
    elif kind == ETH_IPV6 and len(ip) >= 40:
        proto = ip[6]
        src, dst = ipaddress.ip_address(ip[8:24]), ipaddress.ip_address(ip[24:40])
        payload, size = ip[40:], struct.unpack("!H", ip[4:6])[0]
    else:
        return None
    if proto == PROTO_TCP and len(payload) >= 20:
        sport, dport, seq, ack = struct.unpack("!HHII", payload[:12])
        p = Packet(time, "tcp", src, sport, dst, dport)
        p.seq, p.ack, p.flags = seq, ack, payload[13]
        p.length = size - (payload[12] >> 4) * 4
        return p
    if proto == PROTO_UDP and len(payload) >= 8:
        sport, dport, length = struct.unpack("!HHH", payload[:6])
        p = Packet(time, "udp", src, sport, dst, dport)
        p.length = length - 8
        return p
    unreachable = (proto == PROTO_ICMP and payload[:1] == b"\x03") or (
        proto == PROTO_ICMPV6 and payload[:1] == b"\x01")
    if unreachable:
        # The ports are those of the datagram it answers, quoted inside.
        inner = payload[8:]
        inner = inner[(inner[0] & 0x0F) * 4:] if proto == PROTO_ICMP else inner[40:]
        if len(inner) >= 4:
            dport, sport = struct.unpack("!HH", inner[:4])
            p = Packet(time, "icmp", src, sport, dst, dport)
            p.note = "ICMP port unreachable" if payload[1] in (3, 4) else "ICMP unreachable"
            return p
    return None


def flag_names(flags):
    """Names TCP FLAGS the way the ladder shows them: SYN, SYN-ACK, PSH-ACK..."""
    names = [n for bit, n in ((SYN, "SYN"), (FIN, "FIN"), (RST, "RST"), (PSH, "PSH"),
                              (ACK, "ACK")) if flags & bit]
    return "-".join(names) if names else "(no flag)"


def label(p, base):
    """The text written on P's arrow; BASE maps a direction to its first seq."""
    if p.proto == "udp":
        return f"UDP {p.length} bytes"
    if p.proto == "icmp":
        return p.note
    out = flag_names(p.flags)
    fwd, rev = (p.src, p.sport, p.dst, p.dport), (p.dst, p.dport, p.src, p.sport)
    out += f" seq={(p.seq - base[fwd]) % 2**32}"
    if p.flags & ACK:
        ack = (p.ack - base[rev]) % 2**32 if rev in base else p.ack
        out += f" ack={ack}"
    if p.length:
        out += f" len={p.length}"
    if p.note:
        out += f" ({p.note})"
    return out


def mark_tcp(packets):
    """Finds each TCP direction's first seq, and marks retransmissions."""
    base, sent = {}, {}
    for p in packets:
        if p.proto != "tcp":
            continue
        key = (p.src, p.sport, p.dst, p.dport)
        base.setdefault(key, p.seq)
        span = p.length + (1 if p.flags & (SYN | FIN) else 0)
        end = (p.seq - base[key]) % 2**32 + span
        if span and end <= sent.get(key, 0):
            p.note = "retransmission"
        sent[key] = max(sent.get(key, 0), end)
    return base


class Names:
    """Turns an address into the lab's host name, when it has one."""

    def __init__(self, specs):
        self.names = {}
        for spec in specs:
            name, _, addrs = spec.partition("=")
            for a in addrs.split(","):
                if a:
                    self.names[ipaddress.ip_address(a)] = name

    def endpoint(self, addr, port):
        host = self.names.get(addr, str(addr))
        # IPv6 the way the kit writes it: [ADDRESS]:PORT
        return f"[{host}]:{port}" if addr.version == 6 else f"{host}:{port}"


def columns_of(packets, names):
    """The endpoints, in the order they first appear (the opener on the left)."""
    cols = []
    for p in packets:
        for ep in (names.endpoint(p.src, p.sport), names.endpoint(p.dst, p.dport)):
            if ep not in cols:
                cols.append(ep)
    return cols


def text_ladder(rows, cols, title):
    """Draws the ladder as lines of text; ROWS are (ms, from, to, label)."""
    width = max([MIN_COLUMN] + [len(r[3]) + 6 for r in rows] + [len(c) + 2 for c in cols])
    out = [title] if title else []
    head = " " * 9
    for c in cols:
        head += c.center(width)[: width]
    out.append(head.rstrip())
    for ms, a, b, text in rows:
        line = [" "] * (width * len(cols))
        for i in range(len(cols)):
            line[i * width + width // 2] = "|"
        lo, hi = sorted((a, b))
        x0, x1 = lo * width + width // 2, hi * width + width // 2
        for x in range(x0 + 1, x1):
            line[x] = "-"
        if a < b:
            line[x1 - 1] = ">"
        else:
            line[x0 + 1] = "<"
        text = f" {text} "
        room = x1 - x0 - 3
        if len(text) > room:
            text = text[: room]
        start = x0 + 2 + (room - len(text)) // 2
        line[start:start + len(text)] = list(text)
        out.append(f"{ms:8.1f} " + "".join(line).rstrip())
    out.append(f"{'(ms)':>8}")
    return "\n".join(out) + "\n"


def colour(text):
    """The colour of an arrow: opening, closing, refusing, data, the rest."""
    if text.startswith("SYN"):
        return "#1f6feb"
    if "RST" in text or "unreachable" in text:
        return "#cf222e"
    if "FIN" in text:
        return "#8250df"
    if "retransmission" in text:
        return "#bc4c00"
    if "len=" in text or text.startswith("UDP"):
        return "#1a7f37"
    return "#57606a"


def svg_ladder(rows, cols, title):
    """Draws the ladder as an SVG picture (one row per packet)."""
    width = SVG_LEFT + SVG_COLUMN * len(cols) + 20
    height = SVG_TOP + SVG_ROW * (len(rows) + 1)
    x = [SVG_LEFT + SVG_COLUMN * i + SVG_COLUMN // 2 for i in range(len(cols))]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, monospace" '
           f'font-size="14">',
           '<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" '
           'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
           '<path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    if title:
        out.append(f'<text x="10" y="20" font-weight="bold">{escape(title)}</text>')
    for i, c in enumerate(cols):
        out.append(f'<text x="{x[i]}" y="{SVG_TOP - 18}" text-anchor="middle" '
                   f'font-weight="bold">{escape(c)}</text>')
        out.append(f'<line x1="{x[i]}" y1="{SVG_TOP - 10}" x2="{x[i]}" y2="{height - 10}" '
                   'stroke="#8c959f" stroke-width="2"/>')
    out.append(f'<text x="10" y="{SVG_TOP - 18}" fill="#57606a">ms</text>')
    for n, (ms, a, b, text) in enumerate(rows):
        y = SVG_TOP + SVG_ROW * (n + 1)
        c = colour(text)
        out.append(f'<text x="10" y="{y}" fill="#57606a">{ms:.1f}</text>')
        out.append(f'<line x1="{x[a]}" y1="{y - 6}" x2="{x[b]}" y2="{y}" stroke="{c}" '
                   'stroke-width="2" marker-end="url(#head)"/>')
        out.append(f'<text x="{(x[a] + x[b]) // 2}" y="{y - 10}" text-anchor="middle" '
                   f'fill="{c}">{escape(text)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description="Draws a pcap capture as a ladder diagram.")
    ap.add_argument("--host", action="append", default=[], metavar="NAME=ADDR,ADDR",
                    help="name the endpoints of these addresses NAME")
    ap.add_argument("--text", metavar="FILE", help="write the text ladder here, not stdout")
    ap.add_argument("--svg", metavar="FILE", help="write an SVG ladder here too")
    ap.add_argument("--title", default="", help="a line above the ladder")
    ap.add_argument("--skip-to", metavar="ADDR", action="append", default=[],
                    help="leave out packets sent to ADDR (the capture's end marker)")
    ap.add_argument("capture")
    args = ap.parse_args()
    names = Names(args.host)
    skip = {ipaddress.ip_address(a) for a in args.skip_to}
    try:
        packets = [p for p in (parse(*r) for r in read_pcap(args.capture))
                   if p is not None and p.dst not in skip]
    except (OSError, ValueError) as e:
        print(f"ladder: {e}", file=sys.stderr)
        return 1
    base = mark_tcp(packets)
    cols = columns_of(packets, names)
    start = packets[0].time if packets else 0
    rows = [((p.time - start) * 1000, cols.index(names.endpoint(p.src, p.sport)),
             cols.index(names.endpoint(p.dst, p.dport)), label(p, base)) for p in packets]
    text = text_ladder(rows, cols, args.title) if rows else "(no TCP or UDP packet)\n"
    if args.text:
        with open(args.text, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    if args.svg:
        with open(args.svg, "w") as f:
            f.write(svg_ladder(rows, cols, args.title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
