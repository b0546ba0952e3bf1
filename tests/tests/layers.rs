//! The crate layering of docs/ARCHITECTURE.md, enforced on `cargo metadata`: a crate may depend
//! only on lower layers, pure crates never reach an async runtime or an external system (even
//! transitively), and services see adapters only through their trait crates.

use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, PackageId};
use std::collections::{BTreeSet, HashMap};

/// Crates that must never appear under a pure crate, directly or transitively.
const EXTERNAL_SYSTEMS: &[&str] = &[
    "tokio",
    "lapin",
    "aws-sdk-s3",
    "aws-config",
    "sqlx",
    "axum",
    "hyper",
    "reqwest",
    "prometheus",
];

fn layer(name: &str) -> Option<u8> {
    Some(match name {
        "platefarm-color" => 0,
        "platefarm-imaging" | "platefarm-standards" | "platefarm-core" => 1,
        "platefarm-mhl" => 2,
        // Pure ingest over the layers below (MHL verification, header readers).
        "platefarm-ingest" => 3,
        "platefarm-queue" | "platefarm-store" | "platefarm-catalog" | "platefarm-telemetry" => 4,
        // Engines: one external system each, beside the trait crate they implement.
        "platefarm-queue-amqp" | "platefarm-store-s3" => 4,
        "platefarm-dispatcher" | "platefarm-worker" => 5,
        "platefarm" => 6,
        _ => return None,
    })
}

/// Workspace crates outside the layers (test-only).
const OUTSIDE: &[&str] = &["platefarm-testkit", "platefarm-tests"];

/// Engine crates: only the binary (layer 6) may link them.
const ENGINES: &[&str] = &["platefarm-queue-amqp", "platefarm-store-s3"];

const PURE: &[&str] = &[
    "platefarm-color",
    "platefarm-imaging",
    "platefarm-standards",
    "platefarm-core",
    "platefarm-ingest",
];

fn metadata() -> Metadata {
    MetadataCommand::new()
        .manifest_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"))
        .exec()
        .expect("cargo metadata runs")
}

/// Normal (non-dev, non-build) dependency edges of the resolved graph, by package name.
fn normal_graph(meta: &Metadata) -> HashMap<String, BTreeSet<String>> {
    let names: HashMap<&PackageId, &str> = meta
        .packages
        .iter()
        .map(|p| (&p.id, p.name.as_str()))
        .collect();
    let resolve = meta.resolve.as_ref().expect("resolved graph");
    let mut graph: HashMap<String, BTreeSet<String>> = HashMap::new();
    for node in &resolve.nodes {
        let from = names[&node.id].to_string();
        let entry = graph.entry(from).or_default();
        for dep in &node.deps {
            if dep
                .dep_kinds
                .iter()
                .any(|k| k.kind == DependencyKind::Normal)
            {
                entry.insert(names[&dep.pkg].to_string());
            }
        }
    }
    graph
}

fn reachable(graph: &HashMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_string()];
    while let Some(n) = stack.pop() {
        for d in graph.get(&n).into_iter().flatten() {
            if seen.insert(d.clone()) {
                stack.push(d.clone());
            }
        }
    }
    seen
}

#[test]
fn workspace_crates_only_depend_downwards() {
    let meta = metadata();
    let graph = normal_graph(&meta);
    let mut problems = Vec::new();
    for (from, deps) in &graph {
        let Some(from_layer) = layer(from) else {
            continue;
        };
        for dep in deps {
            // An engine crate (`platefarm-queue-amqp`) implements the trait crate beside it
            // (`platefarm-queue`) in the same layer, as ripgrep's engines sit beside the searcher.
            let implements =
                ENGINES.contains(&from.as_str()) && from.starts_with(&format!("{dep}-"));
            if let Some(dep_layer) = layer(dep) {
                if dep_layer >= from_layer && from != dep && !implements {
                    problems.push(format!(
                        "{from} (layer {from_layer}) depends on {dep} (layer {dep_layer})"
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "forbidden edges:\n{}",
        problems.join("\n")
    );
}

#[test]
fn pure_crates_reach_no_runtime_or_external_system() {
    let meta = metadata();
    let graph = normal_graph(&meta);
    for pure in PURE {
        let reach = reachable(&graph, pure);
        let bad: Vec<&&str> = EXTERNAL_SYSTEMS
            .iter()
            .filter(|e| reach.contains(**e))
            .collect();
        assert!(bad.is_empty(), "{pure} reaches {bad:?}");
    }
}

#[test]
fn every_workspace_crate_has_a_layer() {
    let meta = metadata();
    let unknown: Vec<&str> = meta
        .workspace_packages()
        .iter()
        .map(|p| p.name.as_str())
        .filter(|n| layer(n).is_none() && !OUTSIDE.contains(n))
        .collect();
    assert!(
        unknown.is_empty(),
        "crates with no layer (add them to layer() here and to docs/ARCHITECTURE.md): {unknown:?}"
    );
}

#[test]
fn the_worker_sees_adapters_only_through_traits() {
    let meta = metadata();
    let graph = normal_graph(&meta);
    // Transitively: not through any crate in between either.
    let worker = reachable(&graph, "platefarm-worker");
    for forbidden in [
        "lapin",
        "platefarm-queue-amqp",
        "platefarm-store-s3",
        "aws-sdk-s3",
        "aws-config",
        "sqlx",
        "platefarm-catalog",
        "platefarm-dispatcher",
    ] {
        assert!(
            !worker.contains(forbidden),
            "platefarm-worker reaches {forbidden}"
        );
    }
    for service in [
        "platefarm-dispatcher",
        "platefarm-worker",
        "platefarm-catalog",
    ] {
        let reach = reachable(&graph, service);
        for engine in ENGINES.iter().chain(&["lapin", "aws-sdk-s3", "aws-config"]) {
            assert!(
                !reach.contains(*engine),
                "{service} reaches {engine}: services link traits, the binary picks engines"
            );
        }
    }
    assert!(
        !graph["platefarm-dispatcher"].contains("platefarm-worker"),
        "services do not depend on each other"
    );
}

#[test]
fn the_default_build_has_no_copyleft_licence() {
    let meta = metadata();
    let graph = normal_graph(&meta);
    let reach = reachable(&graph, "platefarm");
    let mut problems = Vec::new();
    for p in meta
        .packages
        .iter()
        .filter(|p| reach.contains(p.name.as_str()))
    {
        let licence = p.license.clone().unwrap_or_default();
        // "A OR B" lets us pick the permissive one; only a copyleft-only expression is a problem.
        let copyleft_only = licence.split(" OR ").all(|alt| {
            ["GPL", "LGPL", "AGPL", "MPL", "EUPL", "CDDL"]
                .iter()
                .any(|c| alt.contains(c))
        });
        if licence.is_empty() || copyleft_only {
            problems.push(format!("{} {}: {licence:?}", p.name, p.version));
        }
    }
    assert!(
        problems.is_empty(),
        "copyleft or unlicensed dependencies:\n{}",
        problems.join("\n")
    );
}
