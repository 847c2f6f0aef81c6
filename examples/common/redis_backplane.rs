//! The Redis backplane: nodes in several processes (or machines), joined through one Redis.
//!
//! - **Messages** travel by Redis pub/sub (`PUBLISH` / `SUBSCRIBE`), through the `redis`
//!   crate's blocking API: one connection publishes and runs commands, one listens. Redis
//!   pub/sub is **at most once**: it keeps nothing, so a node that is disconnected when a
//!   message is published never gets it. What makes that visible is the sequencing below.
//! - **Sequenced messages** (a chat room's messages) are published by a Lua script that, in one
//!   atomic step, takes the channel's next offset (`HINCRBY`), appends the message to a capped
//!   list (`RPUSH` + `LTRIM`, [`HISTORY_CAP`] kept) and publishes it with its offset and epoch.
//!   The epoch is a token stored beside the offset: a Redis that restarted without its data
//!   has none, so the next publish starts a new epoch, and readers know their offsets are void.
//! - **Presence** (who is in which room) is a hash per room plus a sorted set of expiry times,
//!   written by Lua scripts that read Redis's own clock (`TIME`), so nodes' clocks never
//!   matter. A node refreshes its claims every TTL/3; a crashed node's claims expire after the
//!   TTL and the next sweep (by any node, atomic, so exactly one reports each) removes them.
//!
//! On the wire a pub/sub message is `bp1 ORIGIN OFFSET EPOCH\nBODY` (`-` for no offset and
//! epoch). Anything else on a subscribed channel is logged and dropped
//! ([`RedisBackplane::dropped`] counts it).
//!
//! When Redis goes away, the listener reports [`Event::Down`], reconnects with backoff (50 ms
//! doubling to 2 s), subscribes again to every channel, and reports [`Event::Up`]. Commands
//! meanwhile fail fast with [`Unavailable`] instead of waiting on a dead connection.

// Each demo compiles this file into its own crate and uses a different part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use redis::{Client, Connection, RedisError, RedisResult};

use super::backplane::{
    Backplane, Census, Claim, DEFAULT_TTL, Delivery, Event, Expired, HISTORY_CAP, History, Member, Seq, Sink,
    Unavailable, history_of, subscription_delta, token,
};

/// The first word of every message this backplane publishes.
const WIRE_TAG: &str = "bp1";
/// How long the listener blocks in a read before looking at its queue of (un)subscriptions.
const LISTEN_POLL: Duration = Duration::from_millis(50);
/// Longest wait for a connection or a command reply.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// Reconnection backoff: first wait and cap.
const BACKOFF_FIRST: Duration = Duration::from_millis(50);
const BACKOFF_CAP: Duration = Duration::from_secs(2);

/// Current time in milliseconds by Redis's clock, for the presence scripts.
const NOW: &str = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) ";

/// KEYS: seq hash, history list. ARGV: epoch if new, wire header, body, cap, pub/sub channel.
const SEQ_PUBLISH: &str = "local epoch = redis.call('HGET', KEYS[1], 'epoch') \
if not epoch then epoch = ARGV[1] redis.call('HSET', KEYS[1], 'epoch', epoch) end \
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1) \
redis.call('RPUSH', KEYS[2], offset .. '\\n' .. ARGV[3]) \
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1) \
redis.call('PUBLISH', ARGV[5], ARGV[2] .. ' ' .. offset .. ' ' .. epoch .. '\\n' .. ARGV[3]) \
return {tostring(offset), epoch}";

/// KEYS: seq hash, history list. Returns epoch, offset, then the kept entries.
const HISTORY: &str = "local r = {redis.call('HGET', KEYS[1], 'epoch') or '', redis.call('HGET', KEYS[1], 'offset') or '0'} \
for _, v in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do r[#r + 1] = v end \
return r";

/// ARGV: prefix, group, key, node, display, ttl ms. Returns 1 when this node holds the key.
const CLAIM: &str = "local p, g = ARGV[1], ARGV[2] \
local h, z = p .. ':presence:' .. g, p .. ':expiry:' .. g \
local exp = redis.call('ZSCORE', z, ARGV[3]) \
if exp and tonumber(exp) > now then \
  local v = redis.call('HGET', h, ARGV[3]) \
  if v and string.match(v, '^[^|]*|([^|]*)|') ~= ARGV[4] then return {'0'} end \
end \
local order = redis.call('INCR', p .. ':order') \
redis.call('HSET', h, ARGV[3], order .. '|' .. ARGV[4] .. '|' .. ARGV[5]) \
redis.call('ZADD', z, now + tonumber(ARGV[6]), ARGV[3]) \
redis.call('SADD', p .. ':groups', g) \
return {'1'}";

/// ARGV: prefix, group, key, node.
const RELEASE: &str = "local p, g = ARGV[1], ARGV[2] \
local h, z = p .. ':presence:' .. g, p .. ':expiry:' .. g \
local v = redis.call('HGET', h, ARGV[3]) \
if v and string.match(v, '^[^|]*|([^|]*)|') == ARGV[4] then redis.call('HDEL', h, ARGV[3]) redis.call('ZREM', z, ARGV[3]) end \
if redis.call('HLEN', h) == 0 then redis.call('DEL', h, z) redis.call('SREM', p .. ':groups', g) end \
return {}";

/// ARGV: prefix, group. Returns key, value pairs of the live claims.
const MEMBERS: &str = "local p, g = ARGV[1], ARGV[2] \
local h, z = p .. ':presence:' .. g, p .. ':expiry:' .. g \
local r = {} \
for _, k in ipairs(redis.call('ZRANGEBYSCORE', z, '(' .. now, '+inf')) do \
  local v = redis.call('HGET', h, k) \
  if v then r[#r + 1] = k r[#r + 1] = v end \
end \
return r";

/// ARGV: prefix. Returns the live nodes' clients, then group, size pairs.
const CENSUS: &str = "local p = ARGV[1] \
local clients = 0 \
for _, n in ipairs(redis.call('ZRANGEBYSCORE', p .. ':nodes', '(' .. now, '+inf')) do \
  clients = clients + (tonumber(redis.call('HGET', p .. ':loads', n)) or 0) \
end \
local r = {tostring(clients)} \
for _, g in ipairs(redis.call('SMEMBERS', p .. ':groups')) do \
  local c = redis.call('ZCOUNT', p .. ':expiry:' .. g, '(' .. now, '+inf') \
  if c > 0 then r[#r + 1] = g r[#r + 1] = tostring(c) end \
end \
return r";

/// ARGV: prefix, node, ttl ms, clients, then group, key, display triples. Returns how many
/// claims were not this node's live ones (lost with a restarted Redis, or expired) and were
/// made again.
const REFRESH: &str = "local p, node = ARGV[1], ARGV[2] \
local exp = now + tonumber(ARGV[3]) \
local remade = 0 \
for i = 5, #ARGV, 3 do \
  local g, k, d = ARGV[i], ARGV[i + 1], ARGV[i + 2] \
  local h, z = p .. ':presence:' .. g, p .. ':expiry:' .. g \
  local v = redis.call('HGET', h, k) \
  local owner = v and string.match(v, '^[^|]*|([^|]*)|') \
  local live = tonumber(redis.call('ZSCORE', z, k) or '0') > now \
  if owner == node or not v or not live then \
    if owner ~= node then redis.call('HSET', h, k, redis.call('INCR', p .. ':order') .. '|' .. node .. '|' .. d) end \
    if owner ~= node or not live then remade = remade + 1 end \
    redis.call('ZADD', z, exp, k) \
    redis.call('SADD', p .. ':groups', g) \
  end \
end \
redis.call('ZADD', p .. ':nodes', exp, node) \
redis.call('HSET', p .. ':loads', node, ARGV[4]) \
return {tostring(remade)}";

/// ARGV: prefix. Removes expired claims and nodes; returns group, display pairs.
const SWEEP: &str = "local p = ARGV[1] \
local r = {} \
for _, g in ipairs(redis.call('SMEMBERS', p .. ':groups')) do \
  local h, z = p .. ':presence:' .. g, p .. ':expiry:' .. g \
  for _, k in ipairs(redis.call('ZRANGEBYSCORE', z, '-inf', now)) do \
    local v = redis.call('HGET', h, k) \
    redis.call('ZREM', z, k) \
    if v then redis.call('HDEL', h, k) r[#r + 1] = g r[#r + 1] = string.match(v, '^[^|]*|[^|]*|(.*)$') or k end \
  end \
  if redis.call('ZCARD', z) == 0 then redis.call('DEL', h, z) redis.call('SREM', p .. ':groups', g) end \
end \
for _, n in ipairs(redis.call('ZRANGEBYSCORE', p .. ':nodes', '-inf', now)) do \
  redis.call('ZREM', p .. ':nodes', n) redis.call('HDEL', p .. ':loads', n) \
end \
return r";

/// Work for the listener thread.
enum Control {
    /// Subscribe, then signal (if anyone waits).
    Subscribe(String, Option<mpsc::SyncSender<()>>),
    /// Unsubscribe, unless the channel was subscribed again meanwhile.
    Unsubscribe(String),
    Stop,
}

/// What the listener and the callers share.
struct Shared {
    /// Channel (without prefix) to how many subscriptions this node holds.
    counts: Mutex<HashMap<String, usize>>,
    sink: Mutex<Option<Sink>>,
    up: AtomicBool,
    dropped: AtomicU64,
    prefix: String,
}

impl Shared {
    fn emit(&self, event: Event) {
        let sink = self.sink.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(sink) = sink {
            sink(event);
        }
    }
}

/// The command connection, reconnected on demand, never more often than its backoff allows.
struct Commands {
    connection: Option<Connection>,
    retry_at: Instant,
    backoff: Duration,
}

/// A node of a Redis-backed cluster; see the module documentation.
pub struct RedisBackplane {
    name: String,
    client: Client,
    commands: Mutex<Commands>,
    shared: Arc<Shared>,
    control: Mutex<Sender<Control>>,
    listener: Mutex<Option<JoinHandle<()>>>,
    ttl: Duration,
    /// Set by [`RedisBackplane::stop`]: every operation fails from then on.
    stopped: AtomicBool,
}

impl RedisBackplane {
    /// Connect to the Redis at `url` (`redis://127.0.0.1:6379`) with the default key prefix and
    /// presence TTL. Fails when the URL is malformed or Redis cannot be reached now.
    pub fn connect(url: &str) -> Result<Arc<RedisBackplane>, String> {
        RedisBackplane::connect_with(url, "rfc6455", DEFAULT_TTL)
    }

    /// Connect with a key `prefix` (clusters with different prefixes share nothing) and a
    /// presence `ttl`.
    pub fn connect_with(url: &str, prefix: &str, ttl: Duration) -> Result<Arc<RedisBackplane>, String> {
        let client = Client::open(url).map_err(|e| format!("{url}: {e}"))?;
        let connection = open(&client).map_err(|e| format!("{url}: {e}"))?;
        let shared = Arc::new(Shared {
            counts: Mutex::default(),
            sink: Mutex::new(None),
            up: AtomicBool::new(true),
            dropped: AtomicU64::new(0),
            prefix: prefix.to_owned(),
        });
        let (control, queue) = mpsc::channel();
        let listener = {
            let client = client.clone();
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("backplane-redis".into())
                .spawn(move || listen(&client, &shared, &queue))
                .map_err(|e| format!("cannot start the listener thread: {e}"))?
        };
        Ok(Arc::new(RedisBackplane {
            name: format!("node-{}", token()),
            client,
            commands: Mutex::new(Commands {
                connection: Some(connection),
                retry_at: Instant::now(),
                backoff: BACKOFF_FIRST,
            }),
            shared,
            control: Mutex::new(control),
            listener: Mutex::new(Some(listener)),
            ttl,
            stopped: AtomicBool::new(false),
        }))
    }

    /// How many messages arrived on a subscribed channel that were not this backplane's
    /// (logged and dropped).
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Stop the listener and close the connections, releasing nothing: to the rest of the
    /// cluster this node has crashed. Tests use it; a process that exits does the same.
    pub fn stop(&self) {
        let _ = self.control.lock().unwrap_or_else(PoisonError::into_inner).send(Control::Stop);
        self.stopped.store(true, Ordering::SeqCst);
        if let Some(listener) = self.listener.lock().unwrap_or_else(PoisonError::into_inner).take() {
            // The last handle may be dropped by the listener itself (in a sink): it just ends.
            if listener.thread().id() != thread::current().id() {
                let _ = listener.join();
            }
        }
        self.commands.lock().unwrap_or_else(PoisonError::into_inner).connection = None;
        self.shared.up.store(false, Ordering::SeqCst);
    }

    fn key(&self, kind: &str, name: &str) -> String {
        format!("{}:{kind}:{name}", self.shared.prefix)
    }

    fn commands(&self) -> MutexGuard<'_, Commands> {
        self.commands.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Run `command` on the command connection, connecting first if needed (not before the
    /// backoff allows: while Redis is down, callers fail at once).
    fn run<T>(&self, command: impl FnOnce(&mut Connection) -> RedisResult<T>) -> Result<T, Unavailable> {
        if self.stopped.load(Ordering::SeqCst) {
            return Err(Unavailable("this node has left the cluster".into()));
        }
        let mut commands = self.commands();
        if commands.connection.is_none() {
            let now = Instant::now();
            if now < commands.retry_at {
                return Err(Unavailable("reconnecting to Redis".into()));
            }
            match open(&self.client) {
                Ok(connection) => {
                    commands.connection = Some(connection);
                    commands.backoff = BACKOFF_FIRST;
                }
                Err(e) => {
                    commands.retry_at = now + commands.backoff;
                    commands.backoff = (commands.backoff * 2).min(BACKOFF_CAP);
                    return Err(Unavailable(e.to_string()));
                }
            }
        }
        let Some(connection) = commands.connection.as_mut() else {
            return Err(Unavailable("no connection".into()));
        };
        match command(connection) {
            Ok(value) => Ok(value),
            Err(e) => {
                if e.is_io_error() || e.is_connection_dropped() || e.is_timeout() || e.is_unrecoverable_error() {
                    commands.connection = None;
                    commands.retry_at = Instant::now() + commands.backoff;
                }
                Err(Unavailable(e.to_string()))
            }
        }
    }

    /// Run a presence script (which starts by reading Redis's clock) with `args`.
    fn script(&self, body: &str, args: &[&str]) -> Result<Vec<String>, Unavailable> {
        let mut command = redis::cmd("EVAL");
        command.arg(format!("{NOW}{body}")).arg(0);
        for arg in args {
            command.arg(*arg);
        }
        self.run(|connection| command.query::<Vec<String>>(connection))
    }

    fn control(&self, message: Control) {
        let _ = self.control.lock().unwrap_or_else(PoisonError::into_inner).send(message);
    }
}

impl Drop for RedisBackplane {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A connection with every wait bounded.
fn open(client: &Client) -> RedisResult<Connection> {
    let connection = client.get_connection_with_timeout(COMMAND_TIMEOUT)?;
    connection.set_read_timeout(Some(COMMAND_TIMEOUT))?;
    connection.set_write_timeout(Some(COMMAND_TIMEOUT))?;
    Ok(connection)
}

/// The listener thread: connect, subscribe to everything counted, deliver; on failure report
/// the outage, back off and start again.
fn listen(client: &Client, shared: &Shared, queue: &Receiver<Control>) {
    let mut backoff = BACKOFF_FIRST;
    let mut was_down = false;
    loop {
        let failure = match open(client) {
            Ok(mut connection) => {
                let failure = serve(&mut connection, shared, queue, &mut was_down);
                match failure {
                    None => return,
                    Some(failure) => {
                        backoff = BACKOFF_FIRST;
                        failure
                    }
                }
            }
            Err(e) => e.to_string(),
        };
        if shared.up.swap(false, Ordering::SeqCst) || !was_down {
            eprintln!("backplane: Redis is unreachable ({failure}); reconnecting");
            shared.emit(Event::Down(failure));
        }
        was_down = true;
        // Wait out the backoff, answering (un)subscriptions meanwhile: they are counted
        // already, and the next connection subscribes to whatever is counted then.
        let deadline = Instant::now() + backoff;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match queue.recv_timeout(left) {
                Ok(Control::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Ok(Control::Subscribe(_, Some(done))) => {
                    let _ = done.send(());
                }
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => break,
            }
        }
        backoff = (backoff * 2).min(BACKOFF_CAP);
    }
}

/// Listen on one connection. Returns `None` when told to stop, or why the connection failed.
fn serve(
    connection: &mut Connection,
    shared: &Shared,
    queue: &Receiver<Control>,
    was_down: &mut bool,
) -> Option<String> {
    let prefix = format!("{}:ch:", shared.prefix);
    let mut pubsub = connection.as_pubsub();
    if let Err(e) = pubsub.set_read_timeout(Some(LISTEN_POLL)) {
        return Some(e.to_string());
    }
    let channels: Vec<String> = {
        let counts = shared.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.keys().map(|channel| format!("{prefix}{channel}")).collect()
    };
    if !channels.is_empty()
        && let Err(e) = pubsub.subscribe(&channels)
    {
        return Some(e.to_string());
    }
    shared.up.store(true, Ordering::SeqCst);
    if *was_down {
        eprintln!("backplane: Redis is back; {} channel(s) subscribed again", channels.len());
        *was_down = false;
        shared.emit(Event::Up);
    }
    loop {
        loop {
            let result = match queue.try_recv() {
                Ok(Control::Stop) | Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => break,
                Ok(Control::Subscribe(channel, done)) => {
                    let result = pubsub.subscribe(format!("{prefix}{channel}"));
                    if let Some(done) = done {
                        let _ = done.send(());
                    }
                    result
                }
                Ok(Control::Unsubscribe(channel)) => {
                    let still = shared.counts.lock().unwrap_or_else(PoisonError::into_inner).contains_key(&channel);
                    if still { Ok(()) } else { pubsub.unsubscribe(format!("{prefix}{channel}")) }
                }
            };
            if let Err(e) = result {
                return Some(e.to_string());
            }
        }
        match pubsub.get_message() {
            Ok(message) => {
                let channel = message.get_channel_name();
                let Some(channel) = channel.strip_prefix(&prefix) else { continue };
                match parse_wire(channel, message.get_payload_bytes()) {
                    Some(delivery) => shared.emit(Event::Message(delivery)),
                    None => {
                        shared.dropped.fetch_add(1, Ordering::Relaxed);
                        eprintln!("backplane: dropped a malformed message on {channel:?} (not from a node)");
                    }
                }
            }
            Err(e) if e.is_timeout() => {}
            Err(e) => return Some(describe(&e)),
        }
    }
}

fn describe(e: &RedisError) -> String {
    e.to_string()
}

/// `bp1 ORIGIN OFFSET EPOCH\nBODY`, or `None` for anything else.
fn parse_wire(channel: &str, bytes: &[u8]) -> Option<Delivery> {
    let text = std::str::from_utf8(bytes).ok()?;
    let (header, body) = text.split_once('\n')?;
    let mut words = header.split(' ');
    if words.next()? != WIRE_TAG {
        return None;
    }
    let origin = words.next().filter(|w| !w.is_empty())?;
    let (offset, epoch) = (words.next()?, words.next()?);
    if words.next().is_some() {
        return None;
    }
    let seq = match (offset, epoch) {
        ("-", "-") => None,
        (offset, epoch) if !epoch.is_empty() => Some(Seq { epoch: epoch.to_owned(), offset: offset.parse().ok()? }),
        _ => return None,
    };
    Some(Delivery { channel: channel.to_owned(), origin: origin.to_owned(), seq, body: body.to_owned() })
}

impl Backplane for RedisBackplane {
    fn node(&self) -> &str {
        &self.name
    }

    fn attach(&self, sink: Sink) {
        *self.shared.sink.lock().unwrap_or_else(PoisonError::into_inner) = Some(sink);
    }

    fn is_up(&self) -> bool {
        self.shared.up.load(Ordering::SeqCst)
    }

    fn publish(&self, channel: &str, body: &str) -> Result<(), Unavailable> {
        let wire = format!("{WIRE_TAG} {} - -\n{body}", self.name);
        let channel = self.key("ch", channel);
        self.run(|connection| redis::cmd("PUBLISH").arg(&channel).arg(&wire).query::<i64>(connection)).map(|_| ())
    }

    fn publish_sequenced(&self, channel: &str, body: &str) -> Result<Seq, Unavailable> {
        let mut command = redis::cmd("EVAL");
        command
            .arg(SEQ_PUBLISH)
            .arg(2)
            .arg(self.key("seq", channel))
            .arg(self.key("hist", channel))
            .arg(token())
            .arg(format!("{WIRE_TAG} {}", self.name))
            .arg(body)
            .arg(HISTORY_CAP)
            .arg(self.key("ch", channel));
        let reply = self.run(|connection| command.query::<Vec<String>>(connection))?;
        match reply.as_slice() {
            [offset, epoch] => Ok(Seq {
                epoch: epoch.clone(),
                offset: offset.parse().map_err(|_| Unavailable(format!("bad offset from Redis: {offset:?}")))?,
            }),
            _ => Err(Unavailable(format!("unexpected reply from Redis: {reply:?}"))),
        }
    }

    fn history(&self, channel: &str, epoch: &str, after: u64) -> Result<History, Unavailable> {
        let mut command = redis::cmd("EVAL");
        command.arg(HISTORY).arg(2).arg(self.key("seq", channel)).arg(self.key("hist", channel));
        let reply = self.run(|connection| command.query::<Vec<String>>(connection))?;
        let [now_epoch, now_offset, kept @ ..] = reply.as_slice() else {
            return Err(Unavailable(format!("unexpected reply from Redis: {reply:?}")));
        };
        let now = Seq { epoch: now_epoch.clone(), offset: now_offset.parse().unwrap_or(0) };
        let kept = kept.iter().filter_map(|entry| {
            let (offset, body) = entry.split_once('\n')?;
            Some((offset.parse().ok()?, body.to_owned()))
        });
        Ok(history_of(&now, kept, epoch, after))
    }

    fn subscribe(&self, channel: &str) {
        let first = {
            let mut counts = self.shared.counts.lock().unwrap_or_else(PoisonError::into_inner);
            subscription_delta(&mut counts, channel, true)
        };
        if !first {
            return;
        }
        if !self.is_up() {
            // Made on reconnecting, with every other counted channel.
            self.control(Control::Subscribe(channel.to_owned(), None));
            return;
        }
        let (done, confirmed) = mpsc::sync_channel(1);
        self.control(Control::Subscribe(channel.to_owned(), Some(done)));
        let _ = confirmed.recv_timeout(COMMAND_TIMEOUT);
    }

    fn unsubscribe(&self, channel: &str) {
        let last = {
            let mut counts = self.shared.counts.lock().unwrap_or_else(PoisonError::into_inner);
            subscription_delta(&mut counts, channel, false)
        };
        if last {
            self.control(Control::Unsubscribe(channel.to_owned()));
        }
    }

    fn claim(&self, group: &str, key: &str, display: &str) -> Result<bool, Unavailable> {
        let ttl = self.ttl.as_millis().to_string();
        let reply = self.script(CLAIM, &[&self.shared.prefix, group, key, &self.name, display, &ttl])?;
        Ok(reply.first().is_some_and(|held| held == "1"))
    }

    fn release(&self, group: &str, key: &str) -> Result<(), Unavailable> {
        self.script(RELEASE, &[&self.shared.prefix, group, key, &self.name]).map(|_| ())
    }

    fn members(&self, group: &str) -> Result<Vec<Member>, Unavailable> {
        let reply = self.script(MEMBERS, &[&self.shared.prefix, group])?;
        let mut members: Vec<(u64, Member)> = reply
            .chunks_exact(2)
            .filter_map(|pair| {
                let mut fields = pair[1].splitn(3, '|');
                let order = fields.next()?.parse().ok()?;
                let node = fields.next()?.to_owned();
                let display = fields.next()?.to_owned();
                Some((order, Member { key: pair[0].clone(), display, node }))
            })
            .collect();
        members.sort_by_key(|(order, _)| *order);
        Ok(members.into_iter().map(|(_, member)| member).collect())
    }

    fn census(&self) -> Result<Census, Unavailable> {
        let reply = self.script(CENSUS, &[&self.shared.prefix])?;
        let Some((clients, groups)) = reply.split_first() else {
            return Err(Unavailable("empty reply from Redis".into()));
        };
        let mut groups: Vec<(String, usize)> =
            groups.chunks_exact(2).map(|pair| (pair[0].clone(), pair[1].parse().unwrap_or(0))).collect();
        groups.sort();
        Ok(Census { groups, clients: clients.parse().unwrap_or(0) })
    }

    fn refresh(&self, claims: &[Claim], clients: usize) -> Result<usize, Unavailable> {
        let ttl = self.ttl.as_millis().to_string();
        let clients = clients.to_string();
        let mut args: Vec<&str> = vec![&self.shared.prefix, &self.name, &ttl, &clients];
        for claim in claims {
            args.extend([claim.group.as_str(), claim.key.as_str(), claim.display.as_str()]);
        }
        let reply = self.script(REFRESH, &args)?;
        match reply.as_slice() {
            [remade] => remade.parse().map_err(|_| Unavailable(format!("bad count from Redis: {remade:?}"))),
            _ => Err(Unavailable(format!("unexpected reply from Redis: {reply:?}"))),
        }
    }

    fn sweep(&self) -> Result<Vec<Expired>, Unavailable> {
        let reply = self.script(SWEEP, &[&self.shared.prefix])?;
        Ok(reply.chunks_exact(2).map(|pair| Expired { group: pair[0].clone(), display: pair[1].clone() }).collect())
    }

    fn ttl(&self) -> Duration {
        self.ttl
    }

    fn disconnect(&self) {
        self.stop();
    }
}

/// The command line without `--redis URL`: the positional arguments and other flags, in order.
pub fn args_without_redis() -> Vec<String> {
    let mut args = std::env::args().skip(1);
    let mut kept = Vec::new();
    while let Some(arg) = args.next() {
        if arg == "--redis" {
            args.next();
        } else {
            kept.push(arg);
        }
    }
    kept
}

/// `--redis URL` on the command line: this process joins the cluster at that Redis as a node.
/// `None` without the flag. Exits with a message when the URL is missing or Redis cannot be
/// reached.
pub fn from_args() -> Option<Arc<RedisBackplane>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let at = args.iter().position(|arg| arg == "--redis")?;
    let Some(url) = args.get(at + 1).filter(|url| !url.starts_with('-')) else {
        eprintln!("usage: --redis redis://127.0.0.1:6379 (after the listen address)");
        std::process::exit(2);
    };
    match RedisBackplane::connect(url) {
        Ok(backplane) => {
            println!("node {} of the cluster at {url}", backplane.node());
            Some(backplane)
        }
        Err(e) => {
            eprintln!("--redis {url}: cannot reach Redis: {e}");
            std::process::exit(1);
        }
    }
}
