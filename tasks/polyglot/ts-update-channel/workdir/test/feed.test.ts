import { test } from "node:test";
import assert from "node:assert/strict";

import { parseFeed } from "../src/feed";

test("parses a feed and fills defaults", () => {
  const feed = parseFeed(
    JSON.stringify([
      { version: "2.4.0", url: "https://d.example.com/a", publishedAt: "2024-05-01T10:00:00Z" },
      {
        version: "v2.5.0-beta.1",
        rollout: 20,
        yanked: true,
        url: "https://d.example.com/b",
        publishedAt: "2024-05-03T10:00:00Z",
      },
    ]),
  );
  assert.deepEqual(
    feed.map((r) => [r.version, r.rollout, r.yanked]),
    [
      ["2.4.0", 100, false],
      ["v2.5.0-beta.1", 20, true],
    ],
  );
});

test("rejects bad entries", () => {
  const ok = { version: "1.0.0", url: "https://d.example.com/a", publishedAt: "2024-05-01" };
  assert.throws(() => parseFeed("{}"), /JSON array/);
  assert.throws(() => parseFeed(JSON.stringify([{ ...ok, version: "1.0" }])), /invalid version/);
  assert.throws(() => parseFeed(JSON.stringify([{ ...ok, rollout: 101 }])), /rollout/);
  assert.throws(() => parseFeed(JSON.stringify([{ ...ok, rollout: 2.5 }])), /rollout/);
  assert.throws(() => parseFeed(JSON.stringify([{ ...ok, url: "" }])), /url/);
  assert.throws(() => parseFeed(JSON.stringify([{ ...ok, publishedAt: "soon" }])), /publishedAt/);
});
