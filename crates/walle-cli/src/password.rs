//! Passwords: generated from the OS random source, stored only as argon2 PHC strings.

use anyhow::Context as _;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Letters and digits without look-alikes (no 0/O, 1/l/I).
const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A random password of `len` characters from an unambiguous alphabet.
pub fn generate(len: usize) -> anyhow::Result<String> {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    // Rejection sampling keeps the distribution uniform: 256 is not a multiple of the alphabet size.
    let limit = 256 - 256 % ALPHABET.len();
    while out.len() < len {
        getrandom::fill(&mut buf).map_err(|e| anyhow::format_err!("no OS randomness: {e}"))?;
        for b in buf {
            if usize::from(b) < limit && out.len() < len {
                out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
            }
        }
    }
    Ok(out)
}

/// Hex of `n` random bytes (lease tokens).
pub fn random_hex(n: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| anyhow::format_err!("no OS randomness: {e}"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// The argon2id PHC string of a password, with a random salt.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow::format_err!("no OS randomness: {e}"))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| anyhow::format_err!("encoding the salt: {e}"))?;
    let phc = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::format_err!("hashing the password: {e}"))?;
    Ok(phc.to_string())
}

/// True when `password` matches the PHC string.
pub fn verify(password: &str, phc: &str) -> anyhow::Result<bool> {
    let parsed = PasswordHash::new(phc)
        .map_err(|e| anyhow::format_err!("stored password hash is invalid: {e}"))
        .context("verifying the password")?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

#[cfg(test)]
mod tests;
