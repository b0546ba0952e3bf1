//! AMF parsing and resolution: every example parses, ACES 1.x and 2.0 input transforms resolve
//! to the studio-config colour spaces, malformed files name the element that is wrong.

use platefarm_standards::amf::{Amf, AmfError, Look};

fn example(name: &str) -> String {
    std::fs::read_to_string(
        platefarm_testkit::vectors_dir()
            .join("amf/examples")
            .join(name),
    )
    .unwrap()
}

#[test]
fn every_example_parses() {
    let dir = platefarm_testkit::vectors_dir().join("amf/examples");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let amf = Amf::parse(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(amf.uuid.starts_with("urn:uuid:"), "{}", path.display());
        n += 1;
    }
    assert_eq!(n, 10);
}

#[test]
fn input_transforms_resolve_to_colour_spaces() {
    for (file, space) in [
        ("idt_ARRI_LogC4__odt_Rec709_100nits_dim.amf", "ARRI LogC4"),
        (
            "idt_Alexa_v3_logC_EI800__odt_Rec709_100nits_dim.amf",
            "ARRI LogC3 (EI800)",
        ),
        (
            "idt_LogC3_to_ACES__odt_Rec709_D65_100nit_in_Rec709_D65_BT1886.amf",
            "ARRI LogC3 (EI800)",
        ),
        (
            "idt_LogC4_to_ACES__odt_Rec709_D65_100nit_in_Rec709_D65_BT1886.amf",
            "ARRI LogC4",
        ),
    ] {
        let r = Amf::parse(&example(file))
            .unwrap()
            .resolve()
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(r.input.as_deref(), Some(space), "{file}");
        assert!(
            r.output.as_deref().unwrap_or("").contains("709"),
            "{file}: {:?}",
            r.output
        );
    }
}

#[test]
fn vendor_transforms_outside_the_registry_are_clear_errors() {
    let mut unsupported = 0;
    for name in [
        "example1.amf",
        "example2.amf",
        "example3.amf",
        "example4.amf",
        "example5.amf",
        "exampleMinimum.amf",
    ] {
        if let Err(e) = Amf::parse(&example(name)).unwrap().resolve() {
            let msg = e.to_string();
            assert!(
                msg.contains("urn:ampas:aces:transformId") && msg.contains("not supported"),
                "{msg}"
            );
            unsupported += 1;
        }
    }
    assert!(
        unsupported >= 1,
        "the Acme examples use transforms no registry knows"
    );
}

#[test]
fn cdl_looks_are_read() {
    let amfs: Vec<Amf> = [
        "example1.amf",
        "example2.amf",
        "example3.amf",
        "example4.amf",
        "example5.amf",
    ]
    .iter()
    .map(|f| Amf::parse(&example(f)).unwrap())
    .collect();
    assert!(
        amfs.iter()
            .flat_map(|a| &a.looks)
            .any(|l| matches!(l, Look::Cdl { .. })),
        "some example has a CDL look"
    );
}

#[test]
fn malformed_amfs_name_the_element() {
    let good = example("idt_LogC4_to_ACES__odt_Rec709_D65_100nit_in_Rec709_D65_BT1886.amf");
    let cases: Vec<(String, &str)> = vec![
        (good.replace("</aces:pipeline>", ""), "not well-formed"),
        (
            good.replace("<aces:uuid>urn:uuid:", "<aces:uuid>urn:uuid:zz"),
            "amfInfo/uuid",
        ),
        (
            good.replace("version=\"2.0\"", "version=\"3.1\""),
            "@version",
        ),
        (
            good.replace(
                "urn:ampas:aces:transformId:v2.0:CSC.Arri.LogC4_to_ACES.a2.v1",
                "LogC4ish",
            ),
            "neither a transformId URN nor in the ACES registry",
        ),
        (
            good.replace("aces:acesMetadataFile", "aces:somethingElse"),
            "expected <acesMetadataFile>",
        ),
        (
            good.split("<aces:pipeline>").next().unwrap().to_string() + "</aces:acesMetadataFile>",
            "pipeline: missing",
        ),
    ];
    for (text, fragment) in cases {
        let err = Amf::parse(&text).unwrap_err();
        assert!(err.to_string().contains(fragment), "{fragment}: {err}");
    }
    assert!(matches!(Amf::parse(""), Err(AmfError::Xml(_))));
}

#[test]
fn delivery_amfs_mark_the_input_applied_and_reparse() {
    use platefarm_standards::amf::write_delivery_amf;
    for file in [
        "example3.amf",
        "idt_LogC3_to_ACES__odt_Rec709_D65_100nit_in_Rec709_D65_BT1886.amf",
    ] {
        let src = Amf::parse(&example(file)).unwrap();
        let text = write_delivery_amf(
            &src,
            "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
            "A001C003",
            "2026-11-25T10:00:00Z",
        );
        let out = Amf::parse(&text).unwrap_or_else(|e| panic!("{file}: {e}\n{text}"));
        assert_eq!(out.uuid, "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427");
        assert_eq!(out.clip_name.as_deref(), Some("A001C003"));
        assert_eq!(
            out.input_transform.as_ref().map(|t| (t.0.as_str(), t.1)),
            src.input_transform.as_ref().map(|t| (t.0.as_str(), true))
        );
        assert_eq!(out.looks.len(), src.looks.len(), "{file}");
        assert_eq!(
            out.output_transform.as_ref().map(|t| &t.0),
            src.output_transform.as_ref().map(|t| &t.0)
        );
    }
}
