//! The publish/subscribe server: WebSocket clients subscribe to named channels, unsubscribe,
//! and publish; a message published on a channel reaches exactly the clients subscribed to it
//! at that moment. The routing is a [`MessageBroker`]; each subscription's callback queues the
//! message for its client.
//!
//! The page is served on the same port at `/`, the WebSocket at `/ws`. Messages are JSON
//! objects with a `type`:
//! - client → server: `{"type":"subscribe","channel":…}`, `{"type":"unsubscribe","channel":…}`,
//!   `{"type":"publish","channel":…,"message":…}`
//! - server → client: `welcome` (your id), `subscribed` / `unsubscribed` (the channel and its
//!   subscriber count now), `message` (a message on one of your channels: channel, message,
//!   from), `published` (your publish reached `delivered` subscribers), `error`.

#[path = "../common/broker.rs"]
pub mod broker;
#[path = "../common/inspector.rs"]
pub mod inspector;
#[path = "../common/web.rs"]
pub mod web;

use std::sync::Arc;

use rfc6455::blocking::Decision;
use rfc6455::handshake::Request;
use serde_json::{Value, json};

use broker::backplane::Backplane;
use broker::{ClientChannels, MessageBroker};
use web::{Client, Handler};

/// The page, with its CSS and JavaScript inline.
const PAGE: &str = include_str!("page.html");
/// Longest channel name, in characters.
const MAX_CHANNEL_CHARS: usize = 64;
/// Most channels one client may subscribe to.
const MAX_SUBSCRIPTIONS: usize = 100;
/// Longest published message, in bytes.
const MAX_MESSAGE_BYTES: usize = 4096;

/// The pub/sub service: a broker of JSON texts ready to send.
#[derive(Debug, Default)]
pub struct PubSub {
    broker: Arc<MessageBroker<String>>,
}

/// One connected client and its subscriptions.
pub struct Session {
    client: Client,
    /// The channels that forward to this client.
    subscriptions: ClientChannels<String>,
}

impl PubSub {
    /// A service with no channels, on its own.
    pub fn new() -> Self {
        Self::default()
    }

    /// A service that is one node of the cluster `backplane` joins.
    pub fn with_backplane(backplane: Arc<dyn Backplane>) -> Self {
        PubSub { broker: MessageBroker::with_backplane(backplane) }
    }

    fn subscribe(&self, session: &mut Session, channel: &str) -> Result<Value, String> {
        if session.subscriptions.contains(channel) {
            return Err(format!("already subscribed to {channel}"));
        }
        if session.subscriptions.len() >= MAX_SUBSCRIPTIONS {
            return Err(format!("at most {MAX_SUBSCRIPTIONS} subscriptions per client"));
        }
        let sink = session.client.clone();
        session.subscriptions.subscribe(channel, move |_, message: &String| {
            sink.send_text(message.as_str());
        });
        Ok(json!({"type": "subscribed", "channel": channel, "subscribers": self.broker.subscriber_count(channel)}))
    }

    fn unsubscribe(&self, session: &mut Session, channel: &str) -> Result<Value, String> {
        if !session.subscriptions.unsubscribe(channel) {
            return Err(format!("not subscribed to {channel}"));
        }
        Ok(json!({"type": "unsubscribed", "channel": channel, "subscribers": self.broker.subscriber_count(channel)}))
    }

    fn publish(&self, session: &Session, channel: &str, message: &str) -> Result<Value, String> {
        if message.len() > MAX_MESSAGE_BYTES {
            return Err(format!("a message is at most {MAX_MESSAGE_BYTES} bytes"));
        }
        let from = format!("client-{}", session.client.id());
        let envelope = json!({"type": "message", "channel": channel, "message": message, "from": from});
        let delivered = self.broker.publish(channel, envelope.to_string());
        Ok(json!({"type": "published", "channel": channel, "delivered": delivered}))
    }

    /// Carry out one request; the answer goes back to its sender.
    fn handle(&self, session: &mut Session, request: &Value) -> Result<Value, String> {
        let kind = request.get("type").and_then(Value::as_str).unwrap_or("");
        let channel = request.get("channel").and_then(Value::as_str).ok_or("a request names a \"channel\"")?;
        let channel = channel.trim();
        if channel.is_empty() || channel.chars().count() > MAX_CHANNEL_CHARS || channel.chars().any(char::is_control) {
            return Err(format!("a channel name is 1 to {MAX_CHANNEL_CHARS} printable characters"));
        }
        match kind {
            "subscribe" => self.subscribe(session, channel),
            "unsubscribe" => self.unsubscribe(session, channel),
            "publish" => match request.get("message").and_then(Value::as_str) {
                Some(message) => self.publish(session, channel, message),
                None => Err("a publish carries a \"message\" string".into()),
            },
            _ => Err("the type is subscribe, unsubscribe or publish".into()),
        }
    }
}

impl Handler for PubSub {
    type Session = Session;

    fn decide(&self, request: &Request) -> Decision {
        match (web::path_only(&request.path), request.is_websocket_upgrade()) {
            ("/ws", true) => Decision::accept(),
            ("/", false) => web::html_response(PAGE),
            _ => web::not_found(),
        }
    }

    fn open(&self, client: Client, _path: &str) -> Session {
        client.send_text(json!({"type": "welcome", "you": format!("client-{}", client.id())}).to_string());
        Session { client, subscriptions: ClientChannels::new(&self.broker) }
    }

    fn message(&self, session: &mut Session, text: &str) {
        let answer = match serde_json::from_str::<Value>(text) {
            Ok(request) => self.handle(session, &request),
            Err(e) => Err(format!("not JSON: {e}")),
        };
        let answer = answer.unwrap_or_else(|message| json!({"type": "error", "message": message}));
        session.client.send_text(answer.to_string());
    }

    fn closed(&self, session: Session) {
        // Dropping the session's channels unsubscribes them all.
        drop(session);
    }
}

/// Serve pub/sub on `server` until `stopper` stops it.
#[allow(dead_code)] // The tests use it; the example passes its own service.
pub fn run(server: rfc6455::blocking::Server, stopper: web::Stopper) -> std::io::Result<()> {
    run_with(server, stopper, PubSub::new())
}

/// Serve `pubsub` (on its own or a node of a cluster) on `server` until `stopper` stops it.
pub fn run_with(server: rfc6455::blocking::Server, stopper: web::Stopper, pubsub: PubSub) -> std::io::Result<()> {
    web::serve(server, Arc::new(pubsub), stopper)
}
