//! The compiled-module cache: a second run loads instead of compiling (the log says how long
//! each took), a damaged entry is rebuilt rather than trusted, concurrent runs share the
//! cache safely, and `--no-cache` writes nothing.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{guest, run_logged};

fn cache_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lunatic-cache-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn hello(dir: &Path) -> common::Run {
    let dir = dir.display().to_string();
    let run = run_logged(
        Some("lunatic::cache=debug"),
        &["--cache-dir", &dir],
        &guest("hello"),
        &[],
        Duration::from_secs(60),
    );
    run.assert_code(0).assert_stdout("Hi! I'm a process.\n");
    run
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

#[test]
fn second_run_loads_instead_of_compiling() {
    let dir = cache_dir("reuse");
    hello(&dir).assert_stderr("compiled in");
    let second = hello(&dir);
    second.assert_stderr("from the cache in");
    assert!(!second.stderr.contains("compiled in"), "{second}");
    let files = entries(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].extension().is_some_and(|e| e == "cwasm"),
        "{files:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damaged_entries_are_rebuilt_not_trusted() {
    let dir = cache_dir("damaged");
    hello(&dir);
    let entry = entries(&dir).remove(0);
    let mut bytes = std::fs::read(&entry).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&entry, &bytes).unwrap();
    hello(&dir)
        .assert_stderr("checksum does not match (corrupt)")
        .assert_stderr("compiled in");
    std::fs::write(&entry, b"abc").unwrap();
    hello(&dir)
        .assert_stderr("the entry is truncated")
        .assert_stderr("compiled in");
    hello(&dir).assert_stderr("from the cache in");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn concurrent_runs_share_the_cache() {
    let dir = cache_dir("concurrent");
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let dir = dir.clone();
            std::thread::spawn(move || hello(&dir))
        })
        .collect();
    for run in runs {
        run.join().expect("each run succeeds");
    }
    let files = entries(&dir);
    assert_eq!(
        files.len(),
        1,
        "one whole entry, no temporary files left: {files:?}"
    );
    hello(&dir).assert_stderr("from the cache in");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_cache_writes_nothing() {
    let dir = cache_dir("off");
    let dir_text = dir.display().to_string();
    let run = run_logged(
        Some("lunatic::cache=debug"),
        &["--cache-dir", &dir_text, "--no-cache"],
        &guest("hello"),
        &[],
        Duration::from_secs(60),
    );
    run.assert_code(0);
    assert!(!dir.exists(), "{run}");
}

#[test]
fn the_cache_is_trimmed_to_its_size() {
    let dir = cache_dir("trim");
    let dir_text = dir.display().to_string();
    let max = 256 << 10;
    let run = common::run_with(
        &[
            "--cache-dir",
            &dir_text,
            "--cache-max-bytes",
            &max.to_string(),
        ],
        &guest("test-environments"),
        &["many-modules"],
        Duration::from_secs(120),
    );
    run.assert_code(0).assert_stdout("many modules: compiled\n");
    let sizes: Vec<u64> = entries(&dir)
        .iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "cwasm"))
        .map(|path| std::fs::metadata(path).unwrap().len())
        .collect();
    let total: u64 = sizes.iter().sum();
    assert!(total <= max, "{total} bytes in {} entries", sizes.len());
    assert!(sizes.len() > 2, "the cache still keeps entries: {sizes:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
