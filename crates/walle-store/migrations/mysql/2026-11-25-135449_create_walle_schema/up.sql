-- Walle schema for MySQL/MariaDB (InnoDB, utf8mb4, binary collation so that comparisons match SQLite
-- and PostgreSQL). Times are unix milliseconds (BIGINT). Mirrors the sqlite/ and postgres/ migrations.
-- Deleted rows keep their name: `deleted_token` is 0 while a row is live and its own id once
-- deleted, so the unique (name, deleted_token) indexes only bind live rows.

CREATE TABLE users (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username VARCHAR(100) NOT NULL,
    username_key VARCHAR(255) NOT NULL,
    email VARCHAR(254) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    is_super BOOLEAN NOT NULL,
    status VARCHAR(16) NOT NULL,
    last_space_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT,
    deleted_token BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX users_username_live ON users (username_key, deleted_token);
CREATE UNIQUE INDEX users_email_live ON users (email, deleted_token);

CREATE TABLE spaces (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    name_key VARCHAR(255) NOT NULL,
    owner_id BIGINT NOT NULL,
    status VARCHAR(16) NOT NULL,
    created_at BIGINT NOT NULL,
    deleted_at BIGINT,
    deleted_token BIGINT NOT NULL DEFAULT 0,
    FOREIGN KEY (owner_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX spaces_name_live ON spaces (name_key, deleted_token);

CREATE TABLE memberships (
    user_id BIGINT NOT NULL,
    scope_kind VARCHAR(16) NOT NULL,
    scope_id BIGINT NOT NULL,
    role VARCHAR(16) NOT NULL,
    PRIMARY KEY (user_id, scope_kind, scope_id),
    FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX memberships_scope ON memberships (scope_kind, scope_id);

CREATE TABLE environments (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    space_id BIGINT NOT NULL,
    name VARCHAR(100) NOT NULL,
    name_key VARCHAR(255) NOT NULL,
    status VARCHAR(16) NOT NULL,
    deleted_token BIGINT NOT NULL DEFAULT 0,
    FOREIGN KEY (space_id) REFERENCES spaces (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX environments_name_live ON environments (space_id, name_key, deleted_token);

CREATE TABLE servers (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    space_id BIGINT NOT NULL,
    name VARCHAR(100) NOT NULL,
    name_key VARCHAR(255) NOT NULL,
    host VARCHAR(253) NOT NULL,
    port INTEGER NOT NULL,
    ssh_user VARCHAR(32) NOT NULL,
    host_key_algorithm VARCHAR(64),
    host_key_base64 TEXT,
    deleted_token BIGINT NOT NULL DEFAULT 0,
    FOREIGN KEY (space_id) REFERENCES spaces (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX servers_name_live ON servers (space_id, name_key, deleted_token);

CREATE TABLE server_labels (
    server_id BIGINT NOT NULL,
    label VARCHAR(64) NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (server_id, label),
    FOREIGN KEY (server_id) REFERENCES servers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX server_labels_label ON server_labels (label);

CREATE TABLE projects (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    space_id BIGINT NOT NULL,
    environment_id BIGINT NOT NULL,
    name VARCHAR(100) NOT NULL,
    name_key VARCHAR(255) NOT NULL,
    repo_kind VARCHAR(8) NOT NULL,
    repo_url TEXT NOT NULL,
    repo_mode VARCHAR(8) NOT NULL,
    cred_kind VARCHAR(16) NOT NULL,
    cred_username VARCHAR(255),
    cred_key_path TEXT,
    cred_secret TEXT,
    webroot TEXT NOT NULL,
    releases_dir TEXT NOT NULL,
    keep_releases BIGINT NOT NULL,
    filter_mode VARCHAR(8) NOT NULL,
    filter_patterns MEDIUMTEXT NOT NULL,
    shared_paths MEDIUMTEXT NOT NULL,
    hooks MEDIUMTEXT NOT NULL,
    variables MEDIUMTEXT NOT NULL,
    health_check MEDIUMTEXT,
    strategy MEDIUMTEXT NOT NULL,
    require_approval BOOLEAN NOT NULL,
    separate_approver BOOLEAN NOT NULL,
    notify_channels MEDIUMTEXT NOT NULL,
    created_by BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT,
    deleted_token BIGINT NOT NULL DEFAULT 0,
    FOREIGN KEY (space_id) REFERENCES spaces (id),
    FOREIGN KEY (environment_id) REFERENCES environments (id),
    FOREIGN KEY (created_by) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX projects_name_live ON projects (space_id, name_key, deleted_token);
CREATE INDEX projects_environment ON projects (environment_id);

CREATE TABLE project_servers (
    project_id BIGINT NOT NULL,
    server_id BIGINT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (project_id, server_id),
    FOREIGN KEY (project_id) REFERENCES projects (id),
    FOREIGN KEY (server_id) REFERENCES servers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX project_servers_server ON project_servers (server_id);

CREATE TABLE tasks (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    project_id BIGINT NOT NULL,
    name VARCHAR(100) NOT NULL,
    source_kind VARCHAR(8) NOT NULL,
    source_ref VARCHAR(255) NOT NULL,
    source_commit VARCHAR(64),
    kind VARCHAR(16) NOT NULL,
    rollback_target VARCHAR(64),
    status VARCHAR(16) NOT NULL,
    submitter_id BIGINT NOT NULL,
    reviewer_id BIGINT,
    review_comment TEXT,
    commit_id VARCHAR(64),
    release_id VARCHAR(64),
    parent_id BIGINT,
    attempts BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT,
    FOREIGN KEY (project_id) REFERENCES projects (id),
    FOREIGN KEY (submitter_id) REFERENCES users (id),
    FOREIGN KEY (reviewer_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX tasks_project ON tasks (project_id, id);
CREATE INDEX tasks_submitter ON tasks (submitter_id, id);
CREATE INDEX tasks_status ON tasks (status, id);

CREATE TABLE task_servers (
    task_id BIGINT NOT NULL,
    server_id BIGINT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (task_id, server_id),
    FOREIGN KEY (task_id) REFERENCES tasks (id),
    FOREIGN KEY (server_id) REFERENCES servers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX task_servers_server ON task_servers (server_id);

CREATE TABLE host_outcomes (
    task_id BIGINT NOT NULL,
    server_id BIGINT NOT NULL,
    position INTEGER NOT NULL,
    state VARCHAR(32) NOT NULL,
    previous_release VARCHAR(64),
    live_release VARCHAR(64),
    error MEDIUMTEXT,
    PRIMARY KEY (task_id, server_id),
    FOREIGN KEY (task_id) REFERENCES tasks (id),
    FOREIGN KEY (server_id) REFERENCES servers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX host_outcomes_server ON host_outcomes (server_id);

CREATE TABLE releases (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    project_id BIGINT NOT NULL,
    task_id BIGINT NOT NULL,
    commit_id VARCHAR(64) NOT NULL,
    checksum VARCHAR(128) NOT NULL,
    status VARCHAR(16) NOT NULL,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (project_id) REFERENCES projects (id),
    FOREIGN KEY (task_id) REFERENCES tasks (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX releases_project ON releases (project_id, created_at);
CREATE INDEX releases_task ON releases (task_id);

CREATE TABLE release_ledger (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    project_id BIGINT NOT NULL,
    server_id BIGINT NOT NULL,
    release_id VARCHAR(64) NOT NULL,
    commit_id VARCHAR(64) NOT NULL,
    task_id BIGINT NOT NULL,
    actor_id BIGINT NOT NULL,
    status VARCHAR(16) NOT NULL,
    previous_release VARCHAR(64),
    at BIGINT NOT NULL,
    FOREIGN KEY (project_id) REFERENCES projects (id),
    FOREIGN KEY (server_id) REFERENCES servers (id),
    FOREIGN KEY (task_id) REFERENCES tasks (id),
    FOREIGN KEY (actor_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX release_ledger_host ON release_ledger (project_id, server_id, id);

CREATE TABLE event_counters (
    task_id BIGINT NOT NULL PRIMARY KEY,
    last_seq BIGINT NOT NULL,
    FOREIGN KEY (task_id) REFERENCES tasks (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE deploy_events (
    task_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    server_id BIGINT,
    step VARCHAR(32) NOT NULL,
    stream VARCHAR(16) NOT NULL,
    line MEDIUMTEXT NOT NULL,
    exit_code INTEGER,
    at BIGINT NOT NULL,
    PRIMARY KEY (task_id, seq),
    FOREIGN KEY (task_id) REFERENCES tasks (id),
    FOREIGN KEY (server_id) REFERENCES servers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE audit_log (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    actor_id BIGINT,
    action VARCHAR(100) NOT NULL,
    target VARCHAR(255) NOT NULL,
    details MEDIUMTEXT NOT NULL,
    at BIGINT NOT NULL,
    FOREIGN KEY (actor_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE leases (
    lock_key VARCHAR(191) NOT NULL PRIMARY KEY,
    token VARCHAR(255) NOT NULL,
    holder TEXT NOT NULL,
    acquired_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE sessions (
    token_hash VARCHAR(128) NOT NULL PRIMARY KEY,
    user_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    name VARCHAR(100) NOT NULL,
    token_hash VARCHAR(128) NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (token_hash);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
