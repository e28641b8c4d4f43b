//! Runaway and crashing plugins: each gives its typed error within (a generous multiple of) its
//! limit, and the same host then serves a good plugin correctly.

use std::time::Duration;

use host::{Call, Context, FuelBudget, Host, HostConfig, HostError};

use crate::support::{attack, batch, config, good_still_scores, host, hostile, plugin_path, timed};

/// Fuel small enough that a runaway stops in milliseconds (about 15 ms of tight loop).
const SMALL: FuelBudget = FuelBudget { manifest: 100_000_000, make_task: 100_000_000, score: 100_000_000 };

fn seed(seed: u64) -> Context {
    Context { seed, block: 1, ..Default::default() }
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let plugin = hostile().clone().with_fuel(SMALL);
    let (err, took) = timed(|| plugin.make_task(&seed(1)).unwrap_err());
    assert!(matches!(err, HostError::OutOfFuel { call: Call::MakeTask, budget: 100_000_000 }), "{err:?}");
    assert_eq!(err.to_string(), "plugin ran out of fuel in `make-task` (budget 100000000)");
    assert!(!err.is_local_fault());
    assert!(took < Duration::from_secs(5), "{took:?}");

    let (err, _) = timed(|| plugin.score(&attack("loop"), &batch(3), None).unwrap_err());
    assert!(matches!(err, HostError::OutOfFuel { call: Call::Score, .. }), "{err:?}");
    good_still_scores(host());
}

#[test]
fn default_fuel_budget_stops_a_loop_too() {
    let (err, took) = timed(|| hostile().score(&attack("loop"), &batch(1), None).unwrap_err());
    assert!(matches!(err, HostError::OutOfFuel { budget: 10_000_000_000, .. }), "{err:?}");
    // 10 G fuel is 1.2-2 s of tight loop on the reference machine.
    assert!(took < Duration::from_secs(20), "{took:?}");
    good_still_scores(host());
}

#[test]
fn wall_clock_deadline_is_a_local_fault() {
    let deadline = Duration::from_millis(200);
    let host = Host::new(HostConfig { deadline, ..config() }).unwrap();
    let huge = FuelBudget { make_task: u64::MAX, ..FuelBudget::default() };
    let plugin = host.load(plugin_path("hostile")).unwrap().with_fuel(huge);
    let (err, took) = timed(|| plugin.make_task(&seed(1)).unwrap_err());
    assert!(matches!(err, HostError::Interrupted { call: Call::MakeTask, deadline: d } if d == deadline), "{err:?}");
    assert!(err.is_local_fault());
    // Never before the deadline; the upper bound is loose because an overloaded machine (two
    // cores compiling plugins for the other tests) delays the ticker thread.
    assert!(took >= deadline, "{took:?}");
    assert!(took < 20 * deadline, "{took:?}");
    good_still_scores(&host);
}

#[test]
fn unbounded_allocation_hits_the_memory_limit() {
    let (err, took) = timed(|| hostile().make_task(&seed(2)).unwrap_err());
    match err {
        HostError::OutOfMemory { call: Call::MakeTask, resource: "memory", requested, limit } => {
            assert_eq!(limit, 256 << 20);
            assert!(requested > limit);
        }
        e => panic!("{e:?}"),
    }
    assert!(took < Duration::from_secs(10), "{took:?}");
    good_still_scores(host());
}

#[test]
fn unbounded_recursion_traps() {
    for (err, _) in [
        timed(|| hostile().make_task(&seed(3)).unwrap_err()),
        timed(|| hostile().score(&attack("recursion"), &batch(1), None).unwrap_err()),
    ] {
        match &err {
            HostError::Trap { message, .. } => {
                assert!(message.contains("call stack exhausted") || message.contains("out of bounds"), "{message}")
            }
            e => panic!("{e:?}"),
        }
    }
    good_still_scores(host());
}

#[test]
fn unreachable_traps() {
    let err = hostile().make_task(&seed(4)).unwrap_err();
    match &err {
        HostError::Trap { call: Call::MakeTask, message, backtrace } => {
            assert!(message.contains("unreachable"), "{message}");
            assert!(backtrace.is_some());
        }
        e => panic!("{e:?}"),
    }
    let err = hostile().score(&attack("unreachable"), &batch(2), None).unwrap_err();
    assert!(matches!(err, HostError::Trap { call: Call::Score, .. }), "{err:?}");
    good_still_scores(host());
}

#[test]
fn panic_traps_with_the_guests_message_and_a_backtrace() {
    // Panics abort on wasm32; the SDK's hook leaves the message in the guest's memory, where the
    // host reads it after the trap. The backtrace (the name section is kept) shows where.
    let panicky = host().load(test_plugins::PANICKY).unwrap();
    let err = panicky.make_task(&seed(1000)).unwrap_err();
    match &err {
        HostError::Trap { call: Call::MakeTask, message, backtrace } => {
            assert!(message.starts_with("the plugin panicked: panicked at panicky/src/lib.rs:"), "{message}");
            assert!(message.ends_with("index out of bounds: the len is 3 but the index is 1000"), "{message}");
            let backtrace = backtrace.as_deref().expect("a backtrace");
            assert!(backtrace.contains("rust_panic") && backtrace.contains("make-task"), "{backtrace}");
        }
        e => panic!("{e:?}"),
    }
    // A long message is cut to 1 KiB at a character boundary.
    let task = panicky.make_task(&seed(1)).unwrap().unwrap();
    let err = panicky.score(&task, &batch(2), None).unwrap_err();
    match &err {
        HostError::Trap { call: Call::Score, message, .. } => {
            let reported = message.strip_prefix("the plugin panicked: ").expect(message);
            assert!(reported.starts_with("panicked at panicky/src/lib.rs:"), "{reported}");
            assert!(reported.contains(":\n2 responses: éé"), "{reported}");
            // 1024 bytes, or one less where the cut fell inside a two-byte 'é'.
            assert!((1023..=1024).contains(&reported.len()), "{}", reported.len());
            assert!(!reported.contains('\u{FFFD}'), "cut inside a character");
        }
        e => panic!("{e:?}"),
    }
    // A guest written against the raw WIT has no such hook: the host still says it panicked.
    let err = hostile().make_task(&seed(5)).unwrap_err();
    assert!(
        matches!(&err, HostError::Trap { call: Call::MakeTask, message, backtrace: Some(_) }
            if message.starts_with("the plugin panicked (wasm trap: wasm `unreachable`") && message.contains("left no message")),
        "{err:?}"
    );
    // A bare `unreachable` is not called a panic.
    let err = hostile().make_task(&seed(4)).unwrap_err();
    assert!(matches!(&err, HostError::Trap { message, .. } if !message.contains("panicked")), "{err:?}");
    good_still_scores(host());
}

#[test]
fn faults_in_parallel_threads_leave_the_host_serving() {
    let handles: Vec<_> = [1u64, 2, 4, 5, 6]
        .into_iter()
        .map(|s| {
            let plugin = hostile().clone().with_fuel(SMALL);
            std::thread::spawn(move || plugin.make_task(&seed(s)).unwrap_err())
        })
        .collect();
    for handle in handles {
        let err = handle.join().expect("no panic in the host");
        assert!(!err.is_local_fault(), "{err:?}");
    }
    good_still_scores(host());
}

#[test]
fn pooling_host_queues_calls_beyond_its_slots_and_survives_faults() {
    let pooling = host::Pooling { concurrent_calls: 2, ..Default::default() };
    let host = Host::new(HostConfig { pooling: Some(pooling), ..config() }).unwrap();
    // Default fuel: filling 256 MiB takes more than `SMALL`.
    let plugin = host.load(plugin_path("hostile")).unwrap();
    // Eight threads on two slots: unbounded allocation, a loop and good calls, all at once.
    let handles: Vec<_> = (0..8u64)
        .map(|i| {
            let plugin = plugin.clone();
            std::thread::spawn(move || match i % 4 {
                0 => {
                    let err = plugin.make_task(&seed(2)).unwrap_err();
                    assert!(matches!(err, HostError::OutOfMemory { .. }), "{err:?}");
                }
                1 => {
                    let err = plugin.with_fuel(SMALL).make_task(&seed(1)).unwrap_err();
                    assert!(matches!(err, HostError::OutOfFuel { .. }), "{err:?}");
                }
                _ => assert_eq!(plugin.score(&attack("none"), &batch(3), None).unwrap().unwrap().values, [0.5; 3]),
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("every call got a slot and the expected outcome");
    }
    good_still_scores(&host);
}
