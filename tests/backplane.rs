//! One conformance suite for both backplanes (`examples/common/backplane.rs`): the same checks
//! run against the in-memory bus and against Redis (a private redis-server on a free loopback
//! port; see `tests/redis_support`). Delivery to every subscribed node once, counted
//! subscriptions, sequenced offsets and epochs, the bounded history, presence claims and their
//! expiry, and the demos' broker on top.

#[path = "../examples/common/broker.rs"]
mod broker;
mod redis_support;

use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use broker::backplane::{Backplane, Claim, Delivery, Event, HISTORY_CAP, MemoryBus};
use broker::redis_backplane::RedisBackplane;
use broker::{ClientChannels, MessageBroker};
use redis_support::RedisServer;

/// Longest wait for one delivery.
const PATIENCE: Duration = Duration::from_secs(5);

/// Nodes of one cluster, each with the events it received.
struct Cluster {
    nodes: Vec<Arc<dyn Backplane>>,
    events: Vec<Receiver<Event>>,
    _redis: Option<RedisServer>,
}

impl Cluster {
    fn attach(nodes: Vec<Arc<dyn Backplane>>, redis: Option<RedisServer>) -> Cluster {
        let events = nodes
            .iter()
            .map(|node| {
                let (events, received) = mpsc::channel();
                let events = Mutex::new(events);
                node.attach(Arc::new(move |event| {
                    let _ = events.lock().unwrap().send(event);
                }));
                received
            })
            .collect();
        Cluster { nodes, events, _redis: redis }
    }

    /// The next message node `i` receives (events other than messages are skipped).
    fn next(&self, i: usize) -> Delivery {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events[i].recv_timeout(left) {
                Ok(Event::Message(delivery)) => return delivery,
                Ok(_) => {}
                Err(_) => panic!("node {i} received nothing within {PATIENCE:?}"),
            }
        }
    }

    /// Assert node `i` receives nothing more (after the others had time to).
    fn quiet(&self, i: usize) {
        if let Ok(Event::Message(delivery)) = self.events[i].recv_timeout(Duration::from_millis(300)) {
            panic!("node {i} received {delivery:?}");
        }
    }
}

fn memory(nodes: usize, ttl: Duration) -> Option<Cluster> {
    let bus = MemoryBus::with_ttl(ttl);
    Some(Cluster::attach((0..nodes).map(|_| bus.node() as Arc<dyn Backplane>).collect(), None))
}

fn redis(test: &str, nodes: usize, ttl: Duration) -> Option<Cluster> {
    let server = RedisServer::start(test)?;
    let nodes = (0..nodes)
        .map(|_| {
            let node = RedisBackplane::connect_with(&server.url(), "test", ttl).expect("connect to redis-server");
            node as Arc<dyn Backplane>
        })
        .collect();
    Some(Cluster::attach(nodes, Some(server)))
}

const TTL: Duration = Duration::from_secs(30);

fn publish_reaches_every_subscribed_node_once(cluster: Cluster) {
    let [a, b, c] = [&cluster.nodes[0], &cluster.nodes[1], &cluster.nodes[2]];
    a.subscribe("news");
    b.subscribe("news");
    c.subscribe("weather");
    a.publish("news", "hello").unwrap();
    for i in [0, 1] {
        let got = cluster.next(i);
        assert_eq!((got.channel.as_str(), got.origin.as_str(), got.body.as_str()), ("news", a.node(), "hello"));
        assert_eq!(got.seq, None);
    }
    cluster.quiet(0);
    cluster.quiet(1);
    cluster.quiet(2);
    // Bodies are carried as they are: new lines, spaces, JSON.
    b.publish("news", "{\"a\": \"x y\"}\nsecond line").unwrap();
    assert_eq!(cluster.next(0).body, "{\"a\": \"x y\"}\nsecond line");
}

fn subscriptions_are_counted(cluster: Cluster) {
    let [a, b] = [&cluster.nodes[0], &cluster.nodes[1]];
    a.subscribe("room");
    a.subscribe("room");
    a.unsubscribe("room");
    b.publish("room", "one").unwrap();
    assert_eq!(cluster.next(0).body, "one", "one subscription of two is left");
    a.unsubscribe("room");
    // Unsubscribing never waits: a marker on another channel shows it has been done.
    a.subscribe("marker");
    b.publish("room", "two").unwrap();
    b.publish("marker", "after").unwrap();
    assert_eq!(cluster.next(0).body, "after");
    cluster.quiet(0);
}

fn sequenced_messages_get_offsets_in_one_epoch_and_a_bounded_history(cluster: Cluster) {
    let [a, b] = [&cluster.nodes[0], &cluster.nodes[1]];
    b.subscribe("room");
    let first = a.publish_sequenced("room", "m1").unwrap();
    let second = b.publish_sequenced("room", "m2").unwrap();
    assert_eq!((first.offset, second.offset), (1, 2));
    assert_eq!(first.epoch, second.epoch);
    assert!(!first.epoch.is_empty());
    let got = cluster.next(1);
    assert_eq!((got.seq.as_ref().map(|s| s.offset), got.body.as_str()), (Some(1), "m1"));
    assert_eq!(cluster.next(1).seq, Some(second.clone()));

    let history = a.history("room", &first.epoch, 1).unwrap();
    assert_eq!(history.messages, [(2, "m2".to_string())]);
    assert!(history.complete);
    assert_eq!(history.now, second);

    // Past the cap the oldest are gone, and a reader from before them is told so.
    for i in 3..=(HISTORY_CAP as u64 + 10) {
        a.publish_sequenced("room", &format!("m{i}")).unwrap();
    }
    let history = b.history("room", &first.epoch, 1).unwrap();
    assert!(!history.complete);
    assert_eq!(history.messages.len(), HISTORY_CAP);
    assert_eq!(history.messages.last().map(|(offset, _)| *offset), Some(HISTORY_CAP as u64 + 10));
    // A reader from another epoch gets what is kept, marked incomplete.
    let elsewhere = b.history("room", "another-epoch", 105).unwrap();
    assert!(!elsewhere.complete);
    assert_eq!(elsewhere.messages.len(), HISTORY_CAP);
    // A reader that is up to date gets nothing, completely.
    let current = b.history("room", &first.epoch, HISTORY_CAP as u64 + 10).unwrap();
    assert!(current.complete && current.messages.is_empty());
}

fn a_claim_is_held_by_one_node(cluster: Cluster) {
    let [a, b] = [&cluster.nodes[0], &cluster.nodes[1]];
    assert!(a.claim("lobby", "ada", "Ada").unwrap());
    assert!(!b.claim("lobby", "ada", "ADA").unwrap(), "taken on another node");
    assert!(b.claim("garden", "ada", "ada").unwrap(), "the same key in another group");
    assert!(b.claim("lobby", "grace", "Grace").unwrap());
    let members = a.members("lobby").unwrap();
    let shown: Vec<(&str, &str)> = members.iter().map(|m| (m.display.as_str(), m.node.as_str())).collect();
    assert_eq!(shown, [("Ada", a.node()), ("Grace", b.node())], "in the order of claiming");
    let census = b.census().unwrap();
    assert_eq!(census.groups, [("garden".to_string(), 1), ("lobby".to_string(), 2)]);

    b.release("lobby", "ada").unwrap();
    assert!(!b.claim("lobby", "ada", "ada").unwrap(), "only the holder releases");
    a.release("lobby", "ada").unwrap();
    assert!(b.claim("lobby", "ada", "ada").unwrap());
    a.release("garden", "nobody").unwrap();
    b.release("garden", "ada").unwrap();
    assert_eq!(a.census().unwrap().groups, [("lobby".to_string(), 2)]);
}

fn a_crashed_nodes_claims_expire_and_are_swept_once(cluster: Cluster) {
    let [a, b, c] = [&cluster.nodes[0], &cluster.nodes[1], &cluster.nodes[2]];
    let ttl = a.ttl();
    assert!(a.claim("lobby", "ada", "Ada").unwrap());
    assert!(b.claim("lobby", "grace", "Grace").unwrap());
    a.refresh(&[Claim { group: "lobby".into(), key: "ada".into(), display: "Ada".into() }], 3).unwrap();
    b.refresh(&[Claim { group: "lobby".into(), key: "grace".into(), display: "Grace".into() }], 2).unwrap();
    assert_eq!(c.census().unwrap().clients, 5);
    // Node a stops refreshing (it crashed); b keeps going.
    let deadline = Instant::now() + ttl * 2;
    while a.members("lobby").unwrap().len() == 2 {
        assert!(Instant::now() < deadline, "a's claim did not expire within twice its TTL");
        b.refresh(&[Claim { group: "lobby".into(), key: "grace".into(), display: "Grace".into() }], 2).unwrap();
        std::thread::sleep(ttl / 10);
    }
    assert_eq!(c.members("lobby").unwrap().iter().map(|m| m.display.as_str()).collect::<Vec<_>>(), ["Grace"]);
    // Swept by exactly one node.
    let swept: Vec<_> = [b, c].iter().flat_map(|node| node.sweep().unwrap()).collect();
    assert_eq!(swept.len(), 1, "{swept:?}");
    assert_eq!((swept[0].group.as_str(), swept[0].display.as_str()), ("lobby", "Ada"));
    assert!(c.claim("lobby", "ada", "ada").unwrap(), "the name is free again");
    assert_eq!(c.census().unwrap().clients, 2, "a's clients no longer count");
}

fn a_refresh_makes_lost_claims_again(cluster: Cluster) {
    let [a, b] = [&cluster.nodes[0], &cluster.nodes[1]];
    let claim = Claim { group: "lobby".into(), key: "ada".into(), display: "Ada".into() };
    // Never claimed (as after a Redis restart lost it): the refresh makes it, and says so.
    assert_eq!(a.refresh(std::slice::from_ref(&claim), 1).unwrap(), 1, "made again");
    assert!(!b.claim("lobby", "ada", "ada").unwrap());
    assert_eq!(b.members("lobby").unwrap()[0].display, "Ada");
    // Held already: renewed, nothing to announce.
    assert_eq!(a.refresh(std::slice::from_ref(&claim), 1).unwrap(), 0, "renewed only");
}

fn the_broker_delivers_across_nodes_once(cluster: Cluster) {
    let mut nodes = cluster.nodes.clone().into_iter();
    let (a, b) = (nodes.next().unwrap(), nodes.next().unwrap());
    let (a, b) = (MessageBroker::with_backplane(a), MessageBroker::with_backplane(b));
    let heard = Arc::new(Mutex::new(Vec::new()));
    let mut channels = Vec::new();
    for (name, broker) in [("a", &a), ("b", &b)] {
        let mut client = ClientChannels::new(broker);
        let sink = Arc::clone(&heard);
        client.subscribe("prices", move |channel, message: &String| {
            sink.lock().unwrap().push(format!("{name} {channel} {message}"))
        });
        channels.push(client);
    }
    assert_eq!(a.publish("prices", "ACME 1".into()), 1, "this node's subscriber");
    let deadline = Instant::now() + PATIENCE;
    while heard.lock().unwrap().len() < 2 {
        assert!(Instant::now() < deadline, "b never heard: {:?}", heard.lock().unwrap());
        std::thread::sleep(Duration::from_millis(5));
    }
    b.publish("prices", "ACME 2".into());
    std::thread::sleep(Duration::from_millis(300));
    let mut heard = heard.lock().unwrap().clone();
    heard.sort();
    assert_eq!(heard, ["a prices ACME 1", "a prices ACME 2", "b prices ACME 1", "b prices ACME 2"], "each once");
    drop(channels);
    assert_eq!(a.subscriber_count("prices"), 0, "dropping a client's channels unsubscribes them");
}

/// The same tests for each backplane.
macro_rules! conformance {
    ($backplane:ident) => {
        mod $backplane {
            use super::*;

            #[test]
            fn publish_reaches_every_subscribed_node_once() {
                let Some(cluster) = super::$backplane(3, TTL) else { return };
                super::publish_reaches_every_subscribed_node_once(cluster);
            }

            #[test]
            fn subscriptions_are_counted() {
                let Some(cluster) = super::$backplane(2, TTL) else { return };
                super::subscriptions_are_counted(cluster);
            }

            #[test]
            fn sequenced_messages_get_offsets_in_one_epoch_and_a_bounded_history() {
                let Some(cluster) = super::$backplane(2, TTL) else { return };
                super::sequenced_messages_get_offsets_in_one_epoch_and_a_bounded_history(cluster);
            }

            #[test]
            fn a_claim_is_held_by_one_node() {
                let Some(cluster) = super::$backplane(2, TTL) else { return };
                super::a_claim_is_held_by_one_node(cluster);
            }

            #[test]
            fn a_crashed_nodes_claims_expire_and_are_swept_once() {
                let Some(cluster) = super::$backplane(3, Duration::from_millis(600)) else { return };
                super::a_crashed_nodes_claims_expire_and_are_swept_once(cluster);
            }

            #[test]
            fn a_refresh_makes_lost_claims_again() {
                let Some(cluster) = super::$backplane(2, TTL) else { return };
                super::a_refresh_makes_lost_claims_again(cluster);
            }

            #[test]
            fn the_broker_delivers_across_nodes_once() {
                let Some(cluster) = super::$backplane(2, TTL) else { return };
                super::the_broker_delivers_across_nodes_once(cluster);
            }
        }
    };
}

fn in_memory(nodes: usize, ttl: Duration) -> Option<Cluster> {
    memory(nodes, ttl)
}

fn with_redis(nodes: usize, ttl: Duration) -> Option<Cluster> {
    redis("backplane conformance (Redis)", nodes, ttl)
}

conformance!(in_memory);
conformance!(with_redis);

#[test]
fn malformed_messages_from_redis_are_dropped_and_counted() {
    let Some(server) = RedisServer::start("malformed_messages_from_redis_are_dropped_and_counted") else { return };
    let node = RedisBackplane::connect_with(&server.url(), "test", TTL).expect("connect");
    let cluster = Cluster::attach(vec![node.clone() as Arc<dyn Backplane>], None);
    node.subscribe("room");
    for garbage in ["hello", "bp1 x 1\nno epoch", "bp1  - -\nno origin", "bp2 x - -\nother version", "bp1 x y z\nbad"] {
        assert_eq!(server.command(&["PUBLISH", "test:ch:room", garbage]), ":1");
    }
    node.publish("room", "fine").unwrap();
    assert_eq!(cluster.next(0).body, "fine", "the node kept listening");
    assert_eq!(node.dropped(), 5);
}

#[test]
fn redis_restart_is_reported_and_subscriptions_come_back() {
    let Some(mut server) = RedisServer::start("redis_restart_is_reported_and_subscriptions_come_back") else {
        return;
    };
    let cluster = redis_cluster_on(&server);
    let [a, b] = [&cluster.nodes[0], &cluster.nodes[1]];
    b.subscribe("room");
    let before = a.publish_sequenced("room", "before").unwrap();
    assert_eq!(cluster.next(1).body, "before");

    server.kill();
    let down = wait_for(&cluster.events[1], |e| matches!(e, Event::Down(_)));
    assert!(matches!(down, Event::Down(_)));
    assert!(a.publish("room", "lost").is_err(), "a publish while Redis is down fails: it is not silently lost");
    assert!(!b.is_up());

    server.restart();
    wait_for(&cluster.events[1], |e| *e == Event::Up);
    assert!(b.is_up());
    // The command connection reconnects with its backoff too.
    let deadline = Instant::now() + PATIENCE;
    let after = loop {
        match a.publish_sequenced("room", "after") {
            Ok(seq) => break seq,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("no publish after the restart: {e}"),
        }
    };
    assert_ne!(after.epoch, before.epoch, "Redis lost the history: a new epoch");
    assert_eq!(after.offset, 1);
    let got = cluster.next(1);
    assert_eq!((got.body.as_str(), got.seq), ("after", Some(after)), "resubscribed after the restart");
}

fn redis_cluster_on(server: &RedisServer) -> Cluster {
    let nodes = (0..2)
        .map(|_| RedisBackplane::connect_with(&server.url(), "test", TTL).expect("connect") as Arc<dyn Backplane>)
        .collect();
    Cluster::attach(nodes, None)
}

fn wait_for(events: &Receiver<Event>, wanted: impl Fn(&Event) -> bool) -> Event {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(event) if wanted(&event) => return event,
            Ok(_) => {}
            Err(_) => panic!("the awaited event did not come within 15 s"),
        }
    }
}
