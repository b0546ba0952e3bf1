//! The benchmark command works and its plate agrees with oiiotool's (correctness only: speed
//! is reported by `platefarm bench`, never asserted).

#[test]
fn bench_plate_matches_oiiotool_within_half_float_precision() {
    let dir = platefarm_testkit::scratch();
    let oiiotool = platefarm_testkit::venv_tool("oiiotool");
    let report = platefarm::bench::run(dir.path(), 1, Some(&oiiotool)).unwrap();
    let diff = report.max_rel_diff.unwrap();
    assert!(diff <= 1e-3, "plate differs from oiiotool's by {diff:.2e}");
    assert!(report.ours_fps > 0.0 && report.oiiotool_fps.unwrap() > 0.0);
    assert!(report.stages.total() > std::time::Duration::ZERO);
}
