// An independent HTTP/2 client (Node's http2 module, on nghttp2) against this crate's HTTP/2
// server (RFC 8441): over cleartext h2c with prior knowledge, or https:// with the test CA.
//
//   node scripts/interop/h2_client.js http://127.0.0.1:PORT [CA.pem]
//
// It checks, printing one line each:
//   - the server's SETTINGS carry SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3);
//   - GET / is served on the connection;
//   - several WebSockets opened with extended CONNECT (RFC 8441 §4, §5) on the same connection
//     at once each get 200 and echo text messages (frames masked by hand here, RFC 6455 §5.3),
//     with their frames interleaved on the connection;
//   - each WebSocket's closing handshake ends with the server's END_STREAM (RFC 8441 §5);
//   - a wrong sec-websocket-version is answered 400 with sec-websocket-version: 13.
// Exit status 0 when every check passes.
'use strict';

const http2 = require('http2');
const crypto = require('crypto');
const fs = require('fs');

const url = process.argv[2];
const ca = process.argv[3] ? fs.readFileSync(process.argv[3]) : undefined;
const SOCKETS = 6;
const MESSAGES = 20;

function fail(message) {
  console.error('h2 interop FAILED: ' + message);
  process.exit(1);
}

setTimeout(() => fail('no result within 30 s'), 30000).unref();

// One masked client frame (RFC 6455 §5.2, §5.3).
function frame(opcode, payload) {
  const key = crypto.randomBytes(4);
  let header;
  if (payload.length < 126) {
    header = Buffer.from([0x80 | opcode, 0x80 | payload.length]);
  } else if (payload.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  const masked = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) masked[i] = payload[i] ^ key[i % 4];
  return Buffer.concat([header, key, masked]);
}

// Unmasked server frames out of a growing buffer: [{opcode, payload}], and what is left.
function parseFrames(buffer) {
  const frames = [];
  for (;;) {
    if (buffer.length < 2) break;
    const masked = (buffer[1] & 0x80) !== 0;
    if (masked) fail('a server frame is masked (RFC 6455 §5.1)');
    let len = buffer[1] & 0x7f;
    let at = 2;
    if (len === 126) {
      if (buffer.length < 4) break;
      len = buffer.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      if (buffer.length < 10) break;
      len = Number(buffer.readBigUInt64BE(2));
      at = 10;
    }
    if (buffer.length < at + len) break;
    frames.push({ fin: (buffer[0] & 0x80) !== 0, opcode: buffer[0] & 0x0f, payload: buffer.subarray(at, at + len) });
    buffer = buffer.subarray(at + len);
  }
  return { frames, rest: buffer };
}

function request(session, headers, body) {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let response;
    const chunks = [];
    stream.on('response', h => { response = h; });
    stream.on('data', c => chunks.push(c));
    stream.on('end', () => resolve({ headers: response, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

function websocket(session, authority, index) {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': url.startsWith('https') ? 'https' : 'http',
      ':path': '/echo',
      ':authority': authority,
      'sec-websocket-version': '13',
    }, { endStream: false });
    let buffer = Buffer.alloc(0);
    const echoes = [];
    let closed = false;
    let ended = false;
    stream.on('response', headers => {
      if (headers[':status'] !== 200) reject(new Error('socket ' + index + ': status ' + headers[':status']));
      for (let m = 0; m < MESSAGES; m++) stream.write(frame(1, Buffer.from('socket ' + index + ' message ' + m)));
    });
    stream.on('data', chunk => {
      buffer = Buffer.concat([buffer, chunk]);
      const parsed = parseFrames(buffer);
      buffer = parsed.rest;
      for (const f of parsed.frames) {
        if (f.opcode === 1) {
          echoes.push(f.payload.toString());
          if (echoes.length === MESSAGES) {
            const code = Buffer.alloc(2);
            code.writeUInt16BE(1000, 0);
            stream.write(frame(8, code));
          }
        } else if (f.opcode === 8) {
          closed = true;
          // Our side of the transport, after the closing handshake: END_STREAM.
          stream.end();
        }
      }
    });
    stream.on('end', () => { ended = true; });
    stream.on('close', () => {
      const expected = Array.from({ length: MESSAGES }, (_, m) => 'socket ' + index + ' message ' + m);
      if (JSON.stringify(echoes) !== JSON.stringify(expected)) {
        reject(new Error('socket ' + index + ': echoes differ: ' + JSON.stringify(echoes.slice(0, 3))));
      } else if (!closed) {
        reject(new Error('socket ' + index + ': no Close from the server (rst code ' + stream.rstCode + ')'));
      } else if (!ended) {
        reject(new Error('socket ' + index + ': the server did not end its stream with END_STREAM'));
      } else {
        resolve(stream.id);
      }
    });
    stream.on('error', reject);
  });
}

async function main() {
  const session = http2.connect(url, ca ? { ca } : {});
  session.on('error', e => fail('session: ' + e.message));
  const settings = await new Promise(resolve => session.once('remoteSettings', resolve));
  if (!settings.enableConnectProtocol) fail('SETTINGS_ENABLE_CONNECT_PROTOCOL is not 1');
  console.log('  SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3)');
  const authority = new URL(url).host;

  const page = await request(session, { ':path': '/' });
  if (page.headers[':status'] !== 200) fail('GET /: status ' + page.headers[':status']);
  console.log('  GET / on the connection: 200, ' + page.body.length + ' bytes');

  const ids = await Promise.all(Array.from({ length: SOCKETS }, (_, i) => websocket(session, authority, i)));
  console.log('  ' + SOCKETS + ' WebSockets at once on one connection (streams ' + ids.join(', ') + '): '
    + MESSAGES + ' echoes each, in order; Close answered; END_STREAM both ways');

  const wrong = session.request({
    ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': url.startsWith('https') ? 'https' : 'http',
    ':path': '/echo', ':authority': authority, 'sec-websocket-version': '8',
  }, { endStream: false });
  const refused = await new Promise(resolve => wrong.on('response', resolve));
  wrong.close();
  if (refused[':status'] !== 400 || refused['sec-websocket-version'] !== '13') {
    fail('a wrong version got ' + refused[':status'] + ' with sec-websocket-version ' + refused['sec-websocket-version']);
  }
  console.log('  sec-websocket-version: 8 refused with 400 and sec-websocket-version: 13');
  session.close();
  console.log('h2 interop passed: Node ' + process.version + ' (nghttp2 ' + process.versions.nghttp2 + ') against ' + url);
}

main().catch(e => fail(e.message));
