#!/usr/bin/env python3
"""A stand-in for corral-vmm in the network tests: the "guest" is a network
namespace, named on the command line as netns=NAME (the domain file's
extra=). corrald starts this with its taps as --net fd=N,mac=M; for each,
it makes a tap eth<i> with that MAC in the namespace and copies frames
between the two taps, virtio-net headers and all, until SIGTERM (the power
button), when it exits 0 as a guest that powers off."""
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x1000, 0x4000


def option_values(name):
    return [sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1]) if a == name]


def inner_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
    return fd


def pump(pairs):
    peer = {}
    for outer, inner in pairs:
        peer[outer], peer[inner] = inner, outer
    while True:
        ready, _, _ = select.select(list(peer), [], [])
        for fd in ready:
            try:
                os.write(peer[fd], os.read(fd, 65536))
            except OSError:
                pass  # a frame the other side refused: a lossy wire


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    cmdline = " ".join(option_values("--cmdline"))
    netns = [w.split("=", 1)[1] for w in cmdline.split() if w.startswith("netns=")]
    if not netns:
        sys.exit("net_standin_vmm: no netns= in --cmdline")
    if os.environ.get("STANDIN_IN_NETNS") != netns[0]:
        os.environ["STANDIN_IN_NETNS"] = netns[0]
        os.execvp("ip", ["ip", "netns", "exec", netns[0], sys.executable] + sys.argv)
    pairs = []
    for i, spec in enumerate(option_values("--net")):
        opts = dict(kv.split("=", 1) for kv in spec.split(","))
        name = "eth%d" % i
        pairs.append((int(opts["fd"]), inner_tap(name)))
        subprocess.run(["ip", "link", "set", name, "address", opts["mac"], "up"], check=True)
    pump(pairs)


main()
