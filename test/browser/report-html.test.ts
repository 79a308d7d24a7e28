/**
 * report.html in a real browser (Debian's chromium, driven by playwright-core): it renders with no
 * console errors and no network requests, the charts, swatches, anatomy bars and tables are there,
 * and a screenshot is saved. PGDRILL_UPDATE_EXAMPLES=1 also refreshes the README's example screenshot.
 */
import { cpSync, existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { analyzeRunDir } from "../../harness/analyze.ts";

const CHROMIUM = "/usr/bin/chromium";
const EXAMPLE = "reports/examples/pair-kill-primary";

describe("report.html in Chromium", { timeout: 60_000 }, () => {
  it.skipIf(!existsSync(CHROMIUM))("renders the timeline and tables with no console errors or requests", async () => {
    const runDir = join(mkdtempSync(join(tmpdir(), "pgdrill-html-")), "run");
    cpSync(EXAMPLE, runDir, { recursive: true });
    await analyzeRunDir(runDir);

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const problems: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(`console: ${message.text()}`);
      });
      page.on("pageerror", (error) => problems.push(`page: ${error.message}`));
      page.on("request", (request) => {
        if (!request.url().startsWith("file://")) problems.push(`request: ${request.url()}`);
      });
      await page.goto(`file://${resolve(runDir, "report.html")}`);

      const timeline = page.locator("#timeline svg");
      await expect.poll(() => timeline.isVisible()).toBe(true);
      const box = await timeline.boundingBox();
      expect(box?.width).toBeGreaterThan(600);
      expect(box?.height).toBeGreaterThan(300);
      expect(await page.locator("#metrics table tbody tr").count()).toBeGreaterThanOrEqual(8);
      expect(await page.locator("#gates table tbody tr").count()).toBe(2);
      expect(await page.locator("#claims table tbody tr").count()).toBe(5);
      expect(await page.locator(".verdict").textContent()).toBe("pass");
      // The swatches of the chart's legends and of the key under it are painted: a box, a colour.
      for (const selector of [".role-legend-symbol path", ".timeline-key .swatch"]) {
        const swatches = page.locator(selector);
        expect(await swatches.count()).toBeGreaterThanOrEqual(3);
        for (const swatch of await swatches.all()) {
          const box = await swatch.boundingBox();
          expect(box?.width).toBeGreaterThan(5);
          const paint = await swatch.evaluate((el) => {
            const style = getComputedStyle(el);
            return { colour: el.tagName === "path" ? style.fill : style.backgroundColor, opacity: Number(style.opacity) };
          });
          expect(paint.colour).toMatch(/^rgb\(/);
          expect(paint.opacity).toBeGreaterThanOrEqual(0.35);
        }
      }
      // The kill was a failover: one bar per client probe, its three segments side by side.
      const bars = page.locator("#anatomy .anatomy-bar");
      expect(await bars.count()).toBe(2);
      const bar = await bars.first().boundingBox();
      expect(bar?.width).toBeGreaterThan(600);
      expect(await page.locator("#anatomy .anatomy-segment").count()).toBe(6);
      expect(await page.locator("#events table tbody tr").count()).toBe(3);
      expect(await page.locator("#settings-probes table tbody tr").count()).toBe(3);
      expect(await page.locator("#settings-gates table tbody tr").count()).toBe(2);
      expect(problems).toEqual([]);

      const screenshot = join(runDir, "report.png");
      await page.screenshot({ path: screenshot, fullPage: true });
      expect(existsSync(screenshot)).toBe(true);
      if (process.env.PGDRILL_UPDATE_EXAMPLES === "1") await page.screenshot({ path: join(EXAMPLE, "report.png"), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
