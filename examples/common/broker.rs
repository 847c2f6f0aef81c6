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

// Each demo compiles this file into its own crate and uses a different part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

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

/// One channel's subscribers, in the order they subscribed.
type Subscribers<M> = Vec<(SubscriptionId, Callback<M>)>;

/// Channels of subscribers; see the module documentation for the guarantees.
pub struct MessageBroker<M> {
    channels: RwLock<HashMap<String, Subscribers<M>>>,
    next_id: AtomicU64,
}

impl<M> Default for MessageBroker<M> {
    fn default() -> Self {
        MessageBroker { channels: RwLock::new(HashMap::new()), next_id: AtomicU64::new(1) }
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
        removed
    }

    /// Deliver `message` to every subscriber of `channel`. Returns how many were called.
    pub fn publish(&self, channel: &str, message: M) -> usize {
        let snapshot: Vec<Callback<M>> = {
            let channels = self.channels.read().unwrap_or_else(PoisonError::into_inner);
            match channels.get(channel) {
                Some(subscribers) => subscribers.iter().map(|(_, callback)| Arc::clone(callback)).collect(),
                None => return 0,
            }
        };
        for callback in &snapshot {
            callback(channel, &message);
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
