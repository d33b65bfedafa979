//! What the test runner prints: libtest's format, line for line, so cargo, CI systems and
//! people read it as they read `cargo test` of a native crate.
//!
//! ```text
//!
//! running 3 tests
//! test tests::adds ... ok
//! test tests::slow ... ignored
//! test tests::fails ... FAILED
//!
//! failures:
//!
//! ---- tests::fails stdout ----
//! <everything the test's processes printed, and how they died>
//!
//! failures:
//!     tests::fails
//!
//! test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.02s
//!
//! ```

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

/// Marks on one line of the terse report before libtest breaks it with a count.
const TERSE_LINE: usize = 88;

/// How one test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// It passed; what it printed.
    Passed(String),
    /// It failed; what it printed and why it failed.
    Failed(String),
    /// It was not run.
    Ignored,
}

/// Prints results as they come and the summary at the end.
#[derive(Debug)]
pub(crate) struct Report {
    terse: bool,
    show_output: bool,
    total: usize,
    done: usize,
    passed: Vec<(String, String)>,
    failed: Vec<(String, String)>,
    ignored: usize,
}

impl Report {
    /// Starts a report of `total` tests: prints libtest's `running N tests` line.
    pub(crate) fn start(total: usize, terse: bool, show_output: bool) -> Self {
        let plural = if total == 1 { "" } else { "s" };
        print_now(&format!("\nrunning {total} test{plural}\n"));
        Self {
            terse,
            show_output,
            total,
            done: 0,
            passed: Vec::new(),
            failed: Vec::new(),
            ignored: 0,
        }
    }

    /// Records and prints the end of test `name`.
    pub(crate) fn record(&mut self, name: String, outcome: Outcome) {
        self.done += 1;
        let (word, mark) = match &outcome {
            Outcome::Passed(_) => ("ok", '.'),
            Outcome::Failed(_) => ("FAILED", 'F'),
            Outcome::Ignored => ("ignored", 'i'),
        };
        if self.terse {
            let mut text = mark.to_string();
            if self.done.is_multiple_of(TERSE_LINE) {
                let _ = writeln!(text, " {}/{}", self.done, self.total);
            }
            print_now(&text);
        } else {
            print_now(&format!("test {name} ... {word}\n"));
        }
        match outcome {
            Outcome::Passed(output) => self.passed.push((name, output)),
            Outcome::Failed(output) => self.failed.push((name, output)),
            Outcome::Ignored => self.ignored += 1,
        }
    }

    /// Prints the failures (and with `--show-output` the successes) and the summary line.
    /// Returns whether every test that ran passed.
    pub(crate) fn finish(mut self, filtered_out: usize, elapsed: Duration) -> bool {
        let mut text = String::new();
        let sections = !self.failed.is_empty() || (self.show_output && !self.passed.is_empty());
        // The marks' line ends here; the summary starts on a line of its own.
        if self.terse && !self.done.is_multiple_of(TERSE_LINE) && sections {
            text.push('\n');
        }
        self.passed.sort();
        self.failed.sort();
        if self.show_output {
            section(&mut text, "successes", &self.passed);
        }
        section(&mut text, "failures", &self.failed);
        let ok = self.failed.is_empty();
        let _ = write!(
            text,
            "\ntest result: {}. {} passed; {} failed; {} ignored; 0 measured; {filtered_out} \
             filtered out; finished in {:.2}s\n\n",
            if ok { "ok" } else { "FAILED" },
            self.passed.len(),
            self.failed.len(),
            self.ignored,
            elapsed.as_secs_f64()
        );
        print_now(&text);
        ok
    }
}

/// libtest's `failures:` (or `successes:`) block: each test's output, then the names.
fn section(text: &mut String, title: &str, tests: &[(String, String)]) {
    let shown: Vec<_> = tests
        .iter()
        .filter(|(_, output)| !output.is_empty())
        .collect();
    if tests.is_empty() || (title == "successes" && shown.is_empty()) {
        return;
    }
    let _ = writeln!(text, "\n{title}:\n");
    for (name, output) in shown {
        let _ = write!(text, "---- {name} stdout ----\n{output}");
        if !output.ends_with('\n') {
            text.push('\n');
        }
        text.push('\n');
    }
    let _ = writeln!(text, "\n{title}:");
    for (name, _) in tests {
        let _ = writeln!(text, "    {name}");
    }
}

fn print_now(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_list_their_output_then_their_names() {
        let mut text = String::new();
        let tests = [
            ("a".to_owned(), "boom\n".to_owned()),
            ("b".to_owned(), String::new()),
        ];
        section(&mut text, "failures", &tests);
        assert_eq!(
            text,
            "\nfailures:\n\n---- a stdout ----\nboom\n\n\nfailures:\n    a\n    b\n"
        );
        let mut none = String::new();
        section(&mut none, "successes", &[("c".to_owned(), String::new())]);
        assert!(none.is_empty());
    }
}
