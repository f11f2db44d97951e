//! The roofline's shape against measured linear-layer times: Vidur's
//! profile of Meta-Llama-3-8B on an A100 (MIT; `tests/data/vidur/`, source
//! and commit in its README). Per layer, the four linear layers (QKV,
//! output projection, gated MLP up, MLP down) hold
//! `4096 x (4096 + 2 x 1024) + 4096 x 4096 + 3 x 4096 x 14336 = 218.1 M`
//! parameters; the roofline times one layer's linear work on `T` tokens as
//! `max(bytes / (bandwidth x memory_eff), 2 params T / (FLOP/s x compute_eff))`
//! with the A100's data sheet (312 TFLOP/s dense BF16, 2039 GB/s) and the
//! efficiency factors fitted on the RTX PRO 6000 vLLM capture
//! ([`Efficiency::FITTED`]). Measured: the flat level (median of the
//! times at up to 32 tokens), the compute slope (least squares through the
//! origin over `T >= 4096`), and the knee where the compute line reaches
//! the flat level (the roofline's own definition of its knee).

use sysdes_models::Efficiency;

/// (tokens, milliseconds of the four linear layers of one layer).
fn profile() -> Vec<(f64, f64)> {
    let path = format!(
        "{}/../../tests/data/vidur/a100-Meta-Llama-3-8B-mlp-tp1.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Vec<f64> = l
                .split(',')
                .map(|x| x.parse().unwrap_or_else(|e| panic!("{x}: {e}")))
                .collect();
            (v[0], v[1..].iter().sum())
        })
        .collect()
}

const PARAMS_PER_LAYER: f64 =
    4096.0 * (4096.0 + 2.0 * 1024.0) + 4096.0 * 4096.0 + 3.0 * 4096.0 * 14336.0;
const A100_FLOPS: f64 = 312e12;
const A100_BYTES_PER_S: f64 = 2039e9;

#[test]
fn roofline_matches_the_measured_knee_and_slope() {
    let rows = profile();
    assert_eq!(rows.len(), 456);
    // Measured flat level and compute slope.
    let mut small: Vec<f64> = rows.iter().filter(|r| r.0 <= 32.0).map(|r| r.1).collect();
    small.sort_by(f64::total_cmp);
    let flat = small[small.len() / 2];
    let big: Vec<&(f64, f64)> = rows.iter().filter(|r| r.0 >= 4096.0).collect();
    // Compute-bound: a line through the origin (time proportional to
    // tokens), least squares; the knee is where it reaches the flat level,
    // as the roofline's is.
    let slope =
        big.iter().map(|r| r.0 * r.1).sum::<f64>() / big.iter().map(|r| r.0 * r.0).sum::<f64>();
    let knee = flat / slope;
    // The roofline's.
    let e = Efficiency::FITTED;
    let r_flat = PARAMS_PER_LAYER * 2.0 / (A100_BYTES_PER_S * e.memory) * 1e3;
    let r_slope = 2.0 * PARAMS_PER_LAYER / (A100_FLOPS * e.compute) * 1e3;
    let r_knee = r_flat / r_slope;
    println!(
        "measured: flat {flat:.4} ms, slope {:.4} us/token, knee {knee:.0} tokens\nroofline: flat {r_flat:.4} ms, slope {:.4} us/token, knee {r_knee:.0} tokens\nerrors: flat {:+.1} %, slope {:+.1} %, knee {:+.1} %",
        slope * 1e3,
        r_slope * 1e3,
        (r_flat / flat - 1.0) * 100.0,
        (r_slope / slope - 1.0) * 100.0,
        (r_knee / knee - 1.0) * 100.0,
    );
    // The shape the issue states: flat to about 128-256 tokens, then
    // compute-bound (linear in tokens).
    assert!((100.0..=256.0).contains(&knee), "measured knee {knee}");
    assert!((128.0..=256.0).contains(&r_knee), "roofline knee {r_knee}");
    let at = |t: f64| rows.iter().find(|r| r.0 >= t).expect("row").1;
    assert!(at(64.0) / at(1.0) < 1.4, "not flat below the knee");
    assert!(at(8192.0) / at(4096.0) > 1.8, "not linear above the knee");
    // Regression guards, not accuracy claims: measured on this slice (see
    // docs/llm-serving.md) the slope is -26.6 % (the fitted factors
    // overstate this A100's compute rate), the flat level +6.9 % and the
    // knee +46 % (219 derived vs 150 measured); the bounds sit above those
    // errors so a change that worsens the shape fails.
    assert!((r_slope / slope - 1.0).abs() < 0.35);
    assert!((r_flat / flat - 1.0).abs() < 0.2);
    assert!((r_knee / knee - 1.0).abs() < 0.6);
}
