#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets into fuzz/seeds/<target>/.

The seeds are tracked in the repository; this script documents where each one comes from and
rebuilds them. Frames: the examples of RFC 6455 §5.7 and frames at every length form. Handshakes:
the RFC's own (§1.2, §4.1), and requests as sent by browsers and common client libraries.
Run from anywhere: python3 fuzz/seeds/make_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    os.makedirs(os.path.join(HERE, target), exist_ok=True)
    with open(os.path.join(HERE, target, name), "wb") as f:
        f.write(data)


def frame(opcode, payload=b"", fin=True, key=None, rsv=0):
    first = (0x80 if fin else 0) | rsv | opcode
    mask_bit = 0x80 if key is not None else 0
    n = len(payload)
    if n <= 125:
        head = bytes([first, mask_bit | n])
    elif n <= 0xFFFF:
        head = bytes([first, mask_bit | 126]) + struct.pack(">H", n)
    else:
        head = bytes([first, mask_bit | 127]) + struct.pack(">Q", n)
    if key is None:
        return head + payload
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + bytes(key) + masked


KEY = bytes([0x37, 0xFA, 0x21, 0x3D])  # RFC 6455 §5.7


def close(code, reason=b"", key=None):
    return frame(0x8, struct.pack(">H", code) + reason, key=key)


def frame_sets(key):
    """Named frame sequences; `key` masks them (client to server) or not (server to client)."""
    return {
        "s5_7_hello": frame(0x1, b"Hello", key=key),
        "s5_7_fragmented_hello": frame(0x1, b"Hel", fin=False, key=key) + frame(0x0, b"lo", key=key),
        "s5_7_ping": frame(0x9, b"Hello", key=key),
        "s5_7_pong": frame(0xA, b"Hello", key=key),
        "s5_7_binary_256": frame(0x2, bytes(range(256)), key=key),
        "s5_7_binary_65536": frame(0x2, b"\x00" * 65536, key=key),
        "len_125": frame(0x2, b"a" * 125, key=key),
        "len_126": frame(0x2, b"b" * 126, key=key),
        "len_65535": frame(0x2, b"c" * 65535, key=key),
        "text_utf8": frame(0x1, "κόσμε €𝄞".encode(), key=key),
        "text_split_code_point": frame(0x1, "κό".encode()[:3], fin=False, key=key)
        + frame(0x9, b"", key=key)
        + frame(0x0, "κό".encode()[3:], key=key),
        "text_invalid_utf8": frame(0x1, b"\xce\xba\xed\xa0\x80", key=key),
        "close_1000": close(1000, b"bye", key=key),
        "close_empty": frame(0x8, b"", key=key),
        "close_1005_invalid": close(1005, key=key),
        "close_bad_reason": close(1000, b"\xff", key=key),
        "interleaved": frame(0x2, b"ab", fin=False, key=key)
        + frame(0x9, b"p", key=key)
        + frame(0x0, b"cd", fin=False, key=key)
        + frame(0xA, b"q", key=key)
        + frame(0x0, b"ef", key=key)
        + close(1001, key=key),
        "reserved_opcode": frame(0x3, b"x", key=key),
        "rsv1_set": frame(0x1, b"x", key=key, rsv=0x40),
        "fragmented_ping": frame(0x9, b"x", fin=False, key=key),
        "continuation_first": frame(0x0, b"x", key=key),
        "too_large": bytes([0x82, (0x80 if key else 0) | 127]) + struct.pack(">Q", 1 << 40) + (key or b""),
        "length_top_bit": bytes([0x82, (0x80 if key else 0) | 127]) + struct.pack(">Q", 1 << 63) + (key or b""),
        "non_minimal_length": bytes([0x81, (0x80 if key else 0) | 126, 0, 5])
        + (key or b"")
        + (bytes(b ^ key[i % 4] for i, b in enumerate(b"Hello")) if key else b"Hello"),
    }


def frames():
    # frame_decode: 1 byte of chunking seed, then the bytes.
    # Frames of 64 KiB are cut to their first bytes: the header is what matters, and short seeds
    # keep libFuzzer's input length small.
    for name, data in frame_sets(None).items():
        write("frame_decode", name, b"\x00" + data[:300])
    for name, data in frame_sets(KEY).items():
        write("frame_decode", "masked_" + name, b"\x07" + data[:300])
    # Stream targets: 3 option bytes (flags, seed), then the bytes after the handshake.
    for flags in (0x00, 0x01, 0x0D):
        for name, data in frame_sets(KEY).items():
            if "65536" in name or "65535" in name:
                continue
            write("server_stream", f"{name}_{flags:02x}", bytes([flags, 0x12, 0x34]) + data)
        for name, data in frame_sets(None).items():
            if "65536" in name or "65535" in name:
                continue
            write("client_stream", f"{name}_{flags:02x}", bytes([flags, 0x43, 0x21]) + data)


def crlf(text):
    return text.strip("\n").replace("\n", "\r\n").encode() + b"\r\n\r\n"


REQUESTS = {
    # RFC 6455 §1.2 and §4.1.
    "rfc_s1_2": """
GET /chat HTTP/1.1
Host: server.example.com
Upgrade: websocket
Connection: Upgrade
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
Origin: http://example.com
Sec-WebSocket-Protocol: chat, superchat
Sec-WebSocket-Version: 13
""",
    "rfc_s4_1_key": """
GET /chat HTTP/1.1
Host: server.example.com
Upgrade: websocket
Connection: Upgrade
Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEC==
Sec-WebSocket-Version: 13
""",
    "chrome": """
GET /chat HTTP/1.1
Host: localhost:9001
Connection: Upgrade
Pragma: no-cache
Cache-Control: no-cache
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36
Upgrade: websocket
Origin: http://localhost:8080
Sec-WebSocket-Version: 13
Accept-Encoding: gzip, deflate, br, zstd
Accept-Language: en-US,en;q=0.9
Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits
""",
    "firefox": """
GET /socket?room=1 HTTP/1.1
Host: localhost:9001
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0
Accept: */*
Accept-Language: en-US,en;q=0.5
Accept-Encoding: gzip, deflate, br
Sec-WebSocket-Version: 13
Origin: http://localhost:8080
Sec-WebSocket-Protocol: chat
Sec-WebSocket-Extensions: permessage-deflate
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
Connection: keep-alive, Upgrade
Sec-Fetch-Dest: empty
Sec-Fetch-Mode: websocket
Sec-Fetch-Site: same-site
Pragma: no-cache
Cache-Control: no-cache
Upgrade: websocket
""",
    "safari": """
GET / HTTP/1.1
Host: example.com
Upgrade: websocket
Connection: Upgrade
Origin: https://example.com
Sec-WebSocket-Key: 4NPKOgDwc9Zw0Kq6rHn0Xg==
Sec-WebSocket-Version: 13
Sec-WebSocket-Extensions: permessage-deflate
User-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15
Pragma: no-cache
Cache-Control: no-cache
""",
    "python_websockets": """
GET /ws HTTP/1.1
Host: 127.0.0.1:8765
Upgrade: websocket
Connection: Upgrade
Sec-WebSocket-Key: 8HAGv8ddMTt0/PJjJ0jKfQ==
Sec-WebSocket-Version: 13
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits
User-Agent: Python/3.12 websockets/12.0
""",
    "node_ws": """
GET / HTTP/1.1
Sec-WebSocket-Version: 13
Sec-WebSocket-Key: kfbFpVLuFyRdmQSdiJ6mHA==
Connection: Upgrade
Upgrade: websocket
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits
Host: localhost:8080
""",
    "go_gorilla": """
GET /echo HTTP/1.1
Host: localhost:8080
User-Agent: Go-http-client/1.1
Connection: Upgrade
Sec-WebSocket-Key: 3U9JLsgHwIMBgv7y8sUUnA==
Sec-WebSocket-Version: 13
Upgrade: websocket
""",
    "tungstenite": """
GET /socket HTTP/1.1
Host: localhost:3012
Connection: Upgrade
Upgrade: websocket
Sec-WebSocket-Version: 13
Sec-WebSocket-Key: QK5QtjjzKbmSyLQwJUvT3A==
""",
    "curl": """
GET /ws HTTP/1.1
Host: localhost:8080
User-Agent: curl/8.5.0
Accept: */*
Upgrade: websocket
Sec-WebSocket-Version: 13
Sec-WebSocket-Key: 5YmBjFdxrbkBXkU/gXMyJA==
Connection: Upgrade
""",
    "absolute_uri": """
GET http://example.com/chat?x=1 HTTP/1.1
Host: example.com
Upgrade: WebSocket
Connection: keep-alive, upgrade
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
Sec-WebSocket-Version: 13
""",
    "plain_http": """
GET /index.html HTTP/1.1
Host: example.com
Accept: text/html
""",
    "old_version_8": """
GET /chat HTTP/1.1
Host: server.example.com
Upgrade: websocket
Connection: Upgrade
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
Sec-WebSocket-Version: 8
""",
    "post": """
POST /chat HTTP/1.1
Host: server.example.com
Upgrade: websocket
Connection: Upgrade
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
Sec-WebSocket-Version: 13
""",
    "http_1_0": """
GET /chat HTTP/1.0
Host: server.example.com
Upgrade: websocket
Connection: Upgrade
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
Sec-WebSocket-Version: 13
""",
}

# The client of the handshake_response target offers chat, superchat and permessage-deflate,
# and its key comes from MaskKeySource::Seeded(0): f28szbI/Krt7aSeOlHwBxg==.
ACCEPT = "w0CDHW87HUUmIyCOEY+0wbYU0mM="

RESPONSES = {
    "rfc_s1_2_shape": f"""
HTTP/1.1 101 Switching Protocols
Upgrade: websocket
Connection: Upgrade
Sec-WebSocket-Accept: {ACCEPT}
Sec-WebSocket-Protocol: chat
""",
    "node_ws": f"""
HTTP/1.1 101 Switching Protocols
Upgrade: websocket
Connection: Upgrade
Sec-WebSocket-Accept: {ACCEPT}
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15
""",
    "nginx_proxy": f"""
HTTP/1.1 101 Switching Protocols
Server: nginx/1.24.0
Date: Mon, 01 Jan 2024 00:00:00 GMT
Connection: upgrade
Upgrade: WebSocket
Sec-WebSocket-Accept: {ACCEPT}
""",
    "python_websockets": f"""
HTTP/1.1 101 Switching Protocols
Upgrade: websocket
Connection: Upgrade
Sec-WebSocket-Accept: {ACCEPT}
Date: Mon, 01 Jan 2024 00:00:00 GMT
Server: Python/3.12 websockets/12.0
""",
    "wrong_accept": """
HTTP/1.1 101 Switching Protocols
Upgrade: websocket
Connection: Upgrade
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
""",
    "unoffered_protocol": f"""
HTTP/1.1 101 Switching Protocols
Upgrade: websocket
Connection: Upgrade
Sec-WebSocket-Accept: {ACCEPT}
Sec-WebSocket-Protocol: mqtt
""",
    "refused_426": """
HTTP/1.1 426 Upgrade Required
Sec-WebSocket-Version: 13
Upgrade: websocket
Connection: Upgrade, close
Content-Length: 0
""",
    "redirect": """
HTTP/1.1 302 Found
Location: ws://other.example.com/chat
Content-Length: 0
""",
}


def handshakes():
    for name, text in REQUESTS.items():
        write("handshake_request", name, b"\x00" + crlf(text))
        write("handshake_request", name + "_chunked", b"\x05" + crlf(text) + frame(0x1, b"Hello", key=KEY))
    for name, text in RESPONSES.items():
        write("handshake_response", name, b"\x00" + crlf(text))
        write("handshake_response", name + "_chunked", b"\x05" + crlf(text) + frame(0x1, b"Hello"))


def structured():
    # roundtrip and mask take structured input (arbitrary); a few fixed byte strings start them.
    for i, data in enumerate([b"", bytes(range(64)), bytes(range(255, -1, -1)) * 2, b"\x01" * 300]):
        write("roundtrip", f"seed_{i}", data)
        write("mask", f"seed_{i}", data)


def arbitrary_vec(items):
    # arbitrary 1.x: each element of a Vec is preceded by a "keep going" byte (odd: yes).
    out = bytearray()
    for item in items:
        out += b"\x01" + item
    return bytes(out) + b"\x00"


def inflate():
    # The inflate target's Input { params: [u8; 2], chunk_seed: u16, pieces: Vec<Piece> } in
    # arbitrary's encoding. An enum variant is chosen by a u32 (little endian) v as v * 3 >> 32:
    # 0 Compressed, 0x60000000 Raw, 0xffffffff FinalBlock. params 0x1c, 0x17: context takeover,
    # windows of 15 bits, level 1 (0x1f: no context takeover either side).
    def compressed(text, plain, repeat):
        return b"\x00\x00\x00\x00" + bytes([text]) + arbitrary_vec(bytes([b]) for b in plain) + struct.pack("<H", repeat)

    def raw(opcode, fin, rsv1, payload):
        return b"\x00\x00\x00\x60" + bytes([opcode, fin, rsv1]) + arbitrary_vec(bytes([b]) for b in payload)

    def final_block(plain, pad):
        return b"\xff\xff\xff\xff" + arbitrary_vec(bytes([b]) for b in plain) + bytes([pad])

    def seed(params, pieces):
        return bytes(params) + struct.pack("<H", 0) + arbitrary_vec(pieces)

    # RFC 7692 §7.2.3.4: a message that ends in a BFINAL block, then messages that refer back
    # into it (context takeover); without the padding byte; without context takeover.
    write("inflate", "bfinal_then_context_takeover",
          seed([0x1C, 0x17], [final_block(b"Hello", 1), compressed(1, b"Hello", 1), compressed(1, b"Hello", 1)]))
    write("inflate", "bfinal_without_padding",
          seed([0x1C, 0x17], [compressed(1, b"Hello, Hello", 1), final_block(b"Hello", 0),
                              compressed(0, b"Hello, Hello", 3)]))
    write("inflate", "bfinal_no_context_takeover",
          seed([0x1F, 0x17], [final_block(b"abcabc", 1), compressed(1, b"abcabc", 2)]))
    # The RFC's own payload, and data after the final block (fails with 1007).
    write("inflate", "rfc7692_7_2_3_4_payload",
          seed([0x1C, 0x17], [raw(1, 1, 1, bytes([0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0x00]))]))
    write("inflate", "data_after_bfinal",
          seed([0x1C, 0x17], [raw(1, 1, 1, bytes([0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00,
                                                  0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]))]))


def h2_stream():
    """What a client sends on its extended CONNECT stream (RFC 8441 §5), after 2 chunking bytes."""
    write("h2_stream", "hello_close", b"\x00\x01" + frame(0x1, b"Hello", key=KEY) + close(1000, key=KEY))
    write("h2_stream", "fragmented_ping_close",
          b"\x00\x02" + frame(0x1, b"Hel", fin=False, key=KEY) + frame(0x9, b"ping", key=KEY)
          + frame(0x0, b"lo", key=KEY) + close(1001, b"bye", key=KEY))
    write("h2_stream", "binary_bytewise", b"\x00\x00" + frame(0x2, bytes(range(40)), key=KEY) + close(1000, key=KEY))
    write("h2_stream", "unmasked_text", b"\x00\x03" + frame(0x1, b"Hello"))
    write("h2_stream", "close_empty", b"\x01\x07" + frame(0x8, key=KEY))


if __name__ == "__main__":
    frames()
    handshakes()
    structured()
    inflate()
    h2_stream()
