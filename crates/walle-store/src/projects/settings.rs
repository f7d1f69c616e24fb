//! Serde mirrors of the project settings stored as JSON text (STYLE item 13): the package filter
//! patterns, shared paths, hooks, variables, health check, strategy and notification channels.
//!
//! These settings are read and written whole and never queried, so JSON keeps the schema small.
//! Durations are stored in whole milliseconds; secrets inside (DingTalk) are sealed first.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use walle_core::model::{
    DeployStrategy, FailurePolicy, HealthCheck, HealthProbe, Hooks, NotifyChannel, SharedPaths,
    SwitchMode, Variable,
};
use walle_core::value::{Email, RelPath, VarName};

use crate::crypto::Sealer;
use crate::error::{Result, corrupt, valid};

/// The associated data of a sealed DingTalk secret.
const DINGTALK_FIELD: &str = "project.notify.dingtalk.secret";

pub(crate) fn to_json<T: Serialize>(what: &'static str, v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| corrupt(what, e))
}

pub(crate) fn from_json<T: for<'de> Deserialize<'de>>(what: &'static str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| corrupt(what, e))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[derive(Serialize, Deserialize)]
pub(crate) struct SharedJson {
    files: Vec<String>,
    dirs: Vec<String>,
}

impl SharedJson {
    pub(crate) fn from_domain(s: &SharedPaths) -> Self {
        let strs = |v: &[RelPath]| v.iter().map(|p| p.as_str().to_owned()).collect();
        SharedJson {
            files: strs(&s.files),
            dirs: strs(&s.dirs),
        }
    }

    pub(crate) fn into_domain(self) -> Result<SharedPaths> {
        let paths = |v: Vec<String>| {
            v.iter()
                .map(|p| valid("shared path", RelPath::new(p)))
                .collect::<Result<Vec<_>>>()
        };
        Ok(SharedPaths {
            files: paths(self.files)?,
            dirs: paths(self.dirs)?,
        })
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct HooksJson {
    pre_deploy: Vec<String>,
    post_deploy: Vec<String>,
    pre_release: Vec<String>,
    post_release: Vec<String>,
    post_rollback: Vec<String>,
}

impl HooksJson {
    pub(crate) fn from_domain(h: &Hooks) -> Self {
        HooksJson {
            pre_deploy: h.pre_deploy.clone(),
            post_deploy: h.post_deploy.clone(),
            pre_release: h.pre_release.clone(),
            post_release: h.post_release.clone(),
            post_rollback: h.post_rollback.clone(),
        }
    }

    pub(crate) fn into_domain(self) -> Hooks {
        Hooks {
            pre_deploy: self.pre_deploy,
            post_deploy: self.post_deploy,
            pre_release: self.pre_release,
            post_release: self.post_release,
            post_rollback: self.post_rollback,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct VariableJson {
    name: String,
    value: String,
}

pub(crate) fn variables_to_json(v: &[Variable]) -> Vec<VariableJson> {
    v.iter()
        .map(|v| VariableJson {
            name: v.name.as_str().to_owned(),
            value: v.value.clone(),
        })
        .collect()
}

pub(crate) fn variables_from_json(v: Vec<VariableJson>) -> Result<Vec<Variable>> {
    v.into_iter()
        .map(|v| {
            Ok(Variable {
                name: valid("variable name", VarName::new(&v.name))?,
                value: v.value,
            })
        })
        .collect()
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ProbeJson {
    Http { url: String },
    Command { line: String },
}

#[derive(Serialize, Deserialize)]
pub(crate) struct HealthCheckJson {
    probe: ProbeJson,
    retries: u32,
    interval_ms: u64,
    timeout_ms: u64,
}

impl HealthCheckJson {
    pub(crate) fn from_domain(h: &HealthCheck) -> Self {
        HealthCheckJson {
            probe: match &h.probe {
                HealthProbe::Http { url } => ProbeJson::Http { url: url.clone() },
                HealthProbe::Command { line } => ProbeJson::Command { line: line.clone() },
            },
            retries: h.retries,
            interval_ms: millis(h.interval),
            timeout_ms: millis(h.timeout),
        }
    }

    pub(crate) fn into_domain(self) -> HealthCheck {
        HealthCheck {
            probe: match self.probe {
                ProbeJson::Http { url } => HealthProbe::Http { url },
                ProbeJson::Command { line } => HealthProbe::Command { line },
            },
            retries: self.retries,
            interval: Duration::from_millis(self.interval_ms),
            timeout: Duration::from_millis(self.timeout_ms),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum SwitchJson {
    AllAtOnce,
    Rolling { batch_size: u32 },
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum FailureJson {
    AbortAll,
    Continue,
    MaxFailCount { count: u32 },
    MaxFailPercent { percent: u8 },
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StrategyJson {
    parallelism: u32,
    switch: SwitchJson,
    failure: FailureJson,
    connect_timeout_ms: u64,
    command_timeout_ms: u64,
    silence_timeout_ms: u64,
}

impl StrategyJson {
    pub(crate) fn from_domain(s: &DeployStrategy) -> Self {
        StrategyJson {
            parallelism: s.parallelism,
            switch: match s.switch {
                SwitchMode::AllAtOnce => SwitchJson::AllAtOnce,
                SwitchMode::Rolling { batch_size } => SwitchJson::Rolling { batch_size },
            },
            failure: match s.failure {
                FailurePolicy::AbortAll => FailureJson::AbortAll,
                FailurePolicy::Continue => FailureJson::Continue,
                FailurePolicy::MaxFailCount(count) => FailureJson::MaxFailCount { count },
                FailurePolicy::MaxFailPercent(percent) => FailureJson::MaxFailPercent { percent },
            },
            connect_timeout_ms: millis(s.connect_timeout),
            command_timeout_ms: millis(s.command_timeout),
            silence_timeout_ms: millis(s.silence_timeout),
        }
    }

    pub(crate) fn into_domain(self) -> DeployStrategy {
        DeployStrategy {
            parallelism: self.parallelism,
            switch: match self.switch {
                SwitchJson::AllAtOnce => SwitchMode::AllAtOnce,
                SwitchJson::Rolling { batch_size } => SwitchMode::Rolling { batch_size },
            },
            failure: match self.failure {
                FailureJson::AbortAll => FailurePolicy::AbortAll,
                FailureJson::Continue => FailurePolicy::Continue,
                FailureJson::MaxFailCount { count } => FailurePolicy::MaxFailCount(count),
                FailureJson::MaxFailPercent { percent } => FailurePolicy::MaxFailPercent(percent),
            },
            connect_timeout: Duration::from_millis(self.connect_timeout_ms),
            command_timeout: Duration::from_millis(self.command_timeout_ms),
            silence_timeout: Duration::from_millis(self.silence_timeout_ms),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum ChannelJson {
    DingTalk {
        url: String,
        /// Sealed with [`Sealer::seal`].
        sealed_secret: Option<String>,
    },
    Webhook {
        url: String,
    },
    Email {
        to: Vec<String>,
    },
}

impl ChannelJson {
    pub(crate) fn from_domain(c: &NotifyChannel, sealer: &Sealer) -> Result<Self> {
        Ok(match c {
            NotifyChannel::DingTalk { url, secret } => ChannelJson::DingTalk {
                url: url.clone(),
                sealed_secret: secret
                    .as_ref()
                    .map(|s| sealer.seal(DINGTALK_FIELD, s))
                    .transpose()?,
            },
            NotifyChannel::Webhook { url } => ChannelJson::Webhook { url: url.clone() },
            NotifyChannel::Email { to } => ChannelJson::Email {
                to: to.iter().map(|e| e.as_str().to_owned()).collect(),
            },
        })
    }

    pub(crate) fn into_domain(self, sealer: &Sealer) -> Result<NotifyChannel> {
        Ok(match self {
            ChannelJson::DingTalk { url, sealed_secret } => NotifyChannel::DingTalk {
                url,
                secret: sealed_secret
                    .map(|s| sealer.open(DINGTALK_FIELD, &s))
                    .transpose()?,
            },
            ChannelJson::Webhook { url } => NotifyChannel::Webhook { url },
            ChannelJson::Email { to } => NotifyChannel::Email {
                to: to
                    .iter()
                    .map(|e| valid("notification e-mail", Email::new(e)))
                    .collect::<Result<_>>()?,
            },
        })
    }
}
