import * as semver from "semver";

/** One entry of the release feed (feed.json, written by the release pipeline). */
export interface Release {
  /** Semantic version, as published; a leading "v" is allowed ("v2.4.0"). */
  version: string;
  /** Percentage of installs the release is rolled out to, 0 to 100. */
  rollout: number;
  /** Pulled after publication: never offered again. */
  yanked: boolean;
  /** Download URL of the installer. */
  url: string;
  /** ISO 8601 publication time. */
  publishedAt: string;
}

interface RawRelease {
  version?: unknown;
  rollout?: unknown;
  yanked?: unknown;
  url?: unknown;
  publishedAt?: unknown;
}

/** Parse and validate feed.json: a JSON array of releases. Throws on the first bad entry. */
export function parseFeed(json: string): Release[] {
  const data: unknown = JSON.parse(json);
  if (!Array.isArray(data)) {
    throw new Error("feed must be a JSON array");
  }
  return data.map((entry: RawRelease, i) => toRelease(entry, i));
}

function toRelease(entry: RawRelease, index: number): Release {
  const where = `feed entry ${index}`;
  if (typeof entry !== "object" || entry === null) {
    throw new Error(`${where}: not an object`);
  }
  if (typeof entry.version !== "string" || semver.valid(entry.version) === null) {
    throw new Error(`${where}: invalid version ${JSON.stringify(entry.version)}`);
  }
  const rollout = entry.rollout ?? 100;
  if (typeof rollout !== "number" || !Number.isInteger(rollout) || rollout < 0 || rollout > 100) {
    throw new Error(`${where}: rollout must be an integer from 0 to 100`);
  }
  if (typeof entry.url !== "string" || entry.url === "") {
    throw new Error(`${where}: missing url`);
  }
  if (typeof entry.publishedAt !== "string" || Number.isNaN(Date.parse(entry.publishedAt))) {
    throw new Error(`${where}: invalid publishedAt`);
  }
  return {
    version: entry.version,
    rollout,
    yanked: entry.yanked === true,
    url: entry.url,
    publishedAt: entry.publishedAt,
  };
}
