import { addDays, isAfter, isValid, parseISO, setHours, startOfDay } from "date-fns";

import { type BusinessCalendar, formatDay, parseDay } from "./calendar";
import { CUTOFF_HOUR, type Priority, RESPONSE_DAYS } from "./policy";

/** Parse an office wall-clock time, `YYYY-MM-DDTHH:mm`. */
function parseOpened(openedAt: string): Date {
  const opened = parseISO(openedAt);
  if (!isValid(opened) || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(openedAt)) {
    throw new Error(`not an office time (YYYY-MM-DDTHH:mm): ${JSON.stringify(openedAt)}`);
  }
  return opened;
}

/** The first business day after `day`. */
function nextBusinessDay(day: Date, calendar: BusinessCalendar): Date {
  let next = addDays(day, 1);
  while (!calendar.isBusinessDay(next)) {
    next = addDays(next, 1);
  }
  return next;
}

/**
 * The business day a ticket counts as received: the day it was opened when that is a business
 * day and it was opened before the cutoff, else the next business day.
 */
function receivedOn(opened: Date, calendar: BusinessCalendar): Date {
  const day = startOfDay(opened);
  if (calendar.isBusinessDay(day) && opened.getHours() < CUTOFF_HOUR) {
    return day;
  }
  return nextBusinessDay(day, calendar);
}

/** The due date (`YYYY-MM-DD`) of a ticket opened at `openedAt` with `priority`. */
export function dueDate(openedAt: string, priority: Priority, calendar: BusinessCalendar): string {
  // Count business days one by one: weekends and holidays (wherever they fall) are skipped
  // the same way, so the deadline is always a business day.
  let due = receivedOn(parseOpened(openedAt), calendar);
  for (let n = 0; n < RESPONSE_DAYS[priority]; n++) {
    due = nextBusinessDay(due, calendar);
  }
  return formatDay(due);
}

/** Whether a ticket still unanswered at `now` has breached its SLA (after 17:00 on its due date). */
export function isBreached(
  openedAt: string,
  priority: Priority,
  now: string,
  calendar: BusinessCalendar,
): boolean {
  const deadline = setHours(parseDay(dueDate(openedAt, priority, calendar)), CUTOFF_HOUR);
  return isAfter(parseOpened(now), deadline);
}
