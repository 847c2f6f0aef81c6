//! What a client offers in its opening handshake, and the checks of the server's answer against
//! that offer (RFC 6455 §4.1 item 10, steps 5 and 6 of the answer's checks; §9.1).
//!
//! The same offer goes out in an HTTP/1.1 Upgrade request ([`super::ClientHandshake`]) and in an
//! HTTP/2 extended CONNECT ([`super::H2ClientHandshake`], RFC 8441 §5: `Origin`,
//! `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions` "are used … as defined in
//! [RFC6455]"), so both transports check the options and the answer with this one code.

use super::{ClientOptions, check_extra_header, extension_names, header_values, is_safe_value, is_token};
use crate::error::HandshakeError;

/// The subprotocols and extension names a client offered, checked when built.
#[derive(Debug, Clone)]
pub(crate) struct Offer {
    /// The subprotocols offered, in order.
    subprotocols: Vec<String>,
    /// The names of the extensions offered (the `extension-token` of each offer).
    extension_names: Vec<Vec<u8>>,
}

impl Offer {
    /// Check `options` as a request carries them, and remember what they offer.
    ///
    /// Errors: [`HandshakeError::MalformedHttp`] if a subprotocol is not a token or is
    /// repeated, or the origin, an extension offer or an extra header could not be sent as is.
    pub(crate) fn from_options(options: &ClientOptions) -> Result<Offer, HandshakeError> {
        // RFC 6455 §4.1 item 10: subprotocols MUST be tokens and MUST all be unique.
        for (i, protocol) in options.subprotocols.iter().enumerate() {
            if !is_token(protocol) || options.subprotocols[..i].contains(protocol) {
                return Err(HandshakeError::MalformedHttp("subprotocols must be unique HTTP tokens"));
            }
        }
        if let Some(origin) = &options.origin {
            check_extra_header("Origin", origin)?;
        }
        let mut offered = Vec::new();
        for offer in &options.extensions {
            if !is_safe_value(offer) {
                return Err(HandshakeError::MalformedHttp("extension offer contains a control character"));
            }
            offered.extend(extension_names(offer.as_bytes()).map(<[u8]>::to_vec));
        }
        for (name, value) in &options.extra_headers {
            check_extra_header(name, value)?;
        }
        Ok(Offer { subprotocols: options.subprotocols.clone(), extension_names: offered })
    }

    /// Check the `Sec-WebSocket-Extensions` and `Sec-WebSocket-Protocol` of an accepting answer
    /// (a 101 over HTTP/1.1, a 200 over HTTP/2) against this offer.
    ///
    /// Errors: [`HandshakeError::UnofferedExtension`], [`HandshakeError::UnofferedSubprotocol`],
    /// and [`HandshakeError::MalformedHttp`] for an extensions value that breaks §9.1.
    pub(crate) fn check_answer(&self, headers: &[(String, Vec<u8>)]) -> Result<(), HandshakeError> {
        // RFC 6455 §4.1 step 5: an extension the client did not offer MUST fail the connection;
        // §9.1: so MUST a value that does not follow the extension grammar.
        for value in header_values(headers, "Sec-WebSocket-Extensions") {
            let value_text = std::str::from_utf8(value)
                .map_err(|_| HandshakeError::MalformedHttp("Sec-WebSocket-Extensions does not follow RFC 6455 §9.1"))?;
            crate::extensions::parse_extensions(value_text)?;
            for name in extension_names(value) {
                if !self.extension_names.iter().any(|offered| offered.eq_ignore_ascii_case(name)) {
                    return Err(HandshakeError::UnofferedExtension);
                }
            }
        }
        // RFC 6455 §4.1 step 6: a subprotocol the client did not offer MUST fail the connection.
        // The server names one token (§4.3 `Sec-WebSocket-Protocol-Server = token`), so a list
        // or a second header is never one we offered.
        let mut protocols = header_values(headers, "Sec-WebSocket-Protocol");
        match (protocols.next(), protocols.next()) {
            (None, _) => Ok(()),
            (Some(chosen), None)
                if self.subprotocols.iter().any(|offered| offered.as_bytes() == chosen.trim_ascii()) =>
            {
                Ok(())
            }
            _ => Err(HandshakeError::UnofferedSubprotocol),
        }
    }
}
