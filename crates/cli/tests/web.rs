//! The web page in a real browser: `platefarm serve --embedded` (no services) with a sample
//! turnover and the generated footage folder in its store; headless Chromium driven by
//! Playwright (`tests/browser/ui.mjs`) gives a wrong token then the right one, submits the
//! turnover file, watches it complete live, opens its shots and contact sheet; submits it again
//! with an input frame broken, sees the failed chunk with its reason, restores the frame and
//! completes it with Retry failed; ingests the footage and finds a clip by reel and timecode. What the page showed is checked here against
//! the API and the generator's records; the screenshots are PNGs (docs/web.md shows one).
//! scripts/test.sh installs Chromium and playwright-core.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "web-test-token";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_platefarm")
}

fn node_prefix() -> PathBuf {
    std::env::var_os("PLATEFARM_NODE_PREFIX")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cache/platefarm/node")
        })
}

fn chromium() -> PathBuf {
    std::env::var_os("PLATEFARM_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Stops the server with SIGTERM when the test ends, however it ends.
struct Server {
    child: Child,
    addr: std::net::SocketAddr,
}

impl Server {
    fn start(store: &Path) -> Server {
        let mut child = Command::new(bin())
            .args([
                "serve",
                "--embedded",
                "--workers",
                "2",
                "--listen",
                "127.0.0.1:0",
            ])
            .arg("--store")
            .arg(store)
            .args(["--token", TOKEN, "--log-format", "json"])
            .env_remove("PLATEFARM_STORE")
            .env_remove("PLATEFARM_CATALOG_URL")
            .env_remove("PLATEFARM_API_TOKEN")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start platefarm serve --embedded");
        // The address comes from the log line that names the URL (port 0: any free port).
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("http://") {
                    let rest = &line[at + 7..];
                    let end = rest.find('/').unwrap_or(rest.len());
                    let _ = tx.send(rest[..end].to_string());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("serve --embedded logs its URL")
            .parse()
            .expect("an address");
        Server { child, addr }
    }

    fn get(&self, path: &str) -> (u16, String) {
        platefarm_testkit::http_with(
            self.addr,
            "GET",
            path,
            &[("Authorization", &format!("Bearer {TOKEN}"))],
            b"",
        )
    }

    fn stop(mut self) -> std::process::ExitStatus {
        // SAFETY: kill(2) on a pid we spawned and have not reaped.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "serve did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is a PNG",
        path.display()
    );
    let be = |o: usize| u32::from_be_bytes(bytes[o..o + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn a_user_submits_watches_and_finds_a_clip_in_a_real_browser() {
    let prefix = node_prefix();
    assert!(
        prefix.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not in {} (scripts/test.sh installs it: npm install --prefix {} playwright-core)",
        prefix.display(),
        prefix.display()
    );
    assert!(
        chromium().exists(),
        "no Chromium at {} (scripts/test.sh installs Debian's chromium)",
        chromium().display()
    );
    let scratch = tempfile::tempdir().unwrap();
    let store = scratch.path().join("farm");
    let shots_dir = scratch.path().join("screenshots");
    std::fs::create_dir_all(&shots_dir).unwrap();

    // A sample turnover and the generated footage (DNG, DPX, EXR; gaps, drop-frame) in the store.
    let out = Command::new(bin())
        .arg("sample")
        .arg(&store)
        .args(["--frames", "16"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let footage = platefarm_ingest::synth::mixed_folder();
    for (key, bytes) in &footage.objects {
        let path = store.join("day1").join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    // The question: a timecode a few frames into a clip with a reel.
    let clip = footage
        .expected
        .iter()
        .find(|c| c.reel.is_some() && c.timecode.start.is_some() && c.frames.count > 4)
        .expect("the generator writes a clip with reel and timecode");
    let rate = clip.timecode.rate.unwrap();
    let tc = clip.timecode.start.unwrap().add_frames(3, rate).unwrap();
    let at = clip.frame_at(&tc).expect("the timecode is in the clip");

    // The first frame of the first sample clip: the browser breaks it for a second run.
    let clips = store.join("clips");
    let mut frames: Vec<PathBuf> = std::fs::read_dir(
        clips
            .read_dir()
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .min()
            .unwrap(),
    )
    .unwrap()
    .flatten()
    .map(|e| e.path())
    .filter(|p| p.extension().is_some_and(|x| x == "dng"))
    .collect();
    frames.sort();
    let break_file = frames[0].clone();
    let break_key = break_file
        .strip_prefix(&store)
        .unwrap()
        .display()
        .to_string();

    let server = Server::start(&store);
    let node = Command::new("node")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/ui.mjs"))
        .env("PLATEFARM_NODE_PREFIX", &prefix)
        .env("PLATEFARM_CHROMIUM", chromium())
        .env("PLATEFARM_URL", format!("http://{}/", server.addr))
        .env("PLATEFARM_TOKEN", TOKEN)
        .env("TURNOVER_FILE", store.join("turnover.json"))
        .env("INGEST_LOCATION", "day1/")
        .env("REEL", clip.reel.as_deref().unwrap())
        .env("TIMECODE", tc.to_string())
        .env("EXPECT_CLIP", &clip.name)
        .env("EXPECT_FRAME", at.frame.to_string())
        .env("SCREENSHOTS", &shots_dir)
        .env("BREAK_FILE", &break_file)
        .output()
        .expect("run node (scripts/test.sh installs Node.js's playwright-core)");
    let stdout = String::from_utf8_lossy(&node.stdout);
    let stderr = String::from_utf8_lossy(&node.stderr);
    let seen: Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no report from the browser script\n{stdout}\n{stderr}"));
    assert!(
        node.status.success(),
        "the browser saw problems: {:#}\n{stderr}",
        seen["problems"]
    );

    // The page was served under the strict policy and kept the token for the tab only.
    let csp = seen["csp"].as_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(seen["token_in_session_storage"], TOKEN);

    // What the page said agrees with the API.
    let id = seen["turnover_id"].as_str().unwrap();
    let (code, body) = server.get(&format!("/v1/turnovers/{id}"));
    assert_eq!(code, 200, "{body}");
    let detail: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(detail["state"], "completed", "{body}");
    let total = detail["frames_total"].as_u64().unwrap();
    assert_eq!(detail["frames_done"].as_u64().unwrap(), total);
    // Progress was shown live: the frames cell went through more than its last value.
    let frames_seen: Vec<&str> = seen["list_frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        frames_seen.contains(&format!("{total} / {total}").as_str()) && frames_seen.len() >= 2,
        "frames shown while watching: {frames_seen:?}"
    );
    let shots = seen["shots"].as_array().unwrap();
    assert_eq!(shots.len(), detail["shots"].as_array().unwrap().len());
    for s in shots {
        assert_eq!(s["delivery"], "delivered", "{s}");
    }
    assert_eq!(seen["failures_heading"], "Failures (0)");
    assert_eq!(seen["retry_enabled"], false, "nothing to retry");
    // The contact sheet is the API's: same size as the JPEG the route serves.
    let (code, _) = server.get(&format!("/v1/turnovers/{id}/contact-sheet"));
    assert_eq!(code, 200);
    assert!(
        seen["sheet"]["width"].as_u64().unwrap() > 64,
        "{}",
        seen["sheet"]
    );

    // The broken frame failed its chunk with a reason naming it; Retry failed, with the frame
    // restored, completed the turnover.
    let reasons = seen["failure_reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 1, "one chunk failed: {reasons:?}");
    assert!(
        reasons[0].as_str().unwrap().contains(&break_key),
        "the reason names {break_key}: {reasons:?}"
    );
    assert_eq!(seen["retry_enabled_after_failure"], true);
    assert_eq!(seen["retry_result"], "Retry failed: 1 chunks");
    assert_eq!(seen["failures_after_retry"], "Failures (0)");
    let id2 = seen["retry_turnover_id"].as_str().unwrap();
    let (_, body) = server.get(&format!("/v1/turnovers/{id2}"));
    let detail2: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(detail2["state"], "completed", "{body}");
    assert_eq!(detail2["frames_done"], detail2["frames_total"], "{body}");

    // The ingest recorded every generated clip; the match names the generator's clip and frame.
    let ingest = seen["ingest"].as_str().unwrap();
    assert!(
        ingest.contains(&format!("{} clips", footage.expected.len())),
        "{ingest}"
    );
    let matched = seen["match"].as_str().unwrap();
    assert!(
        matched.contains(&at.key),
        "the match names the file {}: {matched}",
        at.key
    );
    assert!(seen["thumbnails"].as_u64().unwrap() >= 1, "{seen}");
    let hash = seen["hash"].as_str().unwrap();
    assert!(
        hash.starts_with("#/clips?") && hash.contains("timecode="),
        "{hash}"
    );

    for name in ["turnovers.png", "turnover.png", "failures.png", "clips.png"] {
        let (w, h) = png_size(&shots_dir.join(name));
        assert!(w >= 1000 && h >= 600, "{name} is {w}×{h}");
    }
    if let Some(dir) = std::env::var_os("PLATEFARM_SAVE_SCREENSHOTS") {
        for name in ["turnovers.png", "turnover.png", "failures.png", "clips.png"] {
            std::fs::copy(shots_dir.join(name), Path::new(&dir).join(name)).unwrap();
        }
    }
    let status = server.stop();
    assert!(status.success(), "serve exited with {status} on SIGTERM");
}
