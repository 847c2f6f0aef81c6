//! The stock ticker server: a made-up market whose prices take a random walk, pushed to every
//! connected client on each change. Nobody asks for the prices; they arrive.
//!
//! A generator thread moves the prices every `interval` and publishes one `tick` on the
//! broker's `ticks` channel; every client is subscribed to it. A newly connected client is
//! sent a `snapshot` first, so its page fills at once. The page is served on the same port at
//! `/`, the WebSocket at `/ws`.
//!
//! Messages (server → client, JSON): `{"type":"snapshot"|"tick","seq":…,"at":<ms since the
//! epoch>,"quotes":[{"symbol":…,"price":…,"change":…}]}`, where `change` is the move since the
//! opening price, in percent.
//!
//! With a backplane ([`Ticker::with_backplane`], `--redis URL` on the command line) the ticker
//! is one node of a cluster with one market: the node holding the `generator` claim (a
//! presence claim with a TTL, renewed at each step) moves the prices, and every node forwards
//! its ticks to its own clients and keeps its copy of the market current for their snapshots.
//! If that node dies, another takes the claim once its TTL has passed.

#[path = "../common/broker.rs"]
pub mod broker;
#[path = "../common/inspector.rs"]
pub mod inspector;
#[path = "../common/web.rs"]
pub mod web;

use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rfc6455::blocking::Decision;
use rfc6455::handshake::Request;
use serde_json::{Value, json};

use broker::backplane::Backplane;
use broker::{ClientChannels, MessageBroker};
use web::{Client, Handler, Stopper};

/// The page, with its CSS and JavaScript inline.
const PAGE: &str = include_str!("page.html");
/// The channel every client listens on.
const TICKS: &str = "ticks";
/// The made-up market: symbols and opening prices.
const OPENING: [(&str, f64); 6] =
    [("ACME", 120.0), ("GLOBEX", 48.5), ("INITECH", 12.75), ("UMBRELLA", 310.0), ("HOOLI", 890.0), ("WAYNE", 64.2)];
/// Largest move of one step, as a fraction of the price.
const MAX_STEP: f64 = 0.01;

#[derive(Debug, Clone)]
struct Quote {
    symbol: &'static str,
    open: f64,
    price: f64,
}

#[derive(Debug)]
struct Market {
    quotes: Vec<Quote>,
    seq: u64,
    random: XorShift,
}

impl Market {
    fn opening(seed: u64) -> Market {
        let quotes = OPENING.iter().map(|&(symbol, price)| Quote { symbol, open: price, price }).collect();
        Market { quotes, seq: 0, random: XorShift::new(seed) }
    }

    /// Take the prices of a tick another node published.
    fn follow(&mut self, tick: &Value) {
        let Some(quotes) = tick["quotes"].as_array() else { return };
        for quote in quotes {
            let (Some(symbol), Some(price)) = (quote["symbol"].as_str(), quote["price"].as_f64()) else { continue };
            if let Some(mine) = self.quotes.iter_mut().find(|q| q.symbol == symbol) {
                mine.price = price;
            }
        }
        if let Some(seq) = tick["seq"].as_u64() {
            self.seq = seq;
        }
    }

    fn to_json(&self, kind: &str) -> Value {
        let quotes: Vec<Value> = self
            .quotes
            .iter()
            .map(|q| json!({"symbol": q.symbol, "price": round2(q.price), "change": round2((q.price / q.open - 1.0) * 100.0)}))
            .collect();
        json!({"type": kind, "seq": self.seq, "at": now_millis(), "quotes": quotes})
    }

    /// Move every price by a random step of at most ±MAX_STEP, never below a cent.
    fn step(&mut self) {
        for i in 0..self.quotes.len() {
            let factor = 1.0 + MAX_STEP * (2.0 * self.random.next_unit() - 1.0);
            let quote = &mut self.quotes[i];
            quote.price = (quote.price * factor).max(0.01);
        }
        self.seq += 1;
    }
}

/// The ticker: a market, and the broker that pushes its ticks.
pub struct Ticker {
    market: Arc<Mutex<Market>>,
    broker: Arc<MessageBroker<String>>,
    /// The cluster, where one node (the claim holder) moves the market.
    backplane: Option<Arc<dyn Backplane>>,
}

/// One connected client: its subscription to the ticks, held for its drop.
pub struct Session {
    _ticks: ClientChannels<String>,
}

impl Ticker {
    /// A market at its opening prices; `seed` picks the random walk.
    pub fn new(seed: u64) -> Self {
        Ticker { market: Arc::new(Mutex::new(Market::opening(seed))), broker: Arc::default(), backplane: None }
    }

    /// A node of the cluster `backplane` joins; see the module documentation.
    pub fn with_backplane(seed: u64, backplane: Arc<dyn Backplane>) -> Self {
        let market = Arc::new(Mutex::new(Market::opening(seed)));
        let broker = MessageBroker::with_backplane(Arc::clone(&backplane));
        let copy = Arc::clone(&market);
        let node = backplane.node().to_owned();
        let _kept_for_life = broker.subscribe(TICKS, move |_, tick: &String| {
            let Ok(tick) = serde_json::from_str::<Value>(tick) else { return };
            let mut market = copy.lock().unwrap_or_else(PoisonError::into_inner);
            // This node's own ticks moved its market already.
            if tick["node"].as_str() != Some(node.as_str()) {
                market.follow(&tick);
            }
        });
        Ticker { market, broker, backplane: Some(backplane) }
    }

    /// Move the market one step and push the tick to every client. Returns how many got it
    /// on this node (0 on a node that does not hold the generator claim).
    pub fn tick(&self) -> usize {
        if let Some(backplane) = &self.backplane {
            // Claiming again what this node holds renews it.
            if backplane.claim("ticker", "generator", backplane.node()) != Ok(true) {
                return 0;
            }
        }
        let message = {
            let mut market = self.market.lock().unwrap_or_else(PoisonError::into_inner);
            market.step();
            let mut tick = market.to_json("tick");
            if let Some(backplane) = &self.backplane {
                tick["node"] = Value::from(backplane.node());
            }
            tick.to_string()
        };
        self.broker.publish(TICKS, message)
    }
}

impl Handler for Ticker {
    type Session = Session;

    fn decide(&self, request: &Request) -> Decision {
        match (web::path_only(&request.path), request.is_websocket_upgrade()) {
            ("/ws", true) => Decision::accept(),
            ("/", false) => web::html_response(PAGE),
            _ => web::not_found(),
        }
    }

    fn open(&self, client: Client, _path: &str) -> Session {
        // Hold the market lock while subscribing: no tick can fall between the snapshot and
        // the first tick this client receives.
        let market = self.market.lock().unwrap_or_else(PoisonError::into_inner);
        client.send_text(market.to_json("snapshot").to_string());
        let mut ticks = ClientChannels::new(&self.broker);
        ticks.subscribe(TICKS, move |_, tick: &String| {
            client.send_text(tick.as_str());
        });
        Session { _ticks: ticks }
    }

    fn message(&self, _session: &mut Session, _text: &str) {
        // The ticker only talks; what clients say is ignored.
    }

    fn closed(&self, session: Session) {
        // Dropping the session's subscription ends it.
        drop(session);
    }
}

/// Serve the ticker on `server`, moving prices every `interval`, until `stopper` stops it.
#[allow(dead_code)] // The tests use it; the example passes its own ticker.
pub fn run(server: rfc6455::blocking::Server, stopper: Stopper, interval: Duration) -> std::io::Result<()> {
    run_with(server, stopper, interval, Ticker::new(now_millis()))
}

/// Serve `ticker` (on its own or a node of a cluster) until `stopper` stops it.
pub fn run_with(
    server: rfc6455::blocking::Server,
    stopper: Stopper,
    interval: Duration,
    ticker: Ticker,
) -> std::io::Result<()> {
    let ticker = Arc::new(ticker);
    let generator = {
        let ticker = Arc::clone(&ticker);
        let stopper = stopper.clone();
        thread::spawn(move || {
            while !stopper.sleep(interval) {
                ticker.tick();
            }
        })
    };
    let served = web::serve(server, ticker, stopper);
    let _ = generator.join();
    served
}

/// A small, fast pseudo-random generator (xorshift64*): plenty for a made-up market.
#[derive(Debug)]
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        // The state must never be zero.
        XorShift(seed | 1)
    }

    /// A number in [0, 1).
    fn next_unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (bits >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn now_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as u64)
}
