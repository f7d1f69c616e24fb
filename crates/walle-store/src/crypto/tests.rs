use walle_core::Secret;

use super::*;

#[test]
fn seal_round_trips_and_binds_the_field() {
    let key = SecretKey::generate();
    let sealer = Sealer::new(&key);
    let sealed = sealer.seal("repo", &Secret::new("hunter2")).unwrap();
    assert!(sealed.starts_with("v1:"));
    assert!(!sealed.contains("hunter2"));
    assert_eq!(sealer.open("repo", &sealed).unwrap().expose(), "hunter2");
    // Same secret, different nonce.
    assert_ne!(
        sealed,
        sealer.seal("repo", &Secret::new("hunter2")).unwrap()
    );
    // Moved to another field, or opened with another key: refused.
    assert!(sealer.open("dingtalk", &sealed).is_err());
    assert!(
        Sealer::new(&SecretKey::generate())
            .open("repo", &sealed)
            .is_err()
    );
    assert!(sealer.open("repo", "hunter2").is_err());
}

#[test]
fn keys_in_hex() {
    let key = SecretKey::from_bytes([7; 32]);
    assert_eq!(SecretKey::from_hex(&key.to_hex()).unwrap(), key);
    assert_eq!(format!("{key:?}"), "SecretKey(***)");
    assert_eq!(SecretKey::from_hex("abc"), Err(InvalidSecretKey));
    assert_eq!(SecretKey::from_hex(&"zz".repeat(32)), Err(InvalidSecretKey));
}
