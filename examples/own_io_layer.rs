//! Your own I/O layer over the sans-IO core: one thread, two non-blocking TCP sockets, one loop.
//!
//! ```sh
//! cargo run --example own_io_layer
//! ```
//!
//! Nothing here uses `rfc6455::blocking`. A client and a server live in the same thread, each a
//! non-blocking `TcpStream` plus a state machine from the crate: first the opening handshake
//! (`ClientHandshake` / `ServerHandshake`), then a `Connection`. The loop gives each peer a turn;
//! a turn never waits. It
//!
//! 1. reads whatever the socket has into the state machine (`WouldBlock`: nothing yet),
//! 2. pulls every event the bytes completed and lets the application react,
//! 3. writes as much queued output as the socket takes, and keeps the rest for the next turn,
//! 4. shuts the socket when `Connection::should_close_transport` says so.
//!
//! When neither peer made progress the loop sleeps a millisecond; a real event loop would ask
//! the operating system (epoll, kqueue, an async runtime) which socket is ready instead. Every
//! write is printed in hex: paste the hex after the colon into `cargo run --example explain --`
//! to read it field by field. docs/guide/07-your-own-io-layer.md walks through this file.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use rfc6455::handshake::{ClientHandshake, ClientOptions, ServerHandshake, accept_response, reject_response};
use rfc6455::{CloseCode, Completed, Config, Connection, Error, Message, MessageKind, connection_config};

/// Where a peer stands.
enum Stage {
    /// Client: the request is queued in `Peer::handshake_out`; waiting for the 101.
    ClientHandshake(ClientHandshake),
    /// Server: reading the request.
    ServerHandshake(ServerHandshake),
    /// After the handshake: frames. (Boxed: a connection is much larger than a handshake.)
    Open(Box<Connection>),
    /// The socket is shut.
    Done,
}

/// One end: a socket, its stage, and the application's state.
struct Peer {
    name: &'static str,
    stream: TcpStream,
    stage: Stage,
    /// Handshake bytes not yet written (the request, or the 101).
    handshake_out: Vec<u8>,
    /// Echoes received (the client's application state).
    echoes: usize,
}

impl Peer {
    /// One turn: read, react, write. Returns whether anything happened.
    fn turn(&mut self) -> Result<bool, Error> {
        let mut progress = self.write_handshake()?;
        let stage = std::mem::replace(&mut self.stage, Stage::Done);
        self.stage = match stage {
            Stage::ClientHandshake(mut handshake) => {
                let mut buf = [0u8; 4096];
                match read_some(&mut self.stream, &mut buf)? {
                    None => Stage::ClientHandshake(handshake),
                    Some(0) => return Err(Error::ConnectionReset),
                    Some(n) => {
                        progress = true;
                        match handshake.receive(&buf[..n])? {
                            None => Stage::ClientHandshake(handshake),
                            Some(response) => {
                                println!("{}: handshake done (status {})", self.name, response.status);
                                // The extensions the answer agreed on (none here) go into the
                                // connection's configuration, or the handshake fails.
                                let completed = Completed::Client { response: &response, deflate: None };
                                let mut conn = Connection::new(connection_config(Config::client(), completed)?);
                                // Frames the server sent right behind its 101 come first.
                                conn.receive(handshake.remainder())?;
                                self.start(&mut conn)?;
                                Stage::Open(Box::new(conn))
                            }
                        }
                    }
                }
            }
            Stage::ServerHandshake(mut handshake) => {
                let mut buf = [0u8; 4096];
                match read_some(&mut self.stream, &mut buf)? {
                    None => Stage::ServerHandshake(handshake),
                    Some(0) => return Err(Error::ConnectionReset),
                    Some(n) => {
                        progress = true;
                        match handshake.receive(&buf[..n])? {
                            None => Stage::ServerHandshake(handshake),
                            Some(request) => {
                                if let Err(e) = request.validate_websocket() {
                                    self.handshake_out = reject_response(&e);
                                    self.write_handshake()?;
                                    return Err(e.into());
                                }
                                let headers = [];
                                let completed =
                                    Completed::Server { request: &request, headers: &headers, deflate: None };
                                let config = connection_config(Config::server(), completed)?;
                                self.handshake_out = accept_response(&request, None, &headers)?;
                                println!("{}: accepted GET {}", self.name, request.path);
                                let mut conn = Connection::new(config);
                                conn.receive(handshake.remainder())?;
                                Stage::Open(Box::new(conn))
                            }
                        }
                    }
                }
            }
            Stage::Open(mut conn) => {
                progress |= self.drive(&mut conn)?;
                if conn.should_close_transport() {
                    println!("{}: closing TCP", self.name);
                    let _ = self.stream.shutdown(Shutdown::Both);
                    Stage::Done
                } else {
                    Stage::Open(conn)
                }
            }
            Stage::Done => Stage::Done,
        };
        Ok(progress)
    }

    /// Write queued handshake bytes, as many as the socket takes.
    fn write_handshake(&mut self) -> Result<bool, Error> {
        if self.handshake_out.is_empty() {
            return Ok(false);
        }
        let n = write_some(&mut self.stream, &self.handshake_out)?;
        if n > 0 {
            let text = String::from_utf8_lossy(&self.handshake_out[..n]);
            println!("{} writes {n} handshake bytes:\n    {}", self.name, text.trim_end().replace("\r\n", "\n    "));
            self.handshake_out.drain(..n);
        }
        Ok(n > 0)
    }

    /// The sans-IO loop of an open connection: bytes in, events out, output written.
    fn drive(&mut self, conn: &mut Connection) -> Result<bool, Error> {
        let mut progress = false;
        // 1. Read straight into the connection's buffer (no copy), if the socket has bytes.
        match self.stream.read(conn.read_buf()) {
            Ok(0) => {
                conn.receive_eof();
                progress = true;
            }
            Ok(n) => {
                conn.commit(n);
                progress = true;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
        // 2. Pull every event those bytes completed. Pongs and the Close echo are queued by
        //    next_event itself; the application queues its own replies.
        while let Some(event) = conn.next_event()? {
            progress = true;
            let message = Message::from_event(&event).expect("whole-message delivery");
            println!("{} reads {message:?}", self.name);
            self.react(conn, message)?;
        }
        // 3. Write what is queued, as much as the socket takes; the rest waits for a later turn.
        while conn.wants_write() {
            let n = write_some(&mut self.stream, conn.output())?;
            if n == 0 {
                break;
            }
            println!("{} writes {n} bytes: {}", self.name, hex(&conn.output()[..n]));
            conn.consume_output(n);
            progress = true;
        }
        Ok(progress)
    }

    /// The client's first messages, queued as soon as the handshake is done.
    fn start(&mut self, conn: &mut Connection) -> Result<(), Error> {
        conn.send_text("Hello")?;
        conn.ping(b"are you there?")?;
        conn.send_fragment(MessageKind::Text, b"in ", false)?;
        conn.send_fragment(MessageKind::Text, b"pieces", true)?;
        Ok(())
    }

    /// The applications: the server echoes data; the client closes after two echoes.
    fn react(&mut self, conn: &mut Connection, message: Message) -> Result<(), Error> {
        match (self.name, message) {
            ("server", Message::Text(text)) => conn.send_text(&text)?,
            ("server", Message::Binary(data)) => conn.send_binary(&data)?,
            ("client", Message::Text(_)) => {
                self.echoes += 1;
                if self.echoes == 2 {
                    conn.close(CloseCode::NORMAL, "done")?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Read what the socket has: `None` when it has nothing yet.
fn read_some(stream: &mut TcpStream, buf: &mut [u8]) -> io::Result<Option<usize>> {
    match stream.read(buf) {
        Ok(n) => Ok(Some(n)),
        Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => Ok(None),
        Err(e) => Err(e),
    }
}

/// Write what the socket takes: 0 when it takes nothing now.
fn write_some(stream: &mut TcpStream, bytes: &[u8]) -> io::Result<usize> {
    match stream.write(bytes) {
        Ok(n) => Ok(n),
        Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => Ok(0),
        Err(e) => Err(e),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

fn main() -> Result<(), Error> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let client_stream = TcpStream::connect(addr)?;
    let (server_stream, _) = listener.accept()?;
    for stream in [&client_stream, &server_stream] {
        stream.set_nonblocking(true)?;
        stream.set_nodelay(true)?;
    }

    // The client's request: Host and resource name, a fresh random key (§4.1).
    let mut keys = rfc6455::MaskKeySource::Entropy.generator();
    let request = ClientHandshake::new(&addr.to_string(), "/demo", &ClientOptions::default(), &mut keys, 16 << 10)?;
    let mut client = Peer {
        name: "client",
        stream: client_stream,
        handshake_out: request.request().to_vec(),
        stage: Stage::ClientHandshake(request),
        echoes: 0,
    };
    let mut server = Peer {
        name: "server",
        stream: server_stream,
        stage: Stage::ServerHandshake(ServerHandshake::new(16 << 10)),
        handshake_out: Vec::new(),
        echoes: 0,
    };

    let deadline = Instant::now() + Duration::from_secs(10);
    while !(matches!(client.stage, Stage::Done) && matches!(server.stage, Stage::Done)) {
        let progress = client.turn()? | server.turn()?;
        if Instant::now() > deadline {
            return Err(Error::Io(ErrorKind::TimedOut.into()));
        }
        if !progress {
            // Nothing to do: a real loop would block in epoll/kqueue here.
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    println!("both sides closed cleanly");
    Ok(())
}
