//! Refuses to build walle-store without a database backend.

fn main() {
    let any = ["SQLITE", "MYSQL", "POSTGRES"]
        .iter()
        .any(|f| std::env::var_os(format!("CARGO_FEATURE_{f}")).is_some());
    if !any {
        panic!(
            "walle-store needs at least one backend feature: enable `sqlite`, `mysql` or `postgres` \
             (e.g. `walle-store = {{ workspace = true, features = [\"sqlite\"] }}`)"
        );
    }
}
