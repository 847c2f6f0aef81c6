// The frame inspector panel the demos share (server side: examples/common/inspector.rs).
//
// A page includes <script src="/inspector.js"></script>, opens its app socket at
// Inspector.wsUrl(url) (which adds ?inspect=1), and starts its onmessage with
// `if (Inspector.take(event.data)) return;` so the token message never reaches the app.
// A toggle button opens a panel beside the page that shows this page's own connection's
// frames, as the server saw and sent them, field by field (RFC 6455 §5.2). The panel streams
// over a second WebSocket to /inspector?token=..., opened only while the panel is open.
(function () {
  'use strict';

  const STORE = 'rfc6455-inspector-open';
  const MAX_ITEMS = 400;

  // RFC 6455 §5.2, as printed in the RFC.
  const DIAGRAM = [
    '  0                   1                   2                   3',
    '  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1',
    ' +-+-+-+-+-------+-+-------------+-------------------------------+',
    ' |F|R|R|R| opcode|M| Payload len |    Extended payload length    |',
    ' |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |',
    ' |N|V|V|V|       |S|             |   (if payload len==126/127)   |',
    ' | |1|2|3|       |K|             |                               |',
    ' +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +',
    ' |     Extended payload length continued, if payload len == 127  |',
    ' + - - - - - - - - - - - - - - - +-------------------------------+',
    ' |                               |Masking-key, if MASK set to 1  |',
    ' +-------------------------------+-------------------------------+',
    ' | Masking-key (continued)       |          Payload Data         |',
    ' +-------------------------------- - - - - - - - - - - - - - - - +',
  ].join('\n');

  // What each field is, and where the RFC says so.
  const TIPS = {
    fin: ['FIN', 'RFC 6455 §5.2', '1 bit. 1 means this is the final fragment of its message; 0 means more fragments follow (§5.4).'],
    rsv1: ['RSV1', 'RFC 6455 §5.2, RFC 7692 §6', '1 bit. Must be 0 unless an extension defines it: permessage-deflate sets it on the first frame of a compressed message.'],
    rsv2: ['RSV2', 'RFC 6455 §5.2', '1 bit. Must be 0: no extension negotiated here defines it.'],
    rsv3: ['RSV3', 'RFC 6455 §5.2', '1 bit. Must be 0: no extension negotiated here defines it.'],
    opcode: ['opcode', 'RFC 6455 §5.2, §11.8', '4 bits. 0x0 continuation, 0x1 text, 0x2 binary, 0x8 close, 0x9 ping, 0xA pong; the rest are reserved and fail the connection with 1002.'],
    mask: ['MASK', 'RFC 6455 §5.2, §5.1', '1 bit. 1 when a masking key follows. Every frame from a browser (a client) is masked; frames from the server never are.'],
    len7: ['Payload len (7 bits)', 'RFC 6455 §5.2', '0-125: the payload length itself. 126: a 16-bit length follows. 127: a 64-bit length follows. The shortest form MUST be used.'],
    extlen: ['Extended payload length', 'RFC 6455 §5.2', '2 bytes (when the 7-bit field is 126) or 8 bytes (127), in network byte order.'],
    key: ['Masking-key', 'RFC 6455 §5.3', '4 bytes, chosen at random for each frame. Payload byte i is XORed with key byte i mod 4, so intermediaries cannot be tricked by predictable bytes (§10.3).'],
    wire: ['Payload data, as on the wire', 'RFC 6455 §5.2, §5.3', 'The payload bytes exactly as they crossed the network: masked when the frame is masked.'],
    payload: ['Payload data, unmasked', 'RFC 6455 §5.3', 'The payload after XOR with the masking key: what the application sent. Text is UTF-8 (§5.6).'],
    compressed: ['Compressed payload', 'RFC 7692 §7.2', 'The message was DEFLATE-compressed by permessage-deflate; the receiver inflates it after joining its fragments.'],
    close: ['Close code and reason', 'RFC 6455 §5.5.1, §7.4', 'A Close payload starts with a 2-byte status code, followed by a UTF-8 reason. The receiver answers with a Close of its own.'],
    ping: ['Ping', 'RFC 6455 §5.5.2', 'A control frame that asks for a Pong with the same payload.'],
    pong: ['Pong', 'RFC 6455 §5.5.3', 'The answer to a Ping (same payload), or a one-way heartbeat.'],
    message: ['Message', 'RFC 6455 §5.4', 'A message is one frame with FIN set, or a first frame (text or binary) followed by continuation frames, the last with FIN set. Control frames may come between fragments.'],
    handshake: ['Opening handshake', 'RFC 6455 §4.1, §4.2.2', 'An HTTP/1.1 Upgrade request with a random Sec-WebSocket-Key; the server answers 101 with Sec-WebSocket-Accept = base64(SHA-1(key + 258EAFA5-E914-47DA-95CA-C5AB0DC85B11)).'],
  };

  const CLOSE_CODES = {
    1000: 'normal closure', 1001: 'going away', 1002: 'protocol error', 1003: 'unsupported data',
    1005: 'no status received', 1006: 'abnormal closure', 1007: 'invalid frame payload data',
    1008: 'policy violation', 1009: 'message too big', 1010: 'mandatory extension',
    1011: 'internal error', 1012: 'service restart', 1013: 'try again later', 1014: 'bad gateway',
  };

  const state = {
    token: null,
    socket: null,
    open: false,
    groups: new Map(),
    dropped: 0,
    frames: 0,
    ended: false,
  };
  let panel = null;
  let list = null;
  let statusLine = null;
  let tip = null;
  let toggleButton = null;
  let handshakeBox = null;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function bytesOf(hex) {
    const out = [];
    for (let i = 0; i + 1 < (hex || '').length; i += 2) out.push(parseInt(hex.substr(i, 2), 16));
    return out;
  }

  function hexOf(bytes) {
    return bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
  }

  function utf8(bytes) {
    return new TextDecoder('utf-8', { fatal: false }).decode(new Uint8Array(bytes));
  }

  function setStatus(text) {
    if (statusLine) statusLine.textContent = text;
  }

  // --- the app socket's side -------------------------------------------------------------

  function wsUrl(url) {
    return url + (url.includes('?') ? '&' : '?') + 'inspect=1';
  }

  // The token message ({"type": "inspector", ...}) is the inspector's, not the app's.
  function take(data) {
    if (typeof data !== 'string' || !data.startsWith('{"') || !data.includes('"inspector"')) return false;
    let message;
    try {
      message = JSON.parse(data);
    } catch (e) {
      return false;
    }
    if (message.type !== 'inspector' || !message.payload || !message.payload.token) return false;
    const fresh = state.token !== null;
    state.token = message.payload.token;
    state.ended = false;
    if (fresh && list) list.appendChild(el('li', 'insp-note', 'The page reconnected: a new connection, with its own handshake.'));
    if (state.open) connect();
    return true;
  }

  // --- the inspector socket --------------------------------------------------------------

  function connect() {
    disconnect();
    if (!state.token) {
      setStatus('waiting for the page to connect…');
      return;
    }
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(scheme + '//' + location.host + '/inspector?token=' + encodeURIComponent(state.token));
    state.socket = socket;
    setStatus('connecting…');
    socket.onopen = () => setStatus('live: ' + state.frames + ' frames');
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (message.type === 'records') {
        const stick = atEnd();
        if (message.dropped > 0) {
          state.dropped += message.dropped;
          list.appendChild(el('li', 'insp-note insp-dropped', message.dropped + ' records dropped: the panel fell behind (the server keeps a bounded queue and never slows the app for it).'));
        }
        message.entries.forEach(render);
        trim();
        setStatus('live: ' + state.frames + ' frames' + (state.dropped ? ', ' + state.dropped + ' dropped' : ''));
        if (stick) list.scrollTop = list.scrollHeight;
      } else if (message.type === 'ended') {
        state.ended = true;
        setStatus('the connection ended (' + state.frames + ' frames)');
      }
    };
    socket.onclose = () => {
      if (state.socket === socket) state.socket = null;
      if (!state.ended && state.open) setStatus('inspector disconnected');
    };
  }

  function disconnect() {
    if (state.socket) {
      const socket = state.socket;
      state.socket = null;
      socket.onclose = null;
      socket.close();
    }
  }

  // --- rendering -------------------------------------------------------------------------

  function render(entry) {
    if (entry.kind === 'handshake') renderHandshake(entry);
    else if (entry.kind === 'frame') renderFrame(entry);
    else if (entry.kind === 'message') renderMessage(entry);
  }

  function renderHandshake(entry) {
    handshakeBox.replaceChildren();
    const summary = el('summary', '', 'Opening handshake (§4.1, §4.2.2): GET → 101');
    summary.dataset.tip = 'handshake';
    handshakeBox.appendChild(summary);
    handshakeBox.appendChild(el('h4', '', 'Request (browser → server)'));
    handshakeBox.appendChild(el('pre', 'insp-http', entry.request));
    handshakeBox.appendChild(el('h4', '', 'Response (server → browser)'));
    handshakeBox.appendChild(el('pre', 'insp-http', entry.response));
    handshakeBox.hidden = false;
  }

  function direction(dir) {
    return dir === 'received' ? 'browser → server' : 'server → browser';
  }

  // One labelled cell of the header's bit view.
  function bits(value, width, field, label) {
    const cell = el('span', 'insp-bits insp-f-' + field);
    cell.dataset.tip = field;
    cell.dataset.field = field;
    cell.dataset.value = String(value);
    cell.appendChild(el('b', '', value.toString(2).padStart(width, '0')));
    cell.appendChild(el('small', '', label));
    return cell;
  }

  function byteRun(bytes, field, label) {
    const run = el('span', 'insp-run insp-f-' + field);
    run.dataset.tip = field;
    run.dataset.field = field;
    run.dataset.value = hexOf(bytes).replace(/ /g, '');
    run.appendChild(el('code', '', hexOf(bytes)));
    run.appendChild(el('small', '', label));
    return run;
  }

  function fieldRow(dl, field, label, value) {
    const dt = el('dt', 'insp-f-' + field, label);
    dt.dataset.tip = field;
    const dd = el('dd', '', value);
    dd.dataset.field = field;
    dl.appendChild(dt);
    dl.appendChild(dd);
    return dd;
  }

  function renderFrame(f) {
    state.frames += 1;
    const header = bytesOf(f.header);
    const wire = bytesOf(f.wire);
    const payload = bytesOf(f.payload);
    const item = el('li', 'insp-frame insp-' + f.dir + ' insp-op-' + f.opcode_name);
    item.dataset.seq = f.seq;
    item.dataset.dir = f.dir;
    item.dataset.hex = f.header + f.wire;
    item.dataset.opcode = f.opcode;
    item.dataset.fin = f.fin ? '1' : '0';
    item.dataset.masked = f.masked ? '1' : '0';
    item.dataset.len = f.payload_len;
    item.dataset.payload = f.payload;

    const head = el('div', 'insp-head');
    head.appendChild(el('span', 'insp-dir', direction(f.dir)));
    const op = el('span', 'insp-badge insp-badge-' + f.opcode_name, f.opcode_name);
    op.dataset.tip = ['ping', 'pong', 'close'].includes(f.opcode_name) ? f.opcode_name : 'opcode';
    head.appendChild(op);
    head.appendChild(el('span', 'insp-len', f.payload_len + ' B'));
    if (f.message) {
      const m = el('span', 'insp-msg', 'message #' + f.message + (f.fin ? '' : ' (more fragments follow)'));
      m.dataset.tip = 'message';
      head.appendChild(m);
    }
    if (f.compressed && (f.opcode === 1 || f.opcode === 2)) {
      const c = el('span', 'insp-badge insp-badge-deflate', 'deflate');
      c.dataset.tip = 'compressed';
      head.appendChild(c);
    }
    head.appendChild(el('span', 'insp-seq', '#' + f.seq));
    item.appendChild(head);

    // The first two bytes, bit by bit (§5.2), then the rest of the header and the payload.
    const view = el('div', 'insp-bytes');
    const b0 = header[0] || 0;
    const b1 = header[1] || 0;
    view.appendChild(bits(b0 >> 7, 1, 'fin', 'FIN'));
    view.appendChild(bits((b0 >> 6) & 1, 1, 'rsv1', 'RSV1'));
    view.appendChild(bits((b0 >> 5) & 1, 1, 'rsv2', 'RSV2'));
    view.appendChild(bits((b0 >> 4) & 1, 1, 'rsv3', 'RSV3'));
    view.appendChild(bits(b0 & 0x0f, 4, 'opcode', 'opcode'));
    view.appendChild(bits(b1 >> 7, 1, 'mask', 'MASK'));
    view.appendChild(bits(b1 & 0x7f, 7, 'len7', 'len'));
    const ext = f.length_form === 16 ? 2 : f.length_form === 64 ? 8 : 0;
    if (ext) view.appendChild(byteRun(header.slice(2, 2 + ext), 'extlen', ext * 8 + '-bit length'));
    if (f.masked) view.appendChild(byteRun(header.slice(2 + ext, 6 + ext), 'key', 'masking key'));
    if (wire.length) {
      const more = f.payload_len > wire.length ? ' (first ' + wire.length + ' of ' + f.payload_len + ')' : '';
      view.appendChild(byteRun(wire, 'wire', (f.masked ? 'payload, masked' : 'payload') + more));
    }
    item.appendChild(view);

    const dl = el('dl', 'insp-fields');
    fieldRow(dl, 'fin', 'FIN', f.fin ? '1: final fragment' : '0: more fragments follow');
    fieldRow(dl, 'rsv1', 'RSV1 RSV2 RSV3', [f.rsv1, f.rsv2, f.rsv3].map((b) => (b ? 1 : 0)).join(' ') + (f.rsv1 ? ': RSV1 marks a compressed message' : ''));
    fieldRow(dl, 'opcode', 'opcode', '0x' + f.opcode.toString(16) + ': ' + f.opcode_name);
    fieldRow(dl, 'mask', 'MASK', f.masked ? '1: masked (from the browser)' : '0: not masked (from the server)');
    fieldRow(dl, 'len7', 'length', f.payload_len + ' bytes, ' + f.length_form + '-bit form');
    if (f.masked) fieldRow(dl, 'key', 'masking key', hexOf(header.slice(2 + ext, 6 + ext)));
    renderPayload(dl, f, payload);
    item.appendChild(dl);

    place(item, f);
  }

  function renderPayload(dl, f, payload) {
    if (f.opcode_name === 'close') {
      if (payload.length >= 2) {
        const code = (payload[0] << 8) | payload[1];
        const name = CLOSE_CODES[code] || (code >= 4000 ? 'application-defined' : code >= 3000 ? 'registered' : 'unknown');
        const dd = fieldRow(dl, 'close', 'close code', code + ' (' + name + ')');
        dd.dataset.code = code;
        fieldRow(dl, 'close', 'reason', payload.length > 2 ? '"' + utf8(payload.slice(2)) + '"' : '(none)');
      } else {
        fieldRow(dl, 'close', 'close code', 'none (an empty Close payload: 1005 to the application)');
      }
      return;
    }
    if (!payload.length) {
      fieldRow(dl, 'payload', 'payload', '(empty)');
      return;
    }
    const cut = f.payload_len > payload.length ? '…' : '';
    if (f.compressed) {
      fieldRow(dl, 'compressed', 'payload', 'DEFLATE data: ' + hexOf(payload) + cut);
    } else if (f.opcode === 2 || (f.opcode === 0 && groupKind(f) === 'binary')) {
      fieldRow(dl, 'payload', 'payload', hexOf(payload) + cut);
    } else {
      const dd = fieldRow(dl, 'payload', 'payload', utf8(payload) + cut);
      dd.classList.add('insp-text');
    }
  }

  function groupKind(f) {
    const group = state.groups.get(f.dir + ':' + f.message);
    return group ? group.kind : 'text';
  }

  // Data frames go into their message's group; control frames stand alone.
  function place(item, f) {
    if (!f.message) {
      list.appendChild(el('li', 'insp-solo')).appendChild(item);
      return;
    }
    const key = f.dir + ':' + f.message;
    let group = state.groups.get(key);
    if (!group || f.opcode !== 0) {
      const box = el('li', 'insp-message insp-' + f.dir);
      const title = el('div', 'insp-message-title', direction(f.dir) + ': message #' + f.message + ' (' + f.opcode_name + ')');
      title.dataset.tip = 'message';
      box.appendChild(title);
      const frames = el('ol', 'insp-message-frames');
      box.appendChild(frames);
      group = { box, frames, title, kind: f.opcode === 2 ? 'binary' : 'text', lastSeq: f.seq, count: 0 };
      state.groups.set(key, group);
      list.appendChild(box);
    } else if (f.seq !== group.lastSeq + 1) {
      group.frames.appendChild(el('li', 'insp-note', 'Frames of the other direction or control frames came between these fragments (§5.4 allows control frames in between).'));
    }
    group.lastSeq = f.seq;
    group.count += 1;
    group.frames.appendChild(item);
  }

  function renderMessage(m) {
    const group = state.groups.get(m.dir + ':' + m.message);
    if (!group) return;
    const summary = el('div', 'insp-message-summary');
    summary.dataset.tip = m.compressed ? 'compressed' : 'message';
    let text = m.type + ' message of ' + m.len + ' B in ' + m.frames + (m.frames === 1 ? ' frame' : ' frames');
    if (m.compressed) {
      const ratio = m.len ? Math.round((100 * m.wire_len) / m.len) : 100;
      text += '; permessage-deflate sent ' + m.wire_len + ' B on the wire for ' + m.len + ' B (' + ratio + '%)';
      summary.classList.add('insp-deflate');
    }
    summary.appendChild(el('span', '', text));
    const data = bytesOf(m.data);
    const shown = m.type === 'text' ? utf8(data) : hexOf(data);
    summary.dataset.text = shown;
    summary.dataset.len = m.len;
    summary.dataset.wireLen = m.wire_len;
    // What the application got: the fragments joined, or the DEFLATE data inflated.
    if (m.compressed || m.frames > 1) {
      const what = m.compressed ? 'inflated: ' : 'joined: ';
      summary.appendChild(el('code', 'insp-message-data', what + shown + (m.len > data.length ? '…' : '')));
    }
    group.box.appendChild(summary);
    state.groups.delete(m.dir + ':' + m.message);
  }

  function trim() {
    while (list.children.length > MAX_ITEMS) list.removeChild(list.firstChild);
  }

  // Whether the list shows its end (then new frames keep it there; a learner scrolled up to
  // read stays put).
  function atEnd() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 120;
  }

  // --- hover: the field, its RFC section, and the §5.2 diagram ----------------------------

  function showTip(target, x, y) {
    const info = TIPS[target.dataset.tip];
    if (!info) return;
    tip.querySelector('h5').textContent = info[0] + ' (' + info[1] + ')';
    tip.querySelector('p').textContent = info[2];
    tip.hidden = false;
    const width = tip.offsetWidth;
    tip.style.left = Math.max(8, Math.min(x + 12, window.innerWidth - width - 8)) + 'px';
    tip.style.top = Math.min(y + 16, window.innerHeight - tip.offsetHeight - 8) + 'px';
  }

  // --- the panel --------------------------------------------------------------------------

  function build() {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = '/inspector.css';
    document.head.appendChild(link);

    toggleButton = el('button', 'insp-toggle', 'Frames');
    toggleButton.id = 'insp-toggle';
    toggleButton.type = 'button';
    toggleButton.title = 'Show this page\'s WebSocket frames, field by field (RFC 6455 §5.2)';
    toggleButton.addEventListener('click', () => setOpen(!state.open));
    document.body.appendChild(toggleButton);

    panel = el('aside', 'insp-panel');
    panel.id = 'insp-panel';
    panel.setAttribute('aria-label', 'Frame inspector');
    panel.hidden = true;
    const top = el('header', 'insp-top');
    top.appendChild(el('h2', '', 'Frames on the wire'));
    statusLine = el('span', 'insp-status', '');
    top.appendChild(statusLine);
    const clear = el('button', 'insp-clear', 'Clear');
    clear.type = 'button';
    clear.addEventListener('click', () => {
      list.replaceChildren();
      state.groups.clear();
    });
    top.appendChild(clear);
    panel.appendChild(top);
    panel.appendChild(el('p', 'insp-intro', 'This page\'s own WebSocket connection, as the server saw and sent each frame. Hover a field for what it is and its section of RFC 6455.'));
    handshakeBox = el('details', 'insp-handshake');
    handshakeBox.hidden = true;
    panel.appendChild(handshakeBox);
    list = el('ol', 'insp-list');
    list.id = 'insp-list';
    panel.appendChild(list);
    document.body.appendChild(panel);

    tip = el('div', 'insp-tip');
    tip.hidden = true;
    tip.appendChild(el('h5'));
    tip.appendChild(el('p'));
    tip.appendChild(el('pre', '', DIAGRAM));
    document.body.appendChild(tip);
    panel.addEventListener('mouseover', (event) => {
      const target = event.target.closest('[data-tip]');
      if (target) showTip(target, event.clientX, event.clientY);
      else tip.hidden = true;
    });
    panel.addEventListener('mouseleave', () => (tip.hidden = true));

    let stored = false;
    try {
      stored = localStorage.getItem(STORE) === '1';
    } catch (e) {
      stored = false;
    }
    setOpen(stored || /[?&]inspector=1\b/.test(location.search));
  }

  function setOpen(open) {
    state.open = open;
    try {
      localStorage.setItem(STORE, open ? '1' : '0');
    } catch (e) {
      // Storage may be off; the toggle still works for this page.
    }
    panel.hidden = !open;
    document.body.classList.toggle('insp-open', open);
    toggleButton.setAttribute('aria-pressed', open ? 'true' : 'false');
    toggleButton.textContent = open ? 'Hide frames' : 'Frames';
    if (open) connect();
    else disconnect();
  }

  window.Inspector = {
    wsUrl,
    take,
    setOpen,
    isOpen: () => state.open,
    isLive: () => !!state.socket && state.socket.readyState === WebSocket.OPEN,
    token: () => state.token,
  };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', build);
  else build();
})();
