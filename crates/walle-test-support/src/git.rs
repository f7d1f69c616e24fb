//! Git fixtures: bare repositories under the served git root, built with the `git` CLI without a checkout.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd::{run, run_with_stdin};
use crate::infra::Infra;

/// Fixed author, committer and clock, so a fixture built the same way gets the same commit ids.
const AUTHOR_NAME: &str = "Walle Test";
const AUTHOR_EMAIL: &str = "walle-test@example.invalid";
const EPOCH: u64 = 1_700_000_000;

/// A bare git repository under `$STATE/git`, reachable over `file://`, `git://` and `ssh://`; removed on drop.
///
/// Builder methods panic on failure (with git's stderr) and return `self`, so fixtures read top-down:
///
/// ```ignore
/// let repo = GitFixture::new("app")
///     .commit("main", &[("README.md", "v1\n"), ("src/main.sh", "echo hi\n")], "initial")
///     .tag("v1.0.0", "main", true)
///     .branch("release/1.x", "main")
///     .delete("README.md")
///     .commit("main", &[("CHANGES", "v2\n")], "drop readme");
/// ```
#[derive(Debug)]
pub struct GitFixture {
    infra: &'static Infra,
    dir_name: String,
    path: PathBuf,
    pending_deletes: Vec<String>,
    commits: Vec<String>,
}

impl GitFixture {
    /// Creates an empty bare repository `<name>-<unique>.git` (default branch `main`).
    #[track_caller]
    pub fn new(name: &str) -> GitFixture {
        let infra = Infra::get();
        let dir_name = format!("{name}-{}.git", crate::unique_suffix());
        let path = infra.git_root().join(&dir_name);
        let fixture = GitFixture {
            infra,
            dir_name,
            path,
            pending_deletes: Vec::new(),
            commits: Vec::new(),
        };
        let init = run(git_cmd()
            .args(["init", "-q", "--bare", "-b", "main"])
            .arg(&fixture.path));
        fixture.ok(init, "init");
        fixture
    }

    /// Commits `files` (path, contents) on `branch`, on top of what the branch already has.
    ///
    /// A branch that does not exist yet starts at the last commit this fixture made (or as a root commit);
    /// deletions staged by [`GitFixture::delete`] go into this commit.
    #[track_caller]
    pub fn commit(self, branch: &str, files: &[(&str, &str)], message: &str) -> GitFixture {
        self.commit_files(
            branch,
            files
                .iter()
                .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec())),
            message,
        )
    }

    /// Like [`GitFixture::commit`] for many or binary files: one `git fast-import` per commit,
    /// so 5,000 files take a fraction of a second.
    #[track_caller]
    pub fn commit_files(
        mut self,
        branch: &str,
        files: impl IntoIterator<Item = (String, Vec<u8>)>,
        message: &str,
    ) -> GitFixture {
        let result = self.try_commit(branch, files, message);
        let id = self.ok(result, "commit");
        self.commits.push(id);
        self
    }

    /// Stages the removal of `path` (a file or directory) for the next commit.
    pub fn delete(mut self, path: &str) -> GitFixture {
        self.pending_deletes.push(path.to_owned());
        self
    }

    /// Creates (or moves) branch `name` to the commit `from` names (a branch, tag or id).
    #[track_caller]
    pub fn branch(self, name: &str, from: &str) -> GitFixture {
        let result = self.rev(from).and_then(|id| {
            run(self
                .git()
                .args(["update-ref", &format!("refs/heads/{name}"), &id]))
        });
        self.ok(result, "branch");
        self
    }

    /// Creates tag `name` at the commit `at` names; annotated (with message `name`) or lightweight.
    #[track_caller]
    pub fn tag(self, name: &str, at: &str, annotated: bool) -> GitFixture {
        let result = self.rev(at).and_then(|id| {
            if annotated {
                let date = format!("@{} +0000", EPOCH + 60 * self.commits.len() as u64);
                run(self
                    .git()
                    .env("GIT_COMMITTER_DATE", date)
                    .args(["tag", "-a", "-m", name, name, &id]))
            } else {
                run(self
                    .git()
                    .args(["update-ref", &format!("refs/tags/{name}"), &id]))
            }
        });
        self.ok(result, "tag");
        self
    }

    /// The bare repository's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `file:///var/lib/walle-test-infra/git/<name>.git`.
    pub fn file_url(&self) -> String {
        format!("file://{}", self.path.display())
    }

    /// `git://127.0.0.1:29418/<name>.git` (git daemon, push enabled).
    pub fn git_url(&self) -> String {
        format!(
            "git://127.0.0.1:{}/{}",
            self.infra.git_port(),
            self.dir_name
        )
    }

    /// `git://10.231.7.1:29418/<name>.git`: the same repository as the target hosts reach it.
    pub fn git_url_from_hosts(&self) -> String {
        format!(
            "git://{}:{}/{}",
            self.infra.bridge_addr(),
            self.infra.git_port(),
            self.dir_name
        )
    }

    /// `ssh://root@127.0.0.1:22922/<absolute path>` (controller sshd; see [`Infra::git_ssh_command`]).
    pub fn ssh_url(&self) -> String {
        let c = self.infra.controller();
        format!(
            "ssh://{}@{}:{}{}",
            c.ssh_user,
            c.addr,
            c.port,
            self.path.display()
        )
    }

    /// The full id of the commit `rev` names (`main`, `v1.0.0`, `main~1`, ...).
    #[track_caller]
    pub fn commit_id(&self, rev: &str) -> String {
        let result = self.rev(rev);
        self.ok(result, "rev-parse")
    }

    /// The ids of the commits made by this fixture, oldest first.
    pub fn commits(&self) -> &[String] {
        &self.commits
    }

    /// The id of the last commit made by this fixture.
    #[track_caller]
    pub fn last_commit(&self) -> &str {
        match self.commits.last() {
            Some(id) => id,
            None => panic!("git fixture {} has no commits yet", self.dir_name),
        }
    }

    fn try_commit(
        &mut self,
        branch: &str,
        files: impl IntoIterator<Item = (String, Vec<u8>)>,
        message: &str,
    ) -> anyhow::Result<String> {
        let parent = match self.rev(&format!("refs/heads/{branch}")) {
            Ok(id) => Some(id),
            Err(_) => self.commits.last().cloned(),
        };
        // One `git fast-import` per commit: no work tree, no index, one process however many files.
        let when = EPOCH + 60 * self.commits.len() as u64;
        let mut stream = Vec::new();
        stream.extend_from_slice(format!("commit refs/heads/{branch}\n").as_bytes());
        for role in ["author", "committer"] {
            stream.extend_from_slice(
                format!("{role} {AUTHOR_NAME} <{AUTHOR_EMAIL}> {when} +0000\n").as_bytes(),
            );
        }
        push_data(&mut stream, message.as_bytes());
        if let Some(id) = &parent {
            stream.extend_from_slice(format!("from {id}\n").as_bytes());
        }
        for path in self.pending_deletes.drain(..) {
            stream.extend_from_slice(format!("D {}\n", quote_path(&path)).as_bytes());
        }
        for (path, contents) in files {
            stream.extend_from_slice(format!("M 100644 inline {}\n", quote_path(&path)).as_bytes());
            push_data(&mut stream, &contents);
        }
        stream.extend_from_slice(b"done\n");
        run_with_stdin(
            self.git().args(["fast-import", "--quiet", "--done"]),
            &stream,
        )?;
        let id = self.rev(&format!("refs/heads/{branch}"))?;
        if self.rev("HEAD").is_err() {
            // HEAD still names an unborn branch: point it at the first branch that got a commit.
            run(self
                .git()
                .args(["symbolic-ref", "HEAD", &format!("refs/heads/{branch}")]))?;
        }
        Ok(id)
    }

    fn rev(&self, rev: &str) -> anyhow::Result<String> {
        Ok(run(self
            .git()
            .args(["rev-parse", "--verify", "-q", &format!("{rev}^{{commit}}")]))?
        .trim()
        .to_owned())
    }

    /// `git` on the bare repository.
    fn git(&self) -> Command {
        let mut cmd = git_cmd();
        cmd.env("GIT_DIR", &self.path);
        cmd
    }

    #[track_caller]
    fn ok<T>(&self, result: anyhow::Result<T>, what: &str) -> T {
        match result {
            Ok(value) => value,
            Err(err) => panic!("git fixture {}: {what} failed: {err:#}", self.dir_name),
        }
    }
}

impl Drop for GitFixture {
    fn drop(&mut self) {
        if !crate::keep_fixtures() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// `git` isolated from the user's and the system's configuration, with a fixed identity.
fn git_cmd() -> Command {
    let mut cmd = Command::new("git");
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", AUTHOR_NAME)
        .env("GIT_AUTHOR_EMAIL", AUTHOR_EMAIL)
        .env("GIT_COMMITTER_NAME", AUTHOR_NAME)
        .env("GIT_COMMITTER_EMAIL", AUTHOR_EMAIL)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE");
    cmd
}

/// Appends a fast-import `data` block.
fn push_data(stream: &mut Vec<u8>, data: &[u8]) {
    stream.extend_from_slice(format!("data {}\n", data.len()).as_bytes());
    stream.extend_from_slice(data);
    stream.push(b'\n');
}

/// A path in fast-import's C-style quoting (always quoted, so any name is safe).
fn quote_path(path: &str) -> String {
    let mut quoted = String::with_capacity(path.len() + 2);
    quoted.push('"');
    for c in path.trim_start_matches('/').chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}
