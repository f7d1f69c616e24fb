//! Talking to the remote: fetch with credentials and host key checking, and turning libgit2's
//! errors into [`VcsError`]s that say what the user can do.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};

use git2::{
    AutotagOption, CertificateCheckStatus, Cred, CredentialType, ErrorClass, ErrorCode,
    FetchOptions, FetchPrune, RemoteCallbacks, Repository,
};
use walle_core::model::RepoCredentials;
use walle_core::ports::VcsError;

use super::Shown;
use crate::known_hosts::{KnownHosts, OfferedKey};
use crate::url::RemoteUrl;

/// The name of the mirror's only remote.
pub(super) const REMOTE: &str = "origin";

/// The mirror's fetch refspecs: branches and tags as they are on the remote.
pub(super) const REFSPECS: [&str; 2] = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];

/// Why a fetch failed, before it becomes a [`VcsError`].
#[derive(Debug)]
pub(super) enum FetchError {
    /// The server's host key (or TLS certificate) was refused.
    HostKey(String),
    /// The credentials were refused or there were none to offer.
    Auth(String),
    /// Anything else libgit2 reported.
    Git(git2::Error),
}

/// Fetches every branch and tag from the remote into the mirror, pruning refs the remote deleted.
pub(super) fn fetch(
    repo: &Repository,
    credentials: &RepoCredentials,
    url: &str,
    known_hosts: &KnownHosts,
) -> Result<(), FetchError> {
    let parsed = RemoteUrl::parse(url);
    let host_key_refusal: RefCell<Option<String>> = RefCell::new(None);
    let auth_refusal: RefCell<Option<String>> = RefCell::new(None);
    let attempts = Cell::new(0usize);

    let mut callbacks = RemoteCallbacks::new();
    callbacks.certificate_check(|cert, _host| {
        let Some(hostkey) = cert.as_hostkey() else {
            // TLS: libgit2 verifies the certificate against the system's CAs.
            return Ok(CertificateCheckStatus::CertificatePassthrough);
        };
        let name = parsed.known_hosts_name().unwrap_or_default();
        let refusal = match hostkey.hostkey() {
            Some(blob) => {
                let offered = OfferedKey {
                    blob,
                    sha256: hostkey.hash_sha256(),
                };
                match known_hosts.check(&name, &offered) {
                    Ok(()) => return Ok(CertificateCheckStatus::CertificateOk),
                    Err(refusal) => refusal,
                }
            }
            None => format!("{name} sent no host key that can be checked"),
        };
        let err = git2::Error::new(ErrorCode::Certificate, ErrorClass::Ssh, &refusal);
        *host_key_refusal.borrow_mut() = Some(refusal);
        Err(err)
    });
    callbacks.credentials(|_url, user_from_url, allowed| {
        let user = user_from_url.or(parsed.user.as_deref()).unwrap_or("git");
        if allowed == CredentialType::USERNAME {
            return Cred::username(user);
        }
        let attempt = attempts.get();
        attempts.set(attempt + 1);
        let offer = offer(credentials, user, allowed, attempt);
        if let Err(refusal) = &offer {
            *auth_refusal.borrow_mut() = Some(refusal.message().to_owned());
        }
        offer
    });

    let mut options = FetchOptions::new();
    options
        .remote_callbacks(callbacks)
        .prune(FetchPrune::On)
        .download_tags(AutotagOption::None)
        .update_fetchhead(false);
    let result = repo
        .find_remote(REMOTE)
        .and_then(|mut remote| remote.fetch(&REFSPECS, Some(&mut options), Some("walle: fetch")));
    drop(options);
    match result {
        Ok(()) => Ok(()),
        Err(e) => Err(if let Some(refusal) = host_key_refusal.into_inner() {
            FetchError::HostKey(refusal)
        } else if let Some(refusal) = auth_refusal.into_inner() {
            FetchError::Auth(refusal)
        } else {
            FetchError::Git(e)
        }),
    }
}

/// The credential for attempt number `attempt` (0-based). libgit2 asks again after every refusal,
/// so each kind of credential is offered a bounded number of times and then we give up.
fn offer(
    credentials: &RepoCredentials,
    user: &str,
    allowed: CredentialType,
    attempt: usize,
) -> Result<Cred, git2::Error> {
    let refuse = |msg: String| Err(git2::Error::new(ErrorCode::Auth, ErrorClass::Callback, msg));
    match credentials {
        RepoCredentials::SshKey {
            key_path,
            passphrase,
        } if allowed.contains(CredentialType::SSH_KEY) => {
            if attempt > 0 {
                return refuse(format!(
                    "the server refused the SSH key {key_path} for user {user}"
                ));
            }
            let passphrase = passphrase.as_ref().map(walle_core::Secret::expose);
            Cred::ssh_key(user, None, Path::new(key_path.as_str()), passphrase)
        }
        RepoCredentials::Password { username, password }
            if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) =>
        {
            if attempt > 0 {
                return refuse(format!(
                    "the server refused user {username} with the configured password or token"
                ));
            }
            Cred::userpass_plaintext(username, password.expose())
        }
        RepoCredentials::None if allowed.contains(CredentialType::SSH_KEY) => {
            let mut candidates: Vec<Option<PathBuf>> = Vec::new();
            if std::env::var_os("SSH_AUTH_SOCK").is_some() {
                candidates.push(None);
            }
            candidates.extend(default_keys().into_iter().map(Some));
            match candidates.get(attempt) {
                Some(None) => Cred::ssh_key_from_agent(user),
                Some(Some(key)) => Cred::ssh_key(user, None, key, None),
                None => refuse(format!(
                    "the server refused user {user} with the deploy host's SSH agent and default keys \
                     (~/.ssh/id_ed25519, id_ecdsa, id_rsa); configure a key for the project or add \
                     the deploy host's public key to the repository"
                )),
            }
        }
        _ => refuse(format!(
            "the server asks for credentials of kind {allowed:?}, which the project does not have \
             (SSH key for ssh URLs, user and password or token for https)"
        )),
    }
}

/// The default key files of the deploy host's user that exist.
fn default_keys() -> Vec<PathBuf> {
    let Some(home) = std::env::var_os("HOME").map(PathBuf::from) else {
        return Vec::new();
    };
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|name| home.join(".ssh").join(name))
        .filter(|path| path.is_file())
        .collect()
}

/// A fetch error as the user should see it.
pub(super) fn fetch_error(err: FetchError, repo: &Shown<'_>) -> VcsError {
    let detail = |text: &str| repo.clean(text);
    match err {
        FetchError::HostKey(refusal) => VcsError::HostKey {
            repo: repo.url(),
            detail: detail(&refusal),
        },
        FetchError::Auth(refusal) => VcsError::AuthFailed {
            repo: repo.url(),
            detail: detail(&refusal),
        },
        FetchError::Git(e) => remote_error(&e, repo),
    }
}

/// Classifies a libgit2 error raised while talking to the remote.
fn remote_error(e: &git2::Error, repo: &Shown<'_>) -> VcsError {
    let message = repo.clean(e.message());
    let lower = message.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if e.code() == ErrorCode::Auth
        || has(&["status code: 401", "status code: 403", "permission denied"])
    {
        return VcsError::AuthFailed {
            repo: repo.url(),
            detail: message,
        };
    }
    if e.code() == ErrorCode::Certificate {
        return VcsError::HostKey {
            repo: repo.url(),
            detail: message,
        };
    }
    if has(&[
        "could not find repository",
        "not a git repository",
        "does not appear to be a git repository",
        "repository not found",
        "no such repository",
        "not exported",
        "status code: 404",
        "not valid: is this a git repository",
        "no such file or directory",
    ]) {
        return VcsError::NotARepository {
            repo: repo.url(),
            expected: "git",
            detail: message,
        };
    }
    let network = matches!(
        e.class(),
        ErrorClass::Net | ErrorClass::Ssh | ErrorClass::Http | ErrorClass::Ssl | ErrorClass::Os
    );
    if network
        || has(&[
            "failed to connect",
            "connection refused",
            "failed to resolve",
            "timed out",
            "early eof",
            "unexpected eof",
        ])
    {
        return VcsError::Unreachable {
            repo: repo.url(),
            detail: message,
        };
    }
    VcsError::Other {
        operation: "fetching",
        repo: repo.url(),
        detail: message,
    }
}

/// True when a libgit2 error points at a damaged local mirror rather than at the remote.
/// (Missing branches and tags are not damage: the caller turns those into `NoSuchRef` first.)
pub(super) fn is_local_damage(e: &git2::Error) -> bool {
    match e.class() {
        ErrorClass::Odb | ErrorClass::Zlib | ErrorClass::Object | ErrorClass::Tree => {
            e.code() != ErrorCode::Ambiguous
        }
        ErrorClass::Reference => e.code() != ErrorCode::NotFound,
        ErrorClass::Repository | ErrorClass::Config | ErrorClass::Index | ErrorClass::Indexer => {
            true
        }
        _ => false,
    }
}

/// True when a failed fetch blames the mirror itself: a broken pack, loose object or ref file.
/// (Errors of class `Repository` are left out: for a `file://` remote they describe the remote.)
pub(super) fn is_mirror_damage(e: &git2::Error) -> bool {
    matches!(
        e.class(),
        ErrorClass::Odb | ErrorClass::Zlib | ErrorClass::Indexer | ErrorClass::Reference
    )
}
