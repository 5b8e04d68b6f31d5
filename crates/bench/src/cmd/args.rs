//! Value parsers for numeric arguments, so that a value that would give a meaningless
//! result is refused when the command line is parsed, with a message that says why.
//!
//! Use them as `#[arg(long, value_parser = args::positive)]`; clap prints
//! `invalid value '0' for '--batch-size <BATCH_SIZE>': <the message>`.

/// A whole number of at least 1 (sizes, counts, limits).
pub fn positive(s: &str) -> Result<usize, String> {
    let n = whole(s)?;
    if n == 0 {
        return Err("must be at least 1 (0 would leave nothing to compute)".into());
    }
    Ok(n)
}

/// TIGER's warm-up steps: at least 1, since 0 is read as "the default".
pub fn warmup_steps(s: &str) -> Result<usize, String> {
    match whole(s)? {
        0 => Err("must be at least 1: 0 is read as the default (5 % of all steps); 1 starts at the peak rate, i.e. no warm-up".into()),
        n => Ok(n),
    }
}

/// A whole number of at least 0.
pub fn whole(s: &str) -> Result<usize, String> {
    s.trim().parse().map_err(|_| format!("`{s}` is not a whole number >= 0"))
}

/// A number: finite (not NaN or ±inf).
pub fn finite_f64(s: &str) -> Result<f64, String> {
    let x: f64 = s.trim().parse().map_err(|_| format!("`{s}` is not a number"))?;
    if !x.is_finite() {
        return Err(format!("must be a finite number, not {x}"));
    }
    Ok(x)
}

/// A finite number as `f32` (a γ threshold, a weight).
pub fn finite_f32(s: &str) -> Result<f32, String> {
    let x = finite_f64(s)?;
    let y = x as f32;
    if !y.is_finite() {
        return Err(format!("{x} is out of range"));
    }
    Ok(y)
}

/// A finite number > 0 (a learning rate).
pub fn positive_f64(s: &str) -> Result<f64, String> {
    let x = finite_f64(s)?;
    if x <= 0.0 {
        return Err("must be greater than 0".into());
    }
    Ok(x)
}

/// A finite number >= 0 (a weight decay, minutes).
pub fn non_negative_f64(s: &str) -> Result<f64, String> {
    let x = finite_f64(s)?;
    if x < 0.0 {
        return Err("must be 0 or more".into());
    }
    Ok(x)
}

/// A share in [0, 1] (TIGER_C's ε).
pub fn unit_f64(s: &str) -> Result<f64, String> {
    let x = finite_f64(s)?;
    if !(0.0..=1.0).contains(&x) {
        return Err("must be between 0 and 1".into());
    }
    Ok(x)
}

/// A weight in [0, 1], as `f32` (the score-based ensemble's weight).
pub fn unit_f32(s: &str) -> Result<f32, String> {
    unit_f64(s).map(|x| x as f32)
}

/// A probability in [0, 1) (dropout: 1 would drop everything).
pub fn dropout(s: &str) -> Result<f64, String> {
    let x = finite_f64(s)?;
    if !(0.0..1.0).contains(&x) {
        return Err("must be in [0, 1) (1 would drop every activation)".into());
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers_accept_the_range_and_refuse_the_rest() {
        assert_eq!(positive("3"), Ok(3));
        assert!(positive("0").unwrap_err().contains("at least 1"));
        assert!(positive("-1").is_err() && positive("x").is_err());
        assert_eq!(whole("0"), Ok(0));
        for bad in ["inf", "-inf", "NaN", "1e999"] {
            assert!(finite_f32(bad).unwrap_err().contains("finite"), "{bad}");
        }
        assert!(finite_f32("1e39").unwrap_err().contains("out of range"));
        assert_eq!(finite_f32("-2.5"), Ok(-2.5));
        assert!(unit_f64("1.5").is_err() && unit_f64("-0.1").is_err() && unit_f64("1").is_ok());
        assert!(positive_f64("0").is_err() && non_negative_f64("-1").is_err() && non_negative_f64("0").is_ok());
        assert!(dropout("1").is_err() && dropout("0.1").is_ok());
    }
}
