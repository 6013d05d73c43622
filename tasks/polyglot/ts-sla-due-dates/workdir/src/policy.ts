/** SLA policy v3: see the README. */

export type Priority = "P1" | "P2" | "P3";

/** Business days a ticket of each priority has, counted after the day it is received. */
export const RESPONSE_DAYS: Readonly<Record<Priority, number>> = { P1: 1, P2: 2, P3: 5 };

/** End of the business day (office time): later tickets count from the next business day. */
export const CUTOFF_HOUR = 17;

export function isPriority(value: string): value is Priority {
  return Object.prototype.hasOwnProperty.call(RESPONSE_DAYS, value);
}
