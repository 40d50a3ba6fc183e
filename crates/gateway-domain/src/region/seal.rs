//! A region's session token: the identity the patient typed, sealed with an authenticated
//! cipher (XChaCha20-Poly1305) under the gateways' session key, so that the gateway can find
//! the patient in any clinic of the region without keeping the identity anywhere. Only the
//! patient's browser holds it, unreadable and unforgeable without the key; the region it was
//! made for and the moment it expires are sealed with it. The threat model is in
//! `ARCHITECTURE.md` («Region sessions»).

use crate::sessions::TypedIdentity;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What starts every sealed token (and tells it from a clinic's random one).
pub const PREFIX: &str = "r1.";
const NONCE: usize = 24;
/// The longest token opened: a sealed identity is a few hundred bytes.
const MAX_TOKEN: usize = 1_024;

/// The key sessions are sealed under: 32 bytes, the same on every gateway of a region.
#[derive(Clone)]
pub struct SessionKey(XChaCha20Poly1305);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(…)")
    }
}

/// Why a key was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the session key must be 64 hexadecimal digits (32 bytes)")]
    Format,
    #[error("the system's random generator failed")]
    NoRandomness,
}

impl SessionKey {
    /// A key of this process only: sessions sealed under it open on this gateway alone.
    pub fn random() -> Result<Self, KeyError> {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|_| KeyError::NoRandomness)?;
        Ok(Self::from_bytes(&raw))
    }

    /// The key written as 64 hexadecimal digits (`openssl rand -hex 32`).
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(KeyError::Format);
        }
        let mut raw = [0u8; 32];
        for (i, byte) in raw.iter_mut().enumerate() {
            *byte =
                u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| KeyError::Format)?;
        }
        Ok(Self::from_bytes(&raw))
    }

    fn from_bytes(raw: &[u8; 32]) -> Self {
        Self(XChaCha20Poly1305::new(raw.into()))
    }
}

/// What a region's token carries. Personal data: its `Debug` shows only when it expires.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    #[serde(rename = "d")]
    pub document_number: String,
    #[serde(rename = "p")]
    pub policy_number: String,
    #[serde(rename = "b")]
    pub birth_date: String,
    /// When it stops opening (seconds since the epoch).
    #[serde(rename = "e")]
    pub expires: i64,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed")
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl Sealed {
    pub fn new(identity: &TypedIdentity, expires_at: DateTime<Utc>) -> Self {
        Self {
            document_number: identity.document_number.clone(),
            policy_number: identity.policy_number.clone(),
            birth_date: identity.birth_date.clone(),
            expires: expires_at.timestamp(),
        }
    }

    /// The identity as the patient typed it.
    pub fn identity(&self) -> TypedIdentity {
        TypedIdentity {
            document_number: self.document_number.clone(),
            policy_number: self.policy_number.clone(),
            birth_date: self.birth_date.clone(),
        }
    }
}

/// What binds a token to its region (the cipher's associated data).
fn bound(region: &str) -> Vec<u8> {
    format!("registratura region session v1\n{region}").into_bytes()
}

/// Seals `sealed` for `region`: `None` only when the system has no randomness.
pub fn seal(key: &SessionKey, region: &str, sealed: &Sealed) -> Option<String> {
    let mut nonce = [0u8; NONCE];
    getrandom::fill(&mut nonce).ok()?;
    let plain = serde_json::to_vec(sealed).ok()?;
    let aad = bound(region);
    let cipher = key
        .0
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: &aad,
            },
        )
        .ok()?;
    let mut raw = nonce.to_vec();
    raw.extend_from_slice(&cipher);
    Some(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(raw)))
}

/// Opens a token sealed for `region` that has not expired; `None` for anything else (another
/// region's, forged, altered, expired, not a sealed token at all).
pub fn open(key: &SessionKey, region: &str, token: &str) -> Option<Sealed> {
    let body = token.strip_prefix(PREFIX)?;
    if body.len() > MAX_TOKEN {
        return None;
    }
    let raw = URL_SAFE_NO_PAD.decode(body).ok()?;
    if raw.len() <= NONCE {
        return None;
    }
    let (nonce, cipher) = raw.split_at(NONCE);
    let aad = bound(region);
    let plain = key
        .0
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: cipher,
                aad: &aad,
            },
        )
        .ok()?;
    let sealed: Sealed = serde_json::from_slice(&plain).ok()?;
    (sealed.expires > Utc::now().timestamp()).then_some(sealed)
}

/// Whether `token` is a sealed one (not whether it opens).
pub fn is_sealed(token: &str) -> bool {
    token.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> TypedIdentity {
        TypedIdentity {
            document_number: "4510 123456".into(),
            policy_number: "7700000000000001".into(),
            birth_date: "1980-05-17".into(),
        }
    }

    fn later() -> DateTime<Utc> {
        Utc::now() + chrono::Duration::minutes(15)
    }

    #[test]
    fn a_sealed_identity_opens_under_its_key_for_its_region_only() {
        let key = SessionKey::random().expect("random");
        let sealed = Sealed::new(&identity(), later());
        let token = seal(&key, "spb", &sealed).expect("sealed");
        assert!(is_sealed(&token));
        assert_eq!(open(&key, "spb", &token), Some(sealed.clone()));
        // Nothing of the identity shows in the token.
        for part in ["4510", "123456", "7700000000000001", "1980"] {
            assert!(!token.contains(part), "{token}");
        }
        // Another region, another key: it does not open.
        assert_eq!(open(&key, "msk", &token), None);
        let other = SessionKey::random().expect("random");
        assert_eq!(open(&other, "spb", &token), None);
        // Two seals of the same identity differ (a fresh nonce each).
        assert_ne!(seal(&key, "spb", &sealed), Some(token));
    }

    #[test]
    fn an_altered_expired_or_foreign_token_does_not_open() {
        let key = SessionKey::from_hex(&"ab".repeat(32)).expect("64 hex digits");
        let token = seal(&key, "spb", &Sealed::new(&identity(), later())).expect("sealed");
        // Each character changed in turn breaks it.
        for i in PREFIX.len()..token.len() {
            let mut altered = token.clone().into_bytes();
            altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(altered).expect("ascii");
            assert_eq!(open(&key, "spb", &altered), None, "position {i}");
        }
        let past = Utc::now() - chrono::Duration::seconds(1);
        let expired = seal(&key, "spb", &Sealed::new(&identity(), past)).expect("sealed");
        assert_eq!(open(&key, "spb", &expired), None);
        for junk in [
            "",
            "r1.",
            "r1.AAAA",
            "abc",
            &format!("r1.{}", "A".repeat(5_000)),
        ] {
            assert_eq!(open(&key, "spb", junk), None, "{junk}");
        }
    }

    #[test]
    fn a_key_is_64_hex_digits() {
        assert!(SessionKey::from_hex(&"0f".repeat(32)).is_ok());
        for bad in [
            "",
            "abc",
            &"0f".repeat(31),
            &"zz".repeat(32),
            &"0f".repeat(33),
        ] {
            assert!(SessionKey::from_hex(bad).is_err(), "{bad}");
        }
        assert_eq!(
            format!("{:?}", SessionKey::random().expect("random")),
            "SessionKey(…)"
        );
    }
}
