// Scoring tests for update selection; copied into the work dir only when grading.
import { test } from "node:test";
import assert from "node:assert/strict";

import { rolloutBucket } from "../src/bucket";
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

/** The first install id "install-N" whose rollout bucket satisfies `wanted`. */
function installWhere(wanted: (bucket: number) => boolean): string {
  for (let n = 0; n < 100_000; n++) {
    const id = `install-${n}`;
    if (wanted(rolloutBucket(id))) {
      return id;
    }
  }
  throw new Error("no install id found");
}

const client = (version: string, channel: "stable" | "beta", installId = "install-1") => ({
  version,
  channel,
  installId,
});

test("beta clients are offered pre-releases of a newer version", () => {
  const feed = [release("2.3.2"), release("2.4.0-beta.1"), release("2.3.1")];
  assert.equal(pickUpdate(client("2.3.1", "beta"), feed)?.version, "2.4.0-beta.1");
  assert.equal(pickUpdate(client("2.3.2", "beta"), feed)?.version, "2.4.0-beta.1");
});

test("beta clients move from one pre-release line to the next", () => {
  const feed = [release("2.4.0-beta.3"), release("2.4.0"), release("2.5.0-rc.1"), release("2.5.0-alpha.2")];
  assert.equal(pickUpdate(client("2.4.0-beta.3", "beta"), feed)?.version, "2.5.0-rc.1");
  assert.equal(pickUpdate(client("2.4.0", "beta"), feed)?.version, "2.5.0-rc.1");
});

test("beta clients get a release when it is newer than every pre-release", () => {
  const feed = [release("3.0.0-rc.2"), release("3.0.0"), release("2.9.9-beta.1")];
  assert.equal(pickUpdate(client("2.9.0", "beta"), feed)?.version, "3.0.0");
});

test("pre-release precedence follows semver, not text", () => {
  const feed = [release("2.5.0-beta.2"), release("2.5.0-beta.11"), release("2.5.0-alpha.30")];
  assert.equal(pickUpdate(client("2.4.0", "beta"), feed)?.version, "2.5.0-beta.11");
});

test("stable clients still never see pre-releases", () => {
  const feed = [release("2.4.0"), release("2.5.0-rc.1"), release("3.0.0-beta.1")];
  assert.equal(pickUpdate(client("2.3.1", "stable"), feed)?.version, "2.4.0");
  assert.equal(pickUpdate(client("2.4.0", "stable"), feed), null);
});

test("a stable client on a pre-release is offered the release", () => {
  const feed = [release("2.4.0-beta.3"), release("2.4.0"), release("2.3.0")];
  assert.equal(pickUpdate(client("2.4.0-beta.3", "stable"), feed)?.version, "2.4.0");
});

test("yanked pre-releases are skipped on beta", () => {
  const feed = [release("2.5.0-beta.1"), release("2.5.0-beta.2", { yanked: true })];
  assert.equal(pickUpdate(client("2.4.0", "beta"), feed)?.version, "2.5.0-beta.1");
});

test("outside a staged rollout, the newest release rolled out to the install is offered", () => {
  const outside = installWhere((b) => b >= 10);
  const feed = [release("2.4.0"), release("2.4.1"), release("2.5.0", { rollout: 10 })];
  assert.equal(pickUpdate(client("2.3.0", "stable", outside), feed)?.version, "2.4.1");
  assert.equal(pickUpdate(client("2.4.1", "stable", outside), feed), null);
});

test("inside a staged rollout, the staged release is offered", () => {
  const inside = installWhere((b) => b < 10);
  const feed = [release("2.4.1"), release("2.5.0", { rollout: 10 })];
  assert.equal(pickUpdate(client("2.3.0", "stable", inside), feed)?.version, "2.5.0");
});

test("a rollout of N percent excludes bucket N itself", () => {
  const edge = installWhere((b) => b === 30);
  const feed = [release("2.4.1"), release("2.5.0", { rollout: 30 }), release("2.5.1", { rollout: 31 })];
  assert.equal(pickUpdate(client("2.3.0", "stable", edge), feed)?.version, "2.5.1");
  assert.equal(pickUpdate(client("2.3.0", "stable", edge), feed.slice(0, 2))?.version, "2.4.1");
});

test("held-back releases fall through to older ones, on both channels", () => {
  const feed = [
    release("2.4.0"),
    release("2.5.0-beta.1"),
    release("2.5.0-beta.2", { rollout: 0 }),
    release("2.5.0", { rollout: 0 }),
  ];
  assert.equal(pickUpdate(client("2.3.0", "stable"), feed)?.version, "2.4.0");
  assert.equal(pickUpdate(client("2.3.0", "beta"), feed)?.version, "2.5.0-beta.1");
});

test("the offered entry is the feed's own, v prefix included", () => {
  const feed = [release("v2.4.0"), release("v2.6.0", { rollout: 0 }), release("v2.5.0")];
  const offered = pickUpdate(client("v2.3.0", "stable"), feed);
  assert.equal(offered, feed[2]);
});
