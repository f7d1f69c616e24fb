use super::signal_name;

#[test]
fn signals_are_named_as_ssh_names_them() {
    assert_eq!(signal_name(15), "TERM");
    assert_eq!(signal_name(9), "KILL");
    assert_eq!(signal_name(40), "40");
}
