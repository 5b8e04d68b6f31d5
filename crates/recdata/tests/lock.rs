//! Run-directory locks (#20): a second writer is refused with the holder's PID and
//! command, a lock left by a dead process is taken over, one from another host is not.

use recdata::{LockError, LockHolder, RunLock};

#[test]
fn a_second_lock_on_a_directory_fails_naming_the_holder_and_the_first_release_frees_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let first = RunLock::acquire_as(&dir, "specgr train tiger --seed 1").unwrap();
    assert!(first.took_over().is_none());
    let err = RunLock::acquire_as(&dir, "specgr train tiger --seed 2").unwrap_err();
    assert!(matches!(err, LockError::Held { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&format!("PID {}", std::process::id())), "{text}");
    assert!(text.contains("`specgr train tiger --seed 1`"), "{text}");
    assert!(text.contains(&dir.display().to_string()), "{text}");
    drop(first);
    assert!(!dir.join(recdata::lock::LOCK_FILE).exists(), "released locks remove their file");
    let again = RunLock::acquire_as(&dir, "specgr train tiger --seed 2").unwrap();
    assert!(again.took_over().is_none());
}

#[test]
fn a_lock_file_of_a_dead_process_is_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    // A PID that certainly ran and no longer does.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let stale = LockHolder { pid, command: "specgr embed (killed)".into(), ..LockHolder::current("") };
    std::fs::write(tmp.path().join(".lock"), serde_json::to_string(&stale).unwrap()).unwrap();
    let lock = RunLock::acquire_as(tmp.path(), "specgr embed").unwrap();
    assert_eq!(lock.took_over().map(|h| h.pid), Some(pid));
    let now: LockHolder = serde_json::from_str(&std::fs::read_to_string(lock.path()).unwrap()).unwrap();
    assert_eq!((now.pid, now.command.as_str()), (std::process::id(), "specgr embed"));
}

#[test]
fn a_lock_file_naming_a_running_process_refuses_even_without_an_os_lock() {
    // The PID rule on its own (as on a file system without advisory locks): this
    // process runs, so a lock file naming it is not stale.
    let tmp = tempfile::tempdir().unwrap();
    let me = LockHolder::current("another handle");
    std::fs::write(tmp.path().join(".lock"), serde_json::to_string(&me).unwrap()).unwrap();
    if me.is_running() == Some(true) {
        let err = RunLock::acquire_as(tmp.path(), "x").unwrap_err();
        assert!(err.to_string().contains(&format!("PID {}", me.pid)), "{err}");
    }
}

#[test]
fn a_lock_file_from_another_host_is_not_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    let other = LockHolder { host: "elsewhere.example".into(), ..LockHolder::current("specgr semid fit") };
    std::fs::write(tmp.path().join(".lock"), serde_json::to_string(&other).unwrap()).unwrap();
    let err = RunLock::acquire_as(tmp.path(), "x").unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, LockError::OtherHost { .. }), "{err:?}");
    assert!(text.contains("elsewhere.example") && text.contains("delete"), "{text}");
}
