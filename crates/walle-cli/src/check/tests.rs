use super::first_program;

#[test]
fn first_program_skips_assignments_and_wrappers() {
    assert_eq!(
        first_program("composer install --no-dev").as_deref(),
        Some("composer")
    );
    assert_eq!(
        first_program("APP_ENV=prod sudo systemctl reload php-fpm").as_deref(),
        Some("systemctl")
    );
    assert_eq!(first_program("echo hi > x"), None);
    assert_eq!(first_program("  "), None);
}
