// Drives headless Chromium (Debian's, via playwright-core) through the test
// pages against each MCP endpoint URL given on the command line: one page
// per SDK major, /sdk1/ (bundle.js, the 1.x client) and /sdk2/
// (bundle-v2.js, the 2.x client). Each is served from its own loopback
// origin (http://127.0.0.1:PORT, allowed by the server's default
// allow-list); a second copy is served from http://127.0.0.2:PORT, a
// foreign origin, whose connection must be refused.
// Prints a line per step, labelled with the server and the SDK major;
// exits non-zero on any failure.
import { createServer } from "node:http";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const sdks = [
  ["sdk1", "bundle.js"],
  ["sdk2", "bundle-v2.js"],
];
const files = {};
for (const [sdk, bundle] of sdks) {
  files[`/${sdk}/`] = ["text/html", readFileSync(join(here, "index.html"))];
  files[`/${sdk}/bundle.js`] = ["text/javascript", readFileSync(join(here, bundle))];
}

function serve(host) {
  const server = createServer((req, res) => {
    const file = files[new URL(req.url, "http://x").pathname];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": file[0] }).end(file[1]);
  });
  return new Promise((resolve) =>
    server.listen(0, host, () => resolve([server, `http://${host}:${server.address().port}`])),
  );
}

const urls = process.argv.slice(2);
if (urls.length === 0) {
  console.error("usage: node drive.mjs MCP_URL...");
  process.exit(2);
}
const [own, ownOrigin] = await serve("127.0.0.1");
const [foreign, foreignOrigin] = await serve("127.0.0.2");
const profile = mkdtempSync(join(tmpdir(), "switchboard-chromium-"));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
let failed = 0;
try {
  for (const url of urls) {
    const server = process.env.LABELS ? process.env.LABELS.split(",")[urls.indexOf(url)] : url;
    for (const [sdk] of sdks) {
      const label = `${server} ${sdk}`;
      const page = await browser.newPage();
      const console_ = [];
      page.on("console", (m) => console_.push(`${m.type()}: ${m.text()}`));
      try {
        await page.goto(`${ownOrigin}/${sdk}/`);
        const steps = await page.evaluate((u) => window.runMcp(u), url);
        for (const step of steps) console.log(`browser ${label} ${ownOrigin}: ${step}: ok`);
      } catch (e) {
        failed++;
        console.log(`browser ${label} ${ownOrigin}: FAILED: ${e.message}`);
        for (const line of console_) console.log(`  console ${line}`);
      }
      await page.close();
      const other = await browser.newPage();
      try {
        await other.goto(`${foreignOrigin}/${sdk}/`);
        const why = await other.evaluate((u) => window.runForeign(u), url);
        console.log(`browser ${label} ${foreignOrigin}: foreign page ${why}: ok`);
      } catch (e) {
        failed++;
        console.log(`browser ${label} ${foreignOrigin}: FAILED: ${e.message}`);
      }
      await other.close();
    }
  }
} finally {
  await browser.close();
  own.close();
  foreign.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(`browser: ${failed === 0 ? "all passed" : `${failed} failed`}`);
process.exit(failed === 0 ? 0 : 1);
