#!/usr/bin/env python3
# The canonical record encoding, written again from its description in
# audit/encode.c with nothing but the standard library: a second, independent
# implementation. Given the heads that test_store.c's
# the_canonical_encoding_does_not_drift and
# the_forensics_encoding_does_not_drift expect, it recomputes those stores'
# chains and fails if they disagree.
import hashlib
import struct
import sys


def enc(v):
    """msgpack, shortest form for every integer, str for strings, nil for absent."""
    if v is None:
        return b'\xc0'
    if v is True:
        return b'\xc3'
    if v is False:
        return b'\xc2'
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack('b', v)
        if v >= 0:
            for code, fmt, lim in ((0xcc, '>B', 1 << 8), (0xcd, '>H', 1 << 16),
                                   (0xce, '>I', 1 << 32), (0xcf, '>Q', 1 << 64)):
                if v < lim:
                    return bytes([code]) + struct.pack(fmt, v)
        for code, fmt, lim in ((0xd0, '>b', 1 << 7), (0xd1, '>h', 1 << 15),
                               (0xd2, '>i', 1 << 31), (0xd3, '>q', 1 << 63)):
            if -lim <= v:
                return bytes([code]) + struct.pack(fmt, v)
    if isinstance(v, str):
        b = v.encode()
        n = len(b)
        if n < 32:
            return bytes([0xa0 | n]) + b
        if n < 256:
            return b'\xd9' + bytes([n]) + b
        return b'\xda' + struct.pack('>H', n) + b
    if isinstance(v, list):
        n = len(v)
        head = bytes([0x90 | n]) if n < 16 else b'\xdc' + struct.pack('>H', n)
        return head + b''.join(enc(x) for x in v)
    raise TypeError(v)


def sha(s):
    return hashlib.sha256(s.encode()).hexdigest()


def chain(records):
    head = bytes(32)
    for record in records:
        head = hashlib.sha256(head + enc(record)).digest()
    return head.hex()


# [version, kind, seq, run, ...]: kind 1 run-start, 2 event, 3 run-end.
START = [1, 1, 1, 1, "golden", "u", "h", 7, ["sh", "-c", "echo hi"], "/bin/sh", "00", "/", "11",
         "full", "say hi", sha("say hi"), "p", sha("p"), "unotify", "seccomp", "w",
         1700000000000000000, 5000]
EVENT = [1, 2, 2, 1, 0, 6000, 9, "file", "openat", 'AT_FDCWD, "/x", O_RDONLY', "denied", -1, 2,
         "rule 3"]
END = [1, 3, 3, 1, "complete", 0, 0, False, False, None, 1700000001000000000, 1000000000, 1, 0,
       [["file", 0, 1]], []]

# An event with forensics (its stack or its disassembly present) is version 2
# and carries both, nil for an absent one; an event without stays version 1.
STACK = "#0  0x0000000000401136 try_mount+0x16 (prog)\n#1  0x0000000000401180 main+0x20 (prog)"
CODE = ("site 0x401134: /bin/prog+0x1134 (r-xp)\n   0x40112f: mov eax, 0xa5\n"
        "=> 0x401134: syscall \n   0x401136: ret ")
F_START = START[:]
F_EVENTS = [
    [1, 2, 2, 1, 0, 6000, 9, "file", "openat", 'AT_FDCWD, "/x", O_RDONLY', "denied", -1, 2,
     "rule 3"],
    [2, 2, 3, 1, 1, 7000, 9, "system", "mount", '"none", "/mnt", "tmpfs", 0, NULL', "denied", -1,
     1, "refused by policy", STACK, CODE],
    [2, 2, 4, 1, 2, 8000, 9, "system", "(filtered)", "nr 20, 0x0, 0x0, 0x0", "killed", 0, 0,
     None, None, "site 0x7f0000001000: [anonymous rwx] (not file-backed code)"],
]
F_END = [1, 3, 5, 1, "complete", 0, 0, False, False, None, 1700000001000000000, 1000000000, 3, 0,
         [["file", 0, 1], ["system", 0, 2]], []]

heads = [chain([START, EVENT, END]), chain([F_START] + F_EVENTS + [F_END])]
print(" ".join(heads))
for want, got in zip(sys.argv[1:], heads):
    if want != got:
        print("expected " + want + ", computed " + got, file=sys.stderr)
        sys.exit(1)
