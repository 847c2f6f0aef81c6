//! The server-health dashboard: samples this machine's CPU, memory and network figures every
//! interval and offers them two ways, on one port:
//!
//! - **push**: every sample goes out at once to every WebSocket client at `/ws` (each is
//!   subscribed to the broker's `samples` channel);
//! - **poll**: `GET /poll` answers the latest sample as JSON, for a page that asks every second.
//!
//! `GET /` is the page (`/?mode=poll` polls instead of listening), `GET /history` the recent
//! samples, so a page opened late starts with a full chart. `GET /wire` answers what one tab
//! costs on the wire per update, pushed and polled, measured by the [`meter`] on real sockets. A WebSocket client is sent the same
//! history first, as a `history` message.
//!
//! A sample (JSON): `{"type":"sample","seq":…,"at_us":<µs since the epoch, when it was
//! taken>,"cpu":<percent>,"mem_used":<bytes>,"mem_total":<bytes>,"rx_bps":<bytes/s>,
//! "tx_bps":<bytes/s>}`; a figure that could not be read is `null`.

#[path = "../common/broker.rs"]
pub mod broker;
#[path = "../common/counting.rs"]
pub mod counting;
#[path = "../common/inspector.rs"]
pub mod inspector;
#[path = "meter.rs"]
pub mod meter;
#[path = "metrics.rs"]
pub mod metrics;
#[path = "../common/web.rs"]
pub mod web;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rfc6455::blocking::Decision;
use rfc6455::handshake::Request;
use serde_json::{Value, json};

use broker::{MessageBroker, SubscriptionId};
use meter::Meter;
use metrics::{Sample, Sampler};
use web::{Client, Handler, Stopper};

/// The page, with its CSS and JavaScript inline.
const PAGE: &str = include_str!("page.html");
/// The channel every WebSocket client listens on.
const SAMPLES: &str = "samples";
/// Samples kept for pages that open late (two minutes at one a second).
const HISTORY: usize = 120;

#[derive(Debug, Default)]
struct Recent {
    /// Oldest first, each already in its JSON form.
    samples: VecDeque<Value>,
    seq: u64,
}

/// The dashboard: recent samples and the broker that pushes new ones.
#[derive(Debug, Default)]
pub struct Dashboard {
    recent: Mutex<Recent>,
    broker: MessageBroker<String>,
    hostname: String,
    /// The wire meter, once the server runs (it needs the server's address).
    meter: OnceLock<Arc<Meter>>,
}

/// One connected WebSocket client.
pub struct Session {
    subscription: SubscriptionId,
}

impl Dashboard {
    /// A dashboard with no samples yet.
    pub fn new() -> Self {
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|name| name.trim().to_owned());
        Dashboard { hostname: hostname.unwrap_or_default(), ..Self::default() }
    }

    /// Record a sample and push it to every WebSocket client. Returns how many got it.
    pub fn publish(&self, sample: &Sample) -> usize {
        let message = {
            let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
            recent.seq += 1;
            let message = json!({
                "type": "sample",
                "seq": recent.seq,
                "at_us": now_micros(),
                "cpu": sample.cpu_percent.map(|cpu| (cpu * 10.0).round() / 10.0),
                "mem_used": sample.mem_used,
                "mem_total": sample.mem_total,
                "rx_bps": sample.rx_per_sec.map(f64::round),
                "tx_bps": sample.tx_per_sec.map(f64::round),
            });
            recent.samples.push_back(message.clone());
            if recent.samples.len() > HISTORY {
                recent.samples.pop_front();
            }
            message.to_string()
        };
        self.broker.publish(SAMPLES, message)
    }

    fn history(&self) -> Value {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        json!({"type": "history", "host": self.hostname, "samples": recent.samples})
    }

    fn latest(&self) -> Value {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        recent.samples.back().cloned().unwrap_or_else(|| json!({"type": "sample", "seq": 0}))
    }
}

impl Handler for Dashboard {
    type Session = Session;

    fn decide(&self, request: &Request) -> Decision {
        match (web::path_only(&request.path), request.is_websocket_upgrade()) {
            ("/ws", true) => {
                self.meter.get().inspect(|meter| meter.saw_upgrade(request));
                Decision::accept()
            }
            ("/", false) => web::html_response(PAGE),
            ("/poll", false) => {
                self.meter.get().inspect(|meter| meter.saw_fetch(request));
                web::json_response(&self.latest().to_string())
            }
            ("/wire", false) => match self.meter.get() {
                Some(meter) => {
                    meter.saw_fetch(request);
                    web::json_response(&meter.ask().to_string())
                }
                None => web::not_found(),
            },
            ("/history", false) => web::json_response(&self.history().to_string()),
            _ => web::not_found(),
        }
    }

    fn open(&self, client: Client, _path: &str) -> Session {
        // Hold the history lock while subscribing: no sample falls between the two.
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        let history = json!({"type": "history", "host": self.hostname, "samples": recent.samples});
        client.send_text(history.to_string());
        let subscription = self.broker.subscribe(SAMPLES, move |_, sample: &String| {
            client.send_text(sample.as_str());
        });
        drop(recent);
        Session { subscription }
    }

    fn message(&self, _session: &mut Session, _text: &str) {
        // The dashboard only talks; what clients say is ignored.
    }

    fn closed(&self, session: Session) {
        self.broker.unsubscribe(SAMPLES, session.subscription);
    }
}

/// Serve the dashboard on `server`, sampling every `interval`, until `stopper` stops it.
pub fn run(server: rfc6455::blocking::Server, stopper: Stopper, interval: Duration) -> std::io::Result<()> {
    let dashboard = Arc::new(Dashboard::new());
    let addr = server.local_addr()?;
    let _ = dashboard.meter.set(Arc::new(Meter::new(addr, interval, stopper.clone())));
    let sampler = {
        let dashboard = Arc::clone(&dashboard);
        let stopper = stopper.clone();
        thread::spawn(move || {
            let mut sampler = Sampler::new();
            // A first reading to measure rates from, so the first sample sent is complete.
            sampler.sample();
            while !stopper.sleep(interval) {
                dashboard.publish(&sampler.sample());
            }
        })
    };
    let served = web::serve(server, dashboard, stopper);
    let _ = sampler.join();
    served
}

fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_micros() as u64)
}
