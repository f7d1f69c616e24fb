//! Every action Walle checks, as data: its stable name, what it does, the resource it applies to
//! and the rule that decides who may do it.

use std::fmt;

use walle_core::model::Role;

use crate::resource::ResourceKind;

/// What the acting user must hold for an action, before the grant and self-target rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Nobody, not even SUPER.
    Never,
    /// SUPER only.
    SuperOnly,
    /// The account itself, or SUPER.
    SelfOrSuper,
    /// At least this role in the resource's space (project memberships do not count).
    InSpace(Role),
    /// At least this effective role in the resource's project.
    InProject(Role),
    /// At least this role both in the space and, effectively, in the project.
    InSpaceAndProject(Role),
    /// On a task: `own` suffices for tasks the user submitted, `any` is needed for the others.
    OnTask {
        /// Enough for one's own tasks.
        own: Role,
        /// Needed for other users' tasks.
        any: Role,
    },
    /// Account creation: SUPER anywhere; an OWNER directly into their own space.
    NewAccount,
}

/// The rule of one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rule {
    /// The only kind of resource the action applies to.
    pub(crate) resource: ResourceKind,
    /// Who may do it.
    pub(crate) need: Need,
    /// Refused when the target user is the acting user, SUPER included.
    pub(crate) not_self: bool,
    /// The resource must name the role being granted, which must not exceed the scope's ceiling.
    pub(crate) grants: bool,
}

impl Rule {
    const fn new(resource: ResourceKind, need: Need) -> Rule {
        Rule {
            resource,
            need,
            not_self: false,
            grants: false,
        }
    }

    const fn not_self(self) -> Rule {
        Rule {
            not_self: true,
            ..self
        }
    }

    const fn grants(self) -> Rule {
        Rule {
            grants: true,
            ..self
        }
    }
}

macro_rules! actions {
    ($(
        $(#[$group:meta])*
        $variant:ident = $name:literal, $describe:literal, $rule:expr;
    )*) => {
        /// An action on a resource. [`Action::as_str`] gives its stable name (`task.approve`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Action {
            $(
                $(#[$group])*
                #[doc = concat!("`", $name, "`: ", $describe, ".")]
                $variant,
            )*
        }

        impl Action {
            /// Every action, grouped by resource, in the order of `docs/PERMISSIONS.md`.
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// The stable name, `<resource>.<verb>` (`task.approve`), used in the audit log and APIs.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            /// What the action does, as a verb phrase ("approve tasks"), for messages and docs.
            pub fn describe(self) -> &'static str {
                match self {
                    $(Action::$variant => $describe,)*
                }
            }

            pub(crate) fn rule(self) -> Rule {
                use Need::*;
                use ResourceKind as K;
                use Role::*;
                match self {
                    $(Action::$variant => $rule,)*
                }
            }
        }
    };
}

actions! {
    SpaceList = "space.list", "list all spaces of the platform", Rule::new(K::Platform, SuperOnly);
    SpaceView = "space.view", "view the space", Rule::new(K::Space, InSpace(Reporter));
    SpaceCreate = "space.create", "create spaces", Rule::new(K::Platform, SuperOnly);
    SpaceUpdate = "space.update", "rename, open or close the space", Rule::new(K::Space, InSpace(Owner));
    SpaceDelete = "space.delete", "delete spaces", Rule::new(K::Space, SuperOnly);

    UserList = "user.list", "list all users of the platform", Rule::new(K::Platform, SuperOnly);
    UserView = "user.view", "view accounts", Rule::new(K::Account, SelfOrSuper);
    UserCreate = "user.create", "create accounts", Rule::new(K::NewAccount, NewAccount);
    UserUpdate = "user.update", "change the name, e-mail or password of accounts", Rule::new(K::Account, SelfOrSuper);
    UserDelete = "user.delete", "delete accounts", Rule::new(K::Account, SuperOnly).not_self();
    UserBlock = "user.block", "block or unblock accounts", Rule::new(K::Account, SuperOnly).not_self();
    UserSetSuper = "user.set_super", "grant or revoke SUPER", Rule::new(K::Account, SuperOnly).not_self();

    MemberList = "member.list", "list the members of the space", Rule::new(K::Space, InSpace(Reporter));
    MemberAdd = "member.add", "add members to the space", Rule::new(K::Member, InSpace(Owner)).grants();
    MemberChangeRole = "member.change_role", "change the roles of space members", Rule::new(K::Member, InSpace(Owner)).grants().not_self();
    MemberRemove = "member.remove", "remove members from the space", Rule::new(K::Member, InSpace(Owner)).not_self();

    EnvironmentView = "environment.view", "view environments", Rule::new(K::Space, InSpace(Reporter));
    EnvironmentCreate = "environment.create", "create environments", Rule::new(K::Space, InSpace(Master));
    EnvironmentUpdate = "environment.update", "update environments", Rule::new(K::Space, InSpace(Master));
    EnvironmentDelete = "environment.delete", "delete environments", Rule::new(K::Space, InSpace(Master));

    ServerView = "server.view", "view servers", Rule::new(K::Space, InSpace(Reporter));
    ServerCreate = "server.create", "create servers", Rule::new(K::Space, InSpace(Master));
    ServerUpdate = "server.update", "update servers", Rule::new(K::Space, InSpace(Master));
    ServerDelete = "server.delete", "delete servers", Rule::new(K::Space, InSpace(Master));
    ServerTrustHostKey = "server.trust_host_key", "trust or replace the host keys of servers", Rule::new(K::Space, InSpace(Master));

    ProjectView = "project.view", "view projects", Rule::new(K::Project, InProject(Reporter));
    ProjectBrowseRepo = "project.browse_repo", "list the branches, tags and commits of projects", Rule::new(K::Project, InProject(Developer));
    ProjectCreate = "project.create", "create projects", Rule::new(K::Space, InSpace(Master));
    ProjectUpdate = "project.update", "update projects", Rule::new(K::Project, InProject(Master));
    ProjectDelete = "project.delete", "delete projects", Rule::new(K::Project, InSpaceAndProject(Master));
    ProjectCopy = "project.copy", "copy projects", Rule::new(K::Project, InSpaceAndProject(Master));
    ProjectCheck = "project.check", "run the checks of projects on their servers", Rule::new(K::Project, InProject(Master));
    /// Secrets (repository passwords, keys, notification tokens) are write-only: nobody reads them back.
    ProjectViewSecrets = "project.view_secrets", "read the secrets of projects", Rule::new(K::Project, Never);

    ProjectMemberList = "project_member.list", "list the members of projects", Rule::new(K::Project, InProject(Reporter));
    ProjectMemberAdd = "project_member.add", "add members to projects", Rule::new(K::ProjectMember, InSpace(Master)).grants();
    ProjectMemberChangeRole = "project_member.change_role", "change the roles of project members", Rule::new(K::ProjectMember, InSpace(Master)).grants().not_self();
    ProjectMemberRemove = "project_member.remove", "remove members from projects", Rule::new(K::ProjectMember, InSpace(Master)).not_self();

    TaskView = "task.view", "view tasks", Rule::new(K::Task, InProject(Reporter));
    TaskViewLogs = "task.view_logs", "view the deploy logs of tasks", Rule::new(K::Task, InProject(Reporter));
    TaskSubmit = "task.submit", "submit tasks", Rule::new(K::Project, InProject(Developer));
    TaskEdit = "task.edit", "edit tasks", Rule::new(K::Task, OnTask { own: Developer, any: Master });
    TaskDelete = "task.delete", "delete tasks", Rule::new(K::Task, OnTask { own: Developer, any: Master });
    TaskApprove = "task.approve", "approve tasks", Rule::new(K::Task, InProject(Master));
    TaskReject = "task.reject", "reject tasks", Rule::new(K::Task, InProject(Master));
    TaskDeploy = "task.deploy", "deploy tasks", Rule::new(K::Task, OnTask { own: Developer, any: Master });
    TaskCancel = "task.cancel", "cancel the deploys of tasks", Rule::new(K::Task, OnTask { own: Developer, any: Master });
    TaskRetry = "task.retry", "retry the failed deploys of tasks", Rule::new(K::Task, OnTask { own: Developer, any: Master });
    TaskRollback = "task.rollback", "create rollback tasks from tasks", Rule::new(K::Task, InProject(Developer));

    LockForceUnlock = "lock.force_unlock", "force-unlock the deploy locks of projects", Rule::new(K::Project, InProject(Master));

    AuditView = "audit.view", "view the audit log of the space", Rule::new(K::Space, InSpace(Master));
    AuditViewPlatform = "audit.view_platform", "view the audit log of the whole platform", Rule::new(K::Platform, SuperOnly);
}

impl Action {
    /// Parses [`Action::as_str`].
    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.as_str() == s)
    }

    /// The kind of resource this action applies to; [`crate::check`] refuses any other kind.
    pub fn resource_kind(self) -> ResourceKind {
        self.rule().resource
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
