// Drives the web page of `platefarm serve --embedded` in headless Chromium (Playwright), as a
// user would: the token (a wrong one first), submitting a turnover file, watching its
// progress live to completion, the turnover's shots and contact sheet, ingesting a folder of
// the store and finding a clip by reel and timecode. Saves screenshots; prints what it saw as
// one JSON line for crates/cli/tests/web.rs, which checks it against the API and the
// generator. Exits 1 with the reason on the first thing that is not as it should be.
//
// Environment: PLATEFARM_NODE_PREFIX (folder holding node_modules/playwright-core),
// PLATEFARM_CHROMIUM, PLATEFARM_URL, PLATEFARM_TOKEN, TURNOVER_FILE, INGEST_LOCATION, REEL,
// TIMECODE, EXPECT_CLIP, EXPECT_FRAME, SCREENSHOTS, BREAK_FILE (an input frame the script
// truncates for a second run of the turnover, then restores before Retry failed).

import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const require = createRequire(path.join(env("PLATEFARM_NODE_PREFIX"), "package.json"));
const { chromium } = require("playwright-core");

const url = env("PLATEFARM_URL");
const shots = env("SCREENSHOTS");
const problems = [];

const browser = await chromium.launch({
  executablePath: env("PLATEFARM_CHROMIUM"),
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const seen = {};
try {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.setDefaultTimeout(60_000);
  page.on("pageerror", (e) => problems.push(`uncaught in the page: ${e.message}`));
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });

  const response = await page.goto(url);
  seen.csp = response.headers()["content-security-policy"] || "";
  const connection = page.locator("#connection");
  await connection.filter({ hasText: "API token needed" }).waitFor();

  // A wrong token is named as such; the right one connects.
  await page.fill("#token", "not-the-token");
  await page.click("#token-form button");
  await connection.filter({ hasText: "wrong API token" }).waitFor();
  await page.fill("#token", env("PLATEFARM_TOKEN"));
  await page.click("#token-form button");
  await connection.filter({ hasText: "connected" }).waitFor();
  seen.token_in_session_storage = await page.evaluate(() => sessionStorage.getItem("platefarm.token"));

  // Submit the turnover file through the page.
  await page.setInputFiles("#turnover-file", env("TURNOVER_FILE"));
  await page.waitForFunction(() => document.querySelector("#turnover-json").value.includes("shots"));
  await page.click("#submit");
  const receipt = await page.locator("#submit-result .message.ok").textContent();
  const id = /Submitted (\S+):/.exec(receipt)?.[1];
  if (!id) throw new Error(`no turnover id in the receipt: ${receipt}`);
  seen.turnover_id = id;

  // Watch it in the list: the frames cell changes with no reload until the row is final.
  const row = page.locator(`#turnovers tr[data-id="${id}"]`);
  const frames = new Set();
  const states = new Set();
  const deadline = Date.now() + 240_000;
  let midShot = false;
  for (;;) {
    const state = await row.getAttribute("data-state");
    const cell = await row.locator("td").nth(4).textContent();
    states.add(state);
    frames.add(cell);
    if (!midShot && state === "running" && !cell.startsWith("0 /")) {
      await page.screenshot({ path: path.join(shots, "turnovers-running.png") });
      midShot = true;
    }
    if (["completed", "completed_with_failures", "failed", "cancelled"].includes(state)) break;
    if (Date.now() > deadline) throw new Error(`turnover ${id} still ${state} (${cell}) after 240 s`);
    await page.waitForTimeout(100);
  }
  seen.list_states = [...states];
  seen.list_frames = [...frames];
  await page.screenshot({ path: path.join(shots, "turnovers.png") });

  // The turnover: shots delivered, no failure, the contact sheet shown.
  await row.locator("a").click();
  await page.locator("#turnover .state").first().waitFor();
  const shotRows = page.locator("#shots tbody tr");
  await page.waitForFunction(() => document.querySelectorAll("#shots tbody tr").length > 0);
  seen.shots = await shotRows.evaluateAll((rows) => rows.map((r) => ({
    shot: r.dataset.shot,
    frames: r.children[3].textContent,
    delivery: r.querySelector("[data-state]")?.dataset.state,
  })));
  seen.failures_heading = await page.locator("#failures h2").textContent();
  seen.retry_enabled = await page.locator("#retry-failed").isEnabled();
  await page.locator("#contact-sheet[data-loaded=true]").waitFor();
  seen.sheet = await page.locator("#contact-sheet").evaluate((img) => ({
    width: img.naturalWidth, height: img.naturalHeight }));
  await page.screenshot({ path: path.join(shots, "turnover.png"), fullPage: true });

  // The same turnover again with one input frame broken: its chunk fails with the reason;
  // with the frame restored, Retry failed completes the turnover, live.
  const broken = env("BREAK_FILE");
  const good = fs.readFileSync(broken);
  fs.writeFileSync(broken, good.subarray(0, 200));
  await page.click("#nav-turnovers");
  await page.setInputFiles("#turnover-file", env("TURNOVER_FILE"));
  await page.waitForFunction(() => document.querySelector("#turnover-json").value.includes("shots"));
  await page.click("#submit");
  const receipt2 = await page.locator("#submit-result .message.ok").textContent();
  const id2 = /Submitted (\S+):/.exec(receipt2)?.[1];
  if (!id2 || id2 === id) throw new Error(`no new turnover in the receipt: ${receipt2}`);
  seen.retry_turnover_id = id2;
  await page.locator(`#turnovers tr[data-id="${id2}"][data-state="completed_with_failures"]`).waitFor({ timeout: 240_000 });
  await page.locator(`#turnovers tr[data-id="${id2}"] a`).click();
  await page.locator("#failures tbody tr").first().waitFor();
  seen.failure_reasons = await page.locator("#failures td.reason").allTextContents();
  seen.retry_enabled_after_failure = await page.locator("#retry-failed").isEnabled();
  await page.locator("#contact-sheet[data-loaded=true]").waitFor();
  await page.screenshot({ path: path.join(shots, "failures.png"), fullPage: true });
  fs.writeFileSync(broken, good);
  await page.click("#retry-failed");
  seen.retry_result = await page.locator("#action-result .message.ok").textContent();
  await page.locator('#turnover .state[data-state="completed"]').waitFor({ timeout: 240_000 });
  seen.failures_after_retry = await page.locator("#failures h2").textContent();

  // Clips: ingest a folder of the store, then the editorial question.
  await page.click("#nav-clips");
  await page.fill("#ingest-location", env("INGEST_LOCATION"));
  await page.click("#ingest");
  seen.ingest = await page.locator("#ingest-result .message.ok").textContent();
  await page.fill("#clip-reel", env("REEL"));
  await page.fill("#clip-timecode", env("TIMECODE"));
  await page.click("#search");
  const want = `frame ${env("EXPECT_FRAME")} of clip ${env("EXPECT_CLIP")}`;
  await page.locator("#match .message", { hasText: want }).waitFor();
  seen.match = await page.locator("#match .message").textContent();
  await page.locator("#clips img.thumb[data-loaded=true]").first().waitFor();
  seen.clip_rows = await page.locator("#clips tr").count();
  seen.thumbnails = await page.locator("#clips img.thumb").evaluateAll((imgs) =>
    imgs.filter((i) => i.dataset.loaded === "true" && i.naturalWidth > 0).length);
  seen.hash = await page.evaluate(() => location.hash);
  await page.screenshot({ path: path.join(shots, "clips.png"), fullPage: true });
} catch (e) {
  problems.push(e.stack || String(e));
} finally {
  await browser.close();
}
seen.problems = problems;
console.log(JSON.stringify(seen));
process.exit(problems.length ? 1 : 0);
