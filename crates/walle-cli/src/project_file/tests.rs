use super::*;

struct Fake;

impl Resolve for Fake {
    fn environment(&self, name: Option<&str>) -> anyhow::Result<EnvironmentId> {
        match name {
            None | Some("production") => Ok(EnvironmentId(1)),
            Some(n) => Err(usage(format!("no environment {n}"))),
        }
    }
    fn server(&self, name: &str) -> anyhow::Result<ServerId> {
        match name {
            "web1" => Ok(ServerId(1)),
            "web2" => Ok(ServerId(2)),
            n => Err(usage(format!("no server {n}"))),
        }
    }
    fn env_secret(&self, var: &str) -> anyhow::Result<Secret> {
        Ok(Secret::new(format!("secret-of-{var}")))
    }
    fn file_secret(&self, path: &str) -> anyhow::Result<Secret> {
        Ok(Secret::new(format!("secret-in-{path}")))
    }
}

#[test]
fn the_example_parses_into_a_full_spec() {
    let file = ProjectFile::parse(EXAMPLE).expect("example parses");
    let spec = file.to_spec(&Fake, None).expect("example converts");
    assert_eq!(spec.name.as_str(), "shop");
    assert_eq!(spec.servers, vec![ServerId(1), ServerId(2)]);
    assert_eq!(spec.webroot.as_str(), "/var/www/shop/current");
    assert_eq!(spec.keep_releases, 5);
    assert_eq!(
        spec.hooks.post_deploy,
        vec!["composer install --no-dev --prefer-dist"]
    );
    assert_eq!(spec.shared.files[0].as_str(), ".env");
    assert!(matches!(
        spec.health_check.as_ref().map(|h| &h.probe),
        Some(HealthProbe::Http { .. })
    ));
    assert_eq!(spec.variables[0].name.as_str(), "APP_ENV");
    assert_eq!(spec.strategy, DeployStrategy::default());
}

#[test]
fn export_round_trips_and_never_contains_secrets() {
    let text = r#"
name = "api"
servers = ["web1"]
[repo]
url = "https://git.example.com/api.git"
[repo.credentials]
username = "deploy"
password_env = "API_TOKEN"
[deploy]
webroot = "/srv/api/current"
releases_dir = "/srv/api/releases"
[strategy]
switch = "rolling"
batch_size = 1
max_failed = 1
"#;
    let spec = ProjectFile::parse(text)
        .and_then(|f| f.to_spec(&Fake, None))
        .expect("converts");
    assert!(matches!(
        &spec.repo.credentials,
        RepoCredentials::Password { password, .. } if password.expose() == "secret-of-API_TOKEN"
    ));
    let exported = ProjectFile::from_spec(&spec, "production", &["web1".to_owned()]);
    let toml = exported.to_toml().expect("serialises");
    assert!(!toml.contains("secret-of"), "{toml}");
    // Re-importing the export keeps the stored secret.
    let again = ProjectFile::parse(&toml)
        .and_then(|f| f.to_spec(&Fake, Some(&spec)))
        .expect("re-import");
    assert_eq!(again, spec);
}

#[test]
fn bad_values_are_usage_errors() {
    let base = |extra: &str| {
        format!(
            "name = \"x\"\n[repo]\nurl = \"u\"\n{extra}\n[deploy]\nwebroot = \"/a/current\"\nreleases_dir = \"/a/releases\"\n"
        )
    };
    for extra in ["kind = \"hg\"", "mode = \"sha\""] {
        let err = ProjectFile::parse(&base(extra))
            .and_then(|f| f.to_spec(&Fake, None))
            .expect_err(extra);
        assert_eq!(
            crate::error::exit_code(&err),
            crate::error::EXIT_USAGE,
            "{err}"
        );
    }
    let err = ProjectFile::parse("name = \"x\"\nbogus = 1\n").expect_err("unknown key");
    assert!(err.to_string().contains("bogus"), "{err}");
}
