#![doc = include_str!("../README.md")]

mod action;
mod policy;
mod render;
mod resource;
mod subject;

pub use action::Action;
pub use policy::{
    Denied, PROJECT_ROLE_CEILING, SPACE_ROLE_CEILING, allowed_actions, can_log_in, check,
};
pub use render::render_permissions_markdown;
pub use resource::{ProjectRef, Resource, ResourceKind};
pub use subject::{RoleSource, Standing, Subject};
pub use walle_core::model::Role;
