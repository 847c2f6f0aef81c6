//! Unit tests of the publish/subscribe broker the demos share (`examples/common/broker.rs`):
//! delivery, publish counts, unsubscribe, callbacks that re-enter the broker, and many threads
//! at once.

#[path = "../examples/common/broker.rs"]
mod broker;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;

use broker::MessageBroker;

/// A subscriber that records what it receives.
fn recorder(broker: &MessageBroker<String>, channel: &str) -> (broker::SubscriptionId, Arc<Mutex<Vec<String>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&received);
    let id = broker.subscribe(channel, move |_, message: &String| sink.lock().unwrap().push(message.clone()));
    (id, received)
}

#[test]
fn publish_reaches_exactly_the_subscribers_of_the_channel() {
    let broker = MessageBroker::new();
    let (_, sports_a) = recorder(&broker, "sports");
    let (_, sports_b) = recorder(&broker, "sports");
    let (_, weather) = recorder(&broker, "weather");

    assert_eq!(broker.publish("sports", "goal".to_string()), 2);
    assert_eq!(*sports_a.lock().unwrap(), ["goal"]);
    assert_eq!(*sports_b.lock().unwrap(), ["goal"]);
    assert!(weather.lock().unwrap().is_empty());
}

#[test]
fn publish_to_a_channel_nobody_subscribed_to_notifies_nobody() {
    let broker: MessageBroker<String> = MessageBroker::new();
    assert_eq!(broker.publish("nobody-here", "hello?".to_string()), 0);
}

#[test]
fn callback_is_told_the_channel() {
    let broker = MessageBroker::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    broker.subscribe("news", move |channel, message: &u32| sink.lock().unwrap().push((channel.to_owned(), *message)));
    broker.publish("news", 7);
    assert_eq!(*seen.lock().unwrap(), [("news".to_string(), 7)]);
}

#[test]
fn unsubscribe_stops_delivery_to_that_subscriber_only() {
    let broker = MessageBroker::new();
    let (leaving, leaver) = recorder(&broker, "chat");
    let (_, staying) = recorder(&broker, "chat");

    assert_eq!(broker.publish("chat", "one".to_string()), 2);
    assert!(broker.unsubscribe("chat", leaving));
    assert_eq!(broker.publish("chat", "two".to_string()), 1);

    assert_eq!(*leaver.lock().unwrap(), ["one"]);
    assert_eq!(*staying.lock().unwrap(), ["one", "two"]);
    assert_eq!(broker.subscriber_count("chat"), 1);
}

#[test]
fn unsubscribe_is_per_channel_and_reports_whether_anything_was_removed() {
    let broker = MessageBroker::new();
    let (id, _) = recorder(&broker, "a");
    assert!(!broker.unsubscribe("b", id), "the id belongs to channel a");
    assert!(broker.unsubscribe("a", id));
    assert!(!broker.unsubscribe("a", id), "a second unsubscribe finds nothing");
    assert!(broker.channels().is_empty(), "an empty channel is dropped");
}

#[test]
fn the_same_closure_subscribed_twice_gets_two_ids_and_two_deliveries() {
    let broker = MessageBroker::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = {
        let calls = Arc::clone(&calls);
        Arc::new(move |_: &str, _: &()| {
            calls.fetch_add(1, Ordering::SeqCst);
        })
    };
    let first = broker.subscribe("x", {
        let counter = Arc::clone(&counter);
        move |c, m| counter(c, m)
    });
    let second = broker.subscribe("x", move |c, m| counter(c, m));
    assert_ne!(first, second);
    assert_eq!(broker.publish("x", ()), 2);
    assert!(broker.unsubscribe("x", first));
    assert_eq!(broker.publish("x", ()), 1);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[test]
fn a_callback_may_use_the_broker_without_deadlocking() {
    let broker = Arc::new(MessageBroker::new());
    let (_, echoes) = recorder(&broker, "echo");
    let inner = Arc::clone(&broker);
    let once = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&once);
    let id = broker.subscribe("ping", move |_, message: &String| {
        // Re-entering the broker from a callback: publish elsewhere, then unsubscribe itself.
        inner.publish("echo", format!("re: {message}"));
        if let Some(id) = slot.lock().unwrap().take() {
            inner.unsubscribe("ping", id);
        }
    });
    *once.lock().unwrap() = Some(id);

    assert_eq!(broker.publish("ping", "hi".to_string()), 1);
    assert_eq!(broker.publish("ping", "again".to_string()), 0, "it unsubscribed itself");
    assert_eq!(*echoes.lock().unwrap(), ["re: hi"]);
}

#[test]
fn concurrent_subscribe_publish_unsubscribe_lose_nothing() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 200;
    let broker = Arc::new(MessageBroker::new());
    let delivered = Arc::new(AtomicUsize::new(0));
    // A permanent subscriber counts every message published on "shared".
    {
        let delivered = Arc::clone(&delivered);
        broker.subscribe("shared", move |_, _: &usize| {
            delivered.fetch_add(1, Ordering::SeqCst);
        });
    }
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|worker| {
            let broker = Arc::clone(&broker);
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                let own = format!("private-{worker}");
                let mut notified_on_shared = 0;
                for round in 0..ROUNDS {
                    // Churn: subscribe and unsubscribe on the shared channel and on our own.
                    let temporary = broker.subscribe("shared", |_, _| {});
                    let mine = broker.subscribe(&own, |_, _| {});
                    assert_eq!(broker.publish(&own, round), 1, "only this thread subscribes to {own}");
                    notified_on_shared += broker.publish("shared", round);
                    assert!(broker.unsubscribe(&own, mine));
                    assert!(broker.unsubscribe("shared", temporary));
                }
                notified_on_shared
            })
        })
        .collect();
    let mut notified_total = 0;
    for worker in workers {
        let notified = worker.join().expect("worker panicked");
        // Each publish reached at least the permanent subscriber and this thread's own one.
        assert!(notified >= 2 * ROUNDS);
        notified_total += notified;
    }
    assert_eq!(delivered.load(Ordering::SeqCst), THREADS * ROUNDS, "every publish reached the permanent subscriber");
    assert!(notified_total <= THREADS * ROUNDS * (THREADS + 1));
    assert_eq!(broker.subscriber_count("shared"), 1);
    assert_eq!(broker.channels(), ["shared"]);
}
