#!/usr/bin/env python3
"""Independent reference client for Hypha's native ingest protocol, versions 1 and 2.

The protocol is specified in docs/protocol.md; this module is written from that document
alone (Python 3.11, standard library only) and is both an importable module and a CLI.

Module use::

    from native_client import Client
    with Client().connect("127.0.0.1", 7400) as c:
        c.hello("daemon-1")
        c.send_batch(1, 1, [{"kind": "log", "timestamp": 1, "severity": 6, "facility": 1,
                             "host": "h", "app": "a", "message": "m", "fields": []}])
        print(c.read_response())

CLI use (one JSON object per line on stdout; `python3 native_client.py --help`)::

    send        pipelined batches of logs (or --metrics), prints one ACK/NACK per batch;
                with --compression lz4 they travel as BATCH_COMPRESSED (protocol version 2)
    hello-only  prints HELLO_OK or ERROR
    raw         sends arbitrary bytes (optionally after a valid HELLO) and prints what comes back
    heartbeat   HELLO + one HEARTBEAT, prints the HEARTBEAT_ACK
    examples    prints the annotated hex examples used in docs/protocol.md
    selftest    offline round trips of every encoder/decoder and of the Client (exit 0 = pass)

Exit codes: 0 success, 1 selftest failure, 2 usage error, 3 the server sent ERROR,
4 client-side failure (connect refused, timeout, connection closed early, undecodable frame).
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import selectors
import socket
import struct
import sys
import textwrap
import threading
import time
from typing import Any, Iterable, Sequence

# ----------------------------------------------------------------------------------------
# Constants (docs/protocol.md, "Limits")
# ----------------------------------------------------------------------------------------

PROTOCOL_VERSION = 1  # what HELLO says unless version 2 features are asked for
SUPPORTED_VERSIONS = (1, 2)
DEFAULT_PORT = 7400
DEFAULT_MAX_FRAME_SIZE = 8 * 1024 * 1024  # 8388608, announced in HELLO_OK
MIN_MAX_FRAME_SIZE = 65536  # a server never announces less
MAX_SERVER_FRAME_SIZE = 16 * 1024 * 1024  # largest frame a client must accept from a server
DEFAULT_HEARTBEAT_INTERVAL_MS = 5000
DEFAULT_IDLE_TIMEOUT_S = 300
MAX_RECORD_SIZE = 1024 * 1024  # default maximum record body (reason 4 above it)
MAX_RECORDS_PER_BATCH = 65535
MAX_DAEMON_ID_BYTES = 128
MAX_REGION_BYTES = 64
MAX_REASON_BYTES = 200
DUPLICATE_FIRST_SEQUENCE = 0xFFFFFFFFFFFFFFFF
BATCH_HEADER_SIZE = 20  # producer_id + producer_sequence + record_count
COMPRESSED_HEADER_SIZE = 25  # BATCH_HEADER_SIZE + codec + uncompressed_length
MODEL_MAX_BATCH_BYTES = 16 * 1024 * 1024  # what the model server announces as max_batch_bytes
DEFAULT_TIMEOUT = 10.0
AGENT_VERSION = "native_client.py/1"

# Frame types
HELLO = 0x01
HELLO_OK = 0x02
BATCH = 0x03
ACK = 0x04
NACK = 0x05
HEARTBEAT = 0x06
HEARTBEAT_ACK = 0x07
BATCH_COMPRESSED = 0x08  # version 2, after HELLO_OK named a codec
ERROR = 0x0F
CONFIG_PUSH = 0x10
TASK_ASSIGN = 0x11
TASK_CONTROL = 0x12
CONFIG_STATUS = 0x20
TASK_STATUS = 0x21

FRAME_NAMES = {
    HELLO: "HELLO", HELLO_OK: "HELLO_OK", BATCH: "BATCH", ACK: "ACK", NACK: "NACK",
    HEARTBEAT: "HEARTBEAT", HEARTBEAT_ACK: "HEARTBEAT_ACK", BATCH_COMPRESSED: "BATCH_COMPRESSED", ERROR: "ERROR",
    CONFIG_PUSH: "CONFIG_PUSH", TASK_ASSIGN: "TASK_ASSIGN", TASK_CONTROL: "TASK_CONTROL",
    CONFIG_STATUS: "CONFIG_STATUS", TASK_STATUS: "TASK_STATUS",
}
FRAME_TYPES = {v: k for k, v in FRAME_NAMES.items()}
RESERVED_SERVER_TO_DAEMON = frozenset({CONFIG_PUSH, TASK_ASSIGN, TASK_CONTROL})
RESERVED_DAEMON_TO_SERVER = frozenset({CONFIG_STATUS, TASK_STATUS})
CLIENT_TO_SERVER = frozenset({HELLO, BATCH, BATCH_COMPRESSED, HEARTBEAT, ERROR}) | RESERVED_DAEMON_TO_SERVER
SERVER_TO_CLIENT = frozenset({HELLO_OK, ACK, NACK, HEARTBEAT_ACK, ERROR}) | RESERVED_SERVER_TO_DAEMON

# ERROR codes
ERR_UNSUPPORTED_VERSION = 1
ERR_PROTOCOL_VIOLATION = 2
ERR_FRAME_TOO_LARGE = 3
ERR_MALFORMED_FRAME = 4
ERR_UNAUTHORIZED = 5
ERR_SHUTTING_DOWN = 6
ERR_TOO_MANY_CONNECTIONS = 7
ERR_INTERNAL = 8
ERR_IDLE_TIMEOUT = 9
ERROR_NAMES = {
    1: "UNSUPPORTED_VERSION", 2: "PROTOCOL_VIOLATION", 3: "FRAME_TOO_LARGE", 4: "MALFORMED_FRAME",
    5: "UNAUTHORIZED", 6: "SHUTTING_DOWN", 7: "TOO_MANY_CONNECTIONS", 8: "INTERNAL_ERROR",
    9: "IDLE_TIMEOUT",
}

# NACK reason codes
REASON_MALFORMED = 1
REASON_INVALID_UTF8 = 2
REASON_UNKNOWN_KIND = 3
REASON_TOO_LARGE = 4
REASON_FENCED = 5  # task data without the current lease (docs/protocol.md 5.9.6)
REASON_NAMES = {1: "MALFORMED_RECORD", 2: "INVALID_UTF8", 3: "UNKNOWN_RECORD_KIND", 4: "RECORD_TOO_LARGE", 5: "FENCED"}

# ACK status
STATUS_WRITTEN = 0
STATUS_DUPLICATE = 1

# Version 2: HELLO / HELLO_OK extension keys and BATCH_COMPRESSED codecs (sections 5.1, 5.2, 5.10)
EXT_COMPRESSION = "compression"
EXT_INCARNATION = "incarnation"
EXT_MAX_BATCH_BYTES = "max_batch_bytes"
CODEC_LZ4 = 1
CODEC_ZSTD = 2
CODEC_IDS = {"lz4": CODEC_LZ4, "zstd": CODEC_ZSTD}
CODEC_NAMES = {v: k for k, v in CODEC_IDS.items()}
CLIENT_CODECS = ("lz4",)  # what this client can compress and decompress (no zstd in the stdlib)

# Record kinds (WAL record body, docs/wal-format.md section 8)
KIND_LOG = 1
KIND_METRIC = 2
UNKNOWN_LEVEL = 255


# ----------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------

class ProtocolError(Exception):
    """An ERROR frame from the server (remote=True) or a violation detected locally.

    `code` uses the ERROR code table of docs/protocol.md in both cases.
    """

    def __init__(self, code: int, message: str, remote: bool = False):
        super().__init__(f"{ERROR_NAMES.get(code, 'UNKNOWN')}({code}): {message}")
        self.code = code
        self.message = message
        self.remote = remote

    def to_dict(self) -> dict:
        return {"type": "ERROR", "code": self.code, "name": ERROR_NAMES.get(self.code, "UNKNOWN"),
                "message": self.message}


class MalformedFrame(ProtocolError):
    """A frame body that does not match its layout (ERROR code 4)."""

    def __init__(self, message: str):
        super().__init__(ERR_MALFORMED_FRAME, message)


class ConnectionClosed(Exception):
    """The peer closed (or reset) the connection before the expected frame arrived."""


class RecordError(Exception):
    """A record body the server would reject; `code` is a NACK reason code."""

    def __init__(self, code: int, reason: str):
        super().__init__(f"{REASON_NAMES.get(code, 'UNKNOWN')}({code}): {reason}")
        self.code = code
        self.reason = reason


# ----------------------------------------------------------------------------------------
# Big-endian framing primitives
# ----------------------------------------------------------------------------------------

def _bytes_of(s: str | bytes | bytearray) -> bytes:
    """UTF-8 of `s`; bytes are taken as they are (lets tests send invalid strings)."""
    if isinstance(s, (bytes, bytearray, memoryview)):
        return bytes(s)
    return s.encode("utf-8")


def enc_u8(v: int) -> bytes:
    return struct.pack(">B", v)


def enc_u16(v: int) -> bytes:
    return struct.pack(">H", v)


def enc_u32(v: int) -> bytes:
    return struct.pack(">I", v)


def enc_u64(v: int) -> bytes:
    return struct.pack(">Q", v)


def enc_str(s: str | bytes) -> bytes:
    """`str`: u16 big-endian byte length, then the UTF-8 bytes (no NUL terminator)."""
    b = _bytes_of(s)
    if len(b) > 0xFFFF:
        raise ValueError(f"str of {len(b)} bytes does not fit a u16 length")
    return enc_u16(len(b)) + b


def enc_pairs_u16(pairs: Iterable[Sequence[str | bytes]]) -> bytes:
    pairs = list(pairs)
    out = bytearray(enc_u16(len(pairs)))
    for k, v in pairs:
        out += enc_str(k) + enc_str(v)
    return bytes(out)


class _Body:
    """Bounds-checked big-endian reader over one frame body."""

    def __init__(self, data: bytes, what: str):
        self.data = bytes(data)
        self.pos = 0
        self.what = what

    def take(self, n: int, field: str) -> bytes:
        if self.pos + n > len(self.data):
            raise MalformedFrame(f"{self.what}: body too short for {field}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def u8(self, field: str) -> int:
        return self.take(1, field)[0]

    def u16(self, field: str) -> int:
        return struct.unpack(">H", self.take(2, field))[0]

    def u32(self, field: str) -> int:
        return struct.unpack(">I", self.take(4, field))[0]

    def u64(self, field: str) -> int:
        return struct.unpack(">Q", self.take(8, field))[0]

    def str(self, field: str) -> str:
        n = self.u16(field + " length")
        raw = self.take(n, field)
        try:
            return raw.decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            raise MalformedFrame(f"{self.what}: {field} is not valid UTF-8") from None

    def pairs(self, field: str) -> list[list[str]]:
        n = self.u16(field + " count")
        return [[self.str(field + " key"), self.str(field + " value")] for _ in range(n)]

    def done(self) -> None:
        if self.pos != len(self.data):
            raise MalformedFrame(f"{self.what}: {len(self.data) - self.pos} bytes after the last field")


# ----------------------------------------------------------------------------------------
# Frames
# ----------------------------------------------------------------------------------------

def encode_frame(frame_type: int, body: bytes = b"") -> bytes:
    """`u32 length` (= 1 + len(body), big-endian), `u8 type`, body."""
    return enc_u32(1 + len(body)) + enc_u8(frame_type) + bytes(body)


def split_frame(buf: bytes | bytearray, max_frame_size: int = MAX_SERVER_FRAME_SIZE):
    """Parses one frame from the start of `buf`.

    Returns (type, body, bytes_consumed), or None when `buf` does not hold a whole frame yet.
    Raises ProtocolError 4 for length 0 and 3 for a length above `max_frame_size`; both are
    detected from the 4 length bytes alone.
    """
    if len(buf) < 4:
        return None
    (length,) = struct.unpack(">I", bytes(buf[:4]))
    if length == 0:
        raise ProtocolError(ERR_MALFORMED_FRAME, "frame length 0")
    if length > max_frame_size:
        raise ProtocolError(ERR_FRAME_TOO_LARGE, f"frame length {length} exceeds {max_frame_size}")
    if len(buf) < 4 + length:
        return None
    return buf[4], bytes(buf[5:4 + length]), 4 + length


# HELLO --------------------------------------------------------------------------------------

def encode_hello_body(daemon_id: str | bytes, region: str | bytes = "",
                      labels: Iterable[Sequence[str | bytes]] = (), token: str | bytes = "",
                      agent_version: str | bytes = AGENT_VERSION, version: int = PROTOCOL_VERSION,
                      extensions: Iterable[Sequence[str | bytes]] = ()) -> bytes:
    """Version 1: the fields up to agent_version; version 2 appends the `extensions` pairs."""
    body = (enc_u16(version) + enc_str(daemon_id) + enc_str(region) + enc_pairs_u16(labels)
            + enc_str(token) + enc_str(agent_version))
    return body + enc_pairs_u16(extensions) if version >= 2 else body


def encode_hello(*args, **kwargs) -> bytes:
    return encode_frame(HELLO, encode_hello_body(*args, **kwargs))


def decode_hello(body: bytes) -> dict:
    r = _Body(body, "HELLO")
    version = r.u16("version")
    if version not in SUPPORTED_VERSIONS:
        # The rest of a HELLO of another version may have another layout: stop here.
        return {"type": "HELLO", "version": version}
    d = {"type": "HELLO", "version": version, "daemon_id": r.str("daemon_id"), "region": r.str("region"),
         "labels": r.pairs("label"), "token": r.str("token"), "agent_version": r.str("agent_version")}
    if version >= 2:
        d["extensions"] = r.pairs("extension")
    r.done()
    return d


def hello_extensions(compression: Sequence[str] = (), incarnation: str | None = None) -> list[list[str]]:
    """HELLO version 2 extensions, sorted by key: the codecs offered (in order of preference)
    and the daemon's incarnation (16 lowercase hex digits, not all zero)."""
    ext = []
    if compression:
        ext.append([EXT_COMPRESSION, ",".join(compression)])
    if incarnation is not None:
        ext.append([EXT_INCARNATION, incarnation])
    return ext


def valid_incarnation(text: str) -> bool:
    """Exactly 16 lowercase hex digits, not all zero (section 5.1)."""
    return len(text) == 16 and all(ch in "0123456789abcdef" for ch in text) and int(text, 16) != 0


def random_incarnation() -> str:
    """A fresh incarnation for a daemon that starts without de-duplication state."""
    while True:
        text = os.urandom(8).hex()
        if valid_incarnation(text):
            return text


def offered_codecs(extensions: Iterable[Sequence[str]]) -> list[str]:
    """The `compression` extension as a list: known names in order, unknown ones and repeats
    dropped (the last `compression` pair wins, as for any repeated key)."""
    value = dict((k, v) for k, v in extensions).get(EXT_COMPRESSION, "")
    out: list[str] = []
    for name in value.split(","):
        if name in CODEC_IDS and name not in out:
            out.append(name)
    return out


def check_hello(h: dict, tokens: Iterable[str] | None = None) -> tuple[int, str] | None:
    """The server's checks after a HELLO body decoded, in the documented order (section 5.1).

    Returns (error code, message) or None when the HELLO is accepted.
    """
    if h["version"] not in SUPPORTED_VERSIONS:
        supported = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
        return ERR_UNSUPPORTED_VERSION, f"unsupported protocol version {h['version']}; supported: {supported}"
    n = len(h["daemon_id"].encode())
    if not 1 <= n <= MAX_DAEMON_ID_BYTES:
        return ERR_MALFORMED_FRAME, f"daemon_id must be 1..{MAX_DAEMON_ID_BYTES} bytes, got {n}"
    n = len(h["region"].encode())
    if n > MAX_REGION_BYTES:
        return ERR_MALFORMED_FRAME, f"region must be 0..{MAX_REGION_BYTES} bytes, got {n}"
    incarnation = dict((k, v) for k, v in h.get("extensions", ())).get(EXT_INCARNATION)
    if incarnation is not None and not valid_incarnation(incarnation):
        return ERR_MALFORMED_FRAME, f"incarnation {incarnation!r} is not 16 lowercase hex digits, not all zero"
    if tokens is not None and h["token"] not in set(tokens):
        return ERR_UNAUTHORIZED, "unauthorized: token missing or wrong"
    return None


# HELLO_OK ----------------------------------------------------------------------------------

def encode_hello_ok(node_id: str | bytes, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
                    heartbeat_interval_ms: int = DEFAULT_HEARTBEAT_INTERVAL_MS,
                    version: int = PROTOCOL_VERSION, extensions: Iterable[Sequence[str | bytes]] = ()) -> bytes:
    """Version 2 appends the `extensions` pairs (compression, max_batch_bytes)."""
    body = enc_u16(version) + enc_u32(max_frame_size) + enc_u32(heartbeat_interval_ms) + enc_str(node_id)
    return encode_frame(HELLO_OK, body + enc_pairs_u16(extensions) if version >= 2 else body)


def decode_hello_ok(body: bytes) -> dict:
    r = _Body(body, "HELLO_OK")
    d = {"type": "HELLO_OK", "version": r.u16("version"), "max_frame_size": r.u32("max_frame_size"),
         "heartbeat_interval_ms": r.u32("heartbeat_interval_ms"), "node_id": r.str("node_id")}
    if d["version"] >= 2:
        d["extensions"] = r.pairs("extension")
    r.done()
    return d


def welcome_extensions(codec: str | None, max_batch_bytes: int) -> list[list[str]]:
    """HELLO_OK version 2 extensions, sorted by key."""
    ext = [[EXT_COMPRESSION, codec]] if codec else []
    return ext + [[EXT_MAX_BATCH_BYTES, str(max_batch_bytes)]]


def accepted_codec(hello_ok: dict) -> str | None:
    """The codec a HELLO_OK accepts for BATCH_COMPRESSED, or None (plain BATCHes only)."""
    codec = dict((k, v) for k, v in hello_ok.get("extensions", ())).get(EXT_COMPRESSION)
    if codec is not None and codec not in CODEC_IDS:
        raise MalformedFrame(f"HELLO_OK: compression {codec!r} is not lz4 or zstd")
    return codec


# Records (WAL record body: little-endian, LEB128 varints) ----------------------------------

def enc_varint(v: int) -> bytes:
    """Unsigned LEB128, minimal encoding."""
    if v < 0 or v >= 1 << 64:
        raise ValueError(f"varint out of range: {v}")
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def enc_lstr(s: str | bytes) -> bytes:
    """Record string: LEB128 byte length + bytes (str is UTF-8 encoded, bytes taken as they are)."""
    b = _bytes_of(s)
    return enc_varint(len(b)) + b


def _enc_lpairs(pairs: Iterable[Sequence[str | bytes]]) -> bytes:
    pairs = list(pairs)
    out = bytearray(enc_varint(len(pairs)))
    for k, v in pairs:
        out += enc_lstr(k) + enc_lstr(v)
    return bytes(out)


def encode_record(record: dict | bytes | bytearray) -> bytes:
    """One record body in the WAL record body encoding (no length prefix).

    `record` is raw bytes (sent as they are, e.g. deliberately malformed), or a dict:
    {"kind": "log", "timestamp": ns, "severity": 6, "facility": 1, "host": .., "app": ..,
     "message": .., "fields": [[k, v], ...]} or
    {"kind": "metric", "timestamp": ns, "name": .., "value": 1.5, "labels": [[k, v], ...]}.
    String values may be bytes (taken verbatim, to produce invalid UTF-8 on purpose).
    Missing severity/facility default to 255 (unknown), missing timestamp to now.
    """
    if isinstance(record, (bytes, bytearray, memoryview)):
        return bytes(record)
    kind = record.get("kind", "log")
    ts = record.get("timestamp")
    if ts is None:
        ts = time.time_ns()
    ts_bytes = struct.pack("<q", ts)
    if kind in ("log", KIND_LOG):
        return (bytes([KIND_LOG]) + ts_bytes
                + bytes([record.get("severity", UNKNOWN_LEVEL), record.get("facility", UNKNOWN_LEVEL)])
                + enc_lstr(record.get("host", "")) + enc_lstr(record.get("app", ""))
                + enc_lstr(record.get("message", "")) + _enc_lpairs(record.get("fields", ())))
    if kind in ("metric", KIND_METRIC):
        return (bytes([KIND_METRIC]) + ts_bytes + struct.pack("<d", float(record["value"]))
                + enc_lstr(record["name"]) + _enc_lpairs(record.get("labels", ())))
    raise ValueError(f"unknown record kind {kind!r}")


class _LE:
    """Bounds-checked little-endian reader over one record body; failures are reason 1."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int, field: str) -> bytes:
        if n > len(self.data) - self.pos:
            raise RecordError(REASON_MALFORMED, f"{field} runs past the end of the record")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def varint(self, field: str) -> int:
        v = 0
        for i in range(10):
            b = self.take(1, field)[0]
            v |= (b & 0x7F) << (7 * i)
            if b < 0x80:
                if v >= 1 << 64:
                    raise RecordError(REASON_MALFORMED, f"{field}: varint overflows u64")
                return v
        raise RecordError(REASON_MALFORMED, f"{field}: varint longer than 10 bytes")

    def lstr(self, field: str) -> bytes:
        return self.take(self.varint(field + " length"), field)

    def pairs(self, field: str) -> list[tuple[bytes, bytes]]:
        n = self.varint(field + " count")
        if n * 2 > len(self.data) - self.pos:
            raise RecordError(REASON_MALFORMED, f"{field} count {n} larger than the bytes left")
        return [(self.lstr(field + " key"), self.lstr(field + " value")) for _ in range(n)]


def _utf8(b: bytes, field: str) -> str:
    try:
        return b.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise RecordError(REASON_INVALID_UTF8, f"{field} is not valid UTF-8") from None


def decode_record(body: bytes, max_record_size: int = MAX_RECORD_SIZE) -> dict:
    """Validates and decodes one record body exactly as docs/protocol.md section 6.3 says.

    Check order: size (reason 4), shorter than kind + timestamp (1), kind (3), structure incl.
    leftover bytes (1), UTF-8 of every string (2). Raises RecordError with the reason code.
    """
    body = bytes(body)
    if len(body) > max_record_size:
        raise RecordError(REASON_TOO_LARGE, f"record of {len(body)} bytes exceeds {max_record_size}")
    if len(body) < 9:
        raise RecordError(REASON_MALFORMED, "record is shorter than kind and timestamp (9 bytes)")
    if body[0] not in (KIND_LOG, KIND_METRIC):
        raise RecordError(REASON_UNKNOWN_KIND, f"unknown record kind {body[0]}")
    r = _LE(body)
    kind = r.take(1, "kind")[0]
    (ts,) = struct.unpack("<q", r.take(8, "timestamp"))
    if kind == KIND_LOG:
        sev = r.take(1, "severity")[0]
        fac = r.take(1, "facility")[0]
        host, app, msg = r.lstr("host"), r.lstr("app"), r.lstr("message")
        fields = r.pairs("field")
    else:
        (value,) = struct.unpack("<d", r.take(8, "value"))
        name = r.lstr("name")
        labels = r.pairs("label")
    if r.pos != len(body):
        raise RecordError(REASON_MALFORMED, f"{len(body) - r.pos} bytes left after the last field")
    if kind == KIND_LOG:
        return {"kind": "log", "timestamp": ts, "severity": sev, "facility": fac,
                "host": _utf8(host, "host"), "app": _utf8(app, "app"), "message": _utf8(msg, "message"),
                "fields": [[_utf8(k, "field key"), _utf8(v, "field value")] for k, v in fields]}
    return {"kind": "metric", "timestamp": ts, "name": _utf8(name, "name"), "value": value,
            "labels": [[_utf8(k, "label key"), _utf8(v, "label value")] for k, v in labels]}


def validate_record(body: bytes, max_record_size: int = MAX_RECORD_SIZE) -> tuple[int, str] | None:
    """(reason_code, reason) if the server must reject `body`, else None."""
    try:
        decode_record(body, max_record_size)
        return None
    except RecordError as e:
        return e.code, e.reason


# BATCH --------------------------------------------------------------------------------------

def encode_batch_body(producer_id: int, producer_sequence: int, records: Sequence[dict | bytes]) -> bytes:
    out = bytearray(enc_u64(producer_id) + enc_u64(producer_sequence) + enc_u32(len(records)))
    for rec in records:
        b = encode_record(rec)
        out += enc_u32(len(b)) + b
    return bytes(out)


def encode_batch(producer_id: int, producer_sequence: int, records: Sequence[dict | bytes]) -> bytes:
    return encode_frame(BATCH, encode_batch_body(producer_id, producer_sequence, records))


def decode_batch(body: bytes) -> dict:
    """Structural decode. "records" holds the raw record bodies (bytes); use decode_record on them."""
    r = _Body(body, "BATCH")
    pid, seq, count = r.u64("producer_id"), r.u64("producer_sequence"), r.u32("record_count")
    records = []
    for i in range(count):
        n = r.u32(f"record {i} length")
        records.append(r.take(n, f"record {i}"))
    r.done()
    return {"type": "BATCH", "producer_id": pid, "producer_sequence": seq, "record_count": count,
            "records": records}


def check_batch(b: dict) -> tuple[int, str] | None:
    """The server's checks of a structurally valid BATCH header (all ERROR 4 when they fail)."""
    if b["producer_id"] == 0:
        return ERR_MALFORMED_FRAME, "producer_id must not be 0"
    if b["producer_sequence"] == 0:
        return ERR_MALFORMED_FRAME, "producer_sequence must be at least 1"
    if not 1 <= b["record_count"] <= MAX_RECORDS_PER_BATCH:
        return ERR_MALFORMED_FRAME, f"record_count must be 1..{MAX_RECORDS_PER_BATCH}"
    return None


# LZ4 block format (the codec 1 of BATCH_COMPRESSED; no lz4 module in the standard library) --

def lz4_compress_literals(data: bytes) -> bytes:
    """Valid LZ4 block format without any match: one sequence of literals.

    A block's last sequence carries only literals, so a block made of that one sequence is
    legal for any input; it is 1 + len(data) // 255 + 1 bytes larger than `data`. liblz4
    produces exactly this when it finds nothing to match (e.g. the example of section 15).
    """
    n = len(data)
    if n < 15:
        return bytes([n << 4]) + data
    out = bytearray([0xF0])
    rest = n - 15
    while rest >= 255:
        out.append(255)
        rest -= 255
    out.append(rest)
    return bytes(out) + data


def lz4_decompress(block: bytes, uncompressed_length: int) -> bytes:
    """Decodes an LZ4 block (any valid one, matches included) that must expand to exactly
    `uncompressed_length` bytes; raises MalformedFrame otherwise."""
    src = bytes(block)
    out = bytearray()
    i = 0

    def length(start: int) -> tuple[int, int]:
        total, j = 0, start
        while True:
            if j >= len(src):
                raise MalformedFrame("lz4: length runs past the block")
            total += src[j]
            j += 1
            if src[j - 1] != 255:
                return total, j

    while True:
        if i >= len(src):
            raise MalformedFrame("lz4: block ends before its last sequence")
        token = src[i]
        i += 1
        literals = token >> 4
        if literals == 15:
            extra, i = length(i)
            literals += extra
        if i + literals > len(src) or len(out) + literals > uncompressed_length:
            raise MalformedFrame("lz4: literals run past the block or the announced length")
        out += src[i:i + literals]
        i += literals
        if i == len(src):
            break  # the last sequence has no match
        if i + 2 > len(src):
            raise MalformedFrame("lz4: match offset runs past the block")
        offset = src[i] | src[i + 1] << 8
        i += 2
        if offset == 0 or offset > len(out):
            raise MalformedFrame(f"lz4: match offset {offset} outside the {len(out)} bytes decoded")
        match = token & 15
        if match == 15:
            extra, i = length(i)
            match += extra
        match += 4
        if len(out) + match > uncompressed_length:
            raise MalformedFrame("lz4: match runs past the announced length")
        for _ in range(match):  # byte by byte: the copy may overlap what it produces
            out.append(out[-offset])
    if len(out) != uncompressed_length:
        raise MalformedFrame(f"lz4: block expands to {len(out)} bytes, not {uncompressed_length}")
    return bytes(out)


# BATCH_COMPRESSED (version 2) -----------------------------------------------------------------

def encode_payload(records: Sequence[dict | bytes]) -> bytes:
    """Records in the WAL payload encoding: per record a LEB128 body length, then the body."""
    out = bytearray()
    for rec in records:
        b = encode_record(rec)
        out += enc_varint(len(b)) + b
    return bytes(out)


def encode_batch_compressed_body(producer_id: int, producer_sequence: int, record_count: int, codec: int,
                                 uncompressed_length: int, data: bytes) -> bytes:
    return (enc_u64(producer_id) + enc_u64(producer_sequence) + enc_u32(record_count) + enc_u8(codec)
            + enc_u32(uncompressed_length) + bytes(data))


def encode_batch_compressed(producer_id: int, producer_sequence: int, records: Sequence[dict | bytes],
                            codec: str = "lz4") -> bytes:
    """A BATCH_COMPRESSED frame of `records`, lz4-compressed (literals only)."""
    if codec != "lz4":
        raise ValueError(f"this client compresses only with lz4, not {codec!r}")
    payload = encode_payload(records)
    return encode_frame(BATCH_COMPRESSED, encode_batch_compressed_body(
        producer_id, producer_sequence, len(records), CODEC_LZ4, len(payload), lz4_compress_literals(payload)))


def decode_batch_compressed(body: bytes) -> dict:
    """The fixed fields and the still compressed `data` (use batch_compressed_records on it)."""
    r = _Body(body, "BATCH_COMPRESSED")
    d = {"type": "BATCH_COMPRESSED", "producer_id": r.u64("producer_id"),
         "producer_sequence": r.u64("producer_sequence"), "record_count": r.u32("record_count"),
         "codec": r.u8("codec"), "uncompressed_length": r.u32("uncompressed_length")}
    d["data"] = r.take(len(body) - COMPRESSED_HEADER_SIZE, "data")
    return d


def check_batch_compressed(b: dict, accepted: str | None, max_batch_bytes: int) -> tuple[int, str] | None:
    """The server's checks of a BATCH_COMPRESSED before fencing and decompression (section 5.10)."""
    problem = check_batch(b)
    if problem:
        return problem
    if b["codec"] not in CODEC_NAMES:
        return ERR_MALFORMED_FRAME, f"codec {b['codec']} is not 1 (lz4) or 2 (zstd)"
    if CODEC_NAMES[b["codec"]] != accepted:
        return ERR_PROTOCOL_VIOLATION, f"codec {CODEC_NAMES[b['codec']]} was not accepted in HELLO_OK"
    if b["uncompressed_length"] > max_batch_bytes:
        return ERR_MALFORMED_FRAME, f"uncompressed_length {b['uncompressed_length']} exceeds max_batch_bytes {max_batch_bytes}"
    return None


def batch_compressed_records(b: dict) -> list[bytes]:
    """Decompresses `data` and walks exactly `record_count` record bodies (MalformedFrame
    otherwise: wrong length, too few or too many records, bytes left over)."""
    if b["codec"] != CODEC_LZ4:
        raise ValueError(f"codec {b['codec']}: this client decompresses only lz4")
    payload = lz4_decompress(b["data"], b["uncompressed_length"])
    walk = _LE(payload)
    records = []
    try:
        for _ in range(b["record_count"]):
            records.append(walk.lstr("record"))
    except RecordError as e:
        raise MalformedFrame(f"BATCH_COMPRESSED: {e.reason} after {len(records)} of {b['record_count']} records") from None
    if walk.pos != len(payload):
        raise MalformedFrame(f"BATCH_COMPRESSED: {len(payload) - walk.pos} bytes follow the last of {b['record_count']} records")
    return records


# ACK / NACK --------------------------------------------------------------------------------

def encode_ack(producer_id: int, producer_sequence: int, accepted: int, status: int, shard: int,
               first_sequence: int) -> bytes:
    return encode_frame(ACK, enc_u64(producer_id) + enc_u64(producer_sequence) + enc_u32(accepted)
                        + enc_u8(status) + enc_u16(shard) + enc_u64(first_sequence))


def decode_ack(body: bytes) -> dict:
    r = _Body(body, "ACK")
    d = {"type": "ACK", "producer_id": r.u64("producer_id"), "producer_sequence": r.u64("producer_sequence"),
         "accepted": r.u32("accepted"), "status": r.u8("status"), "shard": r.u16("shard"),
         "first_sequence": r.u64("first_sequence")}
    r.done()
    d["duplicate"] = d["status"] == STATUS_DUPLICATE
    return d


def encode_nack(producer_id: int, producer_sequence: int, accepted: int,
                rejected: Iterable[Sequence]) -> bytes:
    """`rejected`: (index, reason_code, reason) triples or dicts with those keys."""
    items = []
    for x in rejected:
        if isinstance(x, dict):
            x = (x["index"], x["reason_code"], x["reason"])
        items.append(x)
    out = bytearray(enc_u64(producer_id) + enc_u64(producer_sequence) + enc_u32(accepted) + enc_u32(len(items)))
    for index, code, reason in items:
        out += enc_u32(index) + enc_u16(code) + enc_str(reason)
    return encode_frame(NACK, bytes(out))


def decode_nack(body: bytes) -> dict:
    r = _Body(body, "NACK")
    d = {"type": "NACK", "producer_id": r.u64("producer_id"), "producer_sequence": r.u64("producer_sequence"),
         "accepted": r.u32("accepted")}
    n = r.u32("rejected_count")
    d["rejected_count"] = n
    d["rejected"] = [{"index": r.u32("index"), "reason_code": r.u16("reason_code"), "reason": r.str("reason")}
                     for _ in range(n)]
    r.done()
    return d


# HEARTBEAT / HEARTBEAT_ACK ------------------------------------------------------------------

def encode_heartbeat(sent_at_unix_ms: int, backlog_bytes: int = 0, oldest_unacked_age_ms: int = 0,
                     records_sent: int = 0, errors: int = 0,
                     extra: Iterable[Sequence[str | bytes]] = ()) -> bytes:
    return encode_frame(HEARTBEAT, enc_u64(sent_at_unix_ms) + enc_u64(backlog_bytes)
                        + enc_u64(oldest_unacked_age_ms) + enc_u64(records_sent) + enc_u64(errors)
                        + enc_pairs_u16(extra))


def decode_heartbeat(body: bytes) -> dict:
    r = _Body(body, "HEARTBEAT")
    d = {"type": "HEARTBEAT", "sent_at_unix_ms": r.u64("sent_at_unix_ms"), "backlog_bytes": r.u64("backlog_bytes"),
         "oldest_unacked_age_ms": r.u64("oldest_unacked_age_ms"), "records_sent": r.u64("records_sent"),
         "errors": r.u64("errors"), "extra": r.pairs("extra")}
    r.done()
    return d


def encode_heartbeat_ack(echoed_sent_at_unix_ms: int, server_time_unix_ms: int) -> bytes:
    return encode_frame(HEARTBEAT_ACK, enc_u64(echoed_sent_at_unix_ms) + enc_u64(server_time_unix_ms))


def decode_heartbeat_ack(body: bytes) -> dict:
    r = _Body(body, "HEARTBEAT_ACK")
    d = {"type": "HEARTBEAT_ACK", "echoed_sent_at_unix_ms": r.u64("echoed_sent_at_unix_ms"),
         "server_time_unix_ms": r.u64("server_time_unix_ms")}
    r.done()
    return d


# ERROR --------------------------------------------------------------------------------------

def encode_error(code: int, message: str | bytes) -> bytes:
    return encode_frame(ERROR, enc_u16(code) + enc_str(message))


def decode_error(body: bytes) -> dict:
    r = _Body(body, "ERROR")
    code = r.u16("code")
    d = {"type": "ERROR", "code": code, "name": ERROR_NAMES.get(code, "UNKNOWN"), "message": r.str("message")}
    r.done()
    return d


# Dispatch -----------------------------------------------------------------------------------

_DECODERS = {
    HELLO: decode_hello, HELLO_OK: decode_hello_ok, BATCH: decode_batch, ACK: decode_ack, NACK: decode_nack,
    HEARTBEAT: decode_heartbeat, HEARTBEAT_ACK: decode_heartbeat_ack, BATCH_COMPRESSED: decode_batch_compressed,
    ERROR: decode_error,
}


def decode_frame(frame_type: int, body: bytes) -> dict:
    """Decodes any frame body to a dict with a "type" name. Reserved and unknown types are
    returned undecoded ({"type": name or "UNKNOWN", "frame_type": n, "body_hex": ...})."""
    dec = _DECODERS.get(frame_type)
    if dec is not None:
        return dec(body)
    return {"type": FRAME_NAMES.get(frame_type, "UNKNOWN"), "frame_type": frame_type, "body_hex": body.hex()}


def to_jsonable(x: Any) -> Any:
    """bytes -> hex string, tuples -> lists, recursively (for json.dumps)."""
    if isinstance(x, (bytes, bytearray, memoryview)):
        return bytes(x).hex()
    if isinstance(x, dict):
        return {k: to_jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_jsonable(v) for v in x]
    return x


# ----------------------------------------------------------------------------------------
# Client
# ----------------------------------------------------------------------------------------

class Client:
    """One connection to a Hypha node speaking the native protocol.

    Every socket operation is bounded by `timeout` seconds (socket.timeout is raised),
    so nothing blocks forever. Reserved server->daemon frames (CONFIG_PUSH, TASK_ASSIGN,
    TASK_CONTROL) are ignored as the protocol requires; they are kept in `self.ignored`.
    """

    def __init__(self, timeout: float = DEFAULT_TIMEOUT):
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.rbuf = bytearray()
        self.pending: collections.deque[dict] = collections.deque()
        self.ignored: list[dict] = []
        self.hello_ok: dict | None = None
        self.max_frame_size = DEFAULT_MAX_FRAME_SIZE
        self.codec: str | None = None  # BATCH_COMPRESSED codec the server accepted (version 2)
        self.max_batch_bytes: int | None = None
        self.eof = False

    # connection ------------------------------------------------------------------------

    def connect(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT, timeout: float | None = None) -> "Client":
        if timeout is not None:
            self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=self.timeout)
        self.sock.settimeout(self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self

    @classmethod
    def from_socket(cls, sock: socket.socket, timeout: float = DEFAULT_TIMEOUT) -> "Client":
        c = cls(timeout)
        c.sock = sock
        sock.settimeout(timeout)
        return c

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # raw I/O ---------------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        assert self.sock is not None, "not connected"
        self.sock.sendall(data)

    def _fill(self) -> bool:
        """Reads more bytes into rbuf; False at EOF (or reset)."""
        assert self.sock is not None, "not connected"
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.rbuf += chunk
        return True

    def _buffered_frame(self) -> tuple[int, bytes] | None:
        got = split_frame(self.rbuf, MAX_SERVER_FRAME_SIZE)
        if got is None:
            return None
        ftype, body, n = got
        del self.rbuf[:n]
        return ftype, body

    def read_frame(self) -> tuple[int, bytes] | None:
        """Next (type, body) from the server; None when the connection ended.

        A connection that ends in the middle of a frame leaves the partial bytes in `rbuf`.
        """
        while True:
            got = self._buffered_frame()
            if got is not None:
                return got
            if self.eof or not self._fill():
                return None

    def _next_message(self) -> dict:
        """Next decoded server frame, skipping reserved server->daemon types."""
        while True:
            got = self.read_frame()
            if got is None:
                raise ConnectionClosed("connection closed by the server"
                                       + (f" ({len(self.rbuf)} bytes of an incomplete frame)" if self.rbuf else ""))
            ftype, body = got
            if ftype in RESERVED_SERVER_TO_DAEMON:
                self.ignored.append(decode_frame(ftype, body))
                continue
            if ftype not in SERVER_TO_CLIENT:
                raise ProtocolError(ERR_PROTOCOL_VIOLATION, f"unexpected frame type 0x{ftype:02x} from the server")
            return decode_frame(ftype, body)

    # protocol --------------------------------------------------------------------------

    def hello(self, daemon_id: str | bytes, region: str | bytes = "", labels: Iterable[Sequence] = (),
              token: str | bytes = "", agent_version: str | bytes = AGENT_VERSION,
              version: int = PROTOCOL_VERSION, extensions: Iterable[Sequence] = ()) -> dict:
        """Sends HELLO and waits for HELLO_OK (returned as a dict). `extensions` go out with
        version 2 only (hello_extensions builds them).

        Raises ProtocolError (remote=True) with the server's code/message on ERROR.
        """
        extensions = list(extensions)
        self.send_raw(encode_hello(daemon_id, region, labels, token, agent_version, version, extensions))
        msg = self._next_message()
        if msg["type"] == "ERROR":
            raise ProtocolError(msg["code"], msg["message"], remote=True)
        if msg["type"] != "HELLO_OK":
            raise ProtocolError(ERR_PROTOCOL_VIOLATION, f"expected HELLO_OK, got {msg['type']}")
        if msg["version"] != version:
            raise ProtocolError(ERR_PROTOCOL_VIOLATION, f"HELLO_OK version {msg['version']} answers a version {version} HELLO")
        codec = accepted_codec(msg)
        if codec is not None and codec not in offered_codecs(extensions):
            raise ProtocolError(ERR_PROTOCOL_VIOLATION, f"HELLO_OK accepts {codec}, which the HELLO did not offer")
        self.hello_ok = msg
        self.max_frame_size = msg["max_frame_size"]
        self.codec = codec
        batch_limit = dict((k, v) for k, v in msg.get("extensions", ())).get(EXT_MAX_BATCH_BYTES)
        self.max_batch_bytes = int(batch_limit) if batch_limit is not None else None
        return msg

    def batch_frame(self, producer_id: int, producer_sequence: int, records: Sequence[dict | bytes],
                    check_size: bool = True, compress: bool | None = None) -> bytes:
        """BATCH, or BATCH_COMPRESSED when the server accepted a codec (`compress` None) or
        when asked (`compress` True)."""
        if compress is None:
            compress = self.codec is not None
        if compress:
            frame = encode_batch_compressed(producer_id, producer_sequence, records, self.codec or "lz4")
            length = struct.unpack(">I", frame[26:30])[0]  # uncompressed_length: body offset 21, after length and type
            if check_size and self.max_batch_bytes is not None and length > self.max_batch_bytes:
                raise ValueError(f"uncompressed batch of {length} bytes exceeds max_batch_bytes {self.max_batch_bytes}")
        else:
            frame = encode_batch(producer_id, producer_sequence, records)
        if check_size and len(frame) - 4 > self.max_frame_size:
            raise ValueError(f"{FRAME_NAMES[frame[4]]} frame length {len(frame) - 4} exceeds max_frame_size {self.max_frame_size}")
        return frame

    def send_batch(self, producer_id: int, producer_sequence: int, records: Sequence[dict | bytes],
                   check_size: bool = True, compress: bool | None = None) -> None:
        """Sends one BATCH (or BATCH_COMPRESSED, see batch_frame) without waiting (pipelining);
        read its ACK/NACK with read_response()."""
        self.send_raw(self.batch_frame(producer_id, producer_sequence, records, check_size, compress))

    def heartbeat(self, sent_at_unix_ms: int | None = None, backlog_bytes: int = 0, oldest_unacked_age_ms: int = 0,
                  records_sent: int = 0, errors: int = 0, extra: Iterable[Sequence] = (),
                  wait: bool = False) -> dict | int:
        """Sends HEARTBEAT. Returns sent_at_unix_ms, or with wait=True the HEARTBEAT_ACK dict
        (ACK/NACKs that arrive first are kept for read_response; an ERROR raises ProtocolError)."""
        if sent_at_unix_ms is None:
            sent_at_unix_ms = time.time_ns() // 1_000_000
        self.send_raw(encode_heartbeat(sent_at_unix_ms, backlog_bytes, oldest_unacked_age_ms, records_sent,
                                       errors, extra))
        if not wait:
            return sent_at_unix_ms
        while True:
            msg = self._next_message()
            if msg["type"] == "HEARTBEAT_ACK":
                return msg
            if msg["type"] == "ERROR":
                raise ProtocolError(msg["code"], msg["message"], remote=True)
            self.pending.append(msg)

    def read_response(self) -> dict:
        """Next ACK, NACK, HEARTBEAT_ACK or ERROR as a dict (ERROR is returned, not raised).

        Raises ConnectionClosed at EOF, socket.timeout after `timeout` s without data.
        """
        if self.pending:
            return self.pending.popleft()
        msg = self._next_message()
        if msg["type"] == "HELLO_OK":
            raise ProtocolError(ERR_PROTOCOL_VIOLATION, "unexpected HELLO_OK")
        return msg

    def pipeline(self, frames: Sequence[bytes], responses: int) -> list[dict]:
        """Writes all `frames` while reading responses concurrently (so a large pipeline cannot
        deadlock on full socket buffers), until `responses` ACK/NACK/HEARTBEAT_ACK frames or an
        ERROR arrived. Returns the responses in arrival order (an ERROR, if any, last).

        Raises ConnectionClosed / socket.timeout (no progress for `timeout` s).
        """
        assert self.sock is not None, "not connected"
        out = memoryview(b"".join(frames))
        got: list[dict] = []
        while self.pending and len(got) < responses:
            got.append(self.pending.popleft())
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if out else 0))
        writing = bool(out)
        try:
            while len(got) < responses:
                # Drain complete frames already buffered.
                progressed = False
                while len(got) < responses:
                    f = self._buffered_frame()
                    if f is None:
                        break
                    progressed = True
                    ftype, body = f
                    if ftype in RESERVED_SERVER_TO_DAEMON:
                        self.ignored.append(decode_frame(ftype, body))
                        continue
                    if ftype not in SERVER_TO_CLIENT or ftype == HELLO_OK:
                        raise ProtocolError(ERR_PROTOCOL_VIOLATION, f"unexpected frame type 0x{ftype:02x}")
                    msg = decode_frame(ftype, body)
                    got.append(msg)
                    if msg["type"] == "ERROR":
                        return got
                if len(got) >= responses:
                    break
                if progressed:
                    continue
                if self.eof:
                    raise ConnectionClosed(f"connection closed after {len(got)} of {responses} responses")
                events = sel.select(self.timeout)
                if not events:
                    raise socket.timeout(f"no progress for {self.timeout} s ({len(got)} of {responses} responses)")
                for _, mask in events:
                    if mask & selectors.EVENT_READ:
                        self._fill()
                    if writing and mask & selectors.EVENT_WRITE:
                        try:
                            n = self.sock.send(out[:1 << 20])
                        except ConnectionError:
                            n = len(out)  # the server went away; read what it said
                        out = out[n:]
                        if not out:
                            writing = False
                            sel.modify(self.sock, selectors.EVENT_READ)
        finally:
            sel.close()
        return got


def open_session(connect, daemon_id: str | bytes, region: str | bytes = "", labels: Iterable[Sequence] = (),
                 token: str | bytes = "", version: int = PROTOCOL_VERSION, extensions: Iterable[Sequence] = ()) -> Client:
    """Connects (`connect()` returns a connected Client) and says HELLO.

    A version 2 HELLO refused with ERROR 1 is tried once more on a new connection as version 1
    without extensions, the fallback of section 14: the session then uses plain BATCHes and
    the original de-duplication key (no incarnation).
    """
    client = connect()
    try:
        client.hello(daemon_id, region, labels, token, version=version, extensions=extensions)
        return client
    except ProtocolError as e:
        client.close()
        if not (e.remote and e.code == ERR_UNSUPPORTED_VERSION and version >= 2):
            raise
    client = connect()
    try:
        client.hello(daemon_id, region, labels, token, version=1)
    except BaseException:
        client.close()
        raise
    return client


# ----------------------------------------------------------------------------------------
# Examples (docs/protocol.md section 15): values, annotated bytes, expected hex
# ----------------------------------------------------------------------------------------

EXAMPLE_LOG = {"kind": "log", "timestamp": 1700000000000000000, "severity": 6, "facility": 1,
               "host": "web1", "app": "nginx", "message": "GET /", "fields": [["status", "200"]]}


EXAMPLE_NOTES = {
    "HELLO": (
        'Daemon `web1-agent` in region `eu-west`, one label `env`=`prod`, token `s3cret`, agent version '
        '`hyphad/0.1.0`.'
    ),
    "HELLO_OK": (
        "The server's answer with the default limits (8 MiB frames, heartbeat every 5000 ms); node id "
        '`node-a`.'
    ),
    "BATCH": (
        'Producer 1, producer_sequence 1, one log record: exactly the record of wal-format.md section 8.4 '
        '(timestamp 1700000000000000000, severity 6, facility 1, `web1`, `nginx`, `GET /`, '
        '`status`=`200`). The 40-byte body is the same bytes as in the WAL; only its length prefix '
        'differs (WAL: varint `28`; native: u32 big-endian `00 00 00 28`). Framing integers are '
        'big-endian, the timestamp inside the record body is little-endian.'
    ),
    "ACK": (
        'The answer to that BATCH: 1 record stored now (status 0) in shard 2, where it got WAL sequence '
        '41.'
    ),
    "ACK (duplicate)": (
        'The answer when the same BATCH (producer 1, producer_sequence 1) arrives again, for example '
        'resent after a reconnect: nothing written now, status 1, accepted = the valid records of the '
        'resent batch (1), first_sequence all ones.'
    ),
    "NACK": (
        'The answer to a BATCH (producer 1, producer_sequence 2) of 3 records whose record 1 (0-based) '
        'has a message that is not valid UTF-8: records 0 and 2 were stored (accepted 2), record 1 is '
        'rejected with reason code 2. The reason text is informative only.'
    ),
    "HEARTBEAT": (
        'Sent at 1700000000000 ms, 4096 bytes of backlog, oldest unacknowledged batch 250 ms old, 1000 '
        'records sent, 0 errors, one extra pair `spool`=`ok`.'
    ),
    "HEARTBEAT_ACK": (
        "The answer: the echoed send time and the server's clock (3 ms later)."
    ),
    "ERROR": (
        'Code 5 (unauthorized), as sent after a HELLO with a wrong token; the server closes the '
        'connection right after it. The message text is informative only.'
    ),
    "HELLO (version 2)": (
        'The daemon of the HELLO example, as version 2 with agent version `hyphad/0.2.0` and two '
        'extensions, sorted by key: it can send `lz4` or, second choice, `zstd`, and its '
        'de-duplication state is incarnation `5f3a9c2e7b1d4086`.'
    ),
    "HELLO_OK (version 2)": (
        "The server's answer to it: version 2, the default limits, lz4 accepted for BATCH_COMPRESSED "
        'and batches of at most 16 MiB uncompressed (`max_batch_bytes` 16777216).'
    ),
    "BATCH_COMPRESSED": (
        'The BATCH example (producer 1, producer_sequence 1, the log record of section 6) as '
        'BATCH_COMPRESSED with lz4. The payload is the 41 bytes of the record in the WAL payload '
        'encoding: LEB128 length `28`, then the 40-byte body. Nothing in it repeats, so the lz4 block '
        'is one sequence of 41 literals: token `f0` (15 literals, more to come, no match), `1a` (15 + 26 '
        '= 41), the literals. liblz4 compresses this payload to exactly these bytes.'
    ),
}


def _hx(b: bytes) -> str:
    return " ".join(f"{x:02x}" for x in b)


def _ann_str(s: str | bytes, label: str) -> list[tuple[bytes, str]]:
    b = _bytes_of(s)
    return [(enc_u16(len(b)), f"{label} length {len(b)}")] + ([(b, f'"{b.decode("utf-8", "replace")}"')] if b else [])


def _frame_head(ftype: int, body_len: int) -> list[tuple[bytes, str]]:
    return [(enc_u32(1 + body_len), f"length {1 + body_len} (type byte + {body_len}-byte body)"),
            (enc_u8(ftype), f"type 0x{ftype:02x} {FRAME_NAMES[ftype]}")]


def _ann_record(rec: dict) -> list[tuple[bytes, str]]:
    parts: list[tuple[bytes, str]] = []
    parts.append((bytes([KIND_LOG]), "kind 1 (log)"))
    parts.append((struct.pack("<q", rec["timestamp"]), f"timestamp {rec['timestamp']} (i64 LE)"))
    parts.append((bytes([rec["severity"], rec["facility"]]), f"severity {rec['severity']}, facility {rec['facility']}"))
    for f in ("host", "app", "message"):
        b = _bytes_of(rec[f])
        parts.append((enc_varint(len(b)) + b, f'{f} "{b.decode()}" (LEB128 length {len(b)})'))
    parts.append((enc_varint(len(rec["fields"])), f"field_count {len(rec['fields'])} (LEB128)"))
    for k, v in rec["fields"]:
        parts.append((enc_lstr(k), f'key "{k}"'))
        parts.append((enc_lstr(v), f'value "{v}"'))
    return parts


def example_parts() -> list[dict]:
    """Each example: name, values, annotated parts [(bytes, comment)], encoded frame bytes.

    selftest checks that the parts concatenate to the encoder's output and that decoding the
    frame gives the values back.
    """
    ex = []

    hello_vals = dict(daemon_id="web1-agent", region="eu-west", labels=[["env", "prod"]], token="s3cret",
                      agent_version="hyphad/0.1.0", version=1)
    body = []
    body.append((enc_u16(1), "version 1"))
    body += _ann_str("web1-agent", "daemon_id")
    body += _ann_str("eu-west", "region")
    body.append((enc_u16(1), "label_count 1"))
    body += _ann_str("env", "key")
    body += _ann_str("prod", "value")
    body += _ann_str("s3cret", "token")
    body += _ann_str("hyphad/0.1.0", "agent_version")
    blen = sum(len(b) for b, _ in body)
    ex.append({"name": "HELLO", "note": EXAMPLE_NOTES["HELLO"],
               "values": hello_vals, "parts": _frame_head(HELLO, blen) + body,
               "frame": encode_hello(**hello_vals),
               "decoded": {"type": "HELLO", "version": 1, "daemon_id": "web1-agent", "region": "eu-west",
                           "labels": [["env", "prod"]], "token": "s3cret", "agent_version": "hyphad/0.1.0"}})

    ok_vals = dict(node_id="node-a", max_frame_size=DEFAULT_MAX_FRAME_SIZE, heartbeat_interval_ms=5000, version=1)
    body = [(enc_u16(1), "version 1"), (enc_u32(DEFAULT_MAX_FRAME_SIZE), "max_frame_size 8388608"),
            (enc_u32(5000), "heartbeat_interval_ms 5000")] + _ann_str("node-a", "node_id")
    blen = sum(len(b) for b, _ in body)
    ex.append({"name": "HELLO_OK", "note": EXAMPLE_NOTES["HELLO_OK"],
               "values": ok_vals, "parts": _frame_head(HELLO_OK, blen) + body,
               "frame": encode_hello_ok(**ok_vals),
               "decoded": {"type": "HELLO_OK", "version": 1, "max_frame_size": 8388608,
                           "heartbeat_interval_ms": 5000, "node_id": "node-a"}})

    rec = encode_record(EXAMPLE_LOG)
    body = [(enc_u64(1), "producer_id 1"), (enc_u64(1), "producer_sequence 1"), (enc_u32(1), "record_count 1"),
            (enc_u32(len(rec)), f"record_length {len(rec)}")] + _ann_record(EXAMPLE_LOG)
    blen = sum(len(b) for b, _ in body)
    ex.append({"name": "BATCH", "note": EXAMPLE_NOTES["BATCH"],
               "values": dict(producer_id=1, producer_sequence=1, records=[EXAMPLE_LOG]),
               "parts": _frame_head(BATCH, blen) + body, "frame": encode_batch(1, 1, [EXAMPLE_LOG]),
               "decoded": {"type": "BATCH", "producer_id": 1, "producer_sequence": 1, "record_count": 1,
                           "records": [rec]}})

    ack_vals = dict(producer_id=1, producer_sequence=1, accepted=1, status=0, shard=2, first_sequence=41)
    body = [(enc_u64(1), "producer_id 1"), (enc_u64(1), "producer_sequence 1"), (enc_u32(1), "accepted 1"),
            (enc_u8(0), "status 0 (written now)"), (enc_u16(2), "shard 2"), (enc_u64(41), "first_sequence 41")]
    blen = sum(len(b) for b, _ in body)
    ex.append({"name": "ACK", "note": EXAMPLE_NOTES["ACK"],
               "values": ack_vals, "parts": _frame_head(ACK, blen) + body,
               "frame": encode_ack(**ack_vals), "decoded": dict(type="ACK", **ack_vals, duplicate=False)})

    dup_vals = dict(producer_id=1, producer_sequence=1, accepted=1, status=1, shard=2,
                    first_sequence=DUPLICATE_FIRST_SEQUENCE)
    body = [(enc_u64(1), "producer_id 1"), (enc_u64(1), "producer_sequence 1"),
            (enc_u32(1), "accepted 1 (valid records in the resent batch)"),
            (enc_u8(1), "status 1 (duplicate)"), (enc_u16(2), "shard 2"),
            (enc_u64(DUPLICATE_FIRST_SEQUENCE), "first_sequence 0xFFFFFFFFFFFFFFFF")]
    blen = sum(len(b) for b, _ in body)
    ex.append({"name": "ACK (duplicate)", "note": EXAMPLE_NOTES["ACK (duplicate)"],
               "values": dup_vals, "parts": _frame_head(ACK, blen) + body,
               "frame": encode_ack(**dup_vals), "decoded": dict(type="ACK", **dup_vals, duplicate=True)})

    reason = "message is not valid UTF-8"
    nack_vals = dict(producer_id=1, producer_sequence=2, accepted=2, rejected=[(1, 2, reason)])
    body = [(enc_u64(1), "producer_id 1"), (enc_u64(2), "producer_sequence 2"), (enc_u32(2), "accepted 2"),
            (enc_u32(1), "rejected_count 1"), (enc_u32(1), "index 1"), (enc_u16(2), "reason_code 2 (invalid UTF-8)")]
    body += _ann_str(reason, "reason")
    blen = sum(len(b) for b, _ in body)
    ex.append({"name": "NACK", "note": EXAMPLE_NOTES["NACK"],
               "values": nack_vals, "parts": _frame_head(NACK, blen) + body,
               "frame": encode_nack(**nack_vals),
               "decoded": {"type": "NACK", "producer_id": 1, "producer_sequence": 2, "accepted": 2,
                           "rejected_count": 1, "rejected": [{"index": 1, "reason_code": 2, "reason": reason}]}})

    hb_vals = dict(sent_at_unix_ms=1700000000000, backlog_bytes=4096, oldest_unacked_age_ms=250, records_sent=1000,
                   errors=0, extra=[["spool", "ok"]])
    body = [(enc_u64(1700000000000), "sent_at_unix_ms 1700000000000"), (enc_u64(4096), "backlog_bytes 4096"),
            (enc_u64(250), "oldest_unacked_age_ms 250"), (enc_u64(1000), "records_sent 1000"),
            (enc_u64(0), "errors 0"), (enc_u16(1), "extra_count 1")]
    body += _ann_str("spool", "key") + _ann_str("ok", "value")
    blen = sum(len(b) for b, _ in body)
    ex.append({"name": "HEARTBEAT", "note": EXAMPLE_NOTES["HEARTBEAT"],
               "values": hb_vals, "parts": _frame_head(HEARTBEAT, blen) + body,
               "frame": encode_heartbeat(**hb_vals), "decoded": dict(type="HEARTBEAT", **hb_vals)})

    hba_vals = dict(echoed_sent_at_unix_ms=1700000000000, server_time_unix_ms=1700000000003)
    body = [(enc_u64(1700000000000), "echoed_sent_at_unix_ms 1700000000000"),
            (enc_u64(1700000000003), "server_time_unix_ms 1700000000003")]
    blen = sum(len(b) for b, _ in body)
    ex.append({"name": "HEARTBEAT_ACK", "note": EXAMPLE_NOTES["HEARTBEAT_ACK"],
               "values": hba_vals, "parts": _frame_head(HEARTBEAT_ACK, blen) + body,
               "frame": encode_heartbeat_ack(**hba_vals), "decoded": dict(type="HEARTBEAT_ACK", **hba_vals)})

    msg = "unauthorized: token missing or wrong"
    body = [(enc_u16(5), "code 5 (unauthorized)")] + _ann_str(msg, "message")
    blen = sum(len(b) for b, _ in body)
    ex.append({"name": "ERROR", "note": EXAMPLE_NOTES["ERROR"],
               "values": dict(code=5, message=msg), "parts": _frame_head(ERROR, blen) + body,
               "frame": encode_error(5, msg),
               "decoded": {"type": "ERROR", "code": 5, "name": "UNAUTHORIZED", "message": msg}})

    ext = hello_extensions(["lz4", "zstd"], "5f3a9c2e7b1d4086")
    hello2_vals = dict(daemon_id="web1-agent", region="eu-west", labels=[["env", "prod"]], token="s3cret",
                       agent_version="hyphad/0.2.0", version=2, extensions=ext)
    body = [(enc_u16(2), "version 2")]
    body += _ann_str("web1-agent", "daemon_id")
    body += _ann_str("eu-west", "region")
    body.append((enc_u16(1), "label_count 1"))
    body += _ann_str("env", "key") + _ann_str("prod", "value")
    body += _ann_str("s3cret", "token")
    body += _ann_str("hyphad/0.2.0", "agent_version")
    body.append((enc_u16(2), "extension_count 2"))
    body += _ann_str("compression", "key") + _ann_str("lz4,zstd", "value")
    body += _ann_str("incarnation", "key") + _ann_str("5f3a9c2e7b1d4086", "value")
    blen = sum(len(b) for b, _ in body)
    ex.append({"name": "HELLO (version 2)", "note": EXAMPLE_NOTES["HELLO (version 2)"],
               "values": hello2_vals, "parts": _frame_head(HELLO, blen) + body,
               "frame": encode_hello(**hello2_vals),
               "decoded": {"type": "HELLO", "version": 2, "daemon_id": "web1-agent", "region": "eu-west",
                           "labels": [["env", "prod"]], "token": "s3cret", "agent_version": "hyphad/0.2.0",
                           "extensions": ext}})

    ok2_ext = welcome_extensions("lz4", MODEL_MAX_BATCH_BYTES)
    ok2_vals = dict(node_id="node-a", max_frame_size=DEFAULT_MAX_FRAME_SIZE, heartbeat_interval_ms=5000, version=2,
                    extensions=ok2_ext)
    body = [(enc_u16(2), "version 2"), (enc_u32(DEFAULT_MAX_FRAME_SIZE), "max_frame_size 8388608"),
            (enc_u32(5000), "heartbeat_interval_ms 5000")] + _ann_str("node-a", "node_id")
    body.append((enc_u16(2), "extension_count 2"))
    body += _ann_str("compression", "key") + _ann_str("lz4", "value")
    body += _ann_str("max_batch_bytes", "key") + _ann_str(str(MODEL_MAX_BATCH_BYTES), "value")
    blen = sum(len(b) for b, _ in body)
    ex.append({"name": "HELLO_OK (version 2)", "note": EXAMPLE_NOTES["HELLO_OK (version 2)"],
               "values": ok2_vals, "parts": _frame_head(HELLO_OK, blen) + body,
               "frame": encode_hello_ok(**ok2_vals),
               "decoded": {"type": "HELLO_OK", "version": 2, "max_frame_size": 8388608,
                           "heartbeat_interval_ms": 5000, "node_id": "node-a", "extensions": ok2_ext}})

    payload = encode_payload([EXAMPLE_LOG])
    data = lz4_compress_literals(payload)
    body = [(enc_u64(1), "producer_id 1"), (enc_u64(1), "producer_sequence 1"), (enc_u32(1), "record_count 1"),
            (enc_u8(CODEC_LZ4), "codec 1 (lz4)"), (enc_u32(len(payload)), f"uncompressed_length {len(payload)}"),
            (data[:1], "data: lz4 token f0: 15+ literals, no match"),
            (data[1:2], f"literal length 15 + {data[1]} = {len(payload)}"),
            (enc_varint(len(rec)), f"literals: record body length {len(rec)} (LEB128)")] + _ann_record(EXAMPLE_LOG)
    blen = sum(len(b) for b, _ in body)
    ex.append({"name": "BATCH_COMPRESSED", "note": EXAMPLE_NOTES["BATCH_COMPRESSED"],
               "values": dict(producer_id=1, producer_sequence=1, records=[EXAMPLE_LOG], codec="lz4"),
               "parts": _frame_head(BATCH_COMPRESSED, blen) + body,
               "frame": encode_batch_compressed(1, 1, [EXAMPLE_LOG]),
               "decoded": {"type": "BATCH_COMPRESSED", "producer_id": 1, "producer_sequence": 1, "record_count": 1,
                           "codec": CODEC_LZ4, "uncompressed_length": len(payload), "data": data}})
    return ex


def _decode_whole_frame(frame: bytes) -> dict:
    got = split_frame(frame)
    assert got is not None and got[2] == len(frame), "example frame is not exactly one frame"
    return decode_frame(got[0], got[1])


def render_example(e: dict) -> str:
    """One example as it appears in docs/protocol.md: heading, note, annotated bytes, plain dump."""
    frame = e["frame"]
    note = "\n".join(textwrap.wrap(e["note"], 96, break_on_hyphens=False, break_long_words=False))
    out = [f"### {e['name']} ({len(frame)} bytes on the wire)\n", note + "\n", "```"]
    for b, comment in e["parts"]:
        h = _hx(b)
        chunks = [h[i:i + 48].strip() for i in range(0, len(h), 48)]  # 16 bytes per line
        out.append(f"{chunks[0]:<48}  {comment}")
        out.extend(chunks[1:])
    out.append("```\n")
    out.append("```")
    for off in range(0, len(frame), 16):
        out.append(f"{off:04x}: {_hx(frame[off:off + 16])}")
    out.append("```\n")
    return "\n".join(out)


def render_examples() -> str:
    return "\n".join(render_example(e) for e in example_parts())


# ----------------------------------------------------------------------------------------
# Offline selftest (includes an in-process model server over a socketpair)
# ----------------------------------------------------------------------------------------

class ModelServer:
    """A minimal single-connection model of a server (no WAL; in memory) used by selftest.

    It follows docs/protocol.md's decision order, so it doubles as an executable summary.
    `versions` are the protocol versions it accepts ((1,) models a node from before version 2);
    with version 2 it accepts lz4 BATCH_COMPRESSED and folds the HELLO's incarnation into the
    de-duplication key.
    """

    def __init__(self, sock: socket.socket, tokens: Iterable[str] | None = None, shards: int = 4,
                 max_frame_size: int = DEFAULT_MAX_FRAME_SIZE, hwm: dict | None = None, next_seq: dict | None = None,
                 versions: Sequence[int] = SUPPORTED_VERSIONS, max_batch_bytes: int = MODEL_MAX_BATCH_BYTES):
        self.sock = sock
        self.tokens = tokens
        self.shards = shards
        self.max_frame_size = max_frame_size
        self.versions = tuple(versions)
        self.max_batch_bytes = max_batch_bytes
        self.hwm = hwm if hwm is not None else {}
        self.next_seq = next_seq if next_seq is not None else {}
        self.stored: list[tuple] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "ModelServer":
        self.thread.start()
        return self

    @staticmethod
    def shard_of(daemon_id: str, shards: int) -> int:
        h = 0xCBF29CE484222325  # FNV-1a 64
        for b in daemon_id.encode():
            h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
        return h % shards

    def _send(self, frame: bytes) -> None:
        self.sock.sendall(frame)

    def _fail(self, code: int, msg: str) -> None:
        try:
            self._send(encode_error(code, msg))
        finally:
            self.sock.close()

    def _run(self) -> None:
        buf = bytearray()
        daemon_id = None
        codec = None  # the codec HELLO_OK accepted
        incarnation = "0"  # version 1, or no incarnation: the original de-duplication key
        self.sock.settimeout(DEFAULT_TIMEOUT)
        try:
            while True:
                try:
                    got = split_frame(buf, self.max_frame_size)
                except ProtocolError as e:
                    return self._fail(e.code, e.message)
                if got is None:
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        self.sock.close()
                        return
                    buf += chunk
                    continue
                ftype, body, n = got
                del buf[:n]
                if daemon_id is None and ftype != HELLO:
                    return self._fail(ERR_PROTOCOL_VIOLATION, "first frame must be HELLO")
                try:
                    if ftype == HELLO:
                        if daemon_id is not None:
                            return self._fail(ERR_PROTOCOL_VIOLATION, "HELLO twice")
                        h = decode_hello(body)
                        if h["version"] not in self.versions:
                            supported = ", ".join(str(v) for v in self.versions)
                            return self._fail(ERR_UNSUPPORTED_VERSION,
                                              f"unsupported protocol version {h['version']}; supported: {supported}")
                        problem = check_hello(h, self.tokens)
                        if problem:
                            return self._fail(*problem)
                        daemon_id = h["daemon_id"]
                        ext = dict((k, v) for k, v in h.get("extensions", ()))
                        incarnation = ext.get(EXT_INCARNATION, "0")
                        codec = next((c for c in offered_codecs(h.get("extensions", ())) if c in CLIENT_CODECS), None)
                        welcome = welcome_extensions(codec, self.max_batch_bytes) if h["version"] >= 2 else []
                        self._send(encode_hello_ok("model", self.max_frame_size, DEFAULT_HEARTBEAT_INTERVAL_MS,
                                                   h["version"], welcome))
                    elif ftype == BATCH:
                        b = decode_batch(body)
                        problem = check_batch(b)
                        if problem:
                            return self._fail(*problem)
                        self._batch((daemon_id, incarnation), b)
                    elif ftype == BATCH_COMPRESSED:
                        if codec is None:
                            return self._fail(ERR_PROTOCOL_VIOLATION, "BATCH_COMPRESSED without an accepted codec")
                        b = decode_batch_compressed(body)
                        problem = check_batch_compressed(b, codec, self.max_batch_bytes)
                        if problem:
                            return self._fail(*problem)
                        self._batch((daemon_id, incarnation), dict(b, records=batch_compressed_records(b)))
                    elif ftype == HEARTBEAT:
                        hb = decode_heartbeat(body)
                        self._send(encode_heartbeat_ack(hb["sent_at_unix_ms"], time.time_ns() // 1_000_000))
                    elif ftype in RESERVED_DAEMON_TO_SERVER:
                        pass
                    elif ftype == ERROR:
                        self.sock.close()
                        return
                    else:
                        return self._fail(ERR_PROTOCOL_VIOLATION, f"unexpected frame type 0x{ftype:02x}")
                except MalformedFrame as e:
                    return self._fail(ERR_MALFORMED_FRAME, e.message)
        except OSError:
            return

    def _batch(self, source: tuple[str, str], b: dict) -> None:
        valid, rejected = [], []
        for i, rec in enumerate(b["records"]):
            problem = validate_record(rec)
            if problem:
                rejected.append((i, problem[0], problem[1][:MAX_REASON_BYTES]))
            else:
                valid.append(rec)
        pid, seq = b["producer_id"], b["producer_sequence"]
        daemon_id, incarnation = source
        shard = self.shard_of(daemon_id, self.shards)
        if not valid:
            self._send(encode_nack(pid, seq, 0, rejected))
            return
        key = (daemon_id, incarnation, pid)
        if seq <= self.hwm.get(key, 0):
            self._send(encode_ack(pid, seq, len(valid), STATUS_DUPLICATE, shard, DUPLICATE_FIRST_SEQUENCE))
            return
        self.hwm[key] = seq
        first = self.next_seq.get(shard, 0)
        self.next_seq[shard] = first + len(valid)
        self.stored.extend((daemon_id, pid, seq, r) for r in valid)
        if rejected:
            self._send(encode_nack(pid, seq, len(valid), rejected))
        else:
            self._send(encode_ack(pid, seq, len(valid), STATUS_WRITTEN, shard, first))


def _model_pair(**kw) -> tuple[Client, ModelServer]:
    """A Client connected over a socketpair to a ModelServer built with `kw`."""
    a, b = socket.socketpair()
    server = ModelServer(b, **kw).start()
    return Client.from_socket(a, timeout=5.0), server


def selftest(verbose: bool = False) -> int:
    failures: list[str] = []

    def check(cond: bool, what: str) -> None:
        if not cond:
            failures.append(what)
        elif verbose:
            print(f"ok  {what}", file=sys.stderr)

    def raises(fn, exc, what: str, code: int | None = None) -> None:
        try:
            fn()
        except exc as e:
            check(code is None or getattr(e, "code", None) == code, f"{what} (code {getattr(e, 'code', None)})")
            return
        except Exception as e:  # noqa: BLE001
            failures.append(f"{what}: raised {type(e).__name__}: {e}")
            return
        failures.append(f"{what}: did not raise")

    # Primitives -------------------------------------------------------------------------
    check(enc_varint(0) == b"\x00" and enc_varint(127) == b"\x7f" and enc_varint(128) == b"\x80\x01"
          and enc_varint(300) == b"\xac\x02", "varint encodings match wal-format.md")
    check(enc_str("ab") == b"\x00\x02ab", "str is u16 BE length + bytes")
    check(encode_frame(0x06, b"\x01\x02") == b"\x00\x00\x00\x03\x06\x01\x02", "frame = u32 BE (1+body) + type + body")
    check(split_frame(b"\x00\x00\x00") is None and split_frame(b"\x00\x00\x00\x03\x06\x01") is None,
          "split_frame waits for a whole frame")
    check(split_frame(b"\x00\x00\x00\x01\x07rest") == (7, b"", 5), "split_frame: empty body, trailing bytes kept")
    raises(lambda: split_frame(b"\x00\x00\x00\x00"), ProtocolError, "length 0 -> ERROR 4", ERR_MALFORMED_FRAME)
    raises(lambda: split_frame(enc_u32(DEFAULT_MAX_FRAME_SIZE + 1), DEFAULT_MAX_FRAME_SIZE), ProtocolError,
           "length > max -> ERROR 3", ERR_FRAME_TOO_LARGE)
    check(split_frame(enc_u32(DEFAULT_MAX_FRAME_SIZE), DEFAULT_MAX_FRAME_SIZE) is None, "length == max is allowed")

    # WAL record bodies (docs/wal-format.md section 8.4) -----------------------------------
    wal_log = bytes.fromhex("01 00 00 2a 36 fe 9c 97 17 06 01 04 77 65 62 31 05 6e 67 69 6e 78 05 47 45 54 20 2f"
                            " 01 06 73 74 61 74 75 73 03 32 30 30".replace(" ", ""))
    check(encode_record(EXAMPLE_LOG) == wal_log, "log record body equals wal-format.md 8.4 (40 bytes)")
    check(decode_record(wal_log) == EXAMPLE_LOG, "log record body decodes back")
    metric = {"kind": "metric", "timestamp": 1700000000000000000, "name": "cpu.load", "value": 0.5,
              "labels": [["host", "web1"]]}
    wal_metric = bytes.fromhex("02 00 00 2a 36 fe 9c 97 17 00 00 00 00 00 00 e0 3f 08 63 70 75 2e 6c 6f 61 64"
                               " 01 04 68 6f 73 74 04 77 65 62 31".replace(" ", ""))
    check(encode_record(metric) == wal_metric, "metric record body equals wal-format.md 8.4 (37 bytes)")
    check(decode_record(wal_metric) == metric, "metric record body decodes back")
    neg = {"kind": "log", "timestamp": -5, "severity": 255, "facility": 255, "host": "", "app": "",
           "message": "héllo \u0000 ✓ 𝄞", "fields": [["k" * 200, "v" * 300]]}
    check(decode_record(encode_record(neg)) == neg, "negative timestamp, NUL, multi-byte UTF-8, 2-byte varints")
    nan = decode_record(encode_record({"kind": "metric", "timestamp": 0, "name": "n", "value": float("nan")}))
    check(math.isnan(nan["value"]), "NaN metric value round-trips")
    check(encode_record(b"\x07junk") == b"\x07junk", "raw bytes records are sent verbatim")

    # Record validation and reason codes -----------------------------------------------------
    check(validate_record(b"")[0] == REASON_MALFORMED, "empty record -> reason 1")
    check(validate_record(b"\x03" + bytes(8))[0] == REASON_UNKNOWN_KIND, "kind 3 -> reason 3")
    check(validate_record(b"\x00" + bytes(8))[0] == REASON_UNKNOWN_KIND, "kind 0 -> reason 3")
    check(validate_record(b"\x09" + bytes(7))[0] == REASON_MALFORMED, "8-byte record, unknown kind -> reason 1")
    check(validate_record(wal_log[:-1])[0] == REASON_MALFORMED, "truncated record -> reason 1")
    check(validate_record(wal_log + b"\x00")[0] == REASON_MALFORMED, "trailing byte -> reason 1")
    check(validate_record(b"\x01" + bytes(4))[0] == REASON_MALFORMED, "short timestamp -> reason 1")
    bad_utf8 = encode_record(dict(EXAMPLE_LOG, message=b"GET \xff"))
    check(validate_record(bad_utf8)[0] == REASON_INVALID_UTF8, "invalid UTF-8 message -> reason 2")
    check(validate_record(encode_record(dict(EXAMPLE_LOG, host=b"\xed\xa0\x80")))[0] == REASON_INVALID_UTF8,
          "UTF-8 surrogate -> reason 2")
    check(validate_record(encode_record(dict(EXAMPLE_LOG, app=b"\xc0\xaf")))[0] == REASON_INVALID_UTF8,
          "overlong UTF-8 -> reason 2")
    check(validate_record(bad_utf8[:-1])[0] == REASON_MALFORMED, "structure is checked before UTF-8")
    big = encode_record(dict(EXAMPLE_LOG, message="x" * MAX_RECORD_SIZE))
    check(validate_record(big)[0] == REASON_TOO_LARGE, "record above 1 MiB -> reason 4")
    fits = encode_record(dict(EXAMPLE_LOG, fields=[], message="x" * (MAX_RECORD_SIZE - 30)))
    check(len(fits) <= MAX_RECORD_SIZE and validate_record(fits) is None, "record of <= 1 MiB is valid")
    long_varint = b"\x01" + bytes(8) + b"\x06\x01" + b"\x80" * 10 + b"\x00"
    check(validate_record(long_varint)[0] == REASON_MALFORMED, "varint longer than 10 bytes -> reason 1")
    nonmin = b"\x01" + bytes(8) + b"\x06\x01" + b"\x81\x00a" + b"\x00\x00\x00"
    check(validate_record(nonmin) is None, "non-minimal varint accepted")
    huge_count = b"\x02" + bytes(8) + bytes(8) + b"\x01n" + b"\xff\xff\x03"
    check(validate_record(huge_count)[0] == REASON_MALFORMED, "label count beyond the body -> reason 1")

    # Frames round trip ----------------------------------------------------------------------
    h = encode_hello("d1", "r", [["a", "b"], ["c", ""]], "tok", "v9")
    check(_decode_whole_frame(h) == {"type": "HELLO", "version": 1, "daemon_id": "d1", "region": "r",
                                     "labels": [["a", "b"], ["c", ""]], "token": "tok", "agent_version": "v9"},
          "HELLO round trip")
    check(_decode_whole_frame(encode_hello("d1", version=3)) == {"type": "HELLO", "version": 3},
          "HELLO of an unknown version: only the version is decoded")
    check(check_hello(decode_hello(encode_hello("d", version=1)[5:])) is None, "valid HELLO accepted")
    check(check_hello({"version": 3}) == (ERR_UNSUPPORTED_VERSION, "unsupported protocol version 3; supported: 1, 2"),
          "HELLO version 3 -> ERROR 1 naming versions 1 and 2")
    check(check_hello(decode_hello(encode_hello("")[5:]))[0] == ERR_MALFORMED_FRAME, "empty daemon_id -> ERROR 4")
    check(check_hello(decode_hello(encode_hello("x" * 129)[5:]))[0] == ERR_MALFORMED_FRAME,
          "129-byte daemon_id -> ERROR 4")
    check(check_hello(decode_hello(encode_hello("x" * 128, "r" * 64)[5:])) is None, "128/64-byte ids accepted")
    check(check_hello(decode_hello(encode_hello("x", "r" * 65)[5:]))[0] == ERR_MALFORMED_FRAME,
          "65-byte region -> ERROR 4")
    check(check_hello(decode_hello(encode_hello("x", token="no")[5:]), ["yes"])[0] == ERR_UNAUTHORIZED,
          "wrong token -> ERROR 5")
    check(check_hello(decode_hello(encode_hello("x")[5:]), ["yes"])[0] == ERR_UNAUTHORIZED, "missing token -> ERROR 5")
    raises(lambda: decode_hello(encode_hello_body("d1") + b"\x00"), MalformedFrame, "HELLO with a trailing byte")
    raises(lambda: decode_hello(encode_hello_body("d1")[:-1]), MalformedFrame, "HELLO one byte short")
    raises(lambda: decode_hello(encode_hello_body(b"d\xff")), MalformedFrame, "HELLO with invalid UTF-8 str")
    check(decode_hello(encode_hello_body(b"d\x00"))["daemon_id"] == "d\x00", "a NUL byte in a str is accepted")

    ok = encode_hello_ok("n", 65536, 100)
    check(_decode_whole_frame(ok) == {"type": "HELLO_OK", "version": 1, "max_frame_size": 65536,
                                      "heartbeat_interval_ms": 100, "node_id": "n"}, "HELLO_OK round trip")
    recs = [EXAMPLE_LOG, metric, b"\xff\x00", b""]
    bf = encode_batch(7, 9, recs)
    d = _decode_whole_frame(bf)
    check(d["producer_id"] == 7 and d["producer_sequence"] == 9 and d["record_count"] == 4
          and d["records"] == [wal_log, wal_metric, b"\xff\x00", b""], "BATCH round trip")
    check(check_batch(d) is None, "valid BATCH header accepted")
    check(check_batch(dict(d, producer_id=0))[0] == ERR_MALFORMED_FRAME, "producer_id 0 -> ERROR 4")
    check(check_batch(dict(d, producer_sequence=0))[0] == ERR_MALFORMED_FRAME, "producer_sequence 0 -> ERROR 4")
    check(check_batch(dict(d, record_count=0))[0] == ERR_MALFORMED_FRAME, "record_count 0 -> ERROR 4")
    check(check_batch(dict(d, record_count=65536))[0] == ERR_MALFORMED_FRAME, "record_count 65536 -> ERROR 4")
    body = encode_batch_body(1, 1, [wal_log])
    raises(lambda: decode_batch(body[:-1]), MalformedFrame, "BATCH record running past the frame")
    raises(lambda: decode_batch(body + b"\x00"), MalformedFrame, "BATCH with bytes after the last record")
    raises(lambda: decode_batch(enc_u64(1) + enc_u64(1) + enc_u32(2) + enc_u32(1) + b"\x01"), MalformedFrame,
           "BATCH with fewer records than record_count")

    ack = encode_ack(1, 2, 3, 0, 65535, 2**64 - 2)
    check(_decode_whole_frame(ack) == {"type": "ACK", "producer_id": 1, "producer_sequence": 2, "accepted": 3,
                                       "status": 0, "shard": 65535, "first_sequence": 2**64 - 2,
                                       "duplicate": False}, "ACK round trip")
    check(len(ack) == 4 + 1 + 31, "ACK body is 31 bytes")
    nk = encode_nack(5, 6, 0, [(0, 1, "malformed"), {"index": 65534, "reason_code": 4, "reason": ""}])
    check(_decode_whole_frame(nk) == {"type": "NACK", "producer_id": 5, "producer_sequence": 6, "accepted": 0,
                                      "rejected_count": 2,
                                      "rejected": [{"index": 0, "reason_code": 1, "reason": "malformed"},
                                                   {"index": 65534, "reason_code": 4, "reason": ""}]},
          "NACK round trip")
    max_nack = 4 + 1 + 24 + MAX_RECORDS_PER_BATCH * (4 + 2 + 2 + MAX_REASON_BYTES)
    check(max_nack <= MAX_SERVER_FRAME_SIZE, f"largest possible NACK ({max_nack}) fits MAX_SERVER_FRAME_SIZE")
    hb = encode_heartbeat(1, 2, 3, 4, 5, [["a", "b"]])
    check(_decode_whole_frame(hb) == {"type": "HEARTBEAT", "sent_at_unix_ms": 1, "backlog_bytes": 2,
                                      "oldest_unacked_age_ms": 3, "records_sent": 4, "errors": 5,
                                      "extra": [["a", "b"]]}, "HEARTBEAT round trip")
    check(_decode_whole_frame(encode_heartbeat_ack(10, 20)) == {"type": "HEARTBEAT_ACK", "echoed_sent_at_unix_ms": 10,
                                                                "server_time_unix_ms": 20}, "HEARTBEAT_ACK round trip")
    check(_decode_whole_frame(encode_error(9, "idle")) == {"type": "ERROR", "code": 9, "name": "IDLE_TIMEOUT",
                                                           "message": "idle"}, "ERROR round trip")
    check(_decode_whole_frame(encode_frame(CONFIG_PUSH, b"\x01\x02")) ==
          {"type": "CONFIG_PUSH", "frame_type": 0x10, "body_hex": "0102"}, "reserved frame decodes undecoded")
    check(_decode_whole_frame(encode_frame(0x42)) == {"type": "UNKNOWN", "frame_type": 0x42, "body_hex": ""},
          "unknown frame decodes as UNKNOWN")
    for ftype, dec in _DECODERS.items():
        raises(lambda dec=dec: dec(b""), MalformedFrame, f"{FRAME_NAMES[ftype]} with an empty body")

    # Version 2: extensions, LZ4 blocks, BATCH_COMPRESSED ------------------------------------
    ext = hello_extensions(["lz4", "zstd"], "00000000000000a1")
    h2 = encode_hello("d2", "r", [["a", "b"]], "tok", "v2", 2, ext)
    check(_decode_whole_frame(h2) == {"type": "HELLO", "version": 2, "daemon_id": "d2", "region": "r",
                                      "labels": [["a", "b"]], "token": "tok", "agent_version": "v2", "extensions": ext},
          "HELLO version 2 round trip")
    check(encode_hello("d1", version=1, extensions=ext) == encode_hello("d1"), "version 1 HELLO carries no extensions")
    check(check_hello(decode_hello(h2[5:])) is None, "HELLO version 2 accepted")
    for bad in ("", "0000000000000000", "00000000000000A1", "a1", "00000000000000a1f"):
        check(check_hello(decode_hello(encode_hello("d", version=2, extensions=[[EXT_INCARNATION, bad]])[5:]))[0]
              == ERR_MALFORMED_FRAME, f"incarnation {bad!r} -> ERROR 4")
    check(valid_incarnation(random_incarnation()), "random incarnations are valid")
    raises(lambda: decode_hello(encode_hello_body("d", version=2)[:-1]), MalformedFrame, "HELLO v2 without extensions")
    raises(lambda: decode_hello(encode_hello_body("d", version=2) + b"\x00"), MalformedFrame, "HELLO v2 with a trailing byte")
    check(offered_codecs([[EXT_COMPRESSION, "snappy,zstd,,lz4,zstd"]]) == ["zstd", "lz4"],
          "unknown and repeated codec names are skipped")
    ok2 = encode_hello_ok("n", 65536, 100, 2, welcome_extensions("lz4", 1024))
    check(_decode_whole_frame(ok2) == {"type": "HELLO_OK", "version": 2, "max_frame_size": 65536,
                                       "heartbeat_interval_ms": 100, "node_id": "n",
                                       "extensions": [["compression", "lz4"], ["max_batch_bytes", "1024"]]},
          "HELLO_OK version 2 round trip")
    check(accepted_codec(_decode_whole_frame(encode_hello_ok("n", version=2, extensions=[["max_batch_bytes", "9"]])))
          is None, "HELLO_OK v2 without compression: plain batches only")
    raises(lambda: accepted_codec({"extensions": [["compression", "snappy"]]}), MalformedFrame,
           "HELLO_OK naming an unknown codec")

    for n in (0, 1, 14, 15, 16, 269, 270, 271, 1000):
        data = bytes(range(256)) * 4
        block = lz4_compress_literals(data[:n])
        check(lz4_decompress(block, n) == data[:n], f"lz4 literal-only block of {n} bytes round trips")
    # A block liblz4 made (LZ4_compress_default), with matches, overlapping copies and long runs.
    lz4_src = (b"0123456789abcdefghij" + b"a" * 100 + b"abc" * 20 + bytes((i * 7919) % 251 for i in range(300))
               + b"0123456789abcdefghij" * 2)
    lz4_block = bytes.fromhex(
        "ff06303132333435363738396162636465666768696a610100512f6263030026ffec008a19a332bc4bd564ee7d0c9625af3ec8"
        "57e170fa8918a231bb4ad463ed7c0b9524ae3dc756e06ff98817a130ba49d362ec7b0a9423ad3cc655df6ef88716a02fb948d2"
        "61eb7a099322ac3bc554de6df786159f2eb847d160ea79089221ab3ac453dd6cf685149e2db746d05fe978079120aa39c352dc"
        "6bf584139d2cb645cf5ee87706901fa938c251db6af483129c2bb544ce5de776058f1ea837c150da69f382119b2ab443cd5ce6"
        "75048e1da736c04fd968f281109a29b342cc5be574038d1ca635bf4ed867f1800f9928b241cb5ae473028c1ba534be4dd766f0"
        "7f0e9827b140ca59e372018b1aa433bd4cd665ef7e0d9726b03fc958e271fb001e0fe001010b140050666768696a")
    check(lz4_decompress(lz4_block, len(lz4_src)) == lz4_src, "a liblz4 block with matches decompresses exactly")
    raises(lambda: lz4_decompress(lz4_block, len(lz4_src) + 1), MalformedFrame, "lz4: announced length too long")
    raises(lambda: lz4_decompress(lz4_block, len(lz4_src) - 1), MalformedFrame, "lz4: announced length too short")
    raises(lambda: lz4_decompress(lz4_block[:-3], len(lz4_src)), MalformedFrame, "lz4: cut block")
    raises(lambda: lz4_decompress(b"\x10a\x00\x00", 5), MalformedFrame, "lz4: match offset 0")
    raises(lambda: lz4_decompress(b"\x10a\x02\x00", 5), MalformedFrame, "lz4: match offset before the start")
    raises(lambda: lz4_decompress(b"", 0), MalformedFrame, "lz4: empty block")

    cb = encode_batch_compressed(7, 9, [EXAMPLE_LOG, metric, b"\xff\x00"])
    d = _decode_whole_frame(cb)
    check(d["producer_id"] == 7 and d["producer_sequence"] == 9 and d["record_count"] == 3 and d["codec"] == CODEC_LZ4
          and batch_compressed_records(d) == [wal_log, wal_metric, b"\xff\x00"], "BATCH_COMPRESSED round trip")
    check(check_batch_compressed(d, "lz4", 1 << 20) is None, "valid BATCH_COMPRESSED header accepted")
    check(check_batch_compressed(d, None, 1 << 20)[0] == ERR_PROTOCOL_VIOLATION, "codec not accepted -> ERROR 2")
    check(check_batch_compressed(dict(d, codec=0), "lz4", 1 << 20)[0] == ERR_MALFORMED_FRAME, "codec 0 -> ERROR 4")
    check(check_batch_compressed(dict(d, codec=3), "lz4", 1 << 20)[0] == ERR_MALFORMED_FRAME, "codec 3 -> ERROR 4")
    check(check_batch_compressed(d, "lz4", d["uncompressed_length"] - 1)[0] == ERR_MALFORMED_FRAME,
          "uncompressed_length above max_batch_bytes -> ERROR 4")
    check(check_batch_compressed(dict(d, record_count=0), "lz4", 1 << 20)[0] == ERR_MALFORMED_FRAME,
          "record_count 0 -> ERROR 4")
    raises(lambda: decode_batch_compressed(cb[5:5 + COMPRESSED_HEADER_SIZE - 1]), MalformedFrame,
           "BATCH_COMPRESSED shorter than its fixed fields")
    raises(lambda: batch_compressed_records(dict(d, record_count=4)), MalformedFrame, "one record more announced")
    raises(lambda: batch_compressed_records(dict(d, record_count=2)), MalformedFrame, "one record fewer announced")
    raises(lambda: batch_compressed_records(dict(d, data=lz4_compress_literals(encode_payload([EXAMPLE_LOG]) + b"\x00"),
                                                 record_count=1, uncompressed_length=42)),
           MalformedFrame, "a byte after the last record")
    raises(lambda: batch_compressed_records(dict(d, data=d["data"][:-1])), MalformedFrame, "cut data")

    # Examples in docs/protocol.md -------------------------------------------------------
    for e in example_parts():
        joined = b"".join(b for b, _ in e["parts"])
        check(joined == e["frame"], f"example {e['name']}: annotated parts == encoder output")
        check(_decode_whole_frame(e["frame"]) == e["decoded"], f"example {e['name']}: decodes back to its values")
        check(_decode_whole_frame(bytes.fromhex(e["frame"].hex())) == e["decoded"],
              f"example {e['name']}: hex text decodes back")
    doc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "protocol.md")
    if os.path.exists(doc):
        with open(doc, encoding="utf-8") as f:
            text = f.read()
        for e in example_parts():
            check(render_example(e) in text, f"docs/protocol.md holds example {e['name']} exactly as generated")
    batch_ex = [e for e in example_parts() if e["name"] == "BATCH"][0]
    check(decode_record(_decode_whole_frame(batch_ex["frame"])["records"][0]) == EXAMPLE_LOG,
          "example BATCH record decodes to the log record")
    compressed_ex = [e for e in example_parts() if e["name"] == "BATCH_COMPRESSED"][0]
    check([decode_record(r) for r in batch_compressed_records(_decode_whole_frame(compressed_ex["frame"]))]
          == [EXAMPLE_LOG], "example BATCH_COMPRESSED decompresses to the log record")

    # Client against the in-process model server --------------------------------------------
    try:
        c, srv = _model_pair(tokens=["tok"])
        with c:
            ok = c.hello("daemon-a", token="tok")
            check(ok["type"] == "HELLO_OK" and c.max_frame_size == DEFAULT_MAX_FRAME_SIZE, "Client.hello")
            logs = [{"kind": "log", "timestamp": i, "severity": 6, "facility": 1, "host": "daemon-a",
                     "app": "t", "message": f"m{i}", "fields": []} for i in range(3)]
            frames = [c.batch_frame(1, s, logs) for s in range(1, 201)]
            got = c.pipeline(frames, 200)
            check([g["producer_sequence"] for g in got] == list(range(1, 201))
                  and all(g["type"] == "ACK" and g["status"] == 0 and g["accepted"] == 3 for g in got),
                  "Client.pipeline: 200 pipelined batches acknowledged in order")
            check([g["first_sequence"] for g in got] == [3 * i for i in range(200)], "first_sequence advances")
            c.send_batch(1, 200, logs)
            dup = c.read_response()
            check(dup["type"] == "ACK" and dup["status"] == 1 and dup["accepted"] == 3
                  and dup["first_sequence"] == DUPLICATE_FIRST_SEQUENCE, "resent sequence -> duplicate ACK")
            c.send_batch(1, 201, [logs[0], encode_record(dict(logs[1], message=b"\xff")), b"\x09" + bytes(8)])
            nk = c.read_response()
            check(nk["type"] == "NACK" and nk["accepted"] == 1
                  and [(r["index"], r["reason_code"]) for r in nk["rejected"]] == [(1, 2), (2, 3)],
                  "partly invalid batch -> NACK with accepted 1")
            c.send_batch(1, 202, [b"\x01"])
            c.send_batch(1, 202, [b"\x01"])
            n1, n2 = c.read_response(), c.read_response()
            check(n1 == n2 and n1["accepted"] == 0, "all-invalid batch: same NACK again (sequence not consumed)")
            c.send_batch(1, 202, logs)
            check(c.read_response()["status"] == 0, "sequence of an all-invalid batch is still usable")
            c.send_batch(1, 203, logs)
            hba = c.heartbeat(sent_at_unix_ms=42, extra=[["k", "v"]], wait=True)
            check(hba["type"] == "HEARTBEAT_ACK" and hba["echoed_sent_at_unix_ms"] == 42, "Client.heartbeat(wait)")
            check(c.read_response()["producer_sequence"] == 203, "ACK read before the HEARTBEAT_ACK is kept")
            c.send_raw(encode_frame(CONFIG_STATUS, b"ignored"))
            c.send_raw(encode_frame(0x33))
            err = c.read_response()
            check(err["type"] == "ERROR" and err["code"] == ERR_PROTOCOL_VIOLATION,
                  "reserved type ignored, unknown type -> ERROR 2")
            raises(c.read_response, ConnectionClosed, "connection closed after ERROR")
        srv.thread.join(5)

        c, srv = _model_pair(tokens=["tok"])
        with c:
            raises(lambda: c.hello("d", token="bad"), ProtocolError, "Client.hello raises on ERROR 5", ERR_UNAUTHORIZED)
        c, srv = _model_pair()
        with c:
            raises(lambda: c.hello("d", version=3), ProtocolError, "Client.hello raises on ERROR 1",
                   ERR_UNSUPPORTED_VERSION)
        c, srv = _model_pair()
        with c:
            c.send_raw(encode_heartbeat(1))
            check(c.read_response()["code"] == ERR_PROTOCOL_VIOLATION, "HEARTBEAT before HELLO -> ERROR 2")
        c, srv = _model_pair(max_frame_size=65536)
        with c:
            c.hello("d")
            raises(lambda: c.send_batch(1, 1, [dict(EXAMPLE_LOG, message="x" * 70000)]), ValueError,
                   "send_batch refuses a frame above max_frame_size")
            c.send_raw(enc_u32(65537) + b"\x03")
            check(c.read_response()["code"] == ERR_FRAME_TOO_LARGE, "oversized frame -> ERROR 3")
        c, srv = _model_pair()
        with c:
            c.hello("d")
            c.send_raw(encode_frame(BATCH, encode_batch_body(0, 1, logs)))
            check(c.read_response()["code"] == ERR_MALFORMED_FRAME, "producer_id 0 -> ERROR 4")
        # Dedup survives a "restart": same high-water marks, new connection.
        hwm: dict = {}
        for attempt in range(2):
            c, srv = _model_pair(hwm=hwm)
            with c:
                c.hello("d")
                got = c.pipeline([c.batch_frame(9, s, logs) for s in (1, 2)], 2)
                want = STATUS_WRITTEN if attempt == 0 else STATUS_DUPLICATE
                check([g["status"] for g in got] == [want, want], f"reconnect {attempt}: status {want}")
        # Version 2: lz4 batches; the incarnation is part of the de-duplication key.
        hwm = {}
        for attempt, incarnation in enumerate(["00000000000000a1", "00000000000000a1", "00000000000000b2"]):
            c, srv = _model_pair(hwm=hwm)
            with c:
                ok = c.hello("d", version=2, extensions=hello_extensions(["zstd", "lz4"], incarnation))
                check(ok["version"] == 2 and c.codec == "lz4" and c.max_batch_bytes == MODEL_MAX_BATCH_BYTES,
                      f"HELLO_OK v2 accepts lz4, the first offered codec the model has: {ok}")
                frames = [c.batch_frame(3, s, logs) for s in (1, 2)]
                check(all(f[4] == BATCH_COMPRESSED for f in frames), "with a codec accepted, batches go compressed")
                got = c.pipeline(frames, 2)
                want = [STATUS_WRITTEN, STATUS_DUPLICATE, STATUS_WRITTEN][attempt]
                check([g["status"] for g in got] == [want, want] and all(g["accepted"] == 3 for g in got),
                      f"incarnation {incarnation}, connection {attempt}: status {want}")
        check([decode_record(r)["message"] for r in [x[3] for x in srv.stored][:3]] == ["m0", "m1", "m2"],
              "compressed records are stored as sent")
        c, srv = _model_pair()
        with c:
            c.hello("d", version=2, extensions=hello_extensions(["lz4"]))
            c.send_batch(1, 1, [logs[0], b"\x09" + bytes(8)])
            nk = c.read_response()
            check(nk["type"] == "NACK" and nk["accepted"] == 1 and nk["rejected"][0]["reason_code"] == REASON_UNKNOWN_KIND,
                  "BATCH_COMPRESSED records are checked one by one, as in a BATCH")
            payload = encode_payload([EXAMPLE_LOG])
            c.send_raw(encode_frame(BATCH_COMPRESSED, encode_batch_compressed_body(
                1, 2, 2, CODEC_LZ4, len(payload), lz4_compress_literals(payload))))
            check(c.read_response()["code"] == ERR_MALFORMED_FRAME, "fewer records than record_count -> ERROR 4")
        c, srv = _model_pair()
        with c:
            c.hello("d", version=2)
            check(c.codec is None and c.batch_frame(1, 1, logs)[4] == BATCH, "nothing offered: plain batches")
            c.send_raw(encode_batch_compressed(1, 1, logs))
            check(c.read_response()["code"] == ERR_PROTOCOL_VIOLATION, "BATCH_COMPRESSED without a codec -> ERROR 2")
        # A version 2 client meets a node that speaks version 1 only: ERROR 1, then version 1.
        old_nodes: list[ModelServer] = []

        def connect_old() -> Client:
            client, server = _model_pair(versions=(1,))
            old_nodes.append(server)
            return client
        c = open_session(connect_old, "d", version=2, extensions=hello_extensions(["lz4"], "00000000000000a1"))
        with c:
            check(len(old_nodes) == 2 and c.hello_ok["version"] == 1 and c.codec is None,
                  "open_session falls back to version 1 after ERROR 1")
            got = c.pipeline([c.batch_frame(1, 1, logs)], 1)
            check(got[0]["type"] == "ACK" and got[0]["status"] == STATUS_WRITTEN, "after the fallback: plain BATCH")
    except Exception as e:  # noqa: BLE001
        failures.append(f"client/model test crashed: {type(e).__name__}: {e}")

    for f in failures:
        print(f"FAIL {f}", file=sys.stderr)
    if failures:
        print(f"selftest: {len(failures)} failure(s)", file=sys.stderr)
        return 1
    print(json.dumps({"type": "SELFTEST", "result": "pass"}))
    return 0


# ----------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------

EXIT_OK = 0
EXIT_SELFTEST_FAILED = 1
EXIT_SERVER_ERROR = 3
EXIT_CLIENT_FAILURE = 4


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(to_jsonable(obj), sort_keys=False) + "\n")
    sys.stdout.flush()


def _client_failure(kind: str, message: str) -> int:
    _emit({"type": "CLIENT_ERROR", "kind": kind, "message": message})
    return EXIT_CLIENT_FAILURE


def _labels(values: list[str] | None) -> list[list[str]]:
    out = []
    for v in values or []:
        k, sep, val = v.partition("=")
        if not sep:
            raise ValueError(f"expected KEY=VALUE, got {v!r}")
        out.append([k, val])
    return out


def _session(args) -> Client:
    """Connects and says HELLO as the options ask. --compression or --incarnation make it a
    version 2 HELLO (unless --protocol-version says otherwise), refused by a version 1 node with
    ERROR 1 and then retried as version 1 (open_session)."""
    codecs = [c for c in (args.compression or "").split(",") if c]
    for codec in codecs:
        if codec not in CLIENT_CODECS:
            raise ValueError(f"--compression: this client can send {', '.join(CLIENT_CODECS)}, not {codec!r}")
    if args.incarnation is not None and not valid_incarnation(args.incarnation):
        raise ValueError(f"--incarnation: {args.incarnation!r} is not 16 lowercase hex digits, not all zero")
    version = args.protocol_version
    if version is None:
        version = 2 if codecs or args.incarnation is not None else PROTOCOL_VERSION
    return open_session(lambda: Client(args.timeout).connect(args.host, args.port), args.daemon_id, args.region,
                        _labels(args.label), args.token, version, hello_extensions(codecs, args.incarnation))


def _run_guarded(fn) -> int:
    """Maps failures to JSON lines and exit codes."""
    try:
        return fn()
    except ProtocolError as e:
        if e.remote:
            _emit(e.to_dict())
            return EXIT_SERVER_ERROR
        return _client_failure("protocol", str(e))
    except ConnectionClosed as e:
        return _client_failure("closed", str(e))
    except (socket.timeout, TimeoutError) as e:
        return _client_failure("timeout", str(e) or "timed out")
    except OSError as e:
        return _client_failure("socket", f"{type(e).__name__}: {e}")
    except ValueError as e:
        return _client_failure("usage", str(e))


def cmd_send(args) -> int:
    def run() -> int:
        with _session(args) as c:
            ok = c.hello_ok
            if args.print_hello:
                _emit(ok)
            base_ts = args.timestamp if args.timestamp is not None else time.time_ns()
            frames = []
            n = 0
            for b in range(args.batches):
                seq = args.first_seq + b
                records: list[dict] = []
                for i in range(args.records_per_batch):
                    ts = base_ts + n
                    n += 1
                    bad = args.bad_record_at is not None and i == args.bad_record_at
                    if args.metrics:
                        name = f"{args.tag}.metric"
                        records.append({"kind": "metric", "timestamp": ts,
                                        "name": (name.encode() + b"\xff") if bad else name,
                                        "value": float(i), "labels": [["tag", args.tag], ["batch", str(seq)],
                                                                      ["record", str(i)]]})
                    else:
                        msg = f"{args.tag} batch {seq} record {i}"
                        records.append({"kind": "log", "timestamp": ts, "severity": 6, "facility": 1,
                                        "host": args.daemon_id, "app": "native-test",
                                        "message": (msg.encode() + b" \xff\xfe") if bad else msg, "fields": []})
                frames.append(c.batch_frame(args.producer_id, seq, records))
            got = c.pipeline(frames, args.batches)
            for msg in got:
                _emit(msg)
            if got and got[-1]["type"] == "ERROR":
                return EXIT_SERVER_ERROR
            return EXIT_OK
    return _run_guarded(run)


def cmd_hello_only(args) -> int:
    def run() -> int:
        with _session(args) as c:
            _emit(c.hello_ok)
            return EXIT_OK
    return _run_guarded(run)


def cmd_heartbeat(args) -> int:
    def run() -> int:
        with _session(args) as c:
            ack = c.heartbeat(backlog_bytes=args.backlog_bytes, oldest_unacked_age_ms=args.oldest_unacked_age_ms,
                              records_sent=args.records_sent, errors=args.errors,
                              extra=_labels(args.extra), wait=True)
            _emit(ack)
            return EXIT_OK
    return _run_guarded(run)


def cmd_raw(args) -> int:
    def run() -> int:
        hexstr = "".join(ch for ch in args.hex if ch not in " \t\n:_-")
        try:
            data = bytes.fromhex(hexstr)
        except ValueError as e:
            raise ValueError(f"--hex: {e}") from None
        saw_error = False
        c = _session(args) if args.after_hello else Client(args.timeout).connect(args.host, args.port)
        with c:
            try:
                c.send_raw(data)
            except ConnectionError:
                pass  # the server may close before taking everything; report what it said
            if args.shutdown_write:
                try:
                    c.sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            frames = 0
            reason = "closed"
            while args.max_frames is None or frames < args.max_frames:
                try:
                    got = c.read_frame()
                except ProtocolError as e:  # undecodable length from the server
                    _emit({"type": "UNDECODABLE", "message": e.message, "buffer_hex": bytes(c.rbuf).hex()})
                    reason = "undecodable"
                    break
                except (socket.timeout, TimeoutError):
                    reason = "timeout"
                    break
                if got is None:
                    break
                frames += 1
                ftype, body = got
                try:
                    msg = decode_frame(ftype, body)
                except MalformedFrame as e:
                    msg = {"type": "UNDECODABLE", "frame_type": ftype, "message": e.message, "body_hex": body.hex()}
                if msg["type"] == "ERROR":
                    saw_error = True
                _emit(msg)
            else:
                reason = "max-frames"
            end = {"type": "END", "reason": reason, "frames": frames}
            if c.rbuf:
                end["trailing_hex"] = bytes(c.rbuf).hex()
            _emit(end)
        return EXIT_SERVER_ERROR if saw_error else EXIT_OK
    return _run_guarded(run)


def cmd_examples(args) -> int:
    if args.json:
        for e in example_parts():
            _emit({"name": e["name"], "hex": e["frame"].hex(), "decoded": e["decoded"]})
    else:
        sys.stdout.write(render_examples())
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="native_client.py",
        description="Reference client for Hypha's native ingest protocol v1 and v2 (docs/protocol.md). "
                    "Prints one JSON object per line. Exit: 0 ok, 1 selftest failed, 2 usage, "
                    "3 server sent ERROR, 4 client-side failure (refused, timeout, early close).")
    sub = p.add_subparsers(dest="command", required=True)

    def conn(sp, daemon_required=True, daemon_default=None):
        sp.add_argument("--host", default="127.0.0.1")
        sp.add_argument("--port", type=int, default=DEFAULT_PORT)
        sp.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="socket timeout in seconds (default 10)")
        if daemon_required:
            sp.add_argument("--daemon-id", required=True)
        else:
            sp.add_argument("--daemon-id", default=daemon_default)
        sp.add_argument("--token", default="")
        sp.add_argument("--region", default="")
        sp.add_argument("--label", action="append", metavar="KEY=VALUE", help="HELLO label (repeatable)")
        sp.add_argument("--protocol-version", type=int, default=None,
                        help="version sent in HELLO (default 1; 2 with --compression or --incarnation)")
        sp.add_argument("--compression", metavar="CODECS", default=None,
                        help="offer these codecs in a version 2 HELLO, comma-separated (this client: lz4); "
                             "batches then go as BATCH_COMPRESSED when the node accepts one")
        sp.add_argument("--incarnation", metavar="HEX", default=None,
                        help="the daemon's incarnation in a version 2 HELLO: 16 lowercase hex digits, not all zero")

    s = sub.add_parser("send", help="HELLO, then B pipelined batches; prints one ACK/NACK line per batch")
    conn(s)
    s.add_argument("--producer-id", type=int, required=True)
    s.add_argument("--first-seq", type=int, required=True)
    s.add_argument("--batches", type=int, required=True)
    s.add_argument("--records-per-batch", type=int, required=True)
    s.add_argument("--tag", default="native")
    s.add_argument("--bad-record-at", type=int, default=None,
                   help="make record I of every batch invalid UTF-8 (message, or metric name)")
    s.add_argument("--metrics", action="store_true", help="send metric records instead of logs")
    s.add_argument("--timestamp", type=int, default=None,
                   help="timestamp (ns) of the first record; record n gets +n (default: now)")
    s.add_argument("--print-hello", action="store_true", help="also print the HELLO_OK line first")
    s.set_defaults(func=cmd_send)

    h = sub.add_parser("hello-only", help="HELLO; prints HELLO_OK (exit 0) or ERROR (exit 3)")
    conn(h)
    h.set_defaults(func=cmd_hello_only)

    r = sub.add_parser("raw", help="send raw bytes, print every frame that comes back, then an END line")
    conn(r, daemon_required=False, daemon_default="raw-client")
    r.add_argument("--hex", required=True, help="bytes to send, in hex (spaces and colons allowed)")
    r.add_argument("--after-hello", action="store_true",
                   help="send a valid HELLO first (its HELLO_OK is not printed)")
    r.add_argument("--max-frames", type=int, default=None, help="stop after N frames")
    r.add_argument("--shutdown-write", action="store_true", help="half-close after sending")
    r.set_defaults(func=cmd_raw)

    hb = sub.add_parser("heartbeat", help="HELLO + one HEARTBEAT; prints the HEARTBEAT_ACK")
    conn(hb)
    hb.add_argument("--backlog-bytes", type=int, default=0)
    hb.add_argument("--oldest-unacked-age-ms", type=int, default=0)
    hb.add_argument("--records-sent", type=int, default=0)
    hb.add_argument("--errors", type=int, default=0)
    hb.add_argument("--extra", action="append", metavar="KEY=VALUE")
    hb.set_defaults(func=cmd_heartbeat)

    ex = sub.add_parser("examples", help="print the annotated hex examples of docs/protocol.md")
    ex.add_argument("--json", action="store_true")
    ex.set_defaults(func=cmd_examples)

    st = sub.add_parser("selftest", help="offline round trips of every encoder/decoder (exit 0 = pass)")
    st.add_argument("-v", "--verbose", action="store_true")
    st.set_defaults(func=lambda a: selftest(a.verbose))
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
