//! From a completed opening handshake to the connection's [`Config`] (RFC 6455 §9.1, §5.2).
//!
//! The extensions in use are whatever the server's 101 answer lists in
//! `Sec-WebSocket-Extensions`. The connection must run exactly those: RSV bits MUST be 0
//! unless an extension that defines them was negotiated (§5.2), and an extension both sides
//! believe in but only one runs breaks the stream at its first frame. So a [`Config`] gets its
//! extensions from one place, [`connection_config`], which both roles and every I/O layer use:
//! an extension the crate does not run fails the handshake instead of the connection.

use crate::config::Config;
use crate::error::HandshakeError;
use crate::extensions::permessage_deflate::{self, DeflateConfig};
use crate::extensions::{Extension, parse_extensions};
use crate::handshake::{Request, Response};

/// A completed opening handshake, as one side saw it.
#[derive(Debug, Clone, Copy)]
pub enum Completed<'a> {
    /// A client received the server's 101 (from [`crate::ClientHandshake::receive`]).
    Client {
        /// The answer.
        response: &'a Response,
        /// The permessage-deflate preferences the client offered (with [`DeflateConfig::offer`]),
        /// or `None` if it did not offer the extension that way.
        deflate: Option<&'a DeflateConfig>,
    },
    /// A server answers the client's request with a 101.
    Server {
        /// The client's request.
        request: &'a Request,
        /// The extra headers of the answer, as given to [`crate::handshake::accept_response`]:
        /// their `Sec-WebSocket-Extensions` values are the extensions accepted.
        headers: &'a [(&'a str, &'a str)],
        /// This side's permessage-deflate preferences (level and threshold); `None` uses the
        /// defaults if the headers accept the extension anyway.
        deflate: Option<&'a DeflateConfig>,
    },
}

/// The configuration of the connection that follows a completed handshake: `base` (role,
/// limits, options) with the extensions the handshake agreed on.
///
/// Errors:
/// - [`HandshakeError::UnsupportedExtension`] when the answer accepts an extension this crate
///   does not run (any but permessage-deflate), or a client's answer accepts permessage-deflate
///   that it did not offer through a [`DeflateConfig`] (say, by hand in
///   [`crate::ClientOptions::extensions`]). A client fails the connection; a server must not
///   send that answer.
/// - [`HandshakeError::InvalidExtension`] when the permessage-deflate answer breaks RFC 7692
///   §7.1 (parameters the offer did not allow).
/// - [`HandshakeError::MalformedHttp`] when a `Sec-WebSocket-Extensions` value breaks §9.1.
pub fn connection_config(base: Config, handshake: Completed<'_>) -> Result<Config, HandshakeError> {
    let mut config = base;
    let mut answers = Vec::new();
    let (params, preferences) = match handshake {
        Completed::Client { response, deflate } => {
            config.role = crate::Role::Client;
            for value in &response.extensions {
                answers.extend(parse_extensions(value)?);
            }
            check_all_supported(&answers)?;
            let params = match deflate {
                Some(deflate) => deflate.accept_response(&answers)?,
                None if mentions_deflate(&answers) => return Err(HandshakeError::UnsupportedExtension),
                None => None,
            };
            (params, deflate.copied().unwrap_or_default())
        }
        Completed::Server { request, headers, deflate } => {
            config.role = crate::Role::Server;
            for (name, value) in headers {
                if name.eq_ignore_ascii_case("Sec-WebSocket-Extensions") {
                    answers.extend(parse_extensions(value)?);
                }
            }
            check_all_supported(&answers)?;
            let mut offers = Vec::new();
            // The offers matter only when something was accepted.
            if !answers.is_empty() {
                for value in &request.extensions {
                    offers.extend(parse_extensions(value)?);
                }
            }
            (permessage_deflate::answer_fits_offers(&offers, &answers)?, deflate.copied().unwrap_or_default())
        }
    };
    config.set_deflate(params.map(|params| preferences.with_params(params)));
    Ok(config)
}

fn mentions_deflate(answers: &[Extension]) -> bool {
    answers.iter().any(|e| e.name.eq_ignore_ascii_case(permessage_deflate::NAME))
}

/// permessage-deflate is the one extension the connection runs.
fn check_all_supported(answers: &[Extension]) -> Result<(), HandshakeError> {
    match answers.iter().all(|e| e.name.eq_ignore_ascii_case(permessage_deflate::NAME)) {
        true => Ok(()),
        false => Err(HandshakeError::UnsupportedExtension),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MaskKeySource;
    use crate::handshake::{ClientHandshake, ClientOptions, ServerHandshake, accept_response};

    /// Run a whole handshake in memory: the client offers `offers`, the server answers with
    /// `answer` as its extensions header. Returns the request and the client's view of the 101.
    fn handshake(offers: &[&str], answer: Option<&str>) -> (Request, Result<Response, HandshakeError>) {
        let options =
            ClientOptions { extensions: offers.iter().map(|s| s.to_string()).collect(), ..ClientOptions::default() };
        let mut keys = MaskKeySource::Seeded(1).generator();
        let mut client = ClientHandshake::new("example.com", "/", &options, &mut keys, 1 << 14).unwrap();
        let request = ServerHandshake::new(1 << 14).receive(client.request()).unwrap().unwrap();
        let headers: Vec<(&str, &str)> = answer.map(|a| vec![("Sec-WebSocket-Extensions", a)]).unwrap_or_default();
        let response = accept_response(&request, None, &headers).unwrap();
        (request, client.receive(&response).map(Option::unwrap))
    }

    fn server(request: &Request, answer: &str, deflate: Option<&DeflateConfig>) -> Result<Config, HandshakeError> {
        let headers = [("Sec-WebSocket-Extensions", answer)];
        connection_config(Config::server(), Completed::Server { request, headers: &headers, deflate })
    }

    #[test]
    fn s9_1_both_sides_run_the_permessage_deflate_they_agreed() {
        let offer = DeflateConfig::default();
        let (request, response) = handshake(&[&offer.offer().to_string()], Some("permessage-deflate"));
        let response = response.unwrap();
        let client = Completed::Client { response: &response, deflate: Some(&offer) };
        let client = connection_config(Config::client(), client).unwrap();
        let server = server(&request, "permessage-deflate", None).unwrap();
        assert_eq!(client.deflate().map(|d| d.params), server.deflate().map(|d| d.params));
        assert!(client.deflate().is_some());
        assert_eq!((client.allowed_rsv_bits(), server.allowed_rsv_bits()), (0x40, 0x40));
    }

    #[test]
    fn s5_2_no_extension_means_no_rsv_bits() {
        let (request, response) = handshake(&["permessage-deflate"], None);
        let response = response.unwrap();
        let offer = DeflateConfig::default();
        let client =
            connection_config(Config::client(), Completed::Client { response: &response, deflate: Some(&offer) });
        assert_eq!(client.unwrap().allowed_rsv_bits(), 0);
        let server =
            connection_config(Config::server(), Completed::Server { request: &request, headers: &[], deflate: None });
        assert!(server.unwrap().deflate().is_none());
    }

    #[test]
    fn s9_1_a_client_refuses_permessage_deflate_offered_by_hand() {
        let (_, response) = handshake(&["permessage-deflate"], Some("permessage-deflate"));
        let response = response.unwrap();
        let got = connection_config(Config::client(), Completed::Client { response: &response, deflate: None });
        assert_eq!(got.unwrap_err(), HandshakeError::UnsupportedExtension);
    }

    #[test]
    fn s9_1_an_extension_the_crate_does_not_run_is_refused_on_both_sides() {
        let (request, response) = handshake(&["x-foo"], Some("x-foo"));
        let response = response.unwrap();
        let got = connection_config(Config::client(), Completed::Client { response: &response, deflate: None });
        assert_eq!(got.unwrap_err(), HandshakeError::UnsupportedExtension);
        assert_eq!(server(&request, "x-foo", None).unwrap_err(), HandshakeError::UnsupportedExtension);
        assert_eq!(HandshakeError::UnsupportedExtension.http_status(), 500);
    }

    #[test]
    fn rfc7692_s7_1_a_server_answer_by_hand_must_fit_an_offer() {
        let (request, _) = handshake(&["permessage-deflate; server_max_window_bits=10"], None);
        // Over the offered window, or limiting the client's window without its offer: refused.
        for answer in ["permessage-deflate; server_max_window_bits=12", "permessage-deflate; client_max_window_bits=9"]
        {
            assert!(matches!(server(&request, answer, None), Err(HandshakeError::InvalidExtension(_))), "{answer}");
        }
        let config = server(&request, "permessage-deflate; server_max_window_bits=9", None).unwrap();
        assert_eq!(config.deflate().unwrap().params.server_max_window_bits, 9);
    }
}
