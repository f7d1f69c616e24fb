//! The hook variables: walle's built-ins plus the project's custom variables.

use crate::Timestamp;
use crate::model::{Project, Task, TaskKind, TaskSource, Variable};
use crate::value::{AbsPath, CommitId, ReleaseId, VarName};

/// What the hook variables are computed from.
#[derive(Debug, Clone, Copy)]
pub struct VarInput<'a> {
    /// The project.
    pub project: &'a Project,
    /// The task.
    pub task: &'a Task,
    /// The release being deployed (or rolled back to).
    pub release: &'a ReleaseId,
    /// The release directory on the hosts.
    pub release_dir: &'a AbsPath,
    /// The resolved commit, when known.
    pub commit: Option<&'a CommitId>,
    /// `DEPLOY_USER`: the task submitter's name (as walle did).
    pub deploy_user: &'a str,
    /// When the deploy started.
    pub now: Timestamp,
}

/// The environment every hook gets, in order: walle's built-ins, then `RELEASE_PATH`, then the
/// project's custom variables (which override built-ins of the same name, as in walle).
pub fn hook_variables(input: VarInput<'_>) -> Vec<(VarName, String)> {
    let VarInput {
        project,
        task,
        release,
        release_dir,
        commit,
        deploy_user,
        now,
    } = input;
    let (branch, tag, pinned) = match &task.spec.source {
        TaskSource::Branch { branch, commit } => {
            (branch.to_string(), String::new(), commit.clone())
        }
        TaskSource::Tag { tag } => (String::new(), tag.to_string(), None),
    };
    let commit = commit
        .cloned()
        .or(pinned)
        .map(|c| c.to_string())
        .unwrap_or_default();
    let version = match &task.kind {
        TaskKind::Rollback { target } => target.to_string(),
        TaskKind::Deploy => release.to_string(),
    };
    let builtins: [(&str, String); 13] = [
        ("WEBROOT", project.spec.webroot.to_string()),
        ("CURRENT_RELEASE", project.spec.releases_dir.to_string()),
        ("VERSION", version),
        ("BRANCH", branch),
        ("TAG", tag),
        ("COMMIT_ID", commit),
        ("PROJECT_NAME", project.spec.name.to_string()),
        ("PROJECT_ID", project.id.to_string()),
        ("TASK_NAME", task.spec.name.to_string()),
        ("TASK_ID", task.id.to_string()),
        ("DEPLOY_USER", deploy_user.to_owned()),
        ("DEPLOY_TIME", now.deploy_time()),
        ("RELEASE_PATH", release_dir.to_string()),
    ];
    let mut out: Vec<(VarName, String)> = builtins
        .into_iter()
        .map(|(k, v)| {
            (
                VarName::new(k).expect("built-in variable names are valid"),
                v,
            )
        })
        .collect();
    for Variable { name, value } in &project.spec.variables {
        out.retain(|(n, _)| n != name);
        out.push((name.clone(), value.clone()));
    }
    out
}
