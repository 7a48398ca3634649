//! A hand-rolled progress bar on stderr: `\r[#########           ]  45% products 900/2000`.

use std::io::Write as _;

const WIDTH: usize = 30;

pub struct Progress {
    enabled: bool,
    last: Option<(&'static str, usize)>,
}

impl Progress {
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            last: None,
        }
    }

    /// Shows `done` of `total` for `stage`; redraws only when the whole percentage changes.
    pub fn show(&mut self, stage: &'static str, done: usize, total: usize) {
        if !self.enabled {
            return;
        }
        let percent = (done * 100).checked_div(total).unwrap_or(100).min(100);
        if self.last == Some((stage, percent)) {
            return;
        }
        if self.last.is_some_and(|(s, _)| s != stage) {
            eprintln!();
        }
        self.last = Some((stage, percent));
        let filled = percent * WIDTH / 100;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{}{}] {percent:>3}% {stage} {done}/{total}",
            "#".repeat(filled),
            " ".repeat(WIDTH - filled)
        );
        let _ = err.flush();
    }

    pub fn finish(&mut self) {
        if self.enabled && self.last.is_some() {
            eprintln!();
        }
        self.last = None;
    }
}
