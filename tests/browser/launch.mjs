// Debian's chromium as the browser tests start it (page_test.mjs, tests/web/web_test.mjs):
// headless, without the sandbox (root in CI), the GPU, or any of chromium's own network traffic.
import { chromium } from "playwright-core";

export function launchChromium() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
           "--disable-dev-shm-usage"],
  });
}
