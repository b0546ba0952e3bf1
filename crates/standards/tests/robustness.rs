//! A corpus run on stable Rust: the FDL, AMF and MHL-XML parsers (the fuzz targets' code paths)
//! over thousands of mutations of the reference documents — truncations, byte flips, inserted
//! and duplicated bytes. Every input must give a value or an error, never a panic.

use platefarm_standards::{amf::Amf, fdl_template::apply_template, xml::parse_xml, Fdl};

use platefarm_testkit::Rng;

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    platefarm_testkit::mutate(rng, input, 4, b"{}[]<>\"\\:,0-9")
}

fn corpus(sub: &str, ext: &str) -> Vec<Vec<u8>> {
    let dir = platefarm_testkit::vectors_dir().join(sub);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
        .into_iter()
        .take(12)
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

#[test]
fn parsers_survive_a_mutation_corpus() {
    let mut rng = Rng(0x5EED_F00D);
    let mut runs = 0;
    let mut accepted = 0;
    for seed in corpus("fdl/sources", "fdl")
        .iter()
        .chain(&corpus("fdl/templates", "fdl"))
    {
        for _ in 0..150 {
            let m = mutate(&mut rng, seed);
            if let Ok(text) = std::str::from_utf8(&m) {
                if let Ok(fdl) = Fdl::parse(text) {
                    accepted += 1;
                    let _ = fdl.framing(None, None, None);
                    let _ = apply_template(&fdl, None, None, None, &fdl, None);
                }
            }
            runs += 1;
        }
    }
    for seed in corpus("amf/examples", "amf") {
        for _ in 0..300 {
            let m = mutate(&mut rng, &seed);
            if let Ok(text) = std::str::from_utf8(&m) {
                if let Ok(a) = Amf::parse(text) {
                    accepted += 1;
                    let _ = a.resolve();
                }
            }
            runs += 1;
        }
    }
    let mhl = platefarm_testkit::vectors_dir().join("mhl/scenario_02_file_server_A002R2EC/ascmhl");
    for name in [
        "ascmhl_chain.xml",
        "0001_A002R2EC_2020-01-16_091500Z.mhl",
        "0002_A002R2EC_2020-01-17_143000Z.mhl",
    ] {
        let seed = std::fs::read(mhl.join(name)).unwrap();
        for _ in 0..400 {
            let m = mutate(&mut rng, &seed);
            if let Ok(text) = std::str::from_utf8(&m) {
                if parse_xml(text).is_ok() {
                    accepted += 1;
                }
            }
            runs += 1;
        }
    }
    println!("{runs} mutated inputs, {accepted} still parsed");
    assert_eq!(runs, 7_800);
    assert!(accepted < runs, "mutations must break some documents");
}
