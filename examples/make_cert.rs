//! Makes a local CA and a server certificate for `127.0.0.1` and `localhost`, as PEM files, for
//! trying `wss://` and `https://` on this machine.
//!
//! ```text
//! cargo run --example make_cert -- certs      # writes certs/ca.pem, certs/cert.pem, certs/key.pem
//! cargo run --release --features tls --example echo_server -- 127.0.0.1:9443 --tls certs/cert.pem certs/key.pem
//! ```
//!
//! - `ca.pem`: the CA certificate. Give it to clients (`tls::client_config_with_roots_file`,
//!   Python's `ssl.create_default_context(cafile=...)`, a browser profile's authorities).
//! - `cert.pem`, `key.pem`: the server's certificate (signed by the CA) and its private key.
//!
//! Extra names for the server certificate can follow the directory:
//! `make_cert certs 127.0.0.1 localhost myhost.test`. The CA key is not kept: make a new set to
//! add names. Test material only: the key is written unencrypted.

#[path = "common/certs.rs"]
mod certs;

use std::path::Path;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: make_cert OUTDIR [NAME...]   (names default to 127.0.0.1 localhost)");
        std::process::exit(2);
    };
    let mut names: Vec<String> = args.collect();
    if names.is_empty() {
        names = vec!["127.0.0.1".into(), "localhost".into()];
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();

    let ca = certs::LocalCa::new("rfc6455 local test CA");
    let server = ca.issue(&names);
    let dir = Path::new(&dir);
    let write = |file: &str, pem: &str| {
        let path = dir.join(file);
        if let Err(e) = std::fs::write(&path, pem) {
            eprintln!("cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
        path
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("cannot create {}: {e}", dir.display());
        std::process::exit(1);
    }
    let ca_path = write("ca.pem", ca.cert_pem());
    let cert_path = write("cert.pem", &server.cert_pem);
    let key_path = write("key.pem", &server.key_pem);
    println!("CA certificate:     {}", ca_path.display());
    println!("server certificate: {} (for {})", cert_path.display(), names.join(", "));
    println!("server key:         {}", key_path.display());
}
