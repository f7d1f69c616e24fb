use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use walle_core::ports::HostTarget;
use walle_core::value::{HostName, Port, SshUser};

use super::{fan_out, fan_out_mut};

fn target(host: &str) -> HostTarget {
    HostTarget {
        server: None,
        host: HostName::new(host).expect("valid host"),
        port: Port::default(),
        user: SshUser::new("deploy").expect("valid user"),
    }
}

#[test]
fn results_come_back_in_input_order() {
    let targets: Vec<HostTarget> = (1..=5).map(|i| target(&format!("h{i}"))).collect();
    let out = fan_out(&targets, 2, |t| t.host.to_string().to_uppercase());
    let names: Vec<String> = out.iter().map(|(_, r)| r.clone()).collect();
    assert_eq!(names, ["H1", "H2", "H3", "H4", "H5"]);
    assert_eq!(out[4].0, targets[4]);
}

#[test]
fn concurrency_is_bounded() {
    let running = AtomicUsize::new(0);
    let peak = AtomicUsize::new(0);
    let mut items: Vec<u32> = (0..8).collect();
    fan_out_mut(&mut items, 3, |_| {
        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(30));
        running.fetch_sub(1, Ordering::SeqCst);
    });
    assert_eq!(peak.load(Ordering::SeqCst), 3);
}

#[test]
fn a_slow_item_does_not_hold_up_the_others() {
    let mut items: Vec<u64> = vec![600, 10, 10, 10, 10];
    let start = Instant::now();
    let done_at = fan_out_mut(&mut items, 2, |ms| {
        std::thread::sleep(Duration::from_millis(*ms));
        start.elapsed()
    });
    for fast in &done_at[1..] {
        assert!(*fast < Duration::from_millis(300), "{done_at:?}");
    }
}

#[test]
fn zero_concurrency_still_runs_and_items_are_mutable() {
    let mut items = vec![1, 2, 3];
    let out = fan_out_mut(&mut items, 0, |x| {
        *x *= 10;
        *x
    });
    assert_eq!(out, [10, 20, 30]);
    assert_eq!(items, [10, 20, 30]);
    assert!(fan_out_mut(&mut Vec::<u8>::new(), 4, |_| ()).is_empty());
}

#[test]
fn a_panic_surfaces_after_the_other_items_finish() {
    let finished = AtomicUsize::new(0);
    let mut items = vec![0, 1, 2, 3];
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        fan_out_mut(&mut items, 2, |i| {
            if *i == 0 {
                panic!("host 0 failed");
            }
            std::thread::sleep(Duration::from_millis(20));
            finished.fetch_add(1, Ordering::SeqCst);
        })
    }));
    let payload = result.expect_err("the panic is resumed");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"host 0 failed"));
    assert_eq!(finished.load(Ordering::SeqCst), 3);
}
