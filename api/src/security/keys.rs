//! Integrators' API keys: a regional portal or a call centre sends its key with every request
//! (`Authorization: ApiKey <key>`, or `X-Api-Key: <key>` where `Authorization` carries a
//! patient's session) and is limited by its key's own limits, not as one anonymous browser.
//!
//! The configuration holds only each key's SHA-256 digest; a presented key is hashed and
//! looked up by digest. Logs name the key (`api_key = "regional-portal"`), never the key.

use actix_web::HttpRequest;
pub use gateway_domain::limits::KeyLimits;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// One key of `[[api_keys]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    /// Who holds the key (shown in logs and metrics).
    pub name: String,
    /// The key's SHA-256 digest, in hex (`printf %s "$KEY" | sha256sum`).
    pub sha256: String,
    /// The key's limits, shared by every request made with it.
    #[serde(default)]
    pub limits: KeyLimits,
}

/// The configured keys, by digest.
#[derive(Debug, Default)]
pub struct ApiKeys {
    keys: Vec<([u8; 32], String)>,
}

/// The longest key accepted in a header.
const MAX_KEY_LEN: usize = 512;

fn parse_digest(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl ApiKeys {
    /// Checks the configured keys: names unique and non-empty, digests 64 hex digits.
    pub fn from_config(keys: &[ApiKeyConfig]) -> Result<Self, String> {
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            let name = k.name.trim();
            if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_graphic()) {
                return Err(format!(
                    "api_keys: the name {:?} must be 1 to 64 visible ASCII characters",
                    k.name
                ));
            }
            let digest = parse_digest(&k.sha256).ok_or_else(|| {
                format!("api_keys: the sha256 of {name:?} must be 64 hexadecimal digits")
            })?;
            if k.limits.max_clients != 1 {
                return Err(format!(
                    "api_keys: {name:?} sets max_clients, which is [rate_limit]'s: a key is one client"
                ));
            }
            if out.iter().any(|(d, n)| *d == digest || n == name) {
                return Err(format!("api_keys: {name:?} is configured twice"));
            }
            out.push((digest, name.to_owned()));
        }
        Ok(Self { keys: out })
    }

    /// The key a request presents, if any: `X-Api-Key`, or `Authorization: ApiKey <key>`.
    /// An `X-Api-Key` that cannot be one (not text, or sent twice) is presented as a key that
    /// matches none; an `Authorization` sent twice presents none.
    pub fn presented(req: &HttpRequest) -> Option<&str> {
        match crate::headers::single(req, "x-api-key") {
            Ok(Some(v)) => return Some(v.to_str().unwrap_or("\u{0}")),
            Err(crate::headers::Repeated) => return Some("\u{0}"),
            Ok(None) => {}
        }
        let auth = crate::headers::credential(req, actix_web::http::header::AUTHORIZATION)?;
        let (scheme, key) = auth.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("apikey").then(|| key.trim())
    }

    /// The index of a presented key among the configured ones.
    pub fn find(&self, key: &str) -> Option<usize> {
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return None;
        }
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        self.keys.iter().position(|(d, _)| *d == digest)
    }

    /// A key's name.
    pub fn name(&self, index: usize) -> &str {
        self.keys.get(index).map_or("", |(_, n)| n.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(name: &str, key: &str) -> ApiKeyConfig {
        let digest = Sha256::digest(key.as_bytes());
        ApiKeyConfig {
            name: name.into(),
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
            limits: KeyLimits::default(),
        }
    }

    #[test]
    fn keys_are_found_by_digest_only() {
        let keys = ApiKeys::from_config(&[config("portal", "s3cret"), config("bot", "other")])
            .expect("valid");
        assert_eq!(keys.find("other"), Some(1));
        assert_eq!(keys.name(1), "bot");
        assert_eq!(keys.find("s3cre"), None);
        assert_eq!(keys.find(""), None);
    }

    #[test]
    fn bad_key_configurations_are_refused() {
        let mut bad = config("portal", "k");
        bad.sha256 = "abc".into();
        assert!(ApiKeys::from_config(&[bad]).is_err());
        assert!(ApiKeys::from_config(&[config("a", "k"), config("b", "k")]).is_err());
        assert!(ApiKeys::from_config(&[config("a", "k"), config("a", "j")]).is_err());
        assert!(ApiKeys::from_config(&[config("", "k")]).is_err());
        let mut many = config("portal", "k");
        many.limits.max_clients = 10;
        assert!(
            ApiKeys::from_config(&[many]).is_err(),
            "a key is one client"
        );
    }
}
