use walle_core::value::AbsPath;

use super::temp_sibling;

#[test]
fn temp_names_are_unique_siblings() {
    let p = AbsPath::new("/srv/www/current").expect("valid path");
    let a = temp_sibling(&p);
    let b = temp_sibling(&p);
    assert!(a.starts_with("/srv/www/.current.walle-tmp-"), "{a}");
    assert_ne!(a, b);
    let top = AbsPath::new("/x").expect("valid path");
    assert!(temp_sibling(&top).starts_with("/.x.walle-tmp-"));
}
