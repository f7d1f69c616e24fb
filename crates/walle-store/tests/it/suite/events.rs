//! Deploy events: gap-free per-task sequence numbers under concurrent appenders (threads and
//! store instances), and a console that resumes from the last number it saw.

use std::collections::HashMap;

use walle_core::model::{EventStream, NewDeployEvent, Step};
use walle_core::ports::Store;
use walle_core::{ServerId, TaskId};

use crate::fixtures::*;
use crate::suite::assert_not_found;

const WRITERS: usize = 4;
const BATCHES: usize = 15;
const BATCH: usize = 10;

fn event(task: TaskId, host: Option<ServerId>, line: String) -> NewDeployEvent {
    NewDeployEvent {
        task,
        host,
        step: Step::Upload,
        stream: EventStream::Stdout,
        line,
        exit_code: None,
        at: T0,
    }
}

pub(crate) fn events_resume_with_concurrent_appenders<S: Store>(make: &dyn Fn() -> S) {
    let stores = [make(), make()];
    let store = &stores[0];
    let owner = user(store, "Owner");
    let w = world(store, "Events", owner.id, 2);
    let project = store
        .create_project(w.space, &full_spec("P", w.env, &w.servers), owner.id, T0)
        .unwrap();
    let task = store
        .create_task(&new_task(project.id, "A", &w.servers, owner.id))
        .unwrap()
        .id;
    let other = store
        .create_task(&new_task(project.id, "B", &w.servers, owner.id))
        .unwrap()
        .id;

    // A console that has seen nothing yet.
    assert_eq!(store.events_after(task, 0, 10).unwrap(), []);

    // Writers append batches concurrently, some batches also carrying events of another task.
    let assigned: Vec<Vec<(String, u64)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..WRITERS)
            .map(|wr| {
                let store = &stores[wr % 2];
                let host = Some(w.servers[wr % 2]);
                s.spawn(move || {
                    let mut mine = Vec::new();
                    for b in 0..BATCHES {
                        let mut batch: Vec<NewDeployEvent> = (0..BATCH)
                            .map(|k| event(task, host, format!("w{wr} b{b} l{k}")))
                            .collect();
                        if b % 5 == 0 {
                            batch.insert(3, event(other, None, format!("other w{wr} b{b}")));
                        }
                        let seqs = store.append_events(&batch).expect("append");
                        assert_eq!(seqs.len(), batch.len());
                        for (e, seq) in batch.into_iter().zip(seqs) {
                            if e.task == task {
                                mine.push((e.line, seq));
                            }
                        }
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("writer"))
            .collect()
    });

    // Every number 1..=N is used exactly once, and each writer's lines got increasing numbers.
    let total = (WRITERS * BATCHES * BATCH) as u64;
    let mut by_seq: HashMap<u64, String> = HashMap::new();
    for mine in &assigned {
        assert!(
            mine.windows(2).all(|p| p[0].1 < p[1].1),
            "a writer's events stay in order"
        );
        for (line, seq) in mine {
            assert!(
                by_seq.insert(*seq, line.clone()).is_none(),
                "seq {seq} given twice"
            );
        }
    }
    assert_eq!(by_seq.len() as u64, total);
    assert!((1..=total).all(|s| by_seq.contains_key(&s)), "gap-free");

    // A console reads in pages and resumes after the last number it saw, on either instance.
    let mut seen = 0;
    let mut read = Vec::new();
    loop {
        let page = stores[read.len() % 2].events_after(task, seen, 37).unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 37);
        seen = page.last().expect("non-empty").seq;
        read.extend(page);
    }
    assert_eq!(read.len() as u64, total);
    for (i, e) in read.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
        assert_eq!(e.event.line, by_seq[&e.seq]);
        assert_eq!(e.event.task, task);
    }
    let tail = store.events_after(task, total - 2, 100).unwrap();
    assert_eq!(
        tail.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [total - 1, total]
    );

    // The other task has its own sequence.
    let others = store.events_after(other, 0, 1000).unwrap();
    assert_eq!(others.len(), WRITERS * BATCHES.div_ceil(5));
    assert!(
        others
            .iter()
            .enumerate()
            .all(|(i, e)| e.seq == i as u64 + 1)
    );

    // Appending to a missing task fails and appends nothing.
    let bad = vec![
        event(task, None, "lost".to_owned()),
        event(TaskId(999_999), None, "x".to_owned()),
    ];
    assert_not_found(store.append_events(&bad), "task");
    assert_eq!(store.events_after(task, total, 10).unwrap(), []);
    assert_eq!(store.append_events(&[]).unwrap(), Vec::<u64>::new());
}
