//! Repository URLs: the parts the adapters need (ssh host and port) and the redacted form shown in errors.

use walle_core::Secret;
use walle_core::model::{RepoConfig, RepoCredentials};

/// The parts of a repository URL that matter to the adapters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RemoteUrl {
    /// `ssh`, `https`, `git`, `file`, `svn`, ... (`ssh` for the scp-like `user@host:path` form,
    /// `file` for a plain path).
    pub(crate) scheme: String,
    /// The host, without brackets for IPv6; `None` for local paths.
    pub(crate) host: Option<String>,
    /// The explicit port, if any.
    pub(crate) port: Option<u16>,
    /// The user name from the URL, if any.
    pub(crate) user: Option<String>,
}

impl RemoteUrl {
    /// Splits a URL; unknown shapes become a `file` URL without host.
    pub(crate) fn parse(url: &str) -> RemoteUrl {
        if let Some((scheme, rest)) = url.split_once("://") {
            let authority = rest.split('/').next().unwrap_or("");
            let (user, hostport) = match authority.rsplit_once('@') {
                Some((userinfo, hp)) => (
                    Some(userinfo.split(':').next().unwrap_or("").to_owned()),
                    hp,
                ),
                None => (None, authority),
            };
            let (host, port) = split_host_port(hostport);
            return RemoteUrl {
                scheme: scheme.to_ascii_lowercase(),
                host: (!host.is_empty()).then(|| host.to_owned()),
                port,
                user: user.filter(|u| !u.is_empty()),
            };
        }
        if let Some((user, host)) = scp_like(url) {
            return RemoteUrl {
                scheme: "ssh".to_owned(),
                host: Some(host.to_owned()),
                port: None,
                user: user.map(str::to_owned),
            };
        }
        RemoteUrl {
            scheme: "file".to_owned(),
            host: None,
            port: None,
            user: None,
        }
    }

    /// The name of the host in OpenSSH's known_hosts: `host` on port 22, else `[host]:port`.
    pub(crate) fn known_hosts_name(&self) -> Option<String> {
        let host = self.host.as_deref()?;
        Some(match self.port {
            None | Some(22) => host.to_owned(),
            Some(port) => format!("[{host}]:{port}"),
        })
    }
}

/// A repository as errors show it: the URL without userinfo, and secrets scrubbed from library messages.
#[derive(Debug, Clone)]
pub(crate) struct Shown<'a> {
    url: &'a str,
    secrets: Vec<&'a str>,
}

impl<'a> Shown<'a> {
    /// The repository of a project; its password, token and key passphrase are the secrets.
    pub(crate) fn new(config: &'a RepoConfig) -> Shown<'a> {
        let secrets = match &config.credentials {
            RepoCredentials::None => Vec::new(),
            RepoCredentials::SshKey { passphrase, .. } => {
                passphrase.iter().map(Secret::expose).collect()
            }
            RepoCredentials::Password { password, .. } => vec![password.expose()],
        };
        Shown {
            url: &config.url,
            secrets,
        }
    }

    /// The URL without userinfo.
    pub(crate) fn url(&self) -> String {
        redact_url(self.url)
    }

    /// A library's message without userinfo in URLs and without any secret.
    pub(crate) fn clean(&self, text: &str) -> String {
        let text = redact_text(text);
        let text = scrub(&text, &self.secrets);
        let text = if self.url.is_empty() {
            text
        } else {
            text.replace(self.url, &self.url())
        };
        let text: String = text.chars().take(2000).collect();
        text.trim().to_owned()
    }
}

/// The URL without user name or password, for messages (`https://tok@host/x` becomes `https://host/x`).
pub(crate) fn redact_url(url: &str) -> String {
    if url.contains("://") {
        return redact_text(url);
    }
    match scp_like(url) {
        Some((Some(_), _)) => url
            .split_once('@')
            .map_or_else(|| url.to_owned(), |(_, rest)| rest.to_owned()),
        _ => url.to_owned(),
    }
}

/// Removes the userinfo of every `scheme://user:pass@host` in a free text (an error message from
/// a library or from `svn`).
pub(crate) fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || "'\"<>`".contains(c))
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => out.push_str(&authority[at + 1..]),
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Replaces every occurrence of each secret by `***`.
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret, "***");
    }
    out
}

/// `[user@]host:path` as git reads it: a colon before any slash, and not a Windows drive letter.
fn scp_like(url: &str) -> Option<(Option<&str>, &str)> {
    let colon = url.find(':')?;
    if url[..colon].contains('/') || colon < 2 {
        return None;
    }
    let authority = &url[..colon];
    Some(match authority.rsplit_once('@') {
        Some((user, host)) => (
            Some(user),
            host.trim_start_matches('[').trim_end_matches(']'),
        ),
        None => (
            None,
            authority.trim_start_matches('[').trim_end_matches(']'),
        ),
    })
}

fn split_host_port(hostport: &str) -> (&str, Option<u16>) {
    if let Some(rest) = hostport.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (rest, None),
        };
    }
    match hostport.rsplit_once(':') {
        Some((host, port)) => match port.parse() {
            Ok(port) => (host, Some(port)),
            Err(_) => (hostport, None),
        },
        None => (hostport, None),
    }
}

#[cfg(test)]
mod tests;
