//! Negotiating permessage-deflate (RFC 7692 §5, §7.1).
//!
//! The client offers the extension with parameters; the server accepts one offer (or none) and
//! answers with the parameters both sides then use:
//!
//! | parameter | meaning |
//! |---|---|
//! | `server_no_context_takeover` | the server resets its compressor after every message |
//! | `client_no_context_takeover` | the client resets its compressor after every message |
//! | `server_max_window_bits=N` | the server compresses with a window of at most 2^N bytes |
//! | `client_max_window_bits[=N]` | in an offer: the client supports the parameter (and will use at most 2^N); in a response: the client compresses with at most 2^N |
//!
//! N is 8 to 15. A server declines an offer with an unknown or repeated parameter or an invalid
//! value, and tries the next (§5, §7.1); a client fails the handshake on a response it did not
//! ask for (§7.1). [`DeflateConfig`] holds one side's preferences; the result of a negotiation
//! is a [`DeflateParams`].
//!
//! zlib (and so this crate) cannot compress with a window of 2^8: when the peer demands it, this
//! side accepts and sends its messages uncompressed, which RFC 7692 §6 allows (RSV1 is set per
//! message); it still inflates what the peer compresses.

use crate::error::HandshakeError;
use crate::extensions::Extension;

/// The extension's registered name (RFC 7692 §7).
pub const NAME: &str = "permessage-deflate";

/// One side's wishes for permessage-deflate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Ask (client) or promise (server) that the server resets its context after each message.
    pub server_no_context_takeover: bool,
    /// Ask (server) or promise (client) that the client resets its context after each message.
    pub client_no_context_takeover: bool,
    /// The largest window the server may compress with, 8 to 15 (15: no limit asked).
    pub server_max_window_bits: u8,
    /// The largest window the client may compress with, 8 to 15 (15: no limit asked).
    pub client_max_window_bits: u8,
    /// Compression level, 0 (store) to 9 (smallest); 1 is fast and already shrinks text well.
    pub level: u32,
    /// Messages shorter than this are sent uncompressed (the deflate overhead outweighs the
    /// gain on very small messages).
    pub threshold: usize,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            level: 1,
            threshold: 32,
        }
    }
}

/// What both sides agreed on: the parameters of a negotiated permessage-deflate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// The server's compression window, in bits (8 to 15).
    pub server_max_window_bits: u8,
    /// The client's compression window, in bits (8 to 15).
    pub client_max_window_bits: u8,
}

/// permessage-deflate as a connection runs it: what was negotiated, and how hard this side
/// compresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deflate {
    /// The negotiated parameters.
    pub params: DeflateParams,
    /// Compression level, 0 to 9.
    pub level: u32,
    /// Messages shorter than this are sent uncompressed.
    pub threshold: usize,
}

impl DeflateConfig {
    /// This side's settings combined with what the negotiation agreed.
    pub fn with_params(&self, params: DeflateParams) -> Deflate {
        Deflate { params, level: self.level, threshold: self.threshold }
    }
}

/// The parameters of one offer or response, checked for RFC 7692's rules.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Parameters {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value (allowed in an offer only).
    client_max_window_bits: Option<Option<u8>>,
}

/// Why a set of parameters is invalid (the offer is declined, or the response refused).
type Invalid = &'static str;

impl Parameters {
    fn parse(extension: &Extension) -> Result<Parameters, Invalid> {
        let mut p = Parameters::default();
        for (name, value) in &extension.params {
            // RFC 7692 §7: each parameter at most once; unknown parameters are errors.
            match (name.as_str(), value) {
                ("server_no_context_takeover", None) if !p.server_no_context_takeover => {
                    p.server_no_context_takeover = true
                }
                ("client_no_context_takeover", None) if !p.client_no_context_takeover => {
                    p.client_no_context_takeover = true
                }
                ("server_max_window_bits", Some(v)) if p.server_max_window_bits.is_none() => {
                    p.server_max_window_bits = Some(window_bits(v)?)
                }
                ("client_max_window_bits", v) if p.client_max_window_bits.is_none() => {
                    p.client_max_window_bits = Some(v.as_deref().map(window_bits).transpose()?)
                }
                ("server_no_context_takeover" | "client_no_context_takeover", Some(_)) => {
                    return Err("a no_context_takeover parameter has a value");
                }
                ("server_max_window_bits", None) => return Err("server_max_window_bits without a value"),
                (
                    "server_no_context_takeover"
                    | "client_no_context_takeover"
                    | "server_max_window_bits"
                    | "client_max_window_bits",
                    _,
                ) => return Err("a parameter is repeated"),
                _ => return Err("an unknown parameter"),
            }
        }
        Ok(p)
    }
}

/// RFC 7692 §7.1.2: window bits are a decimal 8 to 15, with no leading zero.
fn window_bits(value: &str) -> Result<u8, Invalid> {
    match value {
        "8" | "9" | "10" | "11" | "12" | "13" | "14" | "15" => value.parse().map_err(|_| "window bits"),
        _ => Err("window bits must be 8 to 15"),
    }
}

impl DeflateConfig {
    /// The client's offer (RFC 7692 §5): always `client_max_window_bits`, so a server may
    /// limit our window; the other parameters as configured.
    pub fn offer(&self) -> Extension {
        let mut offer = Extension::new(NAME);
        if self.server_no_context_takeover {
            offer = offer.with_param("server_no_context_takeover", None);
        }
        if self.client_no_context_takeover {
            offer = offer.with_param("client_no_context_takeover", None);
        }
        if self.server_max_window_bits < 15 {
            offer = offer.with_param("server_max_window_bits", Some(&self.server_max_window_bits.to_string()));
        }
        let client_bits = self.client_max_window_bits.to_string();
        offer.with_param("client_max_window_bits", (self.client_max_window_bits < 15).then_some(client_bits.as_str()))
    }

    /// Server: choose the first acceptable permessage-deflate offer among `offers` (other
    /// extensions are ignored). Returns the agreed parameters and the response element, or
    /// `None` to decline them all.
    pub fn negotiate(&self, offers: &[Extension]) -> Option<(DeflateParams, Extension)> {
        offers.iter().filter(|e| e.name.eq_ignore_ascii_case(NAME)).find_map(|offer| self.accept_offer(offer).ok())
    }

    fn accept_offer(&self, offer: &Extension) -> Result<(DeflateParams, Extension), Invalid> {
        let asked = Parameters::parse(offer)?;
        let mut response = Extension::new(NAME);

        // RFC 7692 §7.1.1.1: an offer with server_no_context_takeover is accepted by including
        // it; the server may also include it on its own.
        let server_no_context_takeover = asked.server_no_context_takeover || self.server_no_context_takeover;
        if server_no_context_takeover {
            response = response.with_param("server_no_context_takeover", None);
        }
        // RFC 7692 §7.1.1.2: the server may ask the client to reset its context.
        let client_no_context_takeover = asked.client_no_context_takeover || self.client_no_context_takeover;
        if client_no_context_takeover {
            response = response.with_param("client_no_context_takeover", None);
        }
        // RFC 7692 §7.1.2.1: with server_max_window_bits=N in the offer, the response MUST
        // carry a value no larger than N.
        let server_bits = asked.server_max_window_bits.unwrap_or(15).min(self.server_max_window_bits);
        if asked.server_max_window_bits.is_some() || server_bits < 15 {
            response = response.with_param("server_max_window_bits", Some(&server_bits.to_string()));
        }
        // RFC 7692 §7.1.2.2: the server may answer client_max_window_bits (not above the
        // offered value) only if the client offered the parameter; otherwise the client uses 15.
        let client_bits = match asked.client_max_window_bits {
            Some(offered) => {
                let bits = offered.unwrap_or(15).min(self.client_max_window_bits);
                if bits < 15 || offered.is_some() {
                    response = response.with_param("client_max_window_bits", Some(&bits.to_string()));
                }
                bits
            }
            None => 15,
        };
        let params = DeflateParams {
            server_no_context_takeover,
            client_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
        };
        Ok((params, response))
    }

    /// Client: check the server's answer against our [`offer`](Self::offer) (RFC 7692 §7.1).
    /// `response` holds every extension the server named. Returns the agreed parameters, or
    /// `None` when the server declined permessage-deflate.
    pub fn accept_response(&self, response: &[Extension]) -> Result<Option<DeflateParams>, HandshakeError> {
        let mut answers = response.iter().filter(|e| e.name.eq_ignore_ascii_case(NAME));
        let Some(answer) = answers.next() else { return Ok(None) };
        let refuse = |why: &'static str| Err(HandshakeError::InvalidExtension(why));
        if answers.next().is_some() {
            return refuse("permessage-deflate accepted twice");
        }
        let got = match Parameters::parse(answer) {
            Ok(got) => got,
            Err(why) => return refuse(why),
        };
        // RFC 7692 §7.1.1.1: a server accepts server_no_context_takeover by including it.
        if self.server_no_context_takeover && !got.server_no_context_takeover {
            return refuse("the server ignored server_no_context_takeover");
        }
        let server_bits = got.server_max_window_bits.unwrap_or(15);
        if server_bits > self.server_max_window_bits {
            return refuse("server_max_window_bits above the offered value");
        }
        let client_bits = match got.client_max_window_bits {
            // RFC 7692 §7.1.2.2: a response's client_max_window_bits MUST have a value.
            Some(None) => return refuse("client_max_window_bits without a value in a response"),
            Some(Some(bits)) => bits,
            None => self.client_max_window_bits,
        };
        if client_bits > self.client_max_window_bits {
            return refuse("client_max_window_bits above the offered value");
        }
        Ok(Some(DeflateParams {
            server_no_context_takeover: got.server_no_context_takeover,
            client_no_context_takeover: got.client_no_context_takeover || self.client_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
        }))
    }
}

/// Server: check an answer written by hand (say by an application's hook) against the client's
/// offers: it must be a valid response to one of them (RFC 7692 §7.1), as the client will
/// check it. Returns the agreed parameters, or `None` when the answer does not accept
/// permessage-deflate.
pub fn answer_fits_offers(
    offers: &[Extension],
    answers: &[Extension],
) -> Result<Option<DeflateParams>, HandshakeError> {
    if !answers.iter().any(|e| e.name.eq_ignore_ascii_case(NAME)) {
        return Ok(None);
    }
    let answers_client_bits = answers
        .iter()
        .filter(|e| e.name.eq_ignore_ascii_case(NAME))
        .any(|e| e.params.iter().any(|(name, _)| name == "client_max_window_bits"));
    for offer in offers.iter().filter(|e| e.name.eq_ignore_ascii_case(NAME)) {
        let Ok(asked) = Parameters::parse(offer) else { continue };
        // RFC 7692 §7.1.2.2: client_max_window_bits only in answer to an offer that has it.
        if asked.client_max_window_bits.is_none() && answers_client_bits {
            continue;
        }
        let as_offered = DeflateConfig {
            server_no_context_takeover: asked.server_no_context_takeover,
            client_no_context_takeover: asked.client_no_context_takeover,
            server_max_window_bits: asked.server_max_window_bits.unwrap_or(15),
            client_max_window_bits: asked.client_max_window_bits.flatten().unwrap_or(15),
            ..DeflateConfig::default()
        };
        if let Ok(Some(params)) = as_offered.accept_response(answers) {
            return Ok(Some(params));
        }
    }
    Err(HandshakeError::InvalidExtension("the permessage-deflate answer fits none of the client's offers"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extensions::parse_extensions;

    fn negotiate(config: DeflateConfig, offer: &str) -> Option<(DeflateParams, String)> {
        let offers = parse_extensions(offer).expect("valid header");
        config.negotiate(&offers).map(|(params, response)| (params, response.to_string()))
    }

    fn params(snct: bool, cnct: bool, sbits: u8, cbits: u8) -> DeflateParams {
        DeflateParams {
            server_no_context_takeover: snct,
            client_no_context_takeover: cnct,
            server_max_window_bits: sbits,
            client_max_window_bits: cbits,
        }
    }

    #[test]
    fn rfc7692_s7_negotiation_table() {
        let default = DeflateConfig::default();
        let table: &[(&str, Option<(DeflateParams, &str)>)] = &[
            ("permessage-deflate", Some((params(false, false, 15, 15), "permessage-deflate"))),
            ("permessage-deflate; client_max_window_bits", Some((params(false, false, 15, 15), "permessage-deflate"))),
            (
                "permessage-deflate; client_max_window_bits=10",
                Some((params(false, false, 15, 10), "permessage-deflate; client_max_window_bits=10")),
            ),
            (
                "permessage-deflate; server_max_window_bits=9",
                Some((params(false, false, 9, 15), "permessage-deflate; server_max_window_bits=9")),
            ),
            (
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
                Some((
                    params(true, true, 15, 15),
                    "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
                )),
            ),
            // An invalid first offer is declined and the next one taken (§5).
            (
                "permessage-deflate; server_max_window_bits=16, permessage-deflate",
                Some((params(false, false, 15, 15), "permessage-deflate")),
            ),
            ("permessage-deflate; foo", None),
            ("permessage-deflate; server_max_window_bits", None),
            ("permessage-deflate; server_max_window_bits=08", None),
            ("permessage-deflate; client_no_context_takeover=1", None),
            ("permessage-deflate; server_no_context_takeover; server_no_context_takeover", None),
            ("permessage-deflate; client_max_window_bits=9; client_max_window_bits=10", None),
            ("x-webkit-deflate-frame", None),
        ];
        for (offer, expected) in table {
            let got = negotiate(default, offer);
            let expected = expected.map(|(p, r)| (p, r.to_string()));
            assert_eq!(got, expected, "offer {offer:?}");
        }
    }

    #[test]
    fn rfc7692_s7_1_2_server_limits_apply_to_the_answer() {
        let config =
            DeflateConfig { server_max_window_bits: 12, client_max_window_bits: 11, ..DeflateConfig::default() };
        let (p, response) = negotiate(config, "permessage-deflate; client_max_window_bits").unwrap();
        assert_eq!(p, params(false, false, 12, 11));
        assert_eq!(response, "permessage-deflate; server_max_window_bits=12; client_max_window_bits=11");
        // The client did not offer client_max_window_bits: the server may not limit it.
        let (p, response) = negotiate(config, "permessage-deflate").unwrap();
        assert_eq!(p.client_max_window_bits, 15);
        assert!(!response.contains("client_max_window_bits"));
    }

    #[test]
    fn rfc7692_s7_1_client_accepts_what_it_offered() {
        let config = DeflateConfig::default();
        assert_eq!(config.offer().to_string(), "permessage-deflate; client_max_window_bits");
        let check = |answer: &str| config.accept_response(&parse_extensions(answer).unwrap());
        assert_eq!(check("permessage-deflate"), Ok(Some(params(false, false, 15, 15))));
        assert_eq!(check("permessage-deflate; client_max_window_bits=9"), Ok(Some(params(false, false, 15, 9))));
        assert_eq!(check("permessage-deflate; server_no_context_takeover"), Ok(Some(params(true, false, 15, 15))));
        assert_eq!(check("x-other"), Ok(None));
        for bad in [
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; unknown",
            "permessage-deflate, permessage-deflate",
            "permessage-deflate; server_max_window_bits=7",
        ] {
            assert!(matches!(check(bad), Err(HandshakeError::InvalidExtension(_))), "{bad}");
        }
    }

    #[test]
    fn rfc7692_s7_1_client_refuses_limits_above_its_offer() {
        let config = DeflateConfig {
            server_max_window_bits: 10,
            client_max_window_bits: 12,
            server_no_context_takeover: true,
            ..DeflateConfig::default()
        };
        assert_eq!(
            config.offer().to_string(),
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12"
        );
        let check = |answer: &str| config.accept_response(&parse_extensions(answer).unwrap());
        assert!(check("permessage-deflate; server_no_context_takeover; server_max_window_bits=11").is_err());
        assert!(check("permessage-deflate; server_no_context_takeover; client_max_window_bits=13").is_err());
        assert!(check("permessage-deflate; server_max_window_bits=10").is_err(), "ignored server_no_context_takeover");
        assert_eq!(
            check("permessage-deflate; server_no_context_takeover; server_max_window_bits=9"),
            Ok(Some(params(true, false, 9, 12)))
        );
    }
}
