import { test } from "node:test";
import assert from "node:assert/strict";

import { pickUpdate } from "../src/channels";
import type { Release } from "../src/feed";

/** A feed entry with the defaults the release pipeline writes. */
function release(version: string, extra: Partial<Release> = {}): Release {
  return {
    version,
    rollout: 100,
    yanked: false,
    url: `https://downloads.example.com/app-${version}.dmg`,
    publishedAt: "2024-05-01T10:00:00Z",
    ...extra,
  };
}

const stable = (version: string) => ({ version, channel: "stable" as const, installId: "install-1" });
const beta = (version: string) => ({ version, channel: "beta" as const, installId: "install-1" });

test("stable clients get the newest release by version precedence", () => {
  const feed = [release("2.9.0"), release("2.10.0"), release("2.9.4")];
  assert.equal(pickUpdate(stable("2.8.0"), feed)?.version, "2.10.0");
});

test("stable clients never see pre-releases", () => {
  const feed = [release("2.4.0"), release("2.5.0-beta.1")];
  assert.equal(pickUpdate(stable("2.3.1"), feed)?.version, "2.4.0");
  assert.equal(pickUpdate(stable("2.4.0"), feed), null);
});

test("no downgrade, no same version", () => {
  const feed = [release("2.3.0"), release("2.3.1")];
  assert.equal(pickUpdate(stable("2.3.1"), feed), null);
});

test("yanked releases are skipped", () => {
  const feed = [release("2.4.0"), release("2.4.1", { yanked: true })];
  assert.equal(pickUpdate(stable("2.3.1"), feed)?.version, "2.4.0");
});

test("beta clients get the next beta of their version", () => {
  const feed = [release("2.4.0-beta.1"), release("2.4.0-beta.2"), release("2.3.1")];
  assert.equal(pickUpdate(beta("2.4.0-beta.1"), feed)?.version, "2.4.0-beta.2");
});

test("a release held back at 0 % is offered to nobody", () => {
  const feed = [release("2.4.0", { rollout: 0 })];
  assert.equal(pickUpdate(stable("2.3.1"), feed), null);
});

test("invalid client versions are rejected", () => {
  assert.throws(() => pickUpdate(stable("latest"), [release("1.0.0")]), /invalid version/);
});
