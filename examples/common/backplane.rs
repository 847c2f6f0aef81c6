//! The backplane: what carries messages between the processes ("nodes") of a demo cluster, and
//! the little shared state a cluster needs (who is in which room, a short history per room).
//!
//! Every node keeps its own sockets and rooms; the backplane only moves messages between nodes.
//! A node publishes on a channel, every node subscribed to that channel receives it (the
//! publishing node included: it is how a node learns the order of a room's messages), and
//! deliveries from the backplane arrive on a thread the backplane owns, one per node, in the
//! order the backplane put them, through the [`Sink`] the node attached.
//!
//! Two implementations: [`MemoryBus`] (the default: nodes in one process, nothing to install;
//! a single demo process is a bus with one node) and `RedisBackplane` (`redis_backplane.rs`:
//! Redis pub/sub for the messages, Lua scripts for presence and history). Both keep the same
//! promises, checked by one conformance suite (`tests/backplane.rs`):
//!
//! - **At most once.** A message reaches each node subscribed at the time of publishing once,
//!   or not at all (a node that is disconnected misses it; Redis pub/sub keeps nothing).
//! - **Sequenced messages** ([`Backplane::publish_sequenced`]) get a per-channel offset
//!   (1, 2, 3, ...) and an epoch that changes whenever the channel's history is lost (a Redis
//!   restart): a receiver that sees a gap in offsets, or a new epoch, knows it missed something
//!   and reads the bounded history ([`Backplane::history`]) to catch up.
//! - **Presence claims** expire unless refreshed: a crashed node's claims disappear within the
//!   TTL, and [`Backplane::sweep`] reports each expired claim to exactly one node.

// Each demo compiles this file into its own crate and uses a different part of it.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// A channel's position: the offset of its latest sequenced message, in an epoch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Seq {
    /// Changes whenever the channel's history is lost; empty before the first message.
    pub epoch: String,
    /// 1 for the first sequenced message of the epoch, then one more for each.
    pub offset: u64,
}

/// A message delivered by the backplane.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The channel it was published on.
    pub channel: String,
    /// The node that published it.
    pub origin: String,
    /// Its offset and epoch, for a sequenced message.
    pub seq: Option<Seq>,
    /// What was published.
    pub body: String,
}

/// What a node's [`Sink`] is told.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A message on a subscribed channel.
    Message(Delivery),
    /// The backplane is unreachable: publishes fail and nothing arrives until [`Event::Up`].
    Down(String),
    /// The backplane is reachable again and every subscription is back. Anything published
    /// meanwhile was missed, and the backplane may have lost its state (a restart).
    Up,
}

/// Where a node's deliveries go; called on the backplane's own thread for that node.
pub type Sink = Arc<dyn Fn(Event) + Send + Sync>;

/// Why a backplane operation failed: the backplane is down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the backplane is unavailable: {}", self.0)
    }
}

/// A channel's recent history, from [`Backplane::history`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    /// The channel's position now.
    pub now: Seq,
    /// The messages after the requested offset that are still kept, oldest first.
    pub messages: Vec<(u64, String)>,
    /// Whether `messages` is everything after the requested offset in the requested epoch
    /// (false when the history was trimmed past it, or the epoch changed).
    pub complete: bool,
}

/// A live presence claim, from [`Backplane::members`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The claimed key (a lower-cased user name, say).
    pub key: String,
    /// What to show for it (the name as typed).
    pub display: String,
    /// The node holding the claim.
    pub node: String,
}

/// A claim this node holds, refreshed by [`Backplane::refresh`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Claim {
    /// The group (a room).
    pub group: String,
    /// The key claimed in it.
    pub key: String,
    /// What to show for it.
    pub display: String,
}

/// A claim that expired, reported by [`Backplane::sweep`] to the one node that removed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    /// The group it was in.
    pub group: String,
    /// What was shown for it.
    pub display: String,
}

/// The cluster-wide picture for a room list: live groups with their sizes, and how many
/// clients the live nodes report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Census {
    /// Group name and live claims, sorted by name, groups without claims left out.
    pub groups: Vec<(String, usize)>,
    /// Sum of the client counts the live nodes last reported.
    pub clients: usize,
}

/// The seam between a demo and whatever connects its nodes. See the module documentation.
pub trait Backplane: Send + Sync {
    /// This node's name, unique in the cluster.
    fn node(&self) -> &str;
    /// Where this node's deliveries and events go. Set once, before subscribing.
    fn attach(&self, sink: Sink);
    /// Whether the backplane is reachable now.
    fn is_up(&self) -> bool;
    /// Deliver `body` to every node subscribed to `channel` (this one included).
    fn publish(&self, channel: &str, body: &str) -> Result<(), Unavailable>;
    /// Like [`publish`](Self::publish), but give the message the channel's next offset and
    /// keep it in the channel's bounded history. Returns its position.
    fn publish_sequenced(&self, channel: &str, body: &str) -> Result<Seq, Unavailable>;
    /// The kept messages of `channel` after `after` in epoch `epoch`, and its position now.
    fn history(&self, channel: &str, epoch: &str, after: u64) -> Result<History, Unavailable>;
    /// Receive `channel`. Subscriptions are counted: each `subscribe` needs an `unsubscribe`.
    /// Returns once deliveries have started (or at once when the backplane is down: the
    /// subscription is made on reconnecting).
    fn subscribe(&self, channel: &str);
    /// Drop one subscription of `channel`; deliveries stop when none is left. Never waits.
    fn unsubscribe(&self, channel: &str);
    /// Claim `key` in `group` for this node, unless another live claim holds it.
    /// Returns whether this node holds it now.
    fn claim(&self, group: &str, key: &str, display: &str) -> Result<bool, Unavailable>;
    /// Give up this node's claim of `key` in `group`.
    fn release(&self, group: &str, key: &str) -> Result<(), Unavailable>;
    /// The live claims in `group`, in the order they were made.
    fn members(&self, group: &str) -> Result<Vec<Member>, Unavailable>;
    /// Every live group's size and the clients of every live node.
    fn census(&self) -> Result<Census, Unavailable>;
    /// Keep this node alive for one more TTL: its claims (re-made if the backplane lost them)
    /// and its client count.
    /// Returns how many of `claims` it had to make again (lost, or expired unswept): when any,
    /// the cluster's presence changed and the caller should announce it.
    fn refresh(&self, claims: &[Claim], clients: usize) -> Result<usize, Unavailable>;
    /// Remove claims whose TTL passed (a crashed node's); each is returned to one node only.
    fn sweep(&self) -> Result<Vec<Expired>, Unavailable>;
    /// How long a claim lives without a refresh.
    fn ttl(&self) -> Duration;
    /// Leave the cluster without releasing anything, as a crashed process would: claims stay
    /// until they expire, and nothing more is delivered.
    fn disconnect(&self);
}

/// A random-enough token (a node name, an epoch): the clock and the address of a fresh
/// allocation, mixed. Not secret; only unlikely to repeat.
pub fn token() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let marker = Box::new(0u8);
    let address = &*marker as *const u8 as usize as u128;
    let mut x = (nanos ^ address.rotate_left(64)) as u64 ^ (nanos >> 64) as u64 ^ std::process::id() as u64;
    // splitmix64, to spread the bits.
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    format!("{:012x}", (x ^ (x >> 31)) & 0xFFFF_FFFF_FFFF)
}

/// How many messages a channel's history keeps, in both implementations.
pub const HISTORY_CAP: usize = 100;

/// The default presence TTL: a crashed node's users are gone within this plus one sweep.
pub const DEFAULT_TTL: Duration = Duration::from_secs(6);

// ---------------------------------------------------------------------------------------------
// In memory.

/// One channel's sequencing state and history.
#[derive(Default)]
struct Channel {
    seq: Seq,
    kept: VecDeque<(u64, String)>,
}

/// A presence claim, in memory.
struct Held {
    order: u64,
    display: String,
    node: String,
    expires: Instant,
}

#[derive(Default)]
struct BusState {
    /// Node name to its delivery queue.
    nodes: HashMap<String, Sender<Event>>,
    /// Channel to the nodes subscribed and how many times each.
    subscribers: HashMap<String, HashMap<String, usize>>,
    channels: HashMap<String, Channel>,
    presence: BTreeMap<String, HashMap<String, Held>>,
    next_order: u64,
    /// Node to (clients, expiry).
    loads: HashMap<String, (usize, Instant)>,
}

/// Nodes in one process, joined by queues: the default backplane. [`MemoryBus::node`] makes
/// a node; a lone demo is a bus of one.
#[derive(Clone)]
pub struct MemoryBus {
    state: Arc<Mutex<BusState>>,
    ttl: Duration,
}

impl Default for MemoryBus {
    fn default() -> Self {
        MemoryBus::with_ttl(DEFAULT_TTL)
    }
}

impl MemoryBus {
    /// A bus whose presence claims last `ttl` without a refresh.
    pub fn with_ttl(ttl: Duration) -> MemoryBus {
        MemoryBus { state: Arc::default(), ttl }
    }

    /// A new node on this bus.
    pub fn node(&self) -> Arc<MemoryNode> {
        Arc::new(MemoryNode {
            bus: self.clone(),
            name: format!("mem-{}", token()),
            sink: Mutex::new(None),
            crashed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BusState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl MemoryNode {
    /// The bus, unless this node crashed.
    fn bus(&self) -> Result<std::sync::MutexGuard<'_, BusState>, Unavailable> {
        if self.crashed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Unavailable("this node has left the cluster".into()));
        }
        Ok(self.bus.lock())
    }
}

/// One node of a [`MemoryBus`].
pub struct MemoryNode {
    bus: MemoryBus,
    name: String,
    sink: Mutex<Option<Sender<Event>>>,
    /// Set by [`MemoryNode::crash`]: every operation fails from then on.
    crashed: std::sync::atomic::AtomicBool,
}

impl MemoryNode {
    /// Leave the bus without releasing anything, as a crashed process would: its claims stay
    /// until they expire, and nothing more is delivered to it.
    pub fn crash(&self) {
        self.crashed.store(true, std::sync::atomic::Ordering::SeqCst);
        let mut state = self.bus.lock();
        state.nodes.remove(&self.name);
        for subscribed in state.subscribers.values_mut() {
            subscribed.remove(&self.name);
        }
        state.loads.remove(&self.name);
    }

    fn fan_out(&self, state: &BusState, channel: &str, seq: Option<Seq>, body: &str) {
        let Some(subscribed) = state.subscribers.get(channel) else { return };
        for node in subscribed.keys() {
            if let Some(queue) = state.nodes.get(node) {
                let delivery = Delivery {
                    channel: channel.to_owned(),
                    origin: self.name.clone(),
                    seq: seq.clone(),
                    body: body.into(),
                };
                let _ = queue.send(Event::Message(delivery));
            }
        }
    }
}

impl Drop for MemoryNode {
    fn drop(&mut self) {
        self.crash();
    }
}

impl Backplane for MemoryNode {
    fn node(&self) -> &str {
        &self.name
    }

    fn attach(&self, sink: Sink) {
        // Deliveries run on a thread of the node's own, as they do from Redis.
        let (queue, events) = mpsc::channel::<Event>();
        let spawned = thread::Builder::new().name("backplane-memory".into()).spawn(move || {
            for event in events {
                sink(event);
            }
        });
        if spawned.is_ok() {
            self.bus.lock().nodes.insert(self.name.clone(), queue.clone());
            *self.sink.lock().unwrap_or_else(PoisonError::into_inner) = Some(queue);
        }
    }

    fn is_up(&self) -> bool {
        true
    }

    fn publish(&self, channel: &str, body: &str) -> Result<(), Unavailable> {
        let state = self.bus()?;
        self.fan_out(&state, channel, None, body);
        Ok(())
    }

    fn publish_sequenced(&self, channel: &str, body: &str) -> Result<Seq, Unavailable> {
        let mut state = self.bus()?;
        let entry = state.channels.entry(channel.to_owned()).or_default();
        if entry.seq.epoch.is_empty() {
            entry.seq.epoch = token();
        }
        entry.seq.offset += 1;
        entry.kept.push_back((entry.seq.offset, body.to_owned()));
        while entry.kept.len() > HISTORY_CAP {
            entry.kept.pop_front();
        }
        let seq = entry.seq.clone();
        self.fan_out(&state, channel, Some(seq.clone()), body);
        Ok(seq)
    }

    fn history(&self, channel: &str, epoch: &str, after: u64) -> Result<History, Unavailable> {
        let state = self.bus()?;
        let Some(entry) = state.channels.get(channel) else {
            return Ok(History { now: Seq::default(), messages: Vec::new(), complete: epoch.is_empty() || after == 0 });
        };
        Ok(history_of(&entry.seq, entry.kept.iter().cloned(), epoch, after))
    }

    fn subscribe(&self, channel: &str) {
        let Ok(mut state) = self.bus() else { return };
        *state.subscribers.entry(channel.to_owned()).or_default().entry(self.name.clone()).or_default() += 1;
    }

    fn unsubscribe(&self, channel: &str) {
        let Ok(mut state) = self.bus() else { return };
        let Some(subscribed) = state.subscribers.get_mut(channel) else { return };
        if let Some(count) = subscribed.get_mut(&self.name) {
            *count -= 1;
            if *count == 0 {
                subscribed.remove(&self.name);
            }
        }
        if subscribed.is_empty() {
            state.subscribers.remove(channel);
        }
    }

    fn claim(&self, group: &str, key: &str, display: &str) -> Result<bool, Unavailable> {
        let mut state = self.bus()?;
        let now = Instant::now();
        state.next_order += 1;
        let order = state.next_order;
        let expires = now + self.bus.ttl;
        let held = state.presence.entry(group.to_owned()).or_default();
        if let Some(current) = held.get(key)
            && current.expires > now
            && current.node != self.name
        {
            return Ok(false);
        }
        held.insert(key.to_owned(), Held { order, display: display.to_owned(), node: self.name.clone(), expires });
        Ok(true)
    }

    fn release(&self, group: &str, key: &str) -> Result<(), Unavailable> {
        let mut state = self.bus()?;
        if let Some(held) = state.presence.get_mut(group) {
            if held.get(key).is_some_and(|h| h.node == self.name) {
                held.remove(key);
            }
            if held.is_empty() {
                state.presence.remove(group);
            }
        }
        Ok(())
    }

    fn members(&self, group: &str) -> Result<Vec<Member>, Unavailable> {
        let state = self.bus()?;
        let now = Instant::now();
        let mut live: Vec<(u64, Member)> = state
            .presence
            .get(group)
            .map(|held| {
                held.iter()
                    .filter(|(_, h)| h.expires > now)
                    .map(|(key, h)| {
                        (h.order, Member { key: key.clone(), display: h.display.clone(), node: h.node.clone() })
                    })
                    .collect()
            })
            .unwrap_or_default();
        live.sort_by_key(|(order, _)| *order);
        Ok(live.into_iter().map(|(_, member)| member).collect())
    }

    fn census(&self) -> Result<Census, Unavailable> {
        let state = self.bus()?;
        let now = Instant::now();
        let groups = state
            .presence
            .iter()
            .map(|(name, held)| (name.clone(), held.values().filter(|h| h.expires > now).count()))
            .filter(|(_, count)| *count > 0)
            .collect();
        let clients = state.loads.values().filter(|(_, expires)| *expires > now).map(|(clients, _)| clients).sum();
        Ok(Census { groups, clients })
    }

    fn refresh(&self, claims: &[Claim], clients: usize) -> Result<usize, Unavailable> {
        let mut state = self.bus()?;
        let now = Instant::now();
        let expires = now + self.bus.ttl;
        let mut remade = 0;
        for claim in claims {
            state.next_order += 1;
            let order = state.next_order;
            let held = state.presence.entry(claim.group.clone()).or_default();
            match held.get_mut(&claim.key) {
                Some(h) if h.node == self.name => {
                    remade += usize::from(h.expires <= now);
                    h.expires = expires;
                }
                Some(h) if h.expires > now => {}
                _ => {
                    let display = claim.display.clone();
                    held.insert(claim.key.clone(), Held { order, display, node: self.name.clone(), expires });
                    remade += 1;
                }
            }
        }
        state.loads.insert(self.name.clone(), (clients, expires));
        Ok(remade)
    }

    fn sweep(&self) -> Result<Vec<Expired>, Unavailable> {
        let mut state = self.bus()?;
        let now = Instant::now();
        let mut expired = Vec::new();
        for (group, held) in state.presence.iter_mut() {
            held.retain(|_, h| {
                let live = h.expires > now;
                if !live {
                    expired.push(Expired { group: group.clone(), display: h.display.clone() });
                }
                live
            });
        }
        state.presence.retain(|_, held| !held.is_empty());
        state.loads.retain(|_, (_, expires)| *expires > now);
        Ok(expired)
    }

    fn ttl(&self) -> Duration {
        self.bus.ttl
    }

    fn disconnect(&self) {
        self.crash();
    }
}

/// The part of a history after `after`, as both implementations answer it.
pub fn history_of(now: &Seq, kept: impl Iterator<Item = (u64, String)>, epoch: &str, after: u64) -> History {
    let same_epoch = epoch.is_empty() || epoch == now.epoch;
    // A reader from another epoch (the history was lost) gets all that is kept.
    let after = if same_epoch { after } else { 0 };
    let messages: Vec<(u64, String)> = kept.filter(|(offset, _)| *offset > after).collect();
    let first_kept = messages.first().map_or(now.offset.saturating_add(1), |(offset, _)| *offset);
    let complete = same_epoch && first_kept <= after.saturating_add(1);
    History { now: now.clone(), messages, complete }
}

/// Count one subscription of `channel` in (`add`) or out; returns whether the channel's first
/// subscription was added or its last one removed, i.e. whether the backplane must be told.
pub fn subscription_delta(counts: &mut HashMap<String, usize>, channel: &str, add: bool) -> bool {
    if add {
        let count = counts.entry(channel.to_owned()).or_default();
        *count += 1;
        *count == 1
    } else {
        match counts.get_mut(channel) {
            Some(count) if *count > 1 => {
                *count -= 1;
                false
            }
            Some(_) => {
                counts.remove(channel);
                true
            }
            None => false,
        }
    }
}
