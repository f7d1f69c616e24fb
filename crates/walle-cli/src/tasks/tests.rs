use super::*;

fn r(s: &str) -> ReleaseId {
    ReleaseId::new(s).expect("valid release id")
}

#[test]
fn default_rollback_target_is_the_release_before_the_live_one() {
    let (a, b, c) = (
        r("1_1_20260101_000001"),
        r("1_2_20260101_000002"),
        r("1_3_20260101_000003"),
    );
    let kept = vec![a.clone(), b.clone(), c.clone()];
    assert_eq!(default_target(&kept, Some(&c)), Some(b.clone()));
    assert_eq!(default_target(&kept, Some(&b)), Some(a.clone()));
    // Live is the oldest (after a rollback): the newest other release.
    assert_eq!(default_target(&kept, Some(&a)), Some(c.clone()));
    assert_eq!(default_target(&kept[..1], Some(&a)), None);
    assert_eq!(default_target(&kept, None), Some(c));
}
