//! Wall time per stage of `cargo xtask reproduce`.

/// Wall time of each reproduce stage, printed as each one ends and summed up at the end,
/// so a user sees where the time goes (training, γ tuning, evaluation).
pub(crate) struct StageClock {
    total: usize,
    current: Option<(usize, &'static str, std::time::Instant)>,
    done: Vec<(usize, &'static str, f64)>,
}

impl StageClock {
    pub(crate) fn new(total: usize) -> Self {
        Self { total, current: None, done: Vec::new() }
    }

    /// Ends the running stage (if any) and starts stage `i`.
    pub(crate) fn begin(&mut self, i: usize, name: &'static str) {
        self.end();
        println!("-- stage {i}/{}: {name}", self.total);
        self.current = Some((i, name, std::time::Instant::now()));
    }

    fn end(&mut self) {
        if let Some((i, name, t)) = self.current.take() {
            let secs = t.elapsed().as_secs_f64();
            println!("-- stage {i}/{} took {secs:.1} s", self.total);
            self.done.push((i, name, secs));
        }
    }

    /// Ends the last stage and prints every stage's time.
    pub(crate) fn finish(&mut self) {
        self.end();
        println!("-- time per stage:");
        for (i, name, secs) in &self.done {
            println!("   {i}. {name}: {secs:.1} s");
        }
    }
}
