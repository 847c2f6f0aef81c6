//! tokio-tungstenite 0.30's echo server, as its own `examples/echo-server.rs` writes it (split,
//! keep text and binary, `forward` the reader into the writer; default configuration), on a
//! current-thread runtime instead of the example's multi-thread one. Argument: the address.

use futures_util::{StreamExt, TryStreamExt, future};
use tokio::net::{TcpListener, TcpStream};

async fn accept_connection(stream: TcpStream) {
    let Ok(ws_stream) = tokio_tungstenite::accept_async(stream).await else { return };
    let (write, read) = ws_stream.split();
    let _ = read.try_filter(|msg| future::ready(msg.is_text() || msg.is_binary())).forward(write).await;
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9013".to_string());
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        println!("tokio-tungstenite echo listening on ws://{}", listener.local_addr()?);
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(accept_connection(stream));
        }
        Ok(())
    })
}
