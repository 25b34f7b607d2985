//! Portable transcendental functions for sampling latency distributions.
//!
//! `f64::ln` and `f64::exp` call the platform's libm, whose last-bit results differ between
//! C libraries and CPUs. A run must give the same trace hash on every machine, so the samplers
//! use these versions instead, built only from IEEE-754 basic operations (+, −, ×, ÷, which are
//! correctly rounded everywhere) with a fixed evaluation order.

const LN_2: f64 = std::f64::consts::LN_2;

/// Natural logarithm of a positive finite `x`, to within a few ulps.
pub fn ln(x: f64) -> f64 {
    if !(x > 0.0 && x.is_finite()) {
        out_of_domain("ln", x);
    }
    // Split x = m · 2^e with m in [1, 2), handling subnormals by pre-scaling.
    let (mut bits, mut e_adjust) = (x.to_bits(), 0i64);
    if (bits >> 52) & 0x7ff == 0 {
        bits = (x * (1u64 << 54) as f64).to_bits();
        e_adjust = -54;
    }
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023 + e_adjust;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    // Centre m on 1 so the series converges fast: m in [√½, √2).
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    // ln(m) = 2·atanh(s), s = (m − 1)/(m + 1), |s| < 0.172.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    let mut k = 1.0;
    while k < 40.0 {
        sum += term / k;
        term *= s2;
        k += 2.0;
    }
    2.0 * sum + (e as f64) * LN_2
}

/// The panic of a function called outside its domain, kept out of the callers' hot path.
#[cold]
#[inline(never)]
fn out_of_domain(name: &str, x: f64) -> ! {
    panic!("{name} of {x}")
}

/// e^x for finite `x`; underflows to 0 below about −745 and saturates to infinity above 709.
pub fn exp(x: f64) -> f64 {
    assert!(x.is_finite(), "exp of {x}");
    if x < -745.0 {
        return 0.0;
    }
    if x > 709.0 {
        return f64::INFINITY;
    }
    // x = k·ln2 + r, |r| ≤ ln2/2; e^x = 2^k · e^r.
    let k = (x / LN_2 + if x < 0.0 { -0.5 } else { 0.5 }) as i64;
    let r = x - (k as f64) * LN_2;
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 1..24 {
        term *= r / n as f64;
        sum += term;
    }
    // Multiply by 2^k in two steps so that neither factor overflows or underflows early.
    let half = k / 2;
    sum * pow2(half) * pow2(k - half)
}

fn pow2(k: i64) -> f64 {
    if k < -1022 {
        return f64::from_bits(1u64 << (k + 1074).max(0));
    }
    f64::from_bits(((k + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-13 * b.abs().max(1e-300)
    }

    #[test]
    fn ln_matches_std() {
        for &x in &[
            1e-300, 1e-10, 0.001, 0.5, 0.999, 1.0, 1.5, 2.0, 10.0, 12345.678, 1e300,
        ] {
            assert!(
                close(ln(x), x.ln()) || (x == 1.0 && ln(x) == 0.0),
                "ln({x}) = {} vs {}",
                ln(x),
                x.ln()
            );
        }
        assert!(close(ln(5e-320), 5e-320f64.ln()));
    }

    #[test]
    fn exp_matches_std() {
        for &x in &[
            -700.0, -20.0, -1.0, -1e-9, 0.0, 1e-9, 0.5, 1.0, 3.3, 50.0, 700.0,
        ] {
            assert!(
                close(exp(x), x.exp()),
                "exp({x}) = {} vs {}",
                exp(x),
                x.exp()
            );
        }
    }
}
