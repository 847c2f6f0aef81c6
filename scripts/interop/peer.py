"""Interoperability checks against Python's `websockets`, another RFC 6455 implementation.

    peer.py client URL   -- drive a server (ours) as a `websockets` client and check its echoes
    peer.py server PORT  -- run a `websockets` echo server on 127.0.0.1:PORT until killed

The client side sends text, binary at every length form of RFC 6455 §5.2, a ping, and a close
with 1000, and fails (exit 1) on any difference.
"""
import sys

from websockets.sync.client import connect
from websockets.sync.server import serve


def run_client(url):
    messages = ["Hello", "κόσμε · ハロー · 🎉", ""]
    messages += [bytes((i * 31) % 251 for i in range(n)) for n in (0, 1, 125, 126, 65535, 65536, 1 << 20)]
    with connect(url, max_size=None, compression=None, open_timeout=10, close_timeout=10) as ws:
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
    print("interop: websockets client: %d messages echoed exactly by %s" % (len(messages), url))
    return 0


def run_server(port):
    def echo(ws):
        for message in ws:
            ws.send(message)

    with serve(echo, "127.0.0.1", port, max_size=None, compression=None) as server:
        server.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "client":
        sys.exit(run_client(sys.argv[2]))
    run_server(int(sys.argv[2]))
