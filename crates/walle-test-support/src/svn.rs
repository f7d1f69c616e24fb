//! SVN fixtures: repositories under the `svnserve` root with the trunk/branches/tags layout and a known login.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use tempfile::TempDir;

use crate::cmd::run;
use crate::infra::Infra;

/// An SVN repository under `$STATE/svn` with `trunk/`, `branches/`, `tags/` (revision 1); removed on drop.
///
/// `svnserve` lets only [`SvnFixture::username`]/[`SvnFixture::password`] in (`anon-access = none`,
/// `auth-access = write`), so wrong-credential tests are possible. Builder methods panic on failure:
///
/// ```ignore
/// let repo = SvnFixture::new("app")
///     .commit("trunk", &[("README", "v1\n")], "initial")
///     .tag("1.0.0", "trunk")
///     .branch("hotfix", "trunk")
///     .commit("branches/hotfix", &[("README", "v1.0.1\n")], "fix");
/// ```
#[derive(Debug)]
pub struct SvnFixture {
    infra: &'static Infra,
    dir_name: String,
    path: PathBuf,
    scratch: TempDir,
    working_copies: BTreeMap<String, PathBuf>,
}

impl SvnFixture {
    /// Creates repository `<name>-<unique>` with the standard layout and the svnserve login configured.
    #[track_caller]
    pub fn new(name: &str) -> SvnFixture {
        let infra = Infra::get();
        let dir_name = format!("{name}-{}", crate::unique_suffix());
        let path = infra.svn_root().join(&dir_name);
        let scratch = match tempfile::Builder::new()
            .prefix("walle-svn-fixture-")
            .tempdir()
        {
            Ok(dir) => dir,
            Err(err) => panic!("cannot create a scratch dir for svn fixture {name}: {err}"),
        };
        let fixture = SvnFixture {
            infra,
            dir_name,
            path,
            scratch,
            working_copies: BTreeMap::new(),
        };
        let result = fixture.init();
        fixture.ok(result, "create");
        fixture
    }

    /// Commits `files` (path, contents) into repository directory `dir` (`trunk`, `branches/x`, ...),
    /// adding new files and directories.
    #[track_caller]
    pub fn commit(self, dir: &str, files: &[(&str, &str)], message: &str) -> SvnFixture {
        self.commit_files(
            dir,
            files
                .iter()
                .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec())),
            message,
        )
    }

    /// Like [`SvnFixture::commit`] for generated or binary files.
    #[track_caller]
    pub fn commit_files(
        mut self,
        dir: &str,
        files: impl IntoIterator<Item = (String, Vec<u8>)>,
        message: &str,
    ) -> SvnFixture {
        let result = self.try_commit(dir, files, message);
        self.ok(result, "commit");
        self
    }

    /// Deletes `path` (repository-relative, e.g. `trunk/old.txt`) in a commit of its own.
    #[track_caller]
    pub fn delete(self, path: &str, message: &str) -> SvnFixture {
        let result = run(self
            .svn()
            .args(["rm", "-q", "-m", message])
            .arg(self.file_url_of(path)));
        self.ok(result, "delete");
        self
    }

    /// Copies `from` to `to` (both repository-relative) in a commit of its own, creating parents.
    #[track_caller]
    pub fn copy(self, from: &str, to: &str, message: &str) -> SvnFixture {
        let result = run(self
            .svn()
            .args(["copy", "-q", "--parents", "-m", message])
            .arg(self.file_url_of(from))
            .arg(self.file_url_of(to)));
        self.ok(result, "copy");
        self
    }

    /// Copies `from` (e.g. `trunk`) to `branches/<name>`.
    #[track_caller]
    pub fn branch(self, name: &str, from: &str) -> SvnFixture {
        self.copy(from, &format!("branches/{name}"), &format!("branch {name}"))
    }

    /// Copies `from` (e.g. `trunk`) to `tags/<name>`.
    #[track_caller]
    pub fn tag(self, name: &str, from: &str) -> SvnFixture {
        self.copy(from, &format!("tags/{name}"), &format!("tag {name}"))
    }

    /// The repository's path on disk.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `file:///var/lib/walle-test-infra/svn/<name>` (no authentication).
    pub fn file_url(&self) -> String {
        format!("file://{}", self.path.display())
    }

    /// `svn://127.0.0.1:23690/<name>` (svnserve; needs the credentials).
    pub fn svn_url(&self) -> String {
        format!(
            "svn://127.0.0.1:{}/{}",
            self.infra.svn_port(),
            self.dir_name
        )
    }

    /// `svn://10.231.7.1:23690/<name>`: the same repository as the target hosts reach it.
    pub fn svn_url_from_hosts(&self) -> String {
        format!(
            "svn://{}:{}/{}",
            self.infra.bridge_addr(),
            self.infra.svn_port(),
            self.dir_name
        )
    }

    /// The svnserve user.
    pub fn username(&self) -> &str {
        self.infra.svn_user()
    }

    /// The svnserve password.
    pub fn password(&self) -> &str {
        self.infra.svn_password()
    }

    /// The youngest revision.
    #[track_caller]
    pub fn revision(&self) -> u64 {
        let result = run(Command::new("svnlook").arg("youngest").arg(&self.path)).and_then(|out| {
            out.trim()
                .parse::<u64>()
                .context("svnlook printed no revision")
        });
        self.ok(result, "svnlook youngest")
    }

    fn init(&self) -> anyhow::Result<()> {
        run(Command::new("svnadmin").arg("create").arg(&self.path))?;
        let conf = self.path.join("conf");
        std::fs::write(
            conf.join("svnserve.conf"),
            "[general]\nanon-access = none\nauth-access = write\npassword-db = passwd\nrealm = walle-test\n",
        )?;
        std::fs::write(
            conf.join("passwd"),
            format!("[users]\n{} = {}\n", self.username(), self.password()),
        )?;
        let mut mkdir = self.svn();
        mkdir.args(["mkdir", "-q", "-m", "standard layout"]);
        for dir in ["trunk", "branches", "tags"] {
            mkdir.arg(self.file_url_of(dir));
        }
        run(&mut mkdir)?;
        Ok(())
    }

    fn try_commit(
        &mut self,
        dir: &str,
        files: impl IntoIterator<Item = (String, Vec<u8>)>,
        message: &str,
    ) -> anyhow::Result<()> {
        let wc = match self.working_copies.get(dir) {
            Some(wc) => {
                run(self.svn().args(["update", "-q"]).arg(wc))?;
                wc.clone()
            }
            None => {
                let wc = self
                    .scratch
                    .path()
                    .join(format!("wc{}", self.working_copies.len()));
                run(self
                    .svn()
                    .args(["checkout", "-q"])
                    .arg(self.file_url_of(dir))
                    .arg(&wc))?;
                self.working_copies.insert(dir.to_owned(), wc.clone());
                wc
            }
        };
        for (rel, contents) in files {
            let dest = wc.join(&rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::write(&dest, contents)
                .with_context(|| format!("cannot write {}", dest.display()))?;
        }
        run(self
            .svn()
            .args(["add", "-q", "--force", "--no-ignore", "--depth", "infinity"])
            .arg(&wc))?;
        run(self.svn().args(["commit", "-q", "-m", message]).arg(&wc))?;
        Ok(())
    }

    fn file_url_of(&self, rel: &str) -> String {
        format!("{}/{}", self.file_url(), rel.trim_start_matches('/'))
    }

    /// `svn` with a private config dir, no prompts, no cached credentials; commits are by the svnserve user.
    fn svn(&self) -> Command {
        let mut cmd = Command::new("svn");
        cmd.args(["--non-interactive", "--no-auth-cache", "--config-dir"])
            .arg(self.scratch.path().join("config"))
            .args(["--username", self.infra.svn_user()]);
        cmd
    }

    #[track_caller]
    fn ok<T>(&self, result: anyhow::Result<T>, what: &str) -> T {
        match result {
            Ok(value) => value,
            Err(err) => panic!("svn fixture {}: {what} failed: {err:#}", self.dir_name),
        }
    }
}

impl Drop for SvnFixture {
    fn drop(&mut self) {
        if !crate::keep_fixtures() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
