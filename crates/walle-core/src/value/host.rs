//! Host names, addresses, ports and SSH user names.

use super::{InvalidValue, reject_control, string_value};

/// A DNS host name, an IPv4 address or an IPv6 address (without brackets).
/// Never starts with `-`, so it cannot smuggle an option such as `-oProxyCommand=...` into ssh.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostName(String);
string_value!(HostName);

/// A POSIX login name for SSH (`deploy`, `www-data`, `_svc`): lowercase letters, digits, `_`, `-`,
/// starting with a letter or `_`, at most 32 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SshUser(String);
string_value!(SshUser);

/// A TCP port, 1..=65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Port(u16);

impl HostName {
    /// Validates a host name or address.
    pub fn new(raw: &str) -> Result<Self, InvalidValue> {
        const KIND: &str = "host";
        reject_control(KIND, raw)?;
        if raw.is_empty() || raw.len() > 253 {
            return Err(InvalidValue::new(KIND, raw, "must be 1 to 253 characters"));
        }
        if raw.starts_with('-') {
            return Err(InvalidValue::new(
                KIND,
                raw,
                "starts with '-' and could be read as an option",
            ));
        }
        if raw.parse::<std::net::IpAddr>().is_ok() {
            return Ok(Self(raw.to_owned()));
        }
        for label in raw.split('.') {
            let ok = !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok {
                return Err(InvalidValue::new(
                    KIND,
                    raw,
                    "must be an IP address or a host name of letters, digits, '-' and '_' in dot-separated labels",
                ));
            }
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }

    /// True when this is an IPv6 address (it needs brackets in `host:port` notation).
    pub fn is_ipv6(&self) -> bool {
        self.0.contains(':')
    }
}

impl SshUser {
    /// Validates a login name.
    pub fn new(raw: &str) -> Result<Self, InvalidValue> {
        const KIND: &str = "SSH user";
        reject_control(KIND, raw)?;
        let mut bytes = raw.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
        let rest_ok =
            bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !first_ok || !rest_ok || raw.len() > 32 {
            return Err(InvalidValue::new(
                KIND,
                raw,
                "must start with a lowercase letter or '_' and contain only a-z, 0-9, '_' and '-' (at most 32)",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
}

impl Port {
    /// Validates a port number.
    pub fn new(port: u16) -> Result<Self, InvalidValue> {
        if port == 0 {
            return Err(InvalidValue::new("port", "0", "must be 1 to 65535"));
        }
        Ok(Self(port))
    }

    /// The port number.
    pub fn get(self) -> u16 {
        self.0
    }
}

impl Default for Port {
    /// Port 22, the SSH default.
    fn default() -> Self {
        Self(22)
    }
}

impl std::fmt::Display for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}
