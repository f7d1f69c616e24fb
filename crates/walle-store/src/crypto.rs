//! Encryption of stored secrets (repository passwords, key passphrases, DingTalk secrets) at rest.
//!
//! Each secret is sealed with XChaCha20-Poly1305 under the key given to `DieselStore::open`, with
//! a fresh random nonce and the field's name as associated data, and stored as
//! `v1:<hex nonce><hex ciphertext>`. A database dump alone does not reveal them.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use walle_core::Secret;

use crate::error::{Result, corrupt};

const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 24;

/// The 256-bit key that encrypts secrets at rest. Keep it outside the database.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; 32]);

/// Why a secret key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid secret key: expected 64 hex digits (32 bytes)")]
pub struct InvalidSecretKey;

impl SecretKey {
    /// A key from raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> SecretKey {
        SecretKey(bytes)
    }

    /// A key from 64 hex digits (as [`SecretKey::to_hex`] writes it).
    pub fn from_hex(hex: &str) -> Result<SecretKey, InvalidSecretKey> {
        let bytes = decode_hex(hex.trim()).ok_or(InvalidSecretKey)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| InvalidSecretKey)?;
        Ok(SecretKey(arr))
    }

    /// A new random key from the operating system's generator.
    pub fn generate() -> SecretKey {
        SecretKey(XChaCha20Poly1305::generate_key(&mut OsRng).into())
    }

    /// The key as 64 hex digits, to be stored by the operator (not in the database).
    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// Seals and opens secrets with one key.
#[derive(Clone)]
pub(crate) struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    pub(crate) fn new(key: &SecretKey) -> Sealer {
        Sealer {
            cipher: XChaCha20Poly1305::new(&key.0.into()),
        }
    }

    /// Encrypts `secret`; `field` names the column or setting (bound as associated data).
    pub(crate) fn seal(&self, field: &str, secret: &Secret) -> Result<String> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: secret.expose().as_bytes(),
            aad: field.as_bytes(),
        };
        let ct = self
            .cipher
            .encrypt(&nonce, payload)
            .map_err(|_| corrupt("secret", "encryption failed"))?;
        let mut out = String::with_capacity(PREFIX.len() + 2 * (NONCE_LEN + ct.len()));
        out.push_str(PREFIX);
        out.push_str(&encode_hex(&nonce));
        out.push_str(&encode_hex(&ct));
        Ok(out)
    }

    /// Decrypts a value written by [`Sealer::seal`] for the same `field`.
    pub(crate) fn open(&self, field: &str, stored: &str) -> Result<Secret> {
        let bytes = stored
            .strip_prefix(PREFIX)
            .and_then(decode_hex)
            .filter(|b| b.len() >= NONCE_LEN)
            .ok_or_else(|| corrupt("secret", format!("{field} is not a sealed value")))?;
        let (nonce, ct) = bytes.split_at(NONCE_LEN);
        let payload = Payload {
            msg: ct,
            aad: field.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| {
                corrupt(
                    "secret",
                    format!(
                        "{field} cannot be decrypted: wrong secret key, or the value was altered"
                    ),
                )
            })?;
        let text = String::from_utf8(plain)
            .map_err(|_| corrupt("secret", format!("{field} is not UTF-8")))?;
        Ok(Secret::new(text))
    }
}

fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 == 1 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests;
