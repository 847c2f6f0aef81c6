//! Memory comes back: after one large message each way a connection's buffers return to a
//! small capacity once ordinary traffic resumes, and `Debug` shows sizes, never payload.

use rfc6455::{Config, Connection, Event, MaskKeySource};

/// Move `from`'s output into `to` in pieces of up to 1 MiB (the default input limit), pulling
/// events; returns the total length of the data messages delivered.
fn pump(from: &mut Connection, to: &mut Connection) -> usize {
    let mut delivered = 0;
    while !from.output().is_empty() {
        let n = from.output().len().min(1 << 20);
        to.receive(&from.output()[..n]).unwrap();
        from.consume_output(n);
        while let Some(event) = to.next_event().unwrap() {
            if let Event::Binary(data) = event {
                delivered += data.len();
            }
        }
    }
    delivered
}

/// Ordinary traffic: enough small messages each way for the buffers to notice.
fn small_traffic(client: &mut Connection, server: &mut Connection) {
    for _ in 0..16 {
        client.send_binary(b"small").unwrap();
        assert_eq!(pump(client, server), 5);
        server.send_binary(b"small").unwrap();
        assert_eq!(pump(server, client), 5);
    }
}

#[test]
fn buffers_return_to_a_small_capacity_after_a_12_mib_message_each_way() {
    let mut client = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(4)));
    let mut server = Connection::new(Config::server());
    small_traffic(&mut client, &mut server);
    let before = (client.buffered_capacity(), server.buffered_capacity());

    let large = vec![7u8; 12 << 20];
    client.send_binary(&large).unwrap();
    assert!(client.buffered_capacity() >= 12 << 20);
    assert_eq!(pump(&mut client, &mut server), large.len());
    server.send_binary(&large).unwrap();
    assert_eq!(pump(&mut server, &mut client), large.len());

    small_traffic(&mut client, &mut server);
    let small = 1 << 20;
    assert!(
        client.buffered_capacity() <= small,
        "client holds {} bytes (before: {before:?})",
        client.buffered_capacity()
    );
    assert!(
        server.buffered_capacity() <= small,
        "server holds {} bytes (before: {before:?})",
        server.buffered_capacity()
    );
}

#[test]
fn steady_large_messages_keep_their_buffers() {
    // No shrink and regrow per message: after the first, large messages reuse the buffers.
    let mut client = Connection::new(Config::client().with_mask_keys(MaskKeySource::Seeded(4)));
    let mut server = Connection::new(Config::server());
    let large = vec![1u8; 4 << 20];
    let mut capacities = Vec::new();
    for _ in 0..12 {
        client.send_binary(&large).unwrap();
        pump(&mut client, &mut server);
        capacities.push(format!("{server:?}"));
    }
    assert!(capacities.windows(2).all(|w| w[0] == w[1]), "{capacities:#?}");
}

#[test]
fn debug_of_a_connection_shows_sizes_not_contents() {
    let mut server = Connection::new(Config::server());
    server.send_binary(&vec![b'A'; 1 << 20]).unwrap();
    let shown = format!("{server:?}");
    assert!(shown.len() < 400, "{} characters", shown.len());
    assert!(!shown.contains("65, 65") && !shown.contains("AAAA"), "{shown}");
    assert!(shown.contains("output: 1048586 bytes"), "{shown}");
}
