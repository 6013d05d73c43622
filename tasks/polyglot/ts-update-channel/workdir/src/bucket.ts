/**
 * Staged-rollout buckets: every install id maps to a stable number from 0 to 99, so the same
 * install keeps its place in a rollout across requests and server restarts.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a (32 bit) of the id's UTF-8 bytes, modulo 100. */
export function rolloutBucket(installId: string): number {
  let hash = FNV_OFFSET;
  for (const byte of Buffer.from(installId, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash % 100;
}

/** Whether a release rolled out to `rollout` percent of installs reaches this install. */
export function inRollout(installId: string, rollout: number): boolean {
  return rolloutBucket(installId) < rollout;
}
