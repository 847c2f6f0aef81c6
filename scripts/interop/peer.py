"""Interoperability checks against Python's `websockets`, another RFC 6455 implementation.

    peer.py client URL [CA.pem]  -- drive a server (ours) as a `websockets` client and check its
                                    echoes; for wss:// URLs, trust only the CA in CA.pem
    peer.py server PORT  -- run a `websockets` echo server on 127.0.0.1:PORT until killed

The client side sends text, binary at every length form of RFC 6455 §5.2, a ping, and a close
with 1000, and fails (exit 1) on any difference.
"""
import ssl
import sys

from websockets.sync.client import connect
from websockets.sync.server import serve


def run_client(url, cafile=None):
    messages = ["Hello", "κόσμε · ハロー · 🎉", ""]
    messages += [bytes((i * 31) % 251 for i in range(n)) for n in (0, 1, 125, 126, 65535, 65536, 1 << 20)]
    tls = {}
    if url.startswith("wss://"):
        # Verifies the chain to the CA and the host name, as any TLS client does.
        tls["ssl"] = ssl.create_default_context(cafile=cafile)
    with connect(url, max_size=None, compression=None, open_timeout=10, close_timeout=10, **tls) as ws:
        if url.startswith("wss://"):
            tls_info = ws.socket.version(), ws.socket.cipher()[0]
        for sent in messages:
            ws.send(sent)
            echoed = ws.recv(timeout=10)
            if echoed != sent:
                print("interop: echo differs for %r..." % (sent[:20],), file=sys.stderr)
                return 1
        pong = ws.ping(b"ping payload")
        if not pong.wait(10):
            print("interop: no pong", file=sys.stderr)
            return 1
        ws.close(1000, "done")
        if ws.close_code != 1000:
            print("interop: server closed with %r" % (ws.close_code,), file=sys.stderr)
            return 1
    over = " over %s (%s)" % tls_info if url.startswith("wss://") else ""
    print("interop: websockets client: %d messages echoed exactly by %s%s" % (len(messages), url, over))
    return 0


def run_server(port):
    def echo(ws):
        for message in ws:
            ws.send(message)

    with serve(echo, "127.0.0.1", port, max_size=None, compression=None) as server:
        server.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "client":
        sys.exit(run_client(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
    run_server(int(sys.argv[2]))
