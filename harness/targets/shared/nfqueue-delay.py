#!/usr/bin/env python3
"""Delays packets that iptables sends to an NFQUEUE, for kernels without the netem qdisc.

pgdrill's shaping fallback (shaping.ts) hooks `-j NFQUEUE --queue-num N --queue-bypass` into the
node's OUTPUT path and runs this inside the node's network namespace. It speaks nfnetlink_queue
over a raw netlink socket (stdlib only: it must run under Debian's python3-minimal): bind the
queue, ask for metadata only (never the payload), and accept each packet once its delay is over.

Usage: nfqueue-delay.py --queue N --delay-ms D [--jitter-ms J] [--pidfile PATH]
Prints "ready" once the queue is bound; runs until SIGTERM, then accepts what it holds, unbinds
and exits 0.

Exit status matters: in a container whose PID 1 is the postmaster, this process is reparented to
it, and PostgreSQL treats any child that dies by a signal (or exits other than 0 or 1) as a
crashed backend and restarts every session. So every way out here is exit 0 or 1.
"""
import argparse
import collections
import os
import random
import selectors
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12  # not in Python's socket module
SOL_NETLINK = 270
NETLINK_NO_ENOBUFS = 5

NLMSG_ERROR = 2
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4

NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NFQNL_MSG_VERDICT_BATCH = 3

NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQA_CFG_MASK = 4
NFQA_CFG_FLAGS = 5

NFQNL_CFG_CMD_BIND = 1
NFQNL_CFG_CMD_UNBIND = 2
NFQNL_COPY_META = 1
# FAIL_OPEN: a full queue accepts rather than drops (the safe direction, as --queue-bypass is).
# GSO: hand over GSO packets whole instead of segmenting them first; we never read the payload.
NFQA_CFG_F_FAIL_OPEN = 0x1
NFQA_CFG_F_GSO = 0x4
NF_ACCEPT = 1

QUEUE_MAXLEN = 16384
NLMSG_HEADER = struct.Struct("=IHHII")  # len, type, flags, seq, pid
NFGENMSG = struct.Struct("!BBH")  # family, version, queue number (big-endian)
NLATTR = struct.Struct("=HH")  # len, type


def align4(n):
    return (n + 3) & ~3


def attribute(kind, payload):
    body = NLATTR.pack(NLATTR.size + len(payload), kind) + payload
    return body + b"\0" * (align4(len(body)) - len(body))


def queue_message(msg_type, queue, attributes, flags=NLM_F_REQUEST, seq=0):
    payload = NFGENMSG.pack(socket.AF_UNSPEC, 0, queue) + b"".join(attributes)
    header = NLMSG_HEADER.pack(NLMSG_HEADER.size + len(payload), (NFNL_SUBSYS_QUEUE << 8) | msg_type, flags, seq, 0)
    return header + payload


def messages(data):
    """(type, payload) of each netlink message in one datagram."""
    offset = 0
    while offset + NLMSG_HEADER.size <= len(data):
        length, msg_type, _flags, _seq, _pid = NLMSG_HEADER.unpack_from(data, offset)
        if length < NLMSG_HEADER.size:
            return
        yield msg_type, data[offset + NLMSG_HEADER.size : offset + length]
        offset += align4(length)


def attributes(payload):
    """{type: value} of the attributes after a message's nfgenmsg."""
    found = {}
    offset = NFGENMSG.size
    while offset + NLATTR.size <= len(payload):
        length, kind = NLATTR.unpack_from(payload, offset)
        if length < NLATTR.size:
            break
        # The top bits are NLA_F_NESTED / NLA_F_NET_BYTEORDER, not part of the type.
        found[kind & 0x3FFF] = payload[offset + NLATTR.size : offset + length]
        offset += align4(length)
    return found


class Queue:
    def __init__(self, number):
        self.number = number
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.bind((0, 0))
        # Held packets are counted by the kernel, not here: a big buffer only absorbs bursts.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)
        self.seq = 0

    def configure(self, attrs):
        """Sends one config message and waits for the kernel's answer (raises on an error)."""
        self.seq += 1
        self.sock.send(queue_message(NFQNL_MSG_CONFIG, self.number, attrs, NLM_F_REQUEST | NLM_F_ACK, self.seq))
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            for msg_type, payload in messages(data):
                if msg_type == NLMSG_ERROR:
                    (error,) = struct.unpack_from("=i", payload)
                    if error != 0:
                        raise OSError(-error, "nfnetlink_queue config: " + os.strerror(-error))
                    self.sock.settimeout(None)
                    return
        raise OSError("no answer from nfnetlink_queue to a config message")

    def bind(self):
        self.configure([attribute(NFQA_CFG_CMD, struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0, socket.AF_INET))])
        self.configure([
            attribute(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META)),
            attribute(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", QUEUE_MAXLEN)),
            attribute(NFQA_CFG_FLAGS, struct.pack("!I", NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO)),
            attribute(NFQA_CFG_MASK, struct.pack("!I", NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO)),
        ])
        self.sock.setblocking(False)

    def unbind(self):
        self.sock.setblocking(True)
        self.configure([attribute(NFQA_CFG_CMD, struct.pack("!BBH", NFQNL_CFG_CMD_UNBIND, 0, socket.AF_INET))])

    def packet_ids(self):
        """Ids of the packets queued since the last call (never blocks)."""
        ids = []
        while True:
            try:
                data = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return ids
            for msg_type, payload in messages(data):
                if msg_type == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                    header = attributes(payload).get(NFQA_PACKET_HDR)
                    if header is not None:
                        ids.append(struct.unpack_from("!I", header)[0])

    def accept_up_to(self, packet_id):
        """Accepts every queued packet whose id is <= packet_id, in one message."""
        verdict = attribute(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, packet_id))
        self.sock.setblocking(True)
        self.sock.send(queue_message(NFQNL_MSG_VERDICT_BATCH, self.number, [verdict]))
        self.sock.setblocking(False)


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Delay NFQUEUE'd packets (pgdrill's netem fallback).")
    parser.add_argument("--queue", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, required=True)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--pidfile")
    try:
        return parser.parse_args(argv)
    except SystemExit as stop:  # argparse exits 2 on bad arguments; 1 is the only failure we use
        sys.exit(0 if stop.code in (0, None) else 1)


def run(args):
    # A signal only sets a flag, and wakes the select() through this pipe: Python would otherwise
    # resume an endless select() after the handler ran.
    stopping = []
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stopping.append(True))

    queue = Queue(args.queue)
    queue.bind()
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    print("ready", flush=True)

    delay = args.delay_ms / 1000.0
    jitter = args.jitter_ms / 1000.0
    # (release time, packet id), oldest first. A release time is never earlier than the one before
    # it, so packets leave in the order they came: TCP sees delay and jitter but no reordering,
    # which it would take for loss and answer with retransmissions. It also makes "accept every
    # id up to this one" (one batch verdict) exactly the packets that are due.
    held = collections.deque()
    last_release = 0.0
    selector = selectors.DefaultSelector()
    selector.register(queue.sock, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    while not stopping:
        timeout = None if not held else max(0.0, held[0][0] - time.monotonic())
        selector.select(timeout)
        now = time.monotonic()
        for packet_id in queue.packet_ids():
            last_release = max(now + max(0.0, delay + random.uniform(-jitter, jitter)), last_release)
            held.append((last_release, packet_id))
        due = None
        while held and held[0][0] <= now:
            due = held.popleft()[1]
        if due is not None:
            queue.accept_up_to(due)

    # Unbinding drops what the queue still holds, so let all of it go first.
    for packet_id in queue.packet_ids():
        held.append((0.0, packet_id))
    if held:
        queue.accept_up_to(held[-1][1])
    queue.unbind()


def main():
    args = parse_args(sys.argv[1:])
    try:
        run(args)
    except Exception as error:  # exit 1, never a death by signal (see the docstring)
        print("nfqueue-delay: %s" % error, file=sys.stderr, flush=True)
        sys.exit(1)
    finally:
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except OSError:
                pass


if __name__ == "__main__":
    main()
