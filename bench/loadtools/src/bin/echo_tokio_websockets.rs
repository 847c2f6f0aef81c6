//! tokio-websockets 0.13's echo server, as its own `examples/echo_server.rs` writes it (frame
//! size and limits as there: one frame per message, no limit), on a current-thread runtime.
//! Argument: the address to listen on.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_websockets::{Config, Limits, ServerBuilder};

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9011".to_string());
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        println!("tokio-websockets echo listening on ws://{}", listener.local_addr()?);
        loop {
            let (conn, _) = listener.accept().await?;
            tokio::spawn(tokio::task::unconstrained(async move {
                let Ok((_request, mut server)) = ServerBuilder::new()
                    .config(Config::default().frame_size(usize::MAX))
                    .limits(Limits::unlimited())
                    .accept(conn)
                    .await
                else {
                    return;
                };
                while let Some(Ok(item)) = server.next().await {
                    if (item.is_text() || item.is_binary()) && server.send(item).await.is_err() {
                        break;
                    }
                }
            }));
        }
    })
}
