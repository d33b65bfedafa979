//! The test program's command line, read the way libtest reads it.
//!
//! The runner keeps the options that decide *how* tests run (capture, threads, format) and
//! forwards the ones that decide *which* tests run (filters, `--exact`, `--skip`,
//! `--ignored`) to the program's own libtest, which lists the matching tests: so selection
//! is libtest's, exactly.
//!
//! | option | handled by |
//! |---|---|
//! | filters, `--exact`, `--skip`, `--ignored`, `--include-ignored` | libtest's `--list` |
//! | `--nocapture` (`RUST_TEST_NOCAPTURE`), `--show-output` | the runner |
//! | `--test-threads N` (`RUST_TEST_THREADS`) | the runner: tests run at once |
//! | `-q`, `--quiet`, `--format pretty\|terse` | the runner's report |
//! | `--color` | accepted, ignored (no colours) |
//! | `LUNATIC_TEST_SLOW_SECS` | the runner: when a test still running is noted (default 60, libtest's) |
//! | `--list`, `--help`, `--bench`, `--format json`, `--logfile` | libtest itself, in one process |

use std::num::NonZeroUsize;

/// Which ignored tests run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IgnoredTests {
    /// None (the default): they are reported as ignored.
    Skip,
    /// Only them (`--ignored`).
    Only,
    /// Them too (`--include-ignored`).
    Include,
}

/// How the runner was asked to run the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TestArgs {
    /// The arguments that select tests, for libtest's `--list`.
    pub(crate) selection: Vec<String>,
    /// Whether each test's output is kept and shown only if it fails.
    pub(crate) capture: bool,
    /// Whether passing tests' output is shown too.
    pub(crate) show_output: bool,
    /// One character per test instead of one line.
    pub(crate) terse: bool,
    /// Most tests running at once.
    pub(crate) threads: NonZeroUsize,
    /// Which ignored tests run.
    pub(crate) ignored: IgnoredTests,
    /// The program's libtest handles this command line on its own (`--list`, `--help`...).
    pub(crate) passthrough: bool,
    /// After how long a test still running is noted ("has been running for over 60
    /// seconds", as libtest says).
    pub(crate) slow_after: std::time::Duration,
}

impl TestArgs {
    /// Reads `args` (without the program name) and the `RUST_TEST_*` variables in `env`.
    ///
    /// # Errors
    /// A value libtest would refuse too, as its sentence.
    pub(crate) fn parse(
        args: &[String],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let mut parsed = Self {
            selection: Vec::new(),
            capture: env("RUST_TEST_NOCAPTURE").is_none_or(|value| value == "0"),
            show_output: false,
            terse: false,
            threads: match env("RUST_TEST_THREADS") {
                Some(text) => threads(&text)?,
                None => std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN),
            },
            ignored: IgnoredTests::Skip,
            passthrough: false,
            slow_after: match env("LUNATIC_TEST_SLOW_SECS") {
                Some(text) => text
                    .parse()
                    .map(std::time::Duration::from_secs)
                    .map_err(|_| format!("LUNATIC_TEST_SLOW_SECS must be seconds, not `{text}`"))?,
                None => std::time::Duration::from_secs(60),
            },
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
                _ => (arg.as_str(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next().cloned())
                    .ok_or_else(|| format!("Argument to option '{}' missing", &name[2..]))
            };
            match name {
                "--nocapture" | "--no-capture" => parsed.capture = false,
                "--show-output" => parsed.show_output = true,
                "-q" | "--quiet" => parsed.terse = true,
                "--test-threads" => parsed.threads = threads(&value()?)?,
                "--color" => {
                    value()?;
                }
                "--format" => match value()?.as_str() {
                    "pretty" => parsed.terse = false,
                    "terse" => parsed.terse = true,
                    _ => parsed.passthrough = true,
                },
                "--list" | "--help" | "-h" | "--bench" | "--logfile" => parsed.passthrough = true,
                "--skip" => {
                    let skipped = value()?;
                    parsed.selection.extend(["--skip".to_owned(), skipped]);
                }
                _ => {
                    match name {
                        "--ignored" => parsed.ignored = IgnoredTests::Only,
                        "--include-ignored" => parsed.ignored = IgnoredTests::Include,
                        _ => {}
                    }
                    parsed.selection.push(arg.clone());
                }
            }
        }
        Ok(parsed)
    }
}

fn threads(text: &str) -> Result<NonZeroUsize, String> {
    text.parse()
        .map_err(|_| format!("argument for --test-threads must be a number > 0 (error: {text})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<TestArgs, String> {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        TestArgs::parse(&args, |_| None)
    }

    #[test]
    fn selection_goes_to_libtest_and_the_rest_stays() {
        let args = parse(&[
            "net",
            "--exact",
            "--skip",
            "slow",
            "--nocapture",
            "--test-threads=3",
            "-q",
            "--color",
            "never",
            "--include-ignored",
        ])
        .unwrap();
        assert_eq!(
            args.selection,
            ["net", "--exact", "--skip", "slow", "--include-ignored"]
        );
        assert!(!args.capture && args.terse && !args.passthrough);
        assert_eq!(args.threads.get(), 3);
        assert_eq!(args.ignored, IgnoredTests::Include);
    }

    #[test]
    fn libtest_keeps_what_the_runner_does_not_do() {
        for line in [
            &["--list"][..],
            &["--help"],
            &["--format", "json"],
            &["--bench"],
        ] {
            assert!(parse(line).unwrap().passthrough, "{line:?}");
        }
        assert!(parse(&["--ignored"]).unwrap().ignored == IgnoredTests::Only);
    }

    #[test]
    fn bad_values_are_libtest_errors() {
        assert!(parse(&["--test-threads", "0"]).unwrap_err().contains("> 0"));
        assert!(parse(&["--test-threads"]).unwrap_err().contains("missing"));
        let env = |key: &str| (key == "RUST_TEST_NOCAPTURE").then(|| "1".to_owned());
        assert!(!TestArgs::parse(&[], env).unwrap().capture);
    }
}
