//! Portable transcendental functions for sampling latency distributions.
//!
//! `f64::ln` and `f64::exp` call the platform's libm, whose last-bit results differ between
//! C libraries and CPUs. A run must give the same trace hash on every machine, so the samplers
//! use these versions instead, built only from IEEE-754 basic operations (+, −, ×, ÷, which are
//! correctly rounded everywhere) with a fixed evaluation order.

const LN_2: f64 = std::f64::consts::LN_2;

/// The coefficients `1/3, 1/5, …, 1/21` of `atanh(s)/s − 1 = s²/3 + s⁴/5 + …`, each the
/// correctly rounded quotient (evaluated at compile time with IEEE division, so the same bits
/// everywhere).
const ATANH_COEFFS: [f64; 10] = {
    let mut c = [0.0; 10];
    let mut i = 0;
    while i < 10 {
        c[i] = 1.0 / (2 * i + 3) as f64;
        i += 1;
    }
    c
};

/// Natural logarithm of a positive finite `x`, to within a few ulps: `|ln(x) − f64::ln(x)| ≤
/// 2⁻⁵⁰·|ln x|` (four ulps of the result; `ln(1) = 0` exactly), which `ln_error_bound` checks
/// over every binade, around 1 and on random inputs (the worst seen is about two ulps).
///
/// `x = m·2^e` with `m` in [√½, √2), and `ln m = 2·atanh(s)`, `s = (m − 1)/(m + 1)`, `|s| <
/// 0.1716`. The series `atanh(s) = s·(1 + s²/3 + s⁴/5 + …)` is cut after `s²⁰/21`: the first
/// term left out is below `0.0295¹¹/23 < 2⁻⁶⁰` of the sum. It is summed by Horner's rule with
/// the reciprocals precomputed: one division per call instead of one for each of twenty
/// terms. The result may differ from the earlier term-by-term sum in the last bit or two, far
/// below the nanosecond a latency draw is rounded to: no pinned trace hash changed.
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
    ln_of_bits(bits, e_adjust)
}

/// [`ln`] of a draw of [`SimRng::unit_open`](crate::SimRng::unit_open), which lies in
/// `[2⁻⁵⁴, 1]` (the largest draw, `(2⁵³ − ½)·2⁻⁵³`, rounds to 1): a normal number, so neither
/// the domain check nor the subnormal scaling applies, and the result is the same bits as
/// `ln`'s (the samplers call it once a message).
#[inline]
pub(crate) fn ln_unit_open(x: f64) -> f64 {
    debug_assert!(
        (f64::MIN_POSITIVE..=1.0).contains(&x),
        "ln_unit_open of {x}"
    );
    ln_of_bits(x.to_bits(), 0)
}

/// `ln` of the normal number whose bits are `bits`, times `2^e_adjust`.
#[inline(always)]
fn ln_of_bits(bits: u64, e_adjust: i64) -> f64 {
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023 + e_adjust;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    // Centre m on 1 so the series converges fast: m in [√½, √2).
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let c = &ATANH_COEFFS;
    let p = c[0]
        + s2 * (c[1]
            + s2 * (c[2]
                + s2 * (c[3]
                    + s2 * (c[4]
                        + s2 * (c[5] + s2 * (c[6] + s2 * (c[7] + s2 * (c[8] + s2 * c[9]))))))));
    let two_s = 2.0 * s;
    two_s + two_s * (s2 * p) + (e as f64) * LN_2
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

    #[test]
    fn ln_unit_open_is_ln_bit_for_bit_on_every_draw_of_unit_open() {
        // The extremes of `unit_open` ((k + 0.5)·2⁻⁵³ for k in 0..2⁵³), every binade's ends,
        // and random draws.
        let step = 1.0 / (1u64 << 53) as f64;
        let mut xs = vec![0.5 * step, 1.5 * step, 1.0 - 0.5 * step, 0.5, 0.75];
        for e in 1..54 {
            let b = (2.0f64).powi(-e);
            xs.extend([
                b,
                b * (1.0 + f64::EPSILON),
                b * 1.999_999,
                b * std::f64::consts::SQRT_2,
            ]);
        }
        let mut rng = crate::SimRng::new(7, crate::rng::StreamLabel::Custom(7));
        xs.extend((0..100_000).map(|_| rng.unit_open()));
        for x in xs {
            assert_eq!(ln_unit_open(x).to_bits(), ln(x).to_bits(), "ln of {x}");
        }
    }

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

    /// The bound `ln`'s documentation states: `|ln(x) − f64::ln(x)| ≤ 2⁻⁵⁰·|f64::ln(x)|` (four
    /// ulps of the result, of which `f64::ln` — glibc's, correctly rounded in practice — may
    /// take one), and `ln(1) = 0` exactly.
    fn within_bound(x: f64) -> bool {
        let (got, want) = (ln(x), x.ln());
        (got - want).abs() <= want.abs() * (1.0 / (1u64 << 50) as f64)
    }

    #[test]
    fn ln_error_bound() {
        assert_eq!(ln(1.0), 0.0);
        // Every binade's edges and the centring threshold, where m is reduced by half.
        let mut xs = vec![
            f64::MIN_POSITIVE,
            f64::MAX,
            5e-324,
            2.0f64.sqrt(),
            0.5f64.sqrt(),
        ];
        for e in -1074..1024 {
            let p = 2.0f64.powi(e);
            xs.extend([p, p * (1.0 + f64::EPSILON), p * (2.0 - f64::EPSILON)]);
        }
        // The neighbourhood of 1 (where the result is small and relative error shows).
        let one = 1.0f64.to_bits();
        xs.extend(
            (1..20_000u64)
                .flat_map(|d| [f64::from_bits(one + d * 997), f64::from_bits(one - d * 499)]),
        );
        // Random finite positive bit patterns, and the samplers' inputs `unit_open` draws.
        let mut rng = crate::rng::SimRng::new(7, crate::rng::StreamLabel::Custom(1));
        for _ in 0..400_000 {
            let x = f64::from_bits(rng.next_u64() >> 1);
            if x > 0.0 && x.is_finite() {
                xs.push(x);
            }
            xs.push(rng.unit_open());
        }
        for x in xs.into_iter().filter(|x| *x > 0.0 && x.is_finite()) {
            assert!(within_bound(x), "ln({x:e}) = {:e} vs {:e}", ln(x), x.ln());
        }
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
