/**
 * When an alert can fire after an outage begins (its `for`, the scrape and evaluation intervals,
 * Alertmanager's group_wait), and whether a drill's expectations can be met and judged in time.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkExpectations, firingWindow, type Expectations } from "../../harness/scenario/alert-timing.ts";

/** Debian's prometheus.yml (15s scrape and evaluation), Prometheus's 10s scrape timeout, Alertmanager's 30s group_wait. */
const DEBIAN = { scrapeIntervalMs: 15_000, scrapeTimeoutMs: 10_000, evaluationIntervalMs: 15_000, groupWaitMs: 30_000 };
const SEED = [
  { alert: "PostgresDown", forMs: 60_000 },
  { alert: "PostgresReplicationLag", forMs: 300_000 },
  { alert: "PostgresHighConnections", forMs: 300_000 },
];

const expectations = (overrides: Partial<Expectations>): Expectations => ({
  expect: [],
  mustNotFire: [],
  rules: SEED,
  rulesSource: "the seed guide's rules",
  intervals: DEBIAN,
  firstDisruptionAt: 5_000,
  durationMs: 180_000,
  ...overrides,
});

describe("firingWindow", () => {
  it("is for at the earliest, and for + scrape + timeout + two evaluations at the latest, group_wait after that for the notification", () => {
    expect(firingWindow({ forMs: 60_000, ...DEBIAN })).toEqual({ earliestMs: 60_000, latestMs: 115_000, notifiedLatestMs: 145_000 });
    expect(firingWindow({ forMs: 0, ...DEBIAN })).toEqual({ earliestMs: 0, latestMs: 55_000, notifiedLatestMs: 85_000 });
  });

  it("has no latest when the intervals are unknown, and no notification time without group_wait", () => {
    expect(firingWindow({ forMs: 60_000, ...DEBIAN, evaluationIntervalMs: null })).toEqual({
      earliestMs: 60_000,
      latestMs: null,
      notifiedLatestMs: null,
    });
    expect(firingWindow({ forMs: 60_000, ...DEBIAN, scrapeIntervalMs: null })).toEqual({
      earliestMs: 60_000,
      latestMs: null,
      notifiedLatestMs: null,
    });
    expect(firingWindow({ forMs: 60_000, ...DEBIAN, groupWaitMs: null })).toEqual({
      earliestMs: 60_000,
      latestMs: 115_000,
      notifiedLatestMs: null,
    });
  });

  it("counts an unknown scrape timeout as the scrape interval, the longest Prometheus allows", () => {
    expect(firingWindow({ forMs: 60_000, ...DEBIAN, scrapeTimeoutMs: null }).latestMs).toBe(120_000);
    expect(firingWindow({ forMs: 60_000, scrapeIntervalMs: 15_000, evaluationIntervalMs: 15_000, groupWaitMs: null }).latestMs).toBe(
      120_000,
    );
  });

  it("never has its latest before its earliest, nor its notification before its latest", () => {
    const ms = fc.integer({ min: 0, max: 3_600_000 });
    fc.assert(
      fc.property(ms, ms, ms, ms, ms, (forMs, scrapeIntervalMs, scrapeTimeoutMs, evaluationIntervalMs, groupWaitMs) => {
        const window = firingWindow({ forMs, scrapeIntervalMs, scrapeTimeoutMs, evaluationIntervalMs, groupWaitMs });
        expect(window.earliestMs).toBe(forMs);
        expect(window.latestMs!).toBeGreaterThanOrEqual(window.earliestMs);
        expect(window.notifiedLatestMs!).toBeGreaterThanOrEqual(window.latestMs!);
      }),
    );
  });
});

describe("checkExpectations", () => {
  it("accepts expectations that can be met and judged in time", () => {
    expect(
      checkExpectations(expectations({ expect: [{ alert: "PostgresDown", withinMs: 120_000 }], mustNotFire: ["PostgresHighConnections"] })),
    ).toEqual([]);
  });

  it("refuses a within shorter than the alert's for: it can never be met", () => {
    expect(checkExpectations(expectations({ expect: [{ alert: "PostgresDown", withinMs: 30_000 }] }))).toEqual([
      {
        path: ["monitoring", "expect", 0, "within"],
        problem: '30.00 s is shorter than the soonest "PostgresDown" can fire, 1.0 min (its rule\'s for), so it can never be met',
        fix: 'Set within to "1m55s" or more (its for, plus the scrape and evaluation intervals).',
      },
    ]);
  });

  it("refuses a duration that ends before the latest an expected alert may fire, naming the minimum", () => {
    const problems = checkExpectations(expectations({ expect: [{ alert: "PostgresDown", withinMs: 90_000 }], durationMs: 100_000 }));
    expect(problems).toEqual([
      {
        path: ["duration"],
        problem:
          '1.7 min ends before the alerts can be judged: the first fault or hand-over is at 5.00 s and "PostgresDown" may fire as late ' +
          "as 1.9 min after it",
        fix: 'Set duration to at least "2m".',
      },
    ]);
    // The minimum it names is enough.
    expect(checkExpectations(expectations({ expect: [{ alert: "PostgresDown", withinMs: 90_000 }], durationMs: 120_000 }))).toEqual([]);
  });

  it("counts within when it is the longer, and names the expectation that needs the most", () => {
    const problems = checkExpectations(
      expectations({
        expect: [
          { alert: "PostgresDown", withinMs: 150_000 },
          { alert: "PostgresReplicationLag", withinMs: 400_000 },
        ],
      }),
    );
    expect(problems.map((problem) => [problem.path, problem.fix])).toEqual([[["duration"], 'Set duration to at least "6m45s".']]);
    expect(problems[0]!.problem).toMatch(/"PostgresReplicationLag" is expected within 6\.7 min of it$/);
  });

  it("refuses alerts no rule has, expected or must-not-fire, with the closest name", () => {
    const problems = checkExpectations(
      expectations({ expect: [{ alert: "PostgresDwn", withinMs: 120_000 }], mustNotFire: ["PostgresHighConnection", "Nope"] }),
    );
    expect(problems.map((problem) => [problem.path.join("."), problem.problem, problem.fix])).toEqual([
      [
        "monitoring.mustNotFire.0",
        'no alerting rule "PostgresHighConnection" in the seed guide\'s rules',
        'Did you mean "PostgresHighConnections"? Its alerts are PostgresDown, PostgresReplicationLag, PostgresHighConnections.',
      ],
      [
        "monitoring.mustNotFire.1",
        'no alerting rule "Nope" in the seed guide\'s rules',
        "Its alerts are PostgresDown, PostgresReplicationLag, PostgresHighConnections.",
      ],
      [
        "monitoring.expect.0.alert",
        'no alerting rule "PostgresDwn" in the seed guide\'s rules',
        'Did you mean "PostgresDown"? Its alerts are PostgresDown, PostgresReplicationLag, PostgresHighConnections.',
      ],
    ]);
  });

  it("times an alert with several rules by the one that fires soonest, each with its group's own evaluation interval", () => {
    const rules = [
      { alert: "Down", forMs: 300_000 },
      { alert: "Down", forMs: 30_000, intervalMs: 5_000 },
    ];
    // 15 s scrape + 10 s timeout + 5 s + 30 s + 5 s = 65 s.
    expect(checkExpectations(expectations({ rules, expect: [{ alert: "Down", withinMs: 40_000 }], durationMs: 69_000 }))[0]!.fix).toBe(
      'Set duration to at least "1m10s".',
    );
    expect(checkExpectations(expectations({ rules, expect: [{ alert: "Down", withinMs: 40_000 }], durationMs: 70_000 }))).toEqual([]);
  });

  it("with unknown intervals, judges by for and within alone; with no fault or no duration, skips the duration", () => {
    const unknown = { scrapeIntervalMs: null, evaluationIntervalMs: null, groupWaitMs: null };
    expect(
      checkExpectations(expectations({ intervals: unknown, expect: [{ alert: "PostgresDown", withinMs: 60_000 }], durationMs: 65_000 })),
    ).toEqual([]);
    expect(checkExpectations(expectations({ intervals: unknown, expect: [{ alert: "PostgresDown", withinMs: 59_000 }] }))[0]!.fix).toBe(
      'Set within to "1m" or more.',
    );
    expect(
      checkExpectations(
        expectations({ expect: [{ alert: "PostgresDown", withinMs: 120_000 }], firstDisruptionAt: null, durationMs: 1_000 }),
      ),
    ).toEqual([]);
    expect(checkExpectations(expectations({ expect: [{ alert: "PostgresDown", withinMs: 120_000 }], durationMs: null }))).toEqual([]);
  });
});
