//! The SVN adapter: a thin wrapper over the `svn` command line (`--xml`, `--non-interactive`,
//! `--no-auth-cache`), for repositories in the standard trunk/branches/tags layout.
//!
//! SVN needs no cache on the deploy host: listings ask the server, and an export is one
//! `svn export URL@REV`. A revision number alone does not say which branch it belongs to, so the
//! adapter finds the layout path a revision changed (`svn log -v`), preferring what an earlier
//! `resolve` or listing in this process saw.

mod cli;
mod xml;

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use walle_core::ProjectId;
use walle_core::model::{FileFilter, RepoConfig};
use walle_core::ports::{
    BranchInfo, CommitInfo, ExportSummary, FileChange, RepoHandle, Revision, TagInfo, Vcs, VcsError,
};
use walle_core::value::{CommitId, RefName};

use crate::cache::{create_private_dir, io_error};
use crate::{export_dest, filter_for};
use cli::{Client, Missing, decode_path, encode_path};

/// Settings of the SVN adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvnConfig {
    /// Root of the per-deploy-host state; the adapter keeps its private `svn --config-dir` in
    /// `<cache_root>/svn-config` (no credentials are ever stored there).
    pub cache_root: PathBuf,
    /// Time limit of one `svn` command (an export of a large tree included).
    pub command_timeout: Duration,
}

/// SVN through the `svn` client, standard layout (`trunk`, `branches/<name>`, `tags/<name>` below
/// the configured URL). Branch `trunk` is the trunk. Externals are not exported.
#[derive(Debug, Clone)]
pub struct SvnVcs {
    config: SvnConfig,
    /// Layout paths of revisions seen by `resolve` and listings, per project.
    seen: Arc<Mutex<HashMap<(ProjectId, u64), String>>>,
}

impl SvnVcs {
    /// An SVN adapter; nothing is touched until the first operation.
    pub fn new(config: SvnConfig) -> SvnVcs {
        SvnVcs {
            config,
            seen: Arc::default(),
        }
    }

    fn config_dir(&self) -> Result<PathBuf, VcsError> {
        let dir = self.config.cache_root.join("svn-config");
        create_private_dir(&dir)?;
        // With these files present svn writes no defaults of its own, and never stores passwords.
        let files: [(&str, &str); 3] = [
            (
                "config",
                "[auth]\npassword-stores =\nstore-passwords = no\nstore-auth-creds = no\n\n[miscellany]\nenable-auto-props = no\n",
            ),
            (
                "servers",
                "[global]\nstore-passwords = no\nstore-plaintext-passwords = no\n",
            ),
            (
                "README.txt",
                "Written by Walle: the svn client configuration of the deploy host.\n",
            ),
        ];
        for (name, content) in files {
            let path = dir.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => file
                    .write_all(content.as_bytes())
                    .map_err(|e| io_error("write the svn configuration", &path, &e))?,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_error("write the svn configuration", &path, &e)),
            }
        }
        Ok(dir)
    }

    fn remember(&self, project: ProjectId, revision: u64, path: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.insert((project, revision), path.to_owned());
    }

    fn remembered(&self, project: ProjectId, revision: u64) -> Option<String> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.get(&(project, revision)).cloned()
    }

    /// The layout path (`trunk`, `branches/x`, `tags/y`) whose content revision `rev` is.
    fn locate(
        &self,
        handle: &RepoHandle,
        client: &Client<'_>,
        rev: u64,
        id: &CommitId,
    ) -> Result<String, VcsError> {
        if let Some(path) = self.remembered(handle.project, rev) {
            return Ok(path);
        }
        let entries = self.log_revision(handle, client, rev, id)?;
        let mut candidates: Vec<String> = entries
            .iter()
            .flat_map(|e| e.paths.iter())
            .filter_map(|p| layout_path(p))
            .collect();
        candidates.sort();
        candidates.dedup();
        match candidates.as_slice() {
            [one] => {
                self.remember(handle.project, rev, one);
                Ok(one.clone())
            }
            [] => Err(VcsError::NoSuchRef {
                repo: client.shown().url(),
                kind: "revision",
                reference: format!("{id} (it changed nothing in trunk, branches or tags)"),
            }),
            many => Err(VcsError::Other {
                operation: "finding the branch of a revision",
                repo: client.shown().url(),
                detail: format!(
                    "revision {rev} changed several of {}; pick the branch or tag in the task instead of the bare revision",
                    many.join(", ")
                ),
            }),
        }
    }

    fn log_revision(
        &self,
        handle: &RepoHandle,
        client: &Client<'_>,
        rev: u64,
        id: &CommitId,
    ) -> Result<Vec<xml::LogEntry>, VcsError> {
        let out = client.run(
            "reading a revision",
            &[
                "log".into(),
                "--xml".into(),
                "-v".into(),
                "-r".into(),
                rev.to_string().into(),
                url_at(&handle.config.url, "", None),
            ],
            Some(Missing {
                kind: "revision",
                reference: id.as_str(),
            }),
        )?;
        xml::log(&out).map_err(|e| bad_output(client, "reading a revision", &e))
    }
}

impl Vcs for SvnVcs {
    fn sync(&self, repo: &RepoHandle) -> Result<(), VcsError> {
        // Nothing is cached; check that the repository answers.
        let config_dir = self.config_dir()?;
        let client = Client::new(&self.config, &repo.config, &config_dir);
        client.run(
            "checking the repository",
            &[
                "info".into(),
                "--xml".into(),
                url_at(&repo.config.url, "", None),
            ],
            None,
        )?;
        Ok(())
    }

    fn branches(&self, repo: &RepoHandle) -> Result<Vec<BranchInfo>, VcsError> {
        let config_dir = self.config_dir()?;
        let client = Client::new(&self.config, &repo.config, &config_dir);
        let root = list(&client, &repo.config, "", None)?;
        let dir = |name: &str| root.iter().find(|e| e.kind == "dir" && e.name == name);
        let mut out = Vec::new();
        if let Some(trunk) = dir("trunk") {
            self.remember(repo.project, trunk.revision, "trunk");
            out.push(BranchInfo {
                name: RefName::new("trunk").expect("'trunk' is a valid ref name"),
                head: revision_id(trunk.revision),
                updated_at: trunk.date,
            });
        }
        if dir("branches").is_some() {
            for entry in list(&client, &repo.config, "branches", None)? {
                let Ok(name) = RefName::new(&entry.name) else {
                    continue;
                };
                if entry.kind != "dir" || name.as_str() == "trunk" {
                    continue;
                }
                self.remember(repo.project, entry.revision, &format!("branches/{name}"));
                out.push(BranchInfo {
                    name,
                    head: revision_id(entry.revision),
                    updated_at: entry.date,
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn tags(&self, repo: &RepoHandle) -> Result<Vec<TagInfo>, VcsError> {
        let config_dir = self.config_dir()?;
        let client = Client::new(&self.config, &repo.config, &config_dir);
        let missing = Missing {
            kind: "directory",
            reference: "tags",
        };
        let entries = match list(&client, &repo.config, "tags", Some(missing)) {
            Ok(entries) => entries,
            Err(VcsError::NoSuchRef { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in entries {
            let Ok(name) = RefName::new(&entry.name) else {
                continue;
            };
            if entry.kind != "dir" {
                continue;
            }
            self.remember(repo.project, entry.revision, &format!("tags/{name}"));
            out.push(TagInfo {
                name,
                commit: revision_id(entry.revision),
                date: entry.date,
            });
        }
        out.sort_by(|a, b| {
            b.date
                .cmp(&a.date)
                .then_with(|| b.commit.as_revision().cmp(&a.commit.as_revision()))
                .then_with(|| b.name.cmp(&a.name))
        });
        Ok(out)
    }

    fn commits(
        &self,
        repo: &RepoHandle,
        branch: &RefName,
        limit: usize,
    ) -> Result<Vec<CommitInfo>, VcsError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let config_dir = self.config_dir()?;
        let client = Client::new(&self.config, &repo.config, &config_dir);
        let path = branch_path(branch);
        let out = client.run(
            "listing revisions",
            &[
                "log".into(),
                "--xml".into(),
                "-l".into(),
                limit.to_string().into(),
                url_at(&repo.config.url, &path, None),
            ],
            Some(Missing {
                kind: "branch",
                reference: branch.as_str(),
            }),
        )?;
        let entries = xml::log(&out).map_err(|e| bad_output(&client, "listing revisions", &e))?;
        Ok(entries
            .into_iter()
            .map(|e| CommitInfo {
                id: revision_id(e.revision),
                author: e.author,
                date: e.date,
                subject: e.message.lines().next().unwrap_or("").trim().to_owned(),
            })
            .collect())
    }

    fn resolve(&self, repo: &RepoHandle, rev: &Revision) -> Result<CommitId, VcsError> {
        let config_dir = self.config_dir()?;
        let client = Client::new(&self.config, &repo.config, &config_dir);
        let (path, kind, name) = match rev {
            Revision::Branch(name) => (branch_path(name), "branch", name),
            Revision::Tag(name) => (format!("tags/{name}"), "tag", name),
            Revision::Commit(id) => {
                let number = revision_number(&client, id)?;
                let entries = self.log_revision(repo, &client, number, id)?;
                if entries.is_empty() {
                    return Err(VcsError::NoSuchRef {
                        repo: client.shown().url(),
                        kind: "revision",
                        reference: id.to_string(),
                    });
                }
                return Ok(revision_id(number));
            }
        };
        let out = client.run(
            "resolving a branch or tag",
            &[
                "info".into(),
                "--xml".into(),
                url_at(&repo.config.url, &path, None),
            ],
            Some(Missing {
                kind,
                reference: name.as_str(),
            }),
        )?;
        let number = xml::info_last_changed(&out)
            .map_err(|e| bad_output(&client, "resolving a branch or tag", &e))?;
        self.remember(repo.project, number, &path);
        Ok(revision_id(number))
    }

    fn export(
        &self,
        repo: &RepoHandle,
        commit: &CommitId,
        dest: &Path,
        filter: &FileFilter,
    ) -> Result<ExportSummary, VcsError> {
        let filter = filter_for(filter, repo)?;
        export_dest::prepare(dest)?;
        let config_dir = self.config_dir()?;
        let client = Client::new(&self.config, &repo.config, &config_dir);
        let number = revision_number(&client, commit)?;
        let path = self.locate(repo, &client, number, commit)?;
        client.run(
            "exporting",
            &[
                "export".into(),
                "-q".into(),
                "--force".into(),
                "--ignore-externals".into(),
                url_at(&repo.config.url, &path, Some(number)),
                dest.as_os_str().to_owned(),
            ],
            Some(Missing {
                kind: "revision",
                reference: commit.as_str(),
            }),
        )?;
        export_dest::apply_filter(dest, &filter)
    }

    fn changed_files(
        &self,
        repo: &RepoHandle,
        from: &CommitId,
        to: &CommitId,
    ) -> Result<Vec<FileChange>, VcsError> {
        let config_dir = self.config_dir()?;
        let client = Client::new(&self.config, &repo.config, &config_dir);
        let (old_rev, new_rev) = (
            revision_number(&client, from)?,
            revision_number(&client, to)?,
        );
        let old_path = self.locate(repo, &client, old_rev, from)?;
        let new_path = self.locate(repo, &client, new_rev, to)?;
        let mut old = OsString::from("--old=");
        old.push(url_at(&repo.config.url, &old_path, Some(old_rev)));
        let mut new = OsString::from("--new=");
        new.push(url_at(&repo.config.url, &new_path, Some(new_rev)));
        let out = client.run(
            "comparing revisions",
            &[
                "diff".into(),
                "--summarize".into(),
                "--xml".into(),
                old,
                new,
            ],
            Some(Missing {
                kind: "revision",
                reference: &format!("{from} or {to}"),
            }),
        )?;
        let paths =
            xml::diff_summary(&out).map_err(|e| bad_output(&client, "comparing revisions", &e))?;
        let base = decode_path(&format!(
            "{}/{}/",
            repo.config.url.trim_end_matches('/'),
            old_path
        ));
        let mut changes = Vec::new();
        for p in paths {
            let url = decode_path(&p.url);
            let rel = match url.strip_prefix(&base) {
                Some(rel) => rel.to_owned(),
                None => match url.find(&format!("/{old_path}/")) {
                    Some(i) => url[i + old_path.len() + 2..].to_owned(),
                    None => continue,
                },
            };
            let file = p.kind != "dir";
            changes.push(match (p.item.as_str(), file) {
                ("added", true) => FileChange::Added(rel),
                ("deleted", _) => FileChange::Deleted(rel),
                ("modified", true) => FileChange::Modified(rel),
                ("none", true) if p.props == "modified" => FileChange::Modified(rel),
                _ => continue,
            });
        }
        // A deleted directory is listed with its files; keep the directory only when svn did not
        // list what was in it.
        let listed: Vec<String> = changes.iter().map(|c| change_path(c).to_owned()).collect();
        changes.retain(|c| match c {
            FileChange::Deleted(p) => {
                let prefix = format!("{p}/");
                !listed.iter().any(|other| other.starts_with(&prefix))
            }
            _ => true,
        });
        changes.sort_by(|a, b| change_path(a).cmp(change_path(b)));
        Ok(changes)
    }
}

fn list(
    client: &Client<'_>,
    repo: &RepoConfig,
    path: &str,
    missing: Option<Missing<'_>>,
) -> Result<Vec<xml::ListEntry>, VcsError> {
    let out = client.run(
        "listing",
        &["list".into(), "--xml".into(), url_at(&repo.url, path, None)],
        missing,
    )?;
    xml::list(&out).map_err(|e| bad_output(client, "listing", &e))
}

/// `trunk` or `branches/<name>`.
fn branch_path(name: &RefName) -> String {
    if name.as_str() == "trunk" {
        "trunk".to_owned()
    } else {
        format!("branches/{name}")
    }
}

/// The standard-layout path a changed path belongs to (`/branches/x/a.txt` → `branches/x`).
fn layout_path(changed: &str) -> Option<String> {
    let mut parts = changed.trim_start_matches('/').split('/');
    match (parts.next()?, parts.next()) {
        ("trunk", _) => Some("trunk".to_owned()),
        (top @ ("branches" | "tags"), Some(name)) if !name.is_empty() => {
            Some(format!("{top}/{name}"))
        }
        _ => None,
    }
}

/// `<root>/<encoded path>@<rev>` (`@HEAD` when no revision): the explicit peg keeps an `@` elsewhere in
/// the URL from being read as one.
fn url_at(root: &str, path: &str, rev: Option<u64>) -> OsString {
    let mut url = root.trim_end_matches('/').to_owned();
    if !path.is_empty() {
        url.push('/');
        url.push_str(&encode_path(path));
    }
    url.push('@');
    match rev {
        Some(rev) => url.push_str(&rev.to_string()),
        None => url.push_str("HEAD"),
    }
    url.into()
}

fn revision_number(client: &Client<'_>, id: &CommitId) -> Result<u64, VcsError> {
    id.as_revision().ok_or_else(|| VcsError::NoSuchRef {
        repo: client.shown().url(),
        kind: "revision",
        reference: format!("{id} (SVN revisions are numbers)"),
    })
}

fn revision_id(revision: u64) -> CommitId {
    CommitId::new(&revision.to_string()).expect("a revision number is all digits")
}

fn bad_output(client: &Client<'_>, operation: &'static str, error: &str) -> VcsError {
    VcsError::Other {
        operation,
        repo: client.shown().url(),
        detail: format!("cannot read svn's answer: {error}"),
    }
}

fn change_path(change: &FileChange) -> &str {
    match change {
        FileChange::Added(p) | FileChange::Modified(p) | FileChange::Deleted(p) => p,
    }
}

#[cfg(test)]
mod tests;
