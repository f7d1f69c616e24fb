use super::*;

#[test]
fn generated_passwords_are_random_and_hash_round_trips() {
    let a = generate(20).expect("randomness");
    let b = generate(20).expect("randomness");
    assert_eq!(a.len(), 20);
    assert_ne!(a, b);
    assert!(a.bytes().all(|c| ALPHABET.contains(&c)));
    let phc = hash(&a).expect("hash");
    assert!(phc.starts_with("$argon2id$"), "{phc}");
    assert!(verify(&a, &phc).expect("verify"));
    assert!(!verify(&b, &phc).expect("verify"));
}
