import * as semver from "semver";

import { inRollout } from "./bucket";
import type { Release } from "./feed";

export type Channel = "stable" | "beta";

/** What the desktop app tells us about itself. */
export interface Client {
  /** The installed version ("2.3.1", "2.4.0-beta.2"). */
  version: string;
  channel: Channel;
  /** Random id generated at install time; decides the install's rollout bucket. */
  installId: string;
}

/** Releases a client on `channel` may ever see: not yanked; stable ones only on `stable`. */
export function eligible(releases: readonly Release[], channel: Channel): Release[] {
  return releases.filter(
    (r) => !r.yanked && (channel === "beta" || semver.prerelease(r.version) === null),
  );
}

/**
 * The release to offer `client`: the newest release of its channel that is newer than the
 * installed version and rolled out to the client's install; null when there is none.
 *
 * Candidates are compared by plain semver precedence (`semver.gt`): a range such as
 * `>2.4.0` would leave out pre-releases of other versions, which beta clients must see. The
 * rollout is checked per candidate, so an install outside a staged release still gets the
 * newest release that does reach it.
 */
export function pickUpdate(client: Client, releases: readonly Release[]): Release | null {
  const installed = semver.parse(client.version);
  if (installed === null) {
    throw new Error(`client sent an invalid version: ${JSON.stringify(client.version)}`);
  }
  let best: Release | null = null;
  for (const r of eligible(releases, client.channel)) {
    if (!semver.gt(r.version, installed) || !inRollout(client.installId, r.rollout)) {
      continue;
    }
    if (best === null || semver.gt(r.version, best.version)) {
      best = r;
    }
  }
  return best;
}
