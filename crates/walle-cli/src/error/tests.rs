use super::*;

#[test]
fn codes_follow_the_chain() {
    let e = anyhow::Error::from(StoreError::NotFound {
        what: "project",
        id: "7".into(),
    })
    .context("loading the project");
    assert_eq!(exit_code(&e), EXIT_NOT_FOUND);
    let e = anyhow::Error::from(StoreError::Locked {
        key: "project:1".into(),
        holder: "task 3".into(),
        expires_at: walle_core::Timestamp::EPOCH,
    });
    assert_eq!(exit_code(&e), EXIT_CONFLICT);
    assert_eq!(exit_code(&usage("bad")), EXIT_USAGE);
    assert_eq!(
        exit_code(&CliError::Denied("no".into()).into()),
        EXIT_DENIED
    );
    assert_eq!(exit_code(&anyhow::format_err!("boom")), EXIT_FAILED);
    let bad = walle_core::value::Name::new("")
        .map(|_| ())
        .map_err(anyhow::Error::from);
    assert_eq!(bad.map_err(|e| exit_code(&e)), Err(EXIT_USAGE));
}
