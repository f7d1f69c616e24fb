use super::*;

#[test]
fn tables_align_columns() {
    let t = table(
        &["ID", "NAME"],
        &[
            vec!["1".into(), "web1".into()],
            vec!["12".into(), "w".into()],
        ],
    );
    assert_eq!(t, "ID  NAME\n1   web1\n12  w\n");
}

#[test]
fn reports_carry_both_forms() {
    let r = Report::new(&serde_json::json!({"a": 1}), "a is 1").with_code(5);
    assert_eq!(r.text(), "a is 1");
    assert_eq!(r.json()["a"], 1);
    assert_eq!(r.code(), 5);
}
