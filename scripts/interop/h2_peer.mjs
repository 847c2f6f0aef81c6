// Interoperability checks of WebSockets over HTTP/2 (RFC 8441) against Node's own `http2`
// module, an HTTP/2 implementation independent of the Rust `h2` crate. No npm packages: the
// WebSocket framing (RFC 6455 §5) is written out below, small and separate from the crate's.
//
//   node h2_peer.mjs server PORT [CERT KEY]  -- serve on 127.0.0.1:PORT (h2c, or TLS with ALPN h2
//        when CERT and KEY are given) with SETTINGS_ENABLE_CONNECT_PROTOCOL, answer each
//        extended CONNECT for `websocket` with 200 after checking its pseudo-headers and headers,
//        and echo every data frame; `/refuse` gets 404. One line per stream on stdout:
//        `stream id=N path=P frames=F close=C end_stream=true|false rst=R problems=...`.
//   node h2_peer.mjs client URL [CA] [STREAMS] -- open STREAMS (default 3) WebSockets on one
//        HTTP/2 connection to a server (ours), send masked frames on all of them interleaved,
//        check every echo, the Pong, the closing handshake and the server's END_STREAM. Prints
//        `h2_peer client: N/M checks passed` and exits 1 on any failure.

import http2 from 'node:http2';
import fs from 'node:fs';
import crypto from 'node:crypto';

const [mode, ...args] = process.argv.slice(2);

// ---- RFC 6455 §5.2 framing -------------------------------------------------------------------

/** One frame: FIN, opcode, payload; masked with a fresh key if `mask` (a client's frames). */
function encodeFrame(opcode, payload, mask, fin = true) {
  const len = payload.length;
  const head = [(fin ? 0x80 : 0) | opcode];
  const maskBit = mask ? 0x80 : 0;
  if (len < 126) {
    head.push(maskBit | len);
  } else if (len < 65536) {
    head.push(maskBit | 126, len >> 8, len & 0xff);
  } else {
    head.push(maskBit | 127, 0, 0, 0, 0, (len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = crypto.randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([Buffer.from(head), key, body]);
}

/** Takes bytes in any chunking; calls `onFrame({fin, opcode, masked, payload})` per frame. */
class FrameReader {
  constructor(onFrame, onError) {
    this.buf = Buffer.alloc(0);
    this.onFrame = onFrame;
    this.onError = onError;
  }
  push(chunk) {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0], b1 = this.buf[1];
      if (b0 & 0x70) return this.onError('reserved bits set');
      const masked = (b1 & 0x80) !== 0;
      let len = b1 & 0x7f;
      let at = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        at = 10;
      }
      const keyAt = at;
      if (masked) at += 4;
      if (this.buf.length < at + len) return;
      const payload = Buffer.from(this.buf.subarray(at, at + len));
      if (masked) {
        const key = this.buf.subarray(keyAt, keyAt + 4);
        for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
      }
      this.buf = this.buf.subarray(at + len);
      this.onFrame({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, masked, payload });
    }
  }
}

// ---- server ----------------------------------------------------------------------------------

/** RFC 8441 §4, §5: what an extended CONNECT for a WebSocket must and must not carry. */
function requestProblems(headers) {
  const problems = [];
  for (const pseudo of [':scheme', ':path', ':authority']) {
    if (!headers[pseudo]) problems.push(`no ${pseudo}`);
  }
  if (headers['sec-websocket-version'] !== '13') problems.push('sec-websocket-version is not 13');
  for (const name of ['sec-websocket-key', 'connection', 'upgrade', 'host']) {
    if (name in headers) problems.push(`carries ${name}`);
  }
  return problems;
}

function runServer(port, cert, key) {
  const settings = { enableConnectProtocol: true };
  const server = cert
    ? http2.createSecureServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key), settings, ALPNProtocols: ['h2'] })
    : http2.createServer({ settings });
  server.on('stream', (stream, headers) => {
    if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== 'websocket') {
      stream.respond({ ':status': 404 });
      stream.end('not a WebSocket');
      return;
    }
    const path = headers[':path'];
    const problems = requestProblems(headers);
    const report = { frames: 0, close: '-', endStream: false };
    // A reset stream ends its readable side too; only an 'end' before any RST_STREAM is the
    // client's END_STREAM.
    stream.on('end', () => { report.endStream = !stream.rstCode; });
    stream.on('close', () => {
      console.log(
        `stream id=${stream.id} path=${path} frames=${report.frames} close=${report.close} ` +
          `end_stream=${report.endStream} rst=${stream.rstCode} problems=${problems.join(';') || 'none'}`,
      );
    });
    if (path === '/refuse') {
      stream.respond({ ':status': 404, 'content-type': 'text/plain' });
      stream.end('no such room');
      return;
    }
    if (problems.length) {
      stream.respond({ ':status': 400 });
      stream.end(problems.join('\n'));
      return;
    }
    const answer = { ':status': 200 };
    const offered = (headers['sec-websocket-protocol'] || '').split(',').map((s) => s.trim()).filter(Boolean);
    if (offered.length) answer['sec-websocket-protocol'] = offered[0];
    stream.respond(answer);
    let closed = false;
    const reader = new FrameReader(
      ({ fin, opcode, masked, payload }) => {
        if (closed) return;
        report.frames++;
        // RFC 6455 §5.1: a server MUST close the connection on an unmasked client frame.
        if (!masked) {
          report.close = 'unmasked';
          stream.close(http2.constants.NGHTTP2_CANCEL);
          return;
        }
        if (opcode === 0x8) {
          // Echo the Close, then end our side of the stream (RFC 8441 §5: the TCP FIN).
          closed = true;
          report.close = payload.length >= 2 ? String(payload.readUInt16BE(0)) : 'empty';
          stream.end(encodeFrame(0x8, payload.subarray(0, 2), false));
        } else if (opcode === 0x9) {
          stream.write(encodeFrame(0xa, payload, false));
        } else if (opcode !== 0xa) {
          stream.write(encodeFrame(opcode, payload, false, fin));
        }
      },
      (why) => {
        report.close = why;
        stream.close(http2.constants.NGHTTP2_CANCEL);
      },
    );
    stream.on('data', (chunk) => reader.push(chunk));
  });
  server.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`));
  process.on('SIGTERM', () => process.exit(0));
}

// ---- client ----------------------------------------------------------------------------------

function payloads(stream) {
  const list = [
    [0x1, Buffer.from(`hello from stream ${stream}`)],
    [0x1, Buffer.from('κόσμε · ハロー · 🎉')],
    [0x1, Buffer.alloc(0)],
  ];
  for (const size of [0, 1, 125, 126, 65535, 65536, 300000]) {
    const b = Buffer.alloc(size);
    for (let i = 0; i < size; i++) b[i] = (i * 31 + stream) % 251;
    list.push([0x2, b]);
  }
  return list;
}

async function runClient(url, ca, streamCount) {
  const target = new URL(url.replace(/^ws/, 'http'));
  const session = http2.connect(target.origin, ca ? { ca: fs.readFileSync(ca) } : {});
  let checks = 0;
  let passed = 0;
  const failures = [];
  const check = (ok, what) => {
    checks++;
    if (ok) passed++;
    else failures.push(what);
  };
  session.on('error', (e) => failures.push(`session: ${e.message}`));
  const settings = await new Promise((resolve, reject) => {
    session.once('remoteSettings', resolve);
    session.once('error', reject);
  });
  check(settings.enableConnectProtocol === true, 'the server sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1');

  const one = (n) =>
    new Promise((resolve) => {
      const req = session.request({
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':scheme': target.protocol.replace(':', ''),
        ':path': target.pathname + target.search,
        ':authority': target.host,
        'sec-websocket-version': '13',
      });
      const expected = payloads(n);
      const queue = [];
      let status = 0;
      let closeSeen = false;
      let endSeen = false;
      const finish = () => {
        check(queue.length === 0, `stream ${n}: every echo arrived`);
        check(closeSeen, `stream ${n}: the server answered the Close with 1000`);
        check(endSeen, `stream ${n}: the server ended the stream (END_STREAM) after the Close`);
        resolve();
      };
      req.on('response', (headers) => {
        status = headers[':status'];
        check(status === 200, `stream ${n}: 200 (got ${status})`);
        // Interleaved with the other streams: all messages go out at once.
        for (const [opcode, payload] of expected) {
          req.write(encodeFrame(opcode, payload, true));
          queue.push([opcode, payload]);
        }
        req.write(encodeFrame(0x9, Buffer.from(`ping ${n}`), true));
        queue.push([0xa, Buffer.from(`ping ${n}`)]);
      });
      const reader = new FrameReader(
        ({ fin, opcode, masked, payload }) => {
          check(!masked, `stream ${n}: server frames are unmasked (RFC 6455 §5.1)`);
          if (opcode === 0x8) {
            closeSeen = payload.length >= 2 && payload.readUInt16BE(0) === 1000;
            return;
          }
          const next = queue.shift();
          const same = next && fin && next[0] === opcode && Buffer.compare(next[1], payload) === 0;
          check(same, `stream ${n}: echo ${expected.length - queue.length} is exact`);
          if (queue.length === 0) {
            const code = Buffer.alloc(2);
            code.writeUInt16BE(1000);
            req.write(encodeFrame(0x8, code, true));
          }
        },
        (why) => failures.push(`stream ${n}: ${why}`),
      );
      req.on('data', (chunk) => reader.push(chunk));
      req.on('end', () => {
        endSeen = true;
        // RFC 6455 §7.1.1: the server closed first; now our side.
        req.end();
      });
      req.on('close', finish);
      req.on('error', (e) => failures.push(`stream ${n}: ${e.message}`));
    });

  const streams = [];
  for (let n = 1; n <= streamCount; n++) streams.push(one(n));
  const timer = setTimeout(() => {
    failures.push('timed out');
    report();
  }, 30000);
  await Promise.all(streams);
  clearTimeout(timer);
  session.close();
  report();

  function report() {
    console.log(`h2_peer client: ${passed}/${checks} checks passed on ${streamCount} streams of one connection`);
    for (const f of failures) console.log(`  FAILED: ${f}`);
    process.exit(failures.length === 0 && passed === checks && checks > 0 ? 0 : 1);
  }
}

if (mode === 'server') {
  runServer(Number(args[0]), args[1], args[2]);
} else if (mode === 'client') {
  runClient(args[0], args[1] || undefined, Number(args[2] || 3)).catch((e) => {
    console.log(`h2_peer client: FAILED: ${e.message}`);
    process.exit(1);
  });
} else {
  console.error('usage: node h2_peer.mjs server PORT [CERT KEY] | client URL [CA] [STREAMS]');
  process.exit(2);
}
