//! Tests of the action table.

use std::collections::BTreeSet;

use super::Action;

#[test]
fn names_are_unique_and_parse_back() {
    let names: BTreeSet<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
    assert_eq!(names.len(), Action::ALL.len());
    for action in Action::ALL {
        assert_eq!(Action::parse(action.as_str()), Some(*action));
        assert_eq!(action.to_string(), action.as_str());
    }
    assert_eq!(Action::parse("task.approve"), Some(Action::TaskApprove));
    assert_eq!(Action::parse("TASK.APPROVE"), None);
    assert_eq!(Action::parse("task"), None);
}

#[test]
fn names_are_resource_dot_verb_in_snake_case() {
    for action in Action::ALL {
        let name = action.as_str();
        let (resource, verb) = name
            .split_once('.')
            .unwrap_or_else(|| panic!("{name}: no dot"));
        for part in [resource, verb] {
            assert!(
                !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}: not snake_case"
            );
        }
    }
}

#[test]
fn descriptions_are_lowercase_phrases_without_a_period() {
    for action in Action::ALL {
        let d = action.describe();
        assert!(
            d.starts_with(|c: char| c.is_ascii_lowercase()),
            "{action}: {d}"
        );
        assert!(!d.ends_with('.'), "{action}: {d}");
    }
}

#[test]
fn actions_of_one_resource_are_contiguous() {
    let prefixes: Vec<&str> = Action::ALL
        .iter()
        .map(|a| a.as_str().split('.').next().unwrap_or_default())
        .collect();
    let mut seen = BTreeSet::new();
    for pair in prefixes.windows(2) {
        if pair[0] != pair[1] {
            assert!(seen.insert(pair[0]), "{} appears in two groups", pair[0]);
        }
    }
}
