//! The diesel table definitions, shared by the three backends (only portable SQL types).
//!
//! Mirrors `migrations/*/…_create_walle_schema/up.sql`; times are unix milliseconds (`BigInt`).

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        username_key -> Text,
        email -> Text,
        password_hash -> Text,
        is_super -> Bool,
        status -> Text,
        last_space_id -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
        deleted_at -> Nullable<BigInt>,
        deleted_token -> BigInt,
    }
}

diesel::table! {
    spaces (id) {
        id -> BigInt,
        name -> Text,
        name_key -> Text,
        owner_id -> BigInt,
        status -> Text,
        created_at -> BigInt,
        deleted_at -> Nullable<BigInt>,
        deleted_token -> BigInt,
    }
}

diesel::table! {
    memberships (user_id, scope_kind, scope_id) {
        user_id -> BigInt,
        scope_kind -> Text,
        scope_id -> BigInt,
        role -> Text,
    }
}

diesel::table! {
    environments (id) {
        id -> BigInt,
        space_id -> BigInt,
        name -> Text,
        name_key -> Text,
        status -> Text,
        deleted_token -> BigInt,
    }
}

diesel::table! {
    servers (id) {
        id -> BigInt,
        space_id -> BigInt,
        name -> Text,
        name_key -> Text,
        host -> Text,
        port -> Integer,
        ssh_user -> Text,
        host_key_algorithm -> Nullable<Text>,
        host_key_base64 -> Nullable<Text>,
        deleted_token -> BigInt,
    }
}

diesel::table! {
    server_labels (server_id, label) {
        server_id -> BigInt,
        label -> Text,
        position -> Integer,
    }
}

diesel::table! {
    projects (id) {
        id -> BigInt,
        space_id -> BigInt,
        environment_id -> BigInt,
        name -> Text,
        name_key -> Text,
        repo_kind -> Text,
        repo_url -> Text,
        repo_mode -> Text,
        cred_kind -> Text,
        cred_username -> Nullable<Text>,
        cred_key_path -> Nullable<Text>,
        cred_secret -> Nullable<Text>,
        webroot -> Text,
        releases_dir -> Text,
        keep_releases -> BigInt,
        filter_mode -> Text,
        filter_patterns -> Text,
        shared_paths -> Text,
        hooks -> Text,
        variables -> Text,
        health_check -> Nullable<Text>,
        strategy -> Text,
        require_approval -> Bool,
        separate_approver -> Bool,
        notify_channels -> Text,
        created_by -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
        deleted_at -> Nullable<BigInt>,
        deleted_token -> BigInt,
    }
}

diesel::table! {
    project_servers (project_id, server_id) {
        project_id -> BigInt,
        server_id -> BigInt,
        position -> Integer,
    }
}

diesel::table! {
    tasks (id) {
        id -> BigInt,
        project_id -> BigInt,
        name -> Text,
        source_kind -> Text,
        source_ref -> Text,
        source_commit -> Nullable<Text>,
        kind -> Text,
        rollback_target -> Nullable<Text>,
        status -> Text,
        submitter_id -> BigInt,
        reviewer_id -> Nullable<BigInt>,
        review_comment -> Nullable<Text>,
        commit_id -> Nullable<Text>,
        release_id -> Nullable<Text>,
        parent_id -> Nullable<BigInt>,
        attempts -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
        deleted_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    task_servers (task_id, server_id) {
        task_id -> BigInt,
        server_id -> BigInt,
        position -> Integer,
    }
}

diesel::table! {
    host_outcomes (task_id, server_id) {
        task_id -> BigInt,
        server_id -> BigInt,
        position -> Integer,
        state -> Text,
        previous_release -> Nullable<Text>,
        live_release -> Nullable<Text>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    releases (id) {
        id -> Text,
        project_id -> BigInt,
        task_id -> BigInt,
        commit_id -> Text,
        checksum -> Text,
        status -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    release_ledger (id) {
        id -> BigInt,
        project_id -> BigInt,
        server_id -> BigInt,
        release_id -> Text,
        commit_id -> Text,
        task_id -> BigInt,
        actor_id -> BigInt,
        status -> Text,
        previous_release -> Nullable<Text>,
        at -> BigInt,
    }
}

diesel::table! {
    event_counters (task_id) {
        task_id -> BigInt,
        last_seq -> BigInt,
    }
}

diesel::table! {
    deploy_events (task_id, seq) {
        task_id -> BigInt,
        seq -> BigInt,
        server_id -> Nullable<BigInt>,
        step -> Text,
        stream -> Text,
        line -> Text,
        exit_code -> Nullable<Integer>,
        at -> BigInt,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        target -> Text,
        details -> Text,
        at -> BigInt,
    }
}

diesel::table! {
    leases (lock_key) {
        lock_key -> Text,
        token -> Text,
        holder -> Text,
        acquired_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        token_hash -> Text,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(projects -> spaces (space_id));
diesel::joinable!(tasks -> projects (project_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    spaces,
    memberships,
    environments,
    servers,
    server_labels,
    projects,
    project_servers,
    tasks,
    task_servers,
    host_outcomes,
    releases,
    release_ledger,
    event_counters,
    deploy_events,
    audit_log,
    leases,
    sessions,
    api_tokens,
);
