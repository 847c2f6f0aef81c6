//! A local certificate authority and server certificates signed by it, for TLS tests and
//! demos (made with rcgen). Used by `examples/make_cert.rs` and `tests/tls.rs`.
//!
//! Nothing here is fit for production: the keys are written unencrypted, and the CA can sign
//! anything. Trust the CA only in a test browser profile or a test client.
#![allow(dead_code)]

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

/// A certificate and its private key, both PEM.
#[derive(Debug, Clone)]
pub struct Issued {
    /// `-----BEGIN CERTIFICATE-----`: the server's certificate.
    pub cert_pem: String,
    /// `-----BEGIN PRIVATE KEY-----`: its PKCS#8 key.
    pub key_pem: String,
}

/// A self-signed CA that issues server certificates.
pub struct LocalCa {
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl LocalCa {
    /// A new CA (a fresh ECDSA P-256 key) named `name`.
    pub fn new(name: &str) -> LocalCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("no names to check");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().expect("generate the CA key");
        let cert = params.self_signed(&key).expect("self-sign the CA");
        LocalCa { cert_pem: cert.pem(), issuer: Issuer::new(params, key) }
    }

    /// The CA certificate, PEM: what a client trusts.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A server certificate for `names` (DNS names or IP addresses, e.g. `localhost`,
    /// `127.0.0.1`), valid from 1975 to 4096.
    pub fn issue(&self, names: &[&str]) -> Issued {
        self.issue_with(names, |_| {})
    }

    /// A server certificate for `names` that expired on 2021-01-01.
    pub fn issue_expired(&self, names: &[&str]) -> Issued {
        self.issue_with(names, |params| {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        })
    }

    fn issue_with(&self, names: &[&str], adjust: impl FnOnce(&mut CertificateParams)) -> Issued {
        let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
        // Names that parse as IP addresses become iPAddress entries, the rest dNSName ones.
        let mut params = CertificateParams::new(names.clone()).expect("valid subject alternative names");
        params.distinguished_name.push(DnType::CommonName, names.first().map_or("server", String::as_str));
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        adjust(&mut params);
        let key = KeyPair::generate().expect("generate the server key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign the server certificate");
        Issued { cert_pem: cert.pem(), key_pem: key.serialize_pem() }
    }
}

/// A self-signed server certificate for `names` (no CA behind it).
pub fn self_signed(names: &[&str]) -> Issued {
    let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    let key = KeyPair::generate().expect("generate the key");
    let cert = CertificateParams::new(names).expect("valid names").self_signed(&key).expect("self-sign");
    Issued { cert_pem: cert.pem(), key_pem: key.serialize_pem() }
}
