//! An in-process publish/subscribe broker: named channels, callbacks subscribed to them, and
//! `publish` delivering a message to every callback subscribed to its channel.
//!
//! ```ignore
//! let broker = MessageBroker::new();
//! let id = broker.subscribe("prices", |channel: &str, message: &String| println!("{channel}: {message}"));
//! assert_eq!(broker.publish("prices", "ACME 101.5".to_string()), 1);
//! assert!(broker.unsubscribe("prices", id));
//! assert_eq!(broker.publish("prices", "ACME 101.7".to_string()), 0);
//! ```
//!
//! Design:
//! - `subscribe` returns a [`SubscriptionId`], and `unsubscribe` takes it back. Closures have no
//!   identity of their own (two identical closures are not "the same callback", and comparing
//!   `Arc` pointers breaks as soon as one is cloned into a new allocation), so the broker hands
//!   out an id that is unique for its whole life and never reused.
//! - The broker is `Sync`: any thread may subscribe, unsubscribe and publish at once.
//! - `publish` takes a snapshot of the channel's subscribers under a read lock and calls them
//!   after releasing it. A callback may therefore itself subscribe, unsubscribe or publish
//!   without deadlocking, and a slow callback never holds up subscribers on other threads. The
//!   price of the snapshot: a callback unsubscribed while a publish is under way may still
//!   receive that one message; it receives nothing published after `unsubscribe` returned.
//! - Callbacks run on the publishing thread. One that must do slow work (write to a socket)
//!   should hand the message to a queue of its own rather than block the publisher.
//!
//! Across processes: a broker of `String`s made with [`MessageBroker::with_backplane`] is one
//! node of a cluster (see `backplane.rs`). It subscribes the backplane to each channel that has
//! local subscribers, relays every publish to the other nodes, and delivers what other nodes
//! publish to its own subscribers, on the backplane's thread. Its own publishes come back from
//! the backplane too and are ignored: they were delivered locally already, and a subscriber
//! gets each message once. [`ClientChannels`] is the per-client side: the channels one
//! connection listens to, all unsubscribed when it goes.

// Each demo compiles this file into its own crate and uses a different part of it.
#![allow(dead_code)]

#[path = "backplane.rs"]
pub mod backplane;
#[path = "redis_backplane.rs"]
pub mod redis_backplane;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, Weak};

use backplane::{Backplane, Event};

/// Identifies one subscription, returned by [`MessageBroker::subscribe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(u64);

impl fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What a subscriber is called with: the channel the message was published on, and the message.
pub type Callback<M> = Arc<dyn Fn(&str, &M) + Send + Sync>;

/// The cluster a broker is a node of, and how to put one of its messages on it as text.
type Relay<M> = (Arc<dyn Backplane>, fn(&M) -> &str);

/// One channel's subscribers, in the order they subscribed.
type Subscribers<M> = Vec<(SubscriptionId, Callback<M>)>;

/// Channels of subscribers; see the module documentation for the guarantees.
pub struct MessageBroker<M> {
    channels: RwLock<HashMap<String, Subscribers<M>>>,
    next_id: AtomicU64,
    /// The cluster this broker is a node of, and how to put a message on it.
    backplane: Option<Relay<M>>,
}

impl<M> Default for MessageBroker<M> {
    fn default() -> Self {
        MessageBroker { channels: RwLock::new(HashMap::new()), next_id: AtomicU64::new(1), backplane: None }
    }
}

impl MessageBroker<String> {
    /// A broker that is one node of the cluster `backplane` joins: publishes reach the other
    /// nodes' subscribers too, and theirs reach this node's.
    pub fn with_backplane(backplane: Arc<dyn Backplane>) -> Arc<Self> {
        let broker = Arc::new(MessageBroker {
            channels: RwLock::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            backplane: Some((Arc::clone(&backplane), String::as_str)),
        });
        let node = backplane.node().to_owned();
        let weak: Weak<Self> = Arc::downgrade(&broker);
        backplane.attach(Arc::new(move |event| {
            let Some(broker) = weak.upgrade() else { return };
            // A node's own publishes were delivered to its subscribers when they were made.
            if let Event::Message(delivery) = event
                && delivery.origin != node
            {
                broker.deliver(&delivery.channel, &delivery.body);
            }
        }));
        broker
    }
}

impl<M> fmt::Debug for MessageBroker<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let channels = self.channels.read().unwrap_or_else(PoisonError::into_inner);
        let counts: HashMap<&str, usize> = channels.iter().map(|(name, subs)| (name.as_str(), subs.len())).collect();
        f.debug_struct("MessageBroker").field("subscribers", &counts).finish()
    }
}

impl<M> MessageBroker<M> {
    /// An empty broker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Call `callback` with every message published on `channel` from now on, until
    /// [`unsubscribe`](Self::unsubscribe) is called with the returned id.
    pub fn subscribe(&self, channel: &str, callback: impl Fn(&str, &M) + Send + Sync + 'static) -> SubscriptionId {
        // Before taking the lock: the backplane may wait for its listener, which delivers
        // through this broker.
        if let Some((backplane, _)) = &self.backplane {
            backplane.subscribe(channel);
        }
        let id = SubscriptionId(self.next_id.fetch_add(1, Ordering::Relaxed));
        // A callback that panicked during a publish did so outside the lock, so the map is
        // never left half-changed: a poisoned lock is still consistent.
        let mut channels = self.channels.write().unwrap_or_else(PoisonError::into_inner);
        channels.entry(channel.to_owned()).or_default().push((id, Arc::new(callback)));
        id
    }

    /// Stop the subscription `id` on `channel`. Returns whether it was subscribed there.
    pub fn unsubscribe(&self, channel: &str, id: SubscriptionId) -> bool {
        let mut channels = self.channels.write().unwrap_or_else(PoisonError::into_inner);
        let Some(subscribers) = channels.get_mut(channel) else { return false };
        let before = subscribers.len();
        subscribers.retain(|(subscribed, _)| *subscribed != id);
        let removed = subscribers.len() != before;
        // Drop empty channels, so a server whose clients invent channel names does not grow forever.
        if subscribers.is_empty() {
            channels.remove(channel);
        }
        if removed && let Some((backplane, _)) = &self.backplane {
            backplane.unsubscribe(channel);
        }
        removed
    }

    /// Deliver `message` to every subscriber of `channel`, and to the other nodes of the
    /// cluster if this broker is a node of one. Returns how many subscribers of this node
    /// were called.
    pub fn publish(&self, channel: &str, message: M) -> usize {
        if let Some((backplane, text_of)) = &self.backplane
            && let Err(e) = backplane.publish(channel, text_of(&message))
        {
            eprintln!("publish on {channel:?} reached this node only: {e}");
        }
        self.deliver(channel, &message)
    }

    /// Whether this broker is on its own (no backplane).
    pub fn is_alone(&self) -> bool {
        self.backplane.is_none()
    }

    /// Whether the other nodes can be reached (always, for a broker on its own).
    pub fn is_up(&self) -> bool {
        self.backplane.as_ref().is_none_or(|(backplane, _)| backplane.is_up())
    }

    /// Call this node's subscribers of `channel` with `message`.
    fn deliver(&self, channel: &str, message: &M) -> usize {
        let snapshot: Vec<Callback<M>> = {
            let channels = self.channels.read().unwrap_or_else(PoisonError::into_inner);
            match channels.get(channel) {
                Some(subscribers) => subscribers.iter().map(|(_, callback)| Arc::clone(callback)).collect(),
                None => return 0,
            }
        };
        for callback in &snapshot {
            callback(channel, message);
        }
        snapshot.len()
    }

    /// How many subscriptions `channel` has now.
    pub fn subscriber_count(&self, channel: &str) -> usize {
        let channels = self.channels.read().unwrap_or_else(PoisonError::into_inner);
        channels.get(channel).map_or(0, Vec::len)
    }

    /// The channels that have at least one subscriber, sorted by name.
    pub fn channels(&self) -> Vec<String> {
        let channels = self.channels.read().unwrap_or_else(PoisonError::into_inner);
        let mut names: Vec<String> = channels.keys().cloned().collect();
        names.sort();
        names
    }
}

/// The channels one client listens to, each subscription forwarding to that client. Dropping it
/// (when the connection ends) unsubscribes every one: the piece each demo's sessions share.
pub struct ClientChannels<M> {
    broker: Arc<MessageBroker<M>>,
    subscriptions: BTreeMap<String, SubscriptionId>,
}

impl<M> ClientChannels<M> {
    /// A client listening to nothing yet.
    pub fn new(broker: &Arc<MessageBroker<M>>) -> Self {
        ClientChannels { broker: Arc::clone(broker), subscriptions: BTreeMap::new() }
    }

    /// Listen to `channel` through `callback`. Returns `false` (and subscribes nothing) when
    /// the client listens to it already.
    pub fn subscribe(&mut self, channel: &str, callback: impl Fn(&str, &M) + Send + Sync + 'static) -> bool {
        if self.subscriptions.contains_key(channel) {
            return false;
        }
        let id = self.broker.subscribe(channel, callback);
        self.subscriptions.insert(channel.to_owned(), id);
        true
    }

    /// Stop listening to `channel`. Returns whether the client listened to it.
    pub fn unsubscribe(&mut self, channel: &str) -> bool {
        match self.subscriptions.remove(channel) {
            Some(id) => self.broker.unsubscribe(channel, id),
            None => false,
        }
    }

    /// Whether the client listens to `channel`.
    pub fn contains(&self, channel: &str) -> bool {
        self.subscriptions.contains_key(channel)
    }

    /// How many channels the client listens to.
    pub fn len(&self) -> usize {
        self.subscriptions.len()
    }

    /// Whether the client listens to nothing.
    pub fn is_empty(&self) -> bool {
        self.subscriptions.is_empty()
    }

    /// The broker the subscriptions are in.
    pub fn broker(&self) -> &Arc<MessageBroker<M>> {
        &self.broker
    }
}

impl<M> Drop for ClientChannels<M> {
    fn drop(&mut self) {
        for (channel, id) in std::mem::take(&mut self.subscriptions) {
            self.broker.unsubscribe(&channel, id);
        }
    }
}
